package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// report collects every measurement and prints the tables.
type report struct {
	pipeline []pipelineRow
	printed  int
	mem      *memRow
	memErr   string
	// models and modelsErr are the models stage (bench/models.go).
	models    []modelsRow
	modelsErr string
	serve     serveReport
	// loadStart and loadEnd are the load averages around the bench.
	loadStart, loadEnd string
}

type memRow struct {
	rows            int64
	limit           string
	ingest, process measured
}

type loadRow struct {
	scenario  scenario
	one, many latency
}

type serveReport struct {
	rows       int64
	runID, via string
	note       string
	index      string // how the results index became ready
	loads      []loadRow
	export     *exportResult
	console    *latency
	consoleErr string
	ttfb       []ttfbResult
}

func mb(kb int64) string { return fmt.Sprintf("%d MB", kb/1024) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// printPipeline prints the pipeline rows not printed yet (progress as the
// sizes finish).
func (r *report) printPipeline(w io.Writer) {
	if r.printed == len(r.pipeline) {
		return
	}
	r.pipelineTable(w, r.pipeline[r.printed:])
	r.printed = len(r.pipeline)
}

func (r *report) pipelineTable(w io.Writer, rows []pipelineRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rows\tinput\tingest s\tprocess s\tingest+process s\thand SQL s\tratio\trows/s\tx prototype\tparquet export s\tRSS ingest\tRSS process\tRSS hand\t")
	for _, p := range rows {
		ratio := p.e2e.median / p.hand.median
		rps := float64(p.rows) / p.e2e.median
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2fx\t%.0f\t%.0fx\t%.2f\t%s\t%s\t%s\t\n",
			sizeName(p.rows), p.input, p.ingest.median, p.process.median, p.e2e.median, p.hand.median,
			ratio, rps, rps/prototypeRowsPerSec, p.exportS.median, mb(p.ingestRSS), mb(p.processRSS), mb(p.handRSS))
	}
	tw.Flush()
}

// printAll prints every table with its notes.
func (r *report) printAll(w io.Writer, cfg *config) {
	line := strings.Repeat("=", 100)
	fmt.Fprintln(w, "\n"+line)
	if cfg.consoleOnly {
		fmt.Fprintf(w, "ExoHunter bench, console stage only (-console-only), on the %s-row run %s\n", sizeName(r.serve.rows), r.serve.runID)
		fmt.Fprintf(w, "load average (1/5/15 min) at start %s, at end %s on %d CPUs: other work on the machine inflates every number\n", r.loadStart, r.loadEnd, runtime.NumCPU())
		if r.serve.note != "" {
			fmt.Fprintln(w, "note:", r.serve.note)
		}
		r.serve.printConsole(w)
		return
	}
	fmt.Fprintf(w, "ExoHunter bench: medians of %d whole-process runs; targets: ratio <= 1.25x at 250k and 10M, RSS < 2 GB\n", cfg.repeat)
	fmt.Fprintln(w, "ratio = (ingest + process --out result.parquet) / hand-written single DuckDB statement (bench/handsql.go)")
	fmt.Fprintf(w, "x prototype = rows/s over the prototype's %d rows/s\n", prototypeRowsPerSec)
	fmt.Fprintf(w, "load average (1/5/15 min) at start %s, at end %s on %d CPUs: other work on the machine inflates every number\n\n", r.loadStart, r.loadEnd, runtime.NumCPU())
	r.pipelineTable(w, r.pipeline)

	fmt.Fprintln(w)
	if r.mem != nil {
		fmt.Fprintf(w, "%s rows under --memory-limit %s: ingest %.2f s (RSS %s), process %.2f s (RSS %s): OK\n",
			sizeName(r.mem.rows), r.mem.limit, r.mem.ingest.seconds, mb(r.mem.ingest.rssKB), r.mem.process.seconds, mb(r.mem.process.rssKB))
	} else {
		fmt.Fprintf(w, "memory-limit stage: %s\n", r.memErr)
	}
	r.printModels(w)

	s := r.serve
	if s.runID == "" {
		fmt.Fprintln(w, "\nserving stages: no run to serve")
		return
	}
	fmt.Fprintf(w, "\nResults pages on the %s-row run %s (limit 50), via %s; targets: p99 < 100 ms (1 client), p99 < 1 s (32 clients)\n",
		sizeName(s.rows), s.runID, orDefault(s.via, "engine.Results in-process"))
	if s.note != "" {
		fmt.Fprintln(w, "note:", s.note)
	}
	if s.index != "" {
		fmt.Fprintln(w, "results index:", s.index)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "query\tclients\trequests\terrors\tp50\tp99\tmax\tpages/s\tfirst pages p50 / p99\tcursor pages p50 / p99\t")
	for _, l := range s.loads {
		for _, x := range []latency{l.one, l.many} {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t%.1f\t%s / %s (%d)\t%s / %s (%d)\t\n", l.scenario.name, x.clients, x.requests, x.errors,
				ms(x.p50), ms(x.p99), ms(x.max), x.perSec, ms(x.first.p50), ms(x.first.p99), x.first.n, ms(x.next.p50), ms(x.next.p99), x.next.n)
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "first pages: a new filter, its total counted with the page; cursor pages: keyset pages after it, total cached")
	for _, l := range s.loads {
		for _, x := range []latency{l.one, l.many} {
			if x.firstErr != "" {
				fmt.Fprintf(w, "first error (%s, %d clients): %s\n", l.scenario.name, x.clients, x.firstErr)
			}
		}
	}
	if x := s.export; x != nil {
		fmt.Fprintf(w, "\nFull CSV export over HTTP: %s, %s in %.1f s; server peak RSS %s (%s after start); target < 1 GB\n",
			x.status, human(x.bytes), x.seconds, mb(x.peakKB), mb(x.baseKB))
	}
	s.printConsole(w)
}

// printConsole prints the console stage's lines.
func (s *serveReport) printConsole(w io.Writer) {
	if c := s.console; c != nil {
		fmt.Fprintf(w, "Console, category counts by host star (POST /api/query, %d runs): p50 %s, p99 %s\n", c.requests, ms(c.p50), ms(c.p99))
	} else if s.consoleErr != "" {
		fmt.Fprintf(w, "Console, category counts by host star: failed: %s\n", s.consoleErr)
	}
	for _, t := range s.ttfb {
		what := fmt.Sprintf("Streamed 1M-row %s query export (POST /api/query?format=%s)", strings.ToUpper(t.format), t.format)
		if t.ttfb > 0 {
			fmt.Fprintf(w, "%s: first byte %s, done %s, %s\n", what, ms(t.ttfb), ms(t.total), human(t.bytes))
		} else {
			fmt.Fprintf(w, "%s: not available: %s\n", what, t.status)
		}
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
