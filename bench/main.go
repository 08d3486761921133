// Command bench is `make bench`: it generates KOI-shaped synthetic catalogs
// (the real KOI table replicated with jitter and fresh ids, see gen.go) at
// 250k, 1M and 10M rows as CSV and Parquet, times `exohunter ingest` and
// `exohunter process --out result.parquet` as whole processes (median of
// 3) against the same pipeline written by hand as one DuckDB statement
// (handsql.go), processes a 5M-row file under --memory-limit 256MB, then
// serves the largest run and measures results pages (1 and 32 clients),
// a full CSV export's peak RSS and the SQL console over loopback HTTP.
//
// Usage: go run ./bench [-sizes 250k,1M,10M] [-bin bin/exohunter] [-work DIR]
// or BENCH_SIZES=250k make bench. It is not part of `make test`.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // note: the generator and the hand-written baseline
)

// prototypeRowsPerSec is the prototype's row-by-row pipeline on this
// machine (issue 2 §8).
const prototypeRowsPerSec = 2700

type config struct {
	bin, src, repo, work string
	sizes                []int64
	repeat               int
	memRows              int64
	modelRows            int64
	memLimit             string
	keep                 bool
	clients              int
	// genOnly only generates the catalogs (-gen), into -work.
	genOnly bool
	// serveOnly skips the pipeline timings, the memory-limit stage, the
	// export and the console: it ingests and processes the largest CSV
	// once (or reuses that run) and measures results pages (-serve-only).
	serveOnly, reprocess bool
	// scenarios picks load scenarios by number (1-based, comma-separated).
	scenarios string
	// consoleOnly runs only the console stage (-console-only) on the data
	// dir a previous run kept in -work.
	consoleOnly bool
	modelsOnly  bool
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "handsql" {
		os.Exit(handSQLMain(os.Args[2:]))
	}
	if len(os.Args) == 4 && os.Args[1] == "compare" {
		// note: a child of its own, as handsql is: a child's ru_maxrss
		// starts from the bench's own peak (Linux counts the parent's
		// memory until exec), and comparing 10M rows took 4.7 GB.
		if err := sameClasses(context.Background(), os.Args[2], os.Args[3]); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := parseFlags()
	if err == nil {
		err = run(ctx, cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags() (*config, error) {
	c := &config{}
	sizes := flag.String("sizes", envOr("BENCH_SIZES", "250k,1M,10M"), "catalog sizes (env BENCH_SIZES)")
	flag.StringVar(&c.bin, "bin", "bin/exohunter", "the exohunter binary")
	flag.StringVar(&c.src, "src", "../shared/data/koi_cumulative_2025.csv", "the real KOI table the synthetic rows are drawn from")
	flag.StringVar(&c.repo, "repo", ".", "repository root (configs/ and schemas/), for in-process measurements")
	flag.StringVar(&c.work, "work", os.Getenv("BENCH_DIR"), "work dir for generated files and data dirs (env BENCH_DIR; default a fresh temp dir, removed afterwards)")
	flag.IntVar(&c.repeat, "repeat", 3, "repetitions of each timed process (the median is reported)")
	mem := flag.String("memlimit-rows", envOr("BENCH_MEMLIMIT_ROWS", "5M"), "rows of the --memory-limit stage (0 to skip)")
	flag.StringVar(&c.memLimit, "memlimit", "256MB", "--memory-limit of that stage")
	models := flag.String("models-rows", envOr("BENCH_MODELS_ROWS", "1M"), "rows of the models stage: features, anomalies, scoring (env BENCH_MODELS_ROWS; 0 to skip)")
	flag.BoolVar(&c.keep, "keep", os.Getenv("BENCH_KEEP") != "", "keep the work dir (env BENCH_KEEP)")
	flag.IntVar(&c.clients, "clients", 32, "concurrent clients of the load stage")
	flag.BoolVar(&c.genOnly, "gen", false, "only generate the catalogs of -sizes into -work (kept)")
	flag.BoolVar(&c.serveOnly, "serve-only", false, "only the results pages: process the largest CSV once into -work/serve-<size> (reused when it holds a run) and serve it")
	flag.BoolVar(&c.reprocess, "reprocess", false, "with -serve-only: process again even when a run exists (e.g. after a storage change)")
	flag.StringVar(&c.scenarios, "scenarios", "", "load scenarios to run, by number (e.g. 1,3; default all)")
	flag.BoolVar(&c.modelsOnly, "models-only", false, "only the models stage (-models-rows rows)")
	flag.BoolVar(&c.consoleOnly, "console-only", false, "only time the console queries, on the largest size's CSV run a previous bench left in -work")
	flag.Parse()
	for _, s := range strings.Split(*sizes, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := parseSize(s)
		if err != nil {
			return nil, err
		}
		c.sizes = append(c.sizes, n)
	}
	if *mem != "0" {
		n, err := parseSize(*mem)
		if err != nil {
			return nil, err
		}
		c.memRows = n
	}
	if *models != "0" {
		n, err := parseSize(*models)
		if err != nil {
			return nil, err
		}
		c.modelRows = n
	}
	return c, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, cfg *config) error {
	for _, p := range []*string{&cfg.bin, &cfg.src, &cfg.repo} {
		a, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = a
	}
	if _, err := os.Stat(cfg.bin); err != nil {
		return fmt.Errorf("no binary at %s: run make build first", cfg.bin)
	}
	if (cfg.genOnly || cfg.consoleOnly) && cfg.work == "" {
		return fmt.Errorf("-gen and -console-only need -work DIR")
	}
	if cfg.work == "" {
		d, err := os.MkdirTemp("", "exohunter-bench-")
		if err != nil {
			return err
		}
		cfg.work = d
		if !cfg.keep {
			defer os.RemoveAll(d)
		}
	}
	if err := os.MkdirAll(cfg.work, 0o755); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(cfg.work, "bench.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	b := &bench{cfg: cfg, log: logf}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	// note: without a memory limit DuckDB may buffer a whole 10M-row
	// catalog (it reached 18 GB keeping insertion order); the order of the
	// synthetic rows does not matter.
	for _, q := range []string{"SET memory_limit = '2GB'", "SET preserve_insertion_order = false",
		"SET temp_directory = " + lit(filepath.Join(cfg.work, "tmp"))} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	b.gen = db
	if cfg.genOnly {
		for _, n := range cfg.sizes {
			g, err := generate(ctx, db, cfg.src, cfg.work, n)
			if err != nil {
				return err
			}
			progress("%s: %s and %s in %.1fs", sizeName(n), g.csv, g.parquet, g.seconds)
		}
		return nil
	}
	progress("work dir %s (log: bench.log), %d CPUs, free disk %s, load average %s", cfg.work, runtime.NumCPU(), human(freeDisk(cfg.work)), loadAvg())
	b.rep.loadStart = loadAvg()
	if cfg.consoleOnly {
		return b.consoleOnly(ctx)
	}
	if cfg.modelsOnly {
		if cfg.modelRows == 0 {
			return fmt.Errorf("-models-only needs -models-rows above 0")
		}
		if err := b.models(ctx); err != nil {
			return err
		}
		b.rep.printModels(os.Stdout)
		return nil
	}
	return b.all(ctx)
}

// consoleOnly times the console stage alone on the data dir and run that
// the largest size's CSV pipeline left in the work dir.
func (b *bench) consoleOnly(ctx context.Context) error {
	largest := int64(0)
	for _, n := range b.cfg.sizes {
		largest = max(largest, n)
	}
	dd := filepath.Join(b.cfg.work, fmt.Sprintf("data-%s-csv", sizeName(largest)))
	runs, _ := filepath.Glob(filepath.Join(dd, "runs", "*.parquet"))
	if len(runs) != 1 {
		return fmt.Errorf("-console-only needs one run in %s (found %d): run the bench once with BENCH_DIR", dd, len(runs))
	}
	b.servedDir, b.servedRows = dd, largest
	b.servedRun = strings.TrimSuffix(filepath.Base(runs[0]), ".parquet")
	sv := &b.rep.serve
	sv.rows, sv.runID = b.servedRows, b.servedRun
	b.console(ctx)
	b.rep.loadEnd = loadAvg()
	b.rep.printAll(os.Stdout, b.cfg)
	return nil
}

// bench holds the state of one `make bench`.
type bench struct {
	cfg *config
	log *os.File
	gen *sql.DB
	rep report
	// served is the data dir and run of the largest CSV run, kept for the
	// serving stages.
	servedDir, servedRun string
	servedRows           int64
}

func (b *bench) all(ctx context.Context) error {
	largest := int64(0)
	for _, n := range b.cfg.sizes {
		largest = max(largest, n)
	}
	if b.cfg.serveOnly {
		return b.serveOnly(ctx, largest)
	}
	for _, n := range b.cfg.sizes {
		if err := b.size(ctx, n, n == largest); err != nil {
			return err
		}
		b.rep.printPipeline(os.Stdout)
	}
	if b.cfg.memRows > 0 && largest >= 1_000_000 {
		if err := b.memoryLimit(ctx); err != nil {
			b.rep.memErr = err.Error()
		}
	} else {
		b.rep.memErr = "skipped (run with a size of 1M or more, or BENCH_MEMLIMIT_ROWS=0 to silence)"
	}
	if b.cfg.modelRows > 0 {
		if err := b.models(ctx); err != nil {
			b.rep.modelsErr = err.Error()
		}
	}
	if b.servedDir != "" {
		b.serving(ctx)
	}
	b.rep.loadEnd = loadAvg()
	b.rep.printAll(os.Stdout, b.cfg)
	return nil
}

// size runs the pipeline stages at one size for each input format.
func (b *bench) size(ctx context.Context, n int64, keep bool) error {
	need := n * 360 * 3 // CSV + Parquet + a stored copy and a run file, roughly
	if free := freeDisk(b.cfg.work); free > 0 && free < need {
		return fmt.Errorf("%s rows need about %s of free disk in %s; only %s is free", sizeName(n), human(need), b.cfg.work, human(free))
	}
	progress("%s: generating (or reusing) the catalog", sizeName(n))
	g, err := generate(ctx, b.gen, b.cfg.src, b.cfg.work, n)
	if err != nil {
		return err
	}
	progress("%s: catalog ready in %.1fs", sizeName(n), g.seconds)
	for _, in := range []string{g.csv, g.parquet} {
		row, err := b.pipeline(ctx, n, in, keep && strings.HasSuffix(in, ".csv"))
		if err != nil {
			return err
		}
		b.rep.pipeline = append(b.rep.pipeline, row)
	}
	return nil
}

// pipelineRow is one line of the pipeline table.
type pipelineRow struct {
	rows                           int64
	input                          string
	ingest, process, e2e, hand     stats
	ingestRSS, processRSS, handRSS int64
	exportS                        stats
}

// pipeline times ingest+process (whole processes) and the hand-written
// statement, repeat times each.
func (b *bench) pipeline(ctx context.Context, n int64, in string, keep bool) (pipelineRow, error) {
	row := pipelineRow{rows: n, input: strings.TrimPrefix(filepath.Ext(in), ".")}
	var ing, proc, e2e, hand, export []float64
	var ingRSS, procRSS, handRSS []int64
	for i := 0; i < b.cfg.repeat; i++ {
		dd := filepath.Join(b.cfg.work, fmt.Sprintf("data-%s-%s", sizeName(n), row.input))
		os.RemoveAll(dd)
		progress("%s %s: ingest + process, repetition %d/%d", sizeName(n), row.input, i+1, b.cfg.repeat)
		mi, err := runProc(ctx, b.log, b.cfg.bin, "--data-dir", dd, "ingest", in, "--name", "bench")
		if err != nil {
			return row, err
		}
		mp, err := runProc(ctx, b.log, b.cfg.bin, "--data-dir", dd, "process", "bench", "--out", filepath.Join(dd, "result.parquet"))
		if err != nil {
			return row, err
		}
		var out struct {
			RunID   string             `json:"run_id"`
			Rows    int64              `json:"rows"`
			Timings map[string]float64 `json:"timings"`
		}
		if err := json.Unmarshal([]byte(lastLine(mp.stdout)), &out); err != nil {
			return row, fmt.Errorf("process printed no JSON: %q", firstN(mp.stdout, 200))
		}
		if out.Rows != n {
			return row, fmt.Errorf("process kept %d rows of %d", out.Rows, n)
		}
		ing, proc, e2e = append(ing, mi.seconds), append(proc, mp.seconds), append(e2e, mi.seconds+mp.seconds)
		export = append(export, out.Timings["export"]/1000) // note: run timings are in milliseconds
		ingRSS, procRSS = append(ingRSS, mi.rssKB), append(procRSS, mp.rssKB)

		progress("%s %s: hand-written SQL, repetition %d/%d", sizeName(n), row.input, i+1, b.cfg.repeat)
		self, _ := os.Executable()
		outFile := filepath.Join(b.cfg.work, "hand.parquet")
		mh, err := runProc(ctx, b.log, self, "handsql", in, outFile, filepath.Join(b.cfg.work, "tmp"))
		if err == nil && i == 0 {
			var mc measured
			if mc, err = runProc(ctx, b.log, self, "compare", filepath.Join(dd, "result.parquet"), outFile); err != nil && strings.TrimSpace(mc.stdout) != "" {
				err = errors.New(strings.TrimSpace(mc.stdout))
			}
		}
		os.Remove(outFile)
		if keep && i == b.cfg.repeat-1 {
			b.servedDir, b.servedRun, b.servedRows = dd, out.RunID, n
		} else {
			os.RemoveAll(dd)
		}
		if err != nil {
			return row, err
		}
		hand, handRSS = append(hand, mh.seconds), append(handRSS, mh.rssKB)
	}
	row.ingest, row.process, row.e2e, row.hand, row.exportS = summarize(ing), summarize(proc), summarize(e2e), summarize(hand), summarize(export)
	row.ingestRSS, row.processRSS, row.handRSS = maxInt64(ingRSS), maxInt64(procRSS), maxInt64(handRSS)
	return row, nil
}

// sameClasses checks that the hand-written statement still does the
// pipeline's work: every row gets the run's category, flags, tags, score
// and disposition_compare. A rule changed in configs/ without the same
// change in handsql.go would otherwise leave the ratio measuring less work.
func sameClasses(ctx context.Context, run, hand string) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	cols := "row_id, category, flags, tags, score, disposition_compare"
	var n int64
	q := fmt.Sprintf(`SELECT count(*) FROM ((SELECT %[1]s FROM read_parquet(%[2]s) EXCEPT ALL SELECT %[1]s FROM read_parquet(%[3]s))
		UNION ALL (SELECT %[1]s FROM read_parquet(%[3]s) EXCEPT ALL SELECT %[1]s FROM read_parquet(%[2]s)))`, cols, lit(run), lit(hand))
	if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return fmt.Errorf("compare the run with the hand-written SQL: %w", err)
	}
	if n != 0 {
		return fmt.Errorf("the hand-written SQL no longer does the pipeline's work: %d rows differ in category, flags, tags, score or disposition_compare; bring bench/handsql.go up to date with configs/", n)
	}
	return nil
}

// memoryLimit processes a memRows-row CSV under --memory-limit.
func (b *bench) memoryLimit(ctx context.Context) error {
	n := b.cfg.memRows
	progress("%s under --memory-limit %s", sizeName(n), b.cfg.memLimit)
	g, err := generate(ctx, b.gen, b.cfg.src, b.cfg.work, n)
	if err != nil {
		return err
	}
	dd := filepath.Join(b.cfg.work, "data-memlimit")
	os.RemoveAll(dd)
	defer os.RemoveAll(dd)
	mi, err := runProc(ctx, b.log, b.cfg.bin, "--data-dir", dd, "--memory-limit", b.cfg.memLimit, "ingest", g.csv, "--name", "bench")
	if err != nil {
		return err
	}
	mp, err := runProc(ctx, b.log, b.cfg.bin, "--data-dir", dd, "--memory-limit", b.cfg.memLimit, "process", "bench", "--out", filepath.Join(dd, "result.parquet"))
	if err != nil {
		return err
	}
	b.rep.mem = &memRow{rows: n, limit: b.cfg.memLimit, ingest: mi, process: mp}
	return nil
}

// serving measures the API on the largest CSV run.
func (b *bench) serving(ctx context.Context) {
	sv := &b.rep.serve
	sv.rows, sv.runID = b.servedRows, b.servedRun
	s, err := startServer(ctx, b.log, b.cfg.bin, b.servedDir)
	var p pager
	if err != nil {
		sv.note = "serve did not start (" + err.Error() + "): results measured through engine.Results in-process"
		e, oerr := openEngine(ctx, b.servedDir, b.cfg.repo)
		if oerr != nil {
			sv.note += "; opening the engine failed too: " + oerr.Error()
			return
		}
		defer e.Close()
		p = &enginePager{e: e, runID: b.servedRun}
	} else {
		sv.via = "HTTP " + s.base
		sv.index = waitIndex(ctx, s.base, b.servedRun)
		clients := make([]*http.Client, max(b.cfg.clients, 1))
		for i := range clients {
			clients[i] = clientFor(i)
		}
		p = &httpPager{base: s.base, runID: b.servedRun, clients: clients}
	}
	for i, sc := range scenarios {
		if !b.picked(i + 1) {
			continue
		}
		progress("results %q: 1 client", sc.name)
		runLoad(ctx, p, sc.query(-1), 1, 2, sc.depth) // warm-up: metadata and page caches
		one := runLoad(ctx, p, sc.query(0), 1, sc.one, sc.depth)
		progress("results %q: %d clients", sc.name, b.cfg.clients)
		many := runLoad(ctx, p, sc.query(1), b.cfg.clients, sc.many, sc.depth)
		sv.loads = append(sv.loads, loadRow{scenario: sc, one: one, many: many})
	}
	if s == nil {
		return
	}
	s.stop()
	if !b.cfg.serveOnly {
		b.exportAndConsole(ctx)
	}
}

// exportAndConsole restarts the server for a clean peak RSS, downloads a
// full CSV export, then times console queries.
func (b *bench) exportAndConsole(ctx context.Context) {
	sv := &b.rep.serve
	progress("full CSV export over HTTP")
	s, err := startServer(ctx, b.log, b.cfg.bin, b.servedDir)
	if err != nil {
		sv.note = "export: " + err.Error()
		return
	}
	x := measureExport(ctx, s, b.servedRun, "csv")
	sv.export = &x
	s.stop()
	b.console(ctx)
}

// console times a console query and the 1M-row query downloads on a fresh
// server.
func (b *bench) console(ctx context.Context) {
	sv := &b.rep.serve
	progress("console queries")
	s, err := startServer(ctx, b.log, b.cfg.bin, b.servedDir)
	if err != nil {
		sv.note = "console: " + err.Error()
		return
	}
	defer s.stop()
	q := fmt.Sprintf("SELECT star_id, category, count(*) AS n FROM runs.results WHERE run_id = '%s' GROUP BY star_id, category ORDER BY n DESC, star_id, category", b.servedRun)
	if l, err := consoleLatency(ctx, s.base, q, 20); err != nil {
		sv.consoleErr = err.Error()
	} else {
		sv.console = &l
	}
	for _, format := range []string{"csv", "ndjson"} {
		progress("console: 1M-row %s query download", format)
		t := queryExportTTFB(ctx, s.base, format, fmt.Sprintf("SELECT * FROM runs.results WHERE run_id = '%s' LIMIT 1000000", b.servedRun))
		sv.ttfb = append(sv.ttfb, t)
	}
}

// scenario is one results query of the load stage.
type scenario struct {
	name  string
	base  string // query string; {P} is replaced by a bound unique per client and round
	bound float64
	depth int // pages read by cursor before the next round's first page
	// one and many are the requests of the 1-client stage and of each
	// client of the concurrent stage.
	one, many int
}

// uiColumns are the dashboard's default result columns (ui/src/pages/results.js).
const uiColumns = "object_id,star_id,category,score,koi_disposition,disposition_compare,koi_period,koi_prad,koi_insol,koi_teq,koi_steff,hz_position,flags"

var scenarios = []scenario{
	{name: "filter, default sort (row_id), all columns", base: "category=rocky_candidate&koi_period__lt={P}&limit=50",
		bound: 50, depth: 10, one: 60, many: 10},
	{name: "filter, default sort (row_id), dashboard columns", base: "category=rocky_candidate&koi_period__lt={P}&limit=50&columns=" + uiColumns,
		bound: 50, depth: 10, one: 60, many: 10},
	{name: "filter, sort koi_prad desc, dashboard columns", base: "disposition=CONFIRMED&koi_period__gte={P}&sort=koi_prad&order=desc&limit=50&columns=" + uiColumns,
		bound: 10, depth: 3, one: 6, many: 2},
	{name: "filter, sort koi_prad desc, all columns", base: "disposition=CONFIRMED&koi_period__gte={P}&sort=koi_prad&order=desc&limit=50",
		bound: 10, depth: 3, one: 6, many: 2},
}

// query returns the scenario's query for a client and round of one stage:
// the range bound moves by a hair per client and round, so every first page
// is a new filter (its total is counted) while the selectivity stays put.
func (sc scenario) query(stage int) func(client, round int) url.Values {
	return func(client, round int) url.Values {
		p := sc.bound + float64(stage+2)*1e-3 + float64(client)*1e-5 + float64(round)*1e-8
		v, _ := url.ParseQuery(strings.ReplaceAll(sc.base, "{P}", strconv.FormatFloat(p, 'f', -1, 64)))
		return v
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// freeDisk is the free space of the file system holding dir, in bytes.
func freeDisk(dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// loadAvg is the 1, 5 and 15 minute load average: the machine may be
// shared, and the numbers mean little when it is busy.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func human(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%d kB", b/1024)
}

// handSQLMain is the child process that runs the hand-written statement:
// handsql IN OUT TMPDIR. It uses the engine's defaults (memory_limit 1GB,
// every CPU, preserve_insertion_order off) so the comparison is fair.
func handSQLMain(args []string) int {
	if len(args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: bench handsql IN OUT TMPDIR")
		return 2
	}
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err == nil {
		defer db.Close()
		for _, s := range []string{"SET memory_limit = '1GB'", fmt.Sprintf("SET threads = %d", runtime.NumCPU()),
			"SET temp_directory = " + lit(args[2]), "SET preserve_insertion_order = false"} {
			if _, err = db.ExecContext(ctx, s); err != nil {
				break
			}
		}
	}
	var n int64
	if err == nil {
		n, err = runHandSQL(ctx, db, args[0], args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "handsql:", err)
		return 1
	}
	fmt.Printf("{\"rows\":%d}\n", n)
	return 0
}
