// Command soak loads a real exohunter server on loopback and reports what
// held: `make soak` (60 s) or `make soak DURATION=5m`.
//
// It seeds a fresh data dir with the CLI (the shared NASA KOI table,
// ingested by path and processed), starts `exohunter serve` with a fixed
// --memory-limit, and runs N concurrent clients (50; each from its own
// loopback address, 127.0.0.X, as N users would be) that mix results
// pages, exports, console queries, label writes and label reads, plus one
// upload (and its run) every 10 s. It stops by itself: at the duration, or
// at the request bound, whichever comes first. Then it checks every label
// the server acknowledged, stops the server with SIGTERM, and prints
// requests, errors and p50/p99 latency per kind of request, and the
// server's RSS at the start, at minute 1 and at the end.
//
// It exits 1 when a must-hold fails: any 5xx other than a console timeout
// (504, counted and reported), a lost label, no request served, or, for runs
// of 2 minutes or more, RSS growing 20% or more between minute 1 and the end.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/exohunter/exohunter/reliability"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	duration    time.Duration
	clients     int
	maxRequests int64
	bin, koi    string
	memoryLimit string
	threads     int
	uploadEvery time.Duration
	uploadRows  int
	keep        bool
	jsonOut     string
}

func parseFlags() config {
	var c config
	flag.DurationVar(&c.duration, "duration", 60*time.Second, "how long the clients run")
	flag.IntVar(&c.clients, "clients", 50, "concurrent clients")
	flag.Int64Var(&c.maxRequests, "max-requests", 5_000_000, "stop after this many requests even before the duration")
	flag.StringVar(&c.bin, "bin", "bin/exohunter", "the exohunter binary")
	flag.StringVar(&c.koi, "koi", "../shared/data/koi_cumulative_2025.csv", "the KOI table to seed with (read by path)")
	flag.StringVar(&c.memoryLimit, "memory-limit", "1GB", "the server's fixed --memory-limit")
	flag.IntVar(&c.threads, "threads", 2, "the server's --threads")
	flag.DurationVar(&c.uploadEvery, "upload-every", 10*time.Second, "one upload (and its run) this often")
	flag.IntVar(&c.uploadRows, "upload-rows", 3000, "rows of each uploaded table (runs under engine.DefaultIndexMinRows get no results index)")
	flag.BoolVar(&c.keep, "keep", false, "keep the data dir")
	flag.StringVar(&c.jsonOut, "json", "", "also write the report as JSON to this file")
	flag.Parse()
	return c
}

func run() error {
	cfg := parseFlags()
	if cfg.clients < 1 || cfg.clients > 250 {
		return fmt.Errorf("-clients %d: want 1 to 250 (one loopback address each)", cfg.clients)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "exohunter-soak-")
	if err != nil {
		return err
	}
	if cfg.keep {
		fmt.Printf("data dir: %s (kept)\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	bin, err := filepath.Abs(cfg.bin)
	if err != nil {
		return err
	}
	data, store := filepath.Join(dir, "data"), filepath.Join(dir, "fs")
	global := []string{"--data-dir", data, "--feature-store", store, "--memory-limit", cfg.memoryLimit, "--threads", fmt.Sprint(cfg.threads)}

	fmt.Printf("seeding: ingest %s and process it\n", cfg.koi)
	t0 := time.Now()
	if _, err := reliability.RunCLI(ctx, bin, append([]string{"ingest", cfg.koi, "--name", "koi"}, global...)...); err != nil {
		return err
	}
	out, err := reliability.RunCLI(ctx, bin, append([]string{"process", "koi"}, global...)...)
	if err != nil {
		return err
	}
	var seedRun reliability.Run
	if err := json.Unmarshal([]byte(out), &seedRun); err != nil || seedRun.Status != "complete" {
		return fmt.Errorf("process koi: %v %s", err, out)
	}
	fmt.Printf("seeded run %s (%d rows) in %v\n", seedRun.RunID, seedRun.Rows, time.Since(t0).Round(time.Millisecond))

	srv, err := reliability.Start(reliability.Options{Bin: bin, DataDir: data, FeatureStore: store, MemoryLimit: cfg.memoryLimit, Threads: cfg.threads})
	if err != nil {
		return err
	}
	defer func() {
		if !srv.Exited() {
			srv.Kill()
		}
	}()
	s := newSoak(cfg, srv, seedRun)
	if err := s.prepare(ctx); err != nil {
		return err
	}
	rep := s.load(ctx)
	rep.Labels = s.verifyLabels(ctx)
	rep.RSS.End = srv.RSS()
	rep.DuckDB[1] = duckdbMemory(ctx, srv.Client())
	rep.Proc[1] = procStatus(srv.Cmd.Process.Pid)
	rep.CleanStop = srv.Stop(30 * time.Second)
	if p := os.Getenv("SOAK_SERVER_LOG"); p != "" {
		// note: for diagnosis, e.g. with GODEBUG=gctrace=1 for the Go heap.
		_ = os.WriteFile(p, []byte(srv.Logs.String()), 0o644)
	}
	if !rep.CleanStop {
		fmt.Printf("server logs:\n%s\n", tailString(srv.Logs.String(), 3000))
	}
	rep.judge(cfg)
	rep.print(os.Stdout, cfg)
	if cfg.jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(cfg.jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	if len(rep.Failures) > 0 {
		return fmt.Errorf("%d must-hold checks failed", len(rep.Failures))
	}
	return nil
}

// Kinds of request, in report order.
const (
	kResults    = "results page"
	kExport     = "export"
	kConsole    = "console query"
	kLabelWrite = "label write"
	kLabelRead  = "label read"
	kUpload     = "upload"
	kRun        = "run start"
)

var kinds = []string{kResults, kExport, kConsole, kLabelWrite, kLabelRead, kUpload, kRun}

// soak is one load run.
type soak struct {
	cfg     config
	srv     *reliability.Server
	run     reliability.Run
	objects []string

	requests atomic.Int64
	mu       sync.Mutex
	stats    map[string]*kindStats
	acked    []reliability.Label
	runs     []string // complete runs to page through
	samples  []string // a few distinct error answers, for the report
}

// kindStats collects one kind's latencies and failures.
type kindStats struct {
	lat        []time.Duration
	errors     int64
	byStatus   map[int]int64
	transport  int64
	timeouts   int64 // console 504s
	server5xx  int64 // 5xx other than console 504
	bytesTotal int64
}

func newSoak(cfg config, srv *reliability.Server, run reliability.Run) *soak {
	s := &soak{cfg: cfg, srv: srv, run: run, stats: map[string]*kindStats{}, runs: []string{run.RunID}}
	for _, k := range kinds {
		s.stats[k] = &kindStats{byStatus: map[int]int64{}}
	}
	return s
}

// prepare reads object ids to label.
func (s *soak) prepare(ctx context.Context) error {
	c := s.srv.Client()
	rows, res, err := c.Query(ctx, "SELECT object_id FROM runs.results WHERE run_id = '"+s.run.RunID+"' ORDER BY object_id LIMIT 2000")
	if err != nil || res.Status != 200 || len(rows) == 0 {
		return fmt.Errorf("object ids: %v %v", res, err)
	}
	for _, r := range rows {
		s.objects = append(s.objects, fmt.Sprint(r[0]))
	}
	return nil
}

// report is what the soak prints.
type report struct {
	Duration  string      `json:"duration"`
	Clients   int         `json:"clients"`
	Requests  int64       `json:"requests"`
	Errors    int64       `json:"errors"`
	Kinds     []kindRow   `json:"kinds"`
	Timeouts  int64       `json:"console_timeouts_504"`
	Server5xx int64       `json:"server_5xx_other"`
	Labels    labelReport `json:"labels"`
	RSS       struct {
		Start, Minute1, End, Max int64
		// Minute1Median and EndMedian are the medians of the per-second
		// samples from 45 to 75 s and over the last 30 s of the load: a
		// single sample swings by tens of MB with the queries in flight,
		// so these tell a trend from noise. The must-hold stays on the
		// single samples.
		Minute1Median, EndMedian int64
	} `json:"rss_bytes"`
	// DuckDB is the engine's own memory by tag (duckdb_memory(), through
	// the console) at minute 1 and at the end, to tell buffer-managed
	// growth from the rest of RSS.
	DuckDB [2]string `json:"duckdb_memory"`
	// Proc is the server's /proc status (threads, anonymous and file RSS)
	// at minute 1 and at the end.
	Proc [2]string `json:"proc_status"`
	// LoadAvg is the machine's 1-minute load average at the start and the
	// end (/proc/loadavg): the latencies mean little without it on a
	// shared machine.
	LoadAvg   [2]string `json:"load_average"`
	CleanStop bool      `json:"clean_stop"`
	Samples   []string  `json:"error_samples"`
	Failures  []string  `json:"failures"`
}

// kindRow is one line of the table.
type kindRow struct {
	Kind     string        `json:"kind"`
	Requests int64         `json:"requests"`
	Errors   int64         `json:"errors"`
	P50, P99 time.Duration `json:"-"`
	P50ms    float64       `json:"p50_ms"`
	P99ms    float64       `json:"p99_ms"`
	MaxMs    float64       `json:"max_ms"`
	Statuses string        `json:"error_statuses"`
	MB       float64       `json:"mb_received"`
}

// labelReport is the end-of-run label check.
type labelReport struct {
	Acknowledged int `json:"acknowledged"`
	Present      int `json:"present"`
	Lost         int `json:"lost"`
	Error        string
}

// load runs the clients and the uploader until the duration or the
// request bound, sampling the server's RSS every second.
func (s *soak) load(ctx context.Context) *report {
	rep := &report{Duration: s.cfg.duration.String(), Clients: s.cfg.clients}
	rep.RSS.Start = s.srv.RSS()
	rep.LoadAvg[0] = loadAvg()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range s.cfg.clients {
		wg.Add(1)
		go func() { defer wg.Done(); s.client(ctx, i) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); s.uploader(ctx) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastPrint := time.Now()
	type sample struct {
		at  time.Duration
		rss int64
	}
	var samples []sample
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
			rss := s.srv.RSS()
			rep.RSS.Max = max(rep.RSS.Max, rss)
			samples = append(samples, sample{time.Since(start), rss})
			if rep.RSS.Minute1 == 0 && time.Since(start) >= time.Minute {
				rep.RSS.Minute1 = rss
				rep.DuckDB[0] = duckdbMemory(ctx, s.srv.Client())
				rep.Proc[0] = procStatus(s.srv.Cmd.Process.Pid)
			}
			if time.Since(lastPrint) >= 10*time.Second {
				lastPrint = time.Now()
				fmt.Printf("  %3.0fs: %d requests, RSS %s\n", time.Since(start).Seconds(), s.requests.Load(), mb(rss))
			}
			if s.requests.Load() >= s.cfg.maxRequests {
				fmt.Printf("request bound %d reached\n", s.cfg.maxRequests)
				cancel()
			}
			if s.srv.Exited() {
				fmt.Printf("the server exited:\n%s\n", tailString(s.srv.Logs.String(), 3000))
				cancel()
			}
		}
	}
	rep.LoadAvg[1] = loadAvg()
	var m1, last []int64
	for _, x := range samples {
		if x.at >= 45*time.Second && x.at <= 75*time.Second {
			m1 = append(m1, x.rss)
		}
		// note: samples is not empty here, x is one of them.
		if x.at >= samples[len(samples)-1].at-30*time.Second {
			last = append(last, x.rss)
		}
	}
	rep.RSS.Minute1Median, rep.RSS.EndMedian = median(m1), median(last)
	wg.Wait()
	rep.Duration = time.Since(start).Round(time.Millisecond).String()
	rep.RSS.Max = max(rep.RSS.Max, s.srv.RSS())
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range kinds {
		st := s.stats[k]
		row := kindRow{Kind: k, Requests: int64(len(st.lat)) + st.transport, Errors: st.errors, MB: float64(st.bytesTotal) / 1e6}
		sort.Slice(st.lat, func(i, j int) bool { return st.lat[i] < st.lat[j] })
		if n := len(st.lat); n > 0 {
			row.P50, row.P99 = st.lat[n/2], st.lat[min(n-1, n*99/100)]
			row.P50ms, row.P99ms, row.MaxMs = ms(row.P50), ms(row.P99), ms(st.lat[n-1])
		}
		var codes []string
		for code, n := range st.byStatus {
			codes = append(codes, fmt.Sprintf("%d×%d", n, code))
		}
		if st.transport > 0 {
			codes = append(codes, fmt.Sprintf("%d×transport", st.transport))
		}
		sort.Strings(codes)
		row.Statuses = strings.Join(codes, " ")
		rep.Kinds = append(rep.Kinds, row)
		rep.Requests += row.Requests
		rep.Errors += row.Errors
		rep.Timeouts += st.timeouts
		rep.Server5xx += st.server5xx
	}
	rep.Samples = s.samples
	return rep
}

// ms converts to milliseconds.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// client is one user: it loops over weighted actions until ctx ends.
func (s *soak) client(ctx context.Context, i int) {
	c := reliability.NewClient(s.srv.Base)
	c.HTTP = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: 4,
		DialContext: (&net.Dialer{Timeout: 10 * time.Second,
			LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i))}}).DialContext,
	}}
	rng := rand.New(rand.NewPCG(uint64(i), 42))
	var next page
	for n := 0; ctx.Err() == nil; n++ {
		if s.requests.Load() >= s.cfg.maxRequests {
			return
		}
		switch p := rng.IntN(100); {
		case p < 40:
			next = s.resultsPage(ctx, c, rng, next)
		case p < 50:
			s.export(ctx, c, rng)
		case p < 70:
			s.console(ctx, c, rng)
		case p < 95:
			s.labelWrite(ctx, c, rng, i, n)
		default:
			s.do(ctx, c, kLabelRead, "GET", fmt.Sprintf("/api/labels?annotator=soak-%d&limit=50", i), nil)
		}
	}
}

// do sends one request and records it. It returns the answer (nil on a
// transport error or when ctx ended during the request).
func (s *soak) do(ctx context.Context, c *reliability.Client, kind, method, path string, body any) *reliability.Response {
	start := time.Now()
	res, err := c.Do(ctx, method, path, body, nil)
	d := time.Since(start)
	if ctx.Err() != nil {
		// note: the run's end cut this request; it does not count.
		return nil
	}
	s.requests.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats[kind]
	if err != nil {
		st.transport++
		st.errors++
		s.sample(fmt.Sprintf("%s %s: %v", method, path, err))
		return nil
	}
	st.lat = append(st.lat, d)
	st.bytesTotal += int64(len(res.Body))
	if res.Status/100 != 2 {
		st.errors++
		st.byStatus[res.Status]++
		switch {
		case res.Status == 504 && kind == kConsole:
			st.timeouts++
		case res.Status >= 500:
			st.server5xx++
			s.sample(fmt.Sprintf("%s %s: %s", method, path, res))
		default:
			s.sample(fmt.Sprintf("%s %s: %s", method, path, res))
		}
	}
	return res
}

// sample keeps the first few distinct error answers (called under mu).
func (s *soak) sample(msg string) {
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	if len(s.samples) < 12 {
		s.samples = append(s.samples, msg)
	}
}

// resultFilters are the results-page variations.
var resultFilters = []string{
	"", "&sort=koi_prad&order=desc", "&category=candidate", "&min_score=0.5&sort=score&order=desc",
	"&koi_period__lt=10&sort=koi_period", "&q=K0007", "&disposition=CONFIRMED&sort=koi_teq",
	"&tag=rocky_candidate", "&flag=FLAG_MISSING_PRAD", "&koi_prad__gte=1&koi_prad__lt=2",
}

// resultsPage reads one page: half the time the next page of the previous
// query (same filters and sort, with its cursor), otherwise a new query.
// It returns the query and cursor to follow next.
func (s *soak) resultsPage(ctx context.Context, c *reliability.Client, rng *rand.Rand, prev page) page {
	var path string
	switch {
	case prev.cursor != "" && rng.IntN(2) == 0:
		path = prev.query + "&cursor=" + url.QueryEscape(prev.cursor)
	case rng.IntN(4) == 0:
		path = fmt.Sprintf("/api/runs/%s/results?limit=50&offset=%d", s.pickRun(rng), rng.IntN(2000))
	default:
		prev.query = fmt.Sprintf("/api/runs/%s/results?limit=50%s", s.pickRun(rng), resultFilters[rng.IntN(len(resultFilters))])
		path = prev.query
	}
	res := s.do(ctx, c, kResults, "GET", path, nil)
	if res == nil || res.Status != 200 {
		return page{}
	}
	var body struct {
		NextCursor *string `json:"next_cursor"`
	}
	if json.Unmarshal(res.Body, &body) != nil || body.NextCursor == nil || strings.Contains(path, "offset=") {
		return page{}
	}
	return page{query: prev.query, cursor: *body.NextCursor}
}

// page is a results query and the cursor of its next page.
type page struct{ query, cursor string }

// pickRun returns the seed run mostly, sometimes an uploaded one.
func (s *soak) pickRun(rng *rand.Rand) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rng.IntN(4) == 0 {
		return s.runs[rng.IntN(len(s.runs))]
	}
	return s.runs[0]
}

// exportVariants are the export requests: every format, some filtered.
var exportVariants = []string{
	"format=csv&category=habitable_zone_candidate", "format=json&category=hot_jupiter_candidate",
	"format=ndjson&disposition=CONFIRMED&koi_prad__lt=1.5", "format=parquet&category=candidate",
	"format=csv&min_score=0.9", "format=csv",
}

// export downloads one export.
func (s *soak) export(ctx context.Context, c *reliability.Client, rng *rand.Rand) {
	s.do(ctx, c, kExport, "GET", fmt.Sprintf("/api/runs/%s/export?%s", s.pickRun(rng), exportVariants[rng.IntN(len(exportVariants))]), nil)
}

// consoleQueries are what scientists type; the last one is heavy and has
// a short time limit, so that console timeouts happen and are counted.
var consoleQueries = []string{
	"SELECT category, count(*) AS n FROM runs.results WHERE run_id = '%s' GROUP BY category ORDER BY n DESC",
	"SELECT object_id, koi_prad, koi_teq, score FROM runs.results WHERE run_id = '%s' AND koi_prad < 2 ORDER BY score DESC LIMIT 100",
	"SELECT koi_disposition, avg(koi_teq), median(koi_prad) FROM runs.results WHERE run_id = '%s' GROUP BY ALL",
	"SELECT * FROM runs.results WHERE run_id = '%s' LIMIT 200",
	"SELECT count(*) FROM labels.labels",
	"SELECT run_id, count(*) FROM runs.results GROUP BY run_id",
}

const heavyQuery = "SELECT count(*) FROM runs.results a, runs.results b WHERE a.run_id = '%s' AND a.koi_prad < b.koi_prad"

// console runs one console query.
func (s *soak) console(ctx context.Context, c *reliability.Client, rng *rand.Rand) {
	q := consoleQueries[rng.IntN(len(consoleQueries))]
	body := map[string]any{}
	if rng.IntN(50) == 0 {
		q = heavyQuery
		body["timeout_ms"] = 1000
	}
	if strings.Contains(q, "%s") {
		q = fmt.Sprintf(q, s.run.RunID)
	}
	body["sql"] = q
	s.do(ctx, c, kConsole, "POST", "/api/query", body)
}

// soakLabels are the labels the clients give.
var soakLabels = []string{"candidate", "CONFIRMED", "FALSE POSITIVE", "rocky_candidate", "anomalous_signal", "habitable_zone_candidate"}

// labelWrite posts one label and records it when acknowledged.
func (s *soak) labelWrite(ctx context.Context, c *reliability.Client, rng *rand.Rand, client, n int) {
	note := fmt.Sprintf("soak client %d label %d", client, n)
	body := map[string]string{"object_id": s.objects[rng.IntN(len(s.objects))], "dataset": "koi", "run_id": s.run.RunID,
		"label": soakLabels[rng.IntN(len(soakLabels))], "annotator": fmt.Sprintf("soak-%d", client), "note": note}
	res := s.do(ctx, c, kLabelWrite, "POST", "/api/labels", body)
	if res == nil || res.Status/100 != 2 {
		return
	}
	var l reliability.Label
	if err := json.Unmarshal(res.Body, &l); err != nil || l.Note != note || l.ID == 0 {
		s.mu.Lock()
		s.sample(fmt.Sprintf("label acknowledged with another body: %s", res))
		s.stats[kLabelWrite].errors++
		s.mu.Unlock()
		return
	}
	s.mu.Lock()
	s.acked = append(s.acked, l)
	s.mu.Unlock()
}

// uploader uploads a new table every uploadEvery (from 127.0.0.254) and
// starts its run.
func (s *soak) uploader(ctx context.Context) {
	c := reliability.NewClient(s.srv.Base)
	c.HTTP = &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 254)}}).DialContext}}
	tick := time.NewTicker(s.cfg.uploadEvery)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		name := fmt.Sprintf("soak_%d", i)
		body, ct := reliability.MultipartStream(name, name+".csv", strings.NewReader(reliability.KOIString(s.cfg.uploadRows, uint64(1000+i))))
		res := s.doUpload(ctx, c, body, ct)
		if res == nil || res.Status != 201 {
			continue
		}
		res = s.do(ctx, c, kRun, "POST", "/api/datasets/"+name+"/runs", "{}")
		if res == nil || res.Status/100 != 2 {
			continue
		}
		var run reliability.Run
		if json.Unmarshal(res.Body, &run) == nil {
			go s.whenComplete(ctx, c, run.RunID)
		}
	}
}

// doUpload is do for a streamed multipart body.
func (s *soak) doUpload(ctx context.Context, c *reliability.Client, body io.Reader, ct string) *reliability.Response {
	start := time.Now()
	res, err := c.Do(ctx, "POST", "/api/datasets", body, map[string]string{"Content-Type": ct})
	d := time.Since(start)
	if ctx.Err() != nil {
		return nil
	}
	s.requests.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats[kUpload]
	if err != nil {
		st.transport++
		st.errors++
		s.sample(fmt.Sprintf("upload: %v", err))
		return nil
	}
	st.lat = append(st.lat, d)
	if res.Status != 201 {
		st.errors++
		st.byStatus[res.Status]++
		if res.Status >= 500 {
			st.server5xx++
		}
		s.sample(fmt.Sprintf("upload: %s", res))
	}
	return res
}

// whenComplete adds a run to the pages the clients read once it is
// complete (polling is not counted as load).
func (s *soak) whenComplete(ctx context.Context, c *reliability.Client, id string) {
	for ctx.Err() == nil {
		r, _, err := c.Run(ctx, id)
		if err == nil && r != nil && r.Status == "complete" {
			s.mu.Lock()
			s.runs = append(s.runs, id)
			s.mu.Unlock()
			return
		}
		if r != nil && r.Status == "failed" {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// verifyLabels reads every label back and checks each acknowledged one.
func (s *soak) verifyLabels(ctx context.Context) labelReport {
	s.mu.Lock()
	acked := append([]reliability.Label(nil), s.acked...)
	s.mu.Unlock()
	rep := labelReport{Acknowledged: len(acked)}
	c := s.srv.Client()
	all, err := c.Labels(ctx)
	if err != nil {
		rep.Error = err.Error()
		rep.Lost = len(acked)
		return rep
	}
	stored := make(map[int64]reliability.Label, len(all))
	for _, l := range all {
		stored[l.ID] = l
	}
	for _, a := range acked {
		if got, ok := stored[a.ID]; ok && got == a {
			rep.Present++
		} else {
			rep.Lost++
		}
	}
	return rep
}

// judge lists the must-hold checks that failed.
func (r *report) judge(cfg config) {
	if r.Requests == 0 {
		r.Failures = append(r.Failures, "no request was served")
	}
	if r.Server5xx > 0 {
		r.Failures = append(r.Failures, fmt.Sprintf("%d answers were 5xx other than console timeouts", r.Server5xx))
	}
	if r.Labels.Lost > 0 || r.Labels.Error != "" {
		r.Failures = append(r.Failures, fmt.Sprintf("%d acknowledged labels lost %s", r.Labels.Lost, r.Labels.Error))
	}
	if cfg.duration >= 2*time.Minute && r.RSS.Minute1 > 0 {
		if growth := float64(r.RSS.End-r.RSS.Minute1) / float64(r.RSS.Minute1); growth >= 0.20 {
			r.Failures = append(r.Failures, fmt.Sprintf("RSS grew %.0f%% between minute 1 and the end", growth*100))
		}
	}
	if !r.CleanStop {
		r.Failures = append(r.Failures, "the server did not stop within 30 s of SIGTERM")
	}
}

// print writes the report.
func (r *report) print(w io.Writer, cfg config) {
	fmt.Fprintf(w, "\nsoak: %s, %d clients (127.0.0.1-%d), server --memory-limit %s --threads %d\n", r.Duration, r.Clients, r.Clients, cfg.memoryLimit, cfg.threads)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\trequests\terrors\tp50 ms\tp99 ms\tmax ms\tMB\terror statuses\t")
	for _, k := range r.Kinds {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t\n", k.Kind, k.Requests, k.Errors, k.P50ms, k.P99ms, k.MaxMs, k.MB, k.Statuses)
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t\t\t\t\t\t\n", r.Requests, r.Errors)
	tw.Flush()
	fmt.Fprintf(w, "console timeouts (504): %d\n", r.Timeouts)
	fmt.Fprintf(w, "5xx other than console timeouts: %d\n", r.Server5xx)
	fmt.Fprintf(w, "labels: %d acknowledged, %d present after the load, %d lost %s\n", r.Labels.Acknowledged, r.Labels.Present, r.Labels.Lost, r.Labels.Error)
	m1 := "n/a (run shorter than 1 min)"
	if r.RSS.Minute1 > 0 {
		m1 = fmt.Sprintf("%s (end is %+.1f%% of minute 1)", mb(r.RSS.Minute1), 100*float64(r.RSS.End-r.RSS.Minute1)/float64(r.RSS.Minute1))
	}
	fmt.Fprintf(w, "server RSS: start %s, minute 1 %s, end %s, max %s\n", mb(r.RSS.Start), m1, mb(r.RSS.End), mb(r.RSS.Max))
	if r.RSS.Minute1Median > 0 && r.RSS.EndMedian > 0 {
		fmt.Fprintf(w, "server RSS medians (1 s samples): 45-75 s %s, last 30 s of load %s (%+.1f%%)\n", mb(r.RSS.Minute1Median),
			mb(r.RSS.EndMedian), 100*float64(r.RSS.EndMedian-r.RSS.Minute1Median)/float64(r.RSS.Minute1Median))
	}
	if r.Proc[0] != "" || r.Proc[1] != "" {
		fmt.Fprintf(w, "server process: minute 1 %s; end %s\n", orNA(r.Proc[0]), orNA(r.Proc[1]))
	}
	if r.DuckDB[0] != "" || r.DuckDB[1] != "" {
		fmt.Fprintf(w, "DuckDB memory (duckdb_memory()): minute 1 %s; end %s\n", orNA(r.DuckDB[0]), orNA(r.DuckDB[1]))
	}
	fmt.Fprintf(w, "machine load average (1 min, %d cores): %s at the start, %s at the end\n", runtime.NumCPU(), r.LoadAvg[0], r.LoadAvg[1])
	fmt.Fprintf(w, "clean stop on SIGTERM: %v\n", r.CleanStop)
	for _, s := range r.Samples {
		fmt.Fprintf(w, "  error sample: %s\n", s)
	}
	if len(r.Failures) == 0 {
		fmt.Fprintln(w, "PASS")
		return
	}
	for _, f := range r.Failures {
		fmt.Fprintf(w, "FAIL: %s\n", f)
	}
}

// loadAvg returns the 1-minute load average, or "?".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

// mb prints bytes in MB.
func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/1e6) }

// tailString returns the end of s.
func tailString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// duckdbMemory reads DuckDB's memory by tag through the console, largest
// first, e.g. "total 212 MB: BASE_TABLE 120 MB, ...".
func duckdbMemory(ctx context.Context, c *reliability.Client) string {
	// note: not cancelled with the load: in a 60 s soak the minute-1 sample
	// falls on the load's own deadline.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	rows, res, err := c.Query(ctx, "SELECT tag, memory_usage_bytes + temporary_storage_bytes FROM duckdb_memory() WHERE memory_usage_bytes + temporary_storage_bytes >= 1e6 ORDER BY 2 DESC")
	if err != nil || res == nil || res.Status != 200 {
		return fmt.Sprintf("unknown (%v %v)", err, res)
	}
	var total float64
	var parts []string
	for _, r := range rows {
		if len(r) < 2 {
			continue
		}
		b, _ := strconv.ParseFloat(fmt.Sprint(r[1]), 64)
		total += b
		parts = append(parts, fmt.Sprintf("%v %.0f MB", r[0], b/1e6))
	}
	return fmt.Sprintf("total %.0f MB: %s", total/1e6, strings.Join(parts, ", "))
}

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

// procStatus reads the threads and the anonymous and file-backed RSS of a
// process from /proc/PID/status.
func procStatus(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ""
	}
	var parts []string
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && (k == "Threads" || k == "RssAnon" || k == "RssFile") {
			parts = append(parts, k+" "+strings.Join(strings.Fields(v), " "))
		}
	}
	return strings.Join(parts, ", ")
}

// median is the median of xs (0 when empty).
func median(xs []int64) int64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
