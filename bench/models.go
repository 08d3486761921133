package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
)

// modelsRow is one timed command of the models stage.
type modelsRow struct {
	step string
	m    measured
}

// models times the ML commands as whole processes on a synthetic catalog
// of cfg.modelRows rows: the feature set, both anomaly detectors, and
// scoring with a classifier trained on the real KOI table (training on the
// synthetic replicas would measure nothing real: their copies of one KOI
// sit on different stars, so the grouped folds leak).
func (b *bench) models(ctx context.Context) error {
	n := b.cfg.modelRows
	g, err := generate(ctx, b.gen, b.cfg.src, b.cfg.work, n)
	if err != nil {
		return err
	}
	dd := filepath.Join(b.cfg.work, "data-models")
	os.RemoveAll(dd)
	if !b.cfg.keep {
		defer os.RemoveAll(dd)
	}
	exo := func(args ...string) []string {
		return append([]string{"--data-dir", dd, "--feature-store", filepath.Join(dd, "features")}, args...)
	}
	steps := []struct {
		name  string
		timed bool
		args  []string
	}{
		{"ingest " + sizeName(n), false, exo("ingest", g.parquet, "--name", "synthetic")},
		{"process " + sizeName(n), false, exo("process", "synthetic")},
		{"features build " + sizeName(n), true, exo("features", "build", "--version", "v1", "--dataset", "synthetic")},
		{"anomalies " + sizeName(n), true, exo("anomalies", "--dataset", "synthetic")},
		{"ingest KOI", false, exo("ingest", b.cfg.src, "--name", "koi")},
		{"process KOI", false, exo("process", "koi")},
		{"features build KOI", false, exo("features", "build", "--version", "koi", "--dataset", "koi")},
		// note: the budget is 2 minutes per training, all folds.
		{"train confirmed_vs_fp on KOI", true, exo("train", "--features", "koi", "--target", "confirmed_vs_fp")},
		{"train planet_vs_fp on KOI", true, exo("train", "--features", "koi", "--target", "planet_vs_fp")},
		{"train disposition on KOI", true, exo("train", "--features", "koi", "--target", "disposition")},
		{"score " + sizeName(n), true, exo("score", "--dataset", "synthetic", "--model", "xgb_confirmed_vs_fp")},
	}
	for _, s := range steps {
		progress("models: %s", s.name)
		m, err := runProc(ctx, b.log, b.cfg.bin, s.args...)
		if err != nil {
			return err
		}
		var out map[string]any
		if json.Unmarshal([]byte(lastLine(m.stdout)), &out) != nil {
			return fmt.Errorf("%s printed no JSON: %q", s.name, firstN(m.stdout, 200))
		}
		if s.timed {
			b.rep.models = append(b.rep.models, modelsRow{step: s.name, m: m})
		}
	}
	return nil
}

// printModels prints the models stage's table.
func (r *report) printModels(w io.Writer) {
	if r.modelsErr != "" {
		fmt.Fprintf(w, "\nmodels stage: %s\n", r.modelsErr)
		return
	}
	if len(r.models) == 0 {
		return
	}
	fmt.Fprintln(w, "\nModels (whole processes, default --memory-limit 1GB):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "command\tseconds\tpeak RSS\t")
	for _, m := range r.models {
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t\n", m.step, m.m.seconds, mb(m.m.rssKB))
	}
	tw.Flush()
}
