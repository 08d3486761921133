package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// serveOnly is -serve-only: the quick loop of work on the results
// endpoints. It processes the n-row CSV once into work/serve-<size>
// (reused by later runs unless -reprocess), prints the run's timings and
// file size, and measures the results pages.
func (b *bench) serveOnly(ctx context.Context, n int64) error {
	dd := filepath.Join(b.cfg.work, "serve-"+sizeName(n))
	runID := ""
	if !b.cfg.reprocess {
		runID = existingRun(dd)
	}
	if runID == "" {
		os.RemoveAll(dd)
		g, err := generate(ctx, b.gen, b.cfg.src, b.cfg.work, n)
		if err != nil {
			return err
		}
		progress("%s: ingest + process once into %s", sizeName(n), dd)
		if _, err := runProc(ctx, b.log, b.cfg.bin, "--data-dir", dd, "ingest", g.csv, "--name", "bench"); err != nil {
			return err
		}
		mp, err := runProc(ctx, b.log, b.cfg.bin, "--data-dir", dd, "process", "bench")
		if err != nil {
			return err
		}
		var out struct {
			RunID   string             `json:"run_id"`
			Timings map[string]float64 `json:"timings"`
			Path    string             `json:"path"`
		}
		if err := json.Unmarshal([]byte(lastLine(mp.stdout)), &out); err != nil {
			return fmt.Errorf("process printed no JSON: %q", firstN(mp.stdout, 200))
		}
		runID = out.RunID
		var ts []string
		for k, v := range out.Timings {
			ts = append(ts, k+" "+strconv.FormatFloat(v/1000, 'f', 2, 64)+" s")
		}
		slices.Sort(ts)
		size := int64(0)
		if fi, err := os.Stat(filepath.Join(dd, out.Path)); err == nil {
			size = fi.Size()
		}
		fmt.Printf("%s: process %.2f s (RSS %s), run timings: %s; run file %s\n",
			sizeName(n), mp.seconds, mb(mp.rssKB), strings.Join(ts, ", "), human(size))
	} else {
		progress("%s: reusing run %s in %s", sizeName(n), runID, dd)
	}
	b.servedDir, b.servedRun, b.servedRows = dd, runID, n
	b.serving(ctx)
	b.rep.loadEnd = loadAvg()
	b.rep.printAll(os.Stdout, b.cfg)
	return nil
}

// existingRun returns the id of the one run file in dd/runs, or "".
func existingRun(dd string) string {
	files, _ := filepath.Glob(filepath.Join(dd, "runs", "*.parquet"))
	if len(files) != 1 {
		return ""
	}
	return strings.TrimSuffix(filepath.Base(files[0]), ".parquet")
}

// picked reports whether -scenarios selects scenario i (1-based).
func (b *bench) picked(i int) bool {
	if b.cfg.scenarios == "" {
		return true
	}
	return slices.Contains(strings.Split(b.cfg.scenarios, ","), strconv.Itoa(i))
}
