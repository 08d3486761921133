package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// server is a running `exohunter serve` on a loopback port.
type server struct {
	cmd  *exec.Cmd
	base string
	done chan struct{}
}

// startServer starts `bin serve` on the data dir and waits until
// /api/health answers.
func startServer(ctx context.Context, log *os.File, bin, dataDir string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--data-dir", dataDir, "serve", "--addr", addr)
	cmd.Stdout, cmd.Stderr = log, log
	fmt.Fprintf(log, "\n$ %s --data-dir %s serve --addr %s\n", bin, dataDir, addr)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, base: "http://" + addr, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return nil, errors.New("serve exited at start (see the log)")
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(s.base + "/api/health")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
	}
	s.stop()
	return nil, errors.New("serve did not answer /api/health within 2 minutes")
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// stop sends SIGINT (clean shutdown) and waits.
func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// clientFor returns an HTTP client whose connections come from 127.0.0.(2+i),
// so that each simulated client has its own address (the server limits
// concurrent requests per address).
func clientFor(i int) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%250))}, Timeout: 10 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4}, Timeout: 5 * time.Minute}
}

// pager fetches result pages: the first page of a query, then follows
// next_cursor for up to depth pages before starting over.
type pager interface {
	page(ctx context.Context, client int, query url.Values, cursor string) (next string, err error)
}

// httpPager reads pages over loopback HTTP.
type httpPager struct {
	base, runID string
	clients     []*http.Client
}

func (h *httpPager) page(ctx context.Context, client int, query url.Values, cursor string) (string, error) {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.base+"/api/runs/"+url.PathEscape(h.runID)+"/results?"+q.Encode(), nil)
	resp, err := h.clients[client].Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, firstN(string(body), 200))
	}
	var page struct {
		Rows       []json.RawMessage `json:"rows"`
		NextCursor *string           `json:"next_cursor"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return "", err
	}
	if page.NextCursor == nil {
		return "", nil
	}
	return *page.NextCursor, nil
}

func firstN(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// latency is one load measurement.
type latency struct {
	clients, requests, errors int
	p50, p99, max             time.Duration
	perSec                    float64
	firstErr                  string
	// first and next split the requests: first pages of a new filter (the
	// total is counted then) and cursor pages after them (total cached).
	first, next durations
}

// durations summarizes one subset of requests.
type durations struct {
	n        int
	p50, p99 time.Duration
}

func summarizeDurations(ds []time.Duration) durations {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return durations{n: len(ds), p50: percentile(ds, 0.5), p99: percentile(ds, 0.99)}
}

// runLoad has each of clients fetch perClient pages: the first page of a
// query, then up to depth-1 pages by cursor, then the first page of the
// next round's query. query(client, round) gives every client and round its
// own filter, so that no client is served from another's cached total.
func runLoad(ctx context.Context, p pager, query func(client, round int) url.Values, clients, perClient, depth int) latency {
	var mu sync.Mutex
	var all, firsts, nexts []time.Duration
	var errs atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	t0 := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			cursor, n, round := "", 0, 0
			var lf, ln []time.Duration
			for i := 0; i < perClient; i++ {
				s := time.Now()
				next, err := p.page(ctx, c, query(c, round), cursor)
				d := time.Since(s)
				if cursor == "" {
					lf = append(lf, d)
				} else {
					ln = append(ln, d)
				}
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					cursor, n, round = "", 0, round+1
					continue
				}
				n++
				if next == "" || n >= depth {
					cursor, n, round = "", 0, round+1
				} else {
					cursor = next
				}
			}
			mu.Lock()
			firsts, nexts = append(firsts, lf...), append(nexts, ln...)
			all = append(append(all, lf...), ln...)
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	wall := time.Since(t0)
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	l := latency{clients: clients, requests: len(all), errors: int(errs.Load()),
		p50: percentile(all, 0.50), p99: percentile(all, 0.99), perSec: float64(len(all)) / wall.Seconds(),
		first: summarizeDurations(firsts), next: summarizeDurations(nexts)}
	if len(all) > 0 {
		l.max = all[len(all)-1]
	}
	if s, ok := firstErr.Load().(string); ok {
		l.firstErr = s
	}
	return l
}

// exportRSS downloads a full CSV export of the run from a freshly started
// server and reports the server's peak RSS, the bytes and the time.
type exportResult struct {
	bytes          int64
	seconds        float64
	baseKB, peakKB int64
	status         string
}

func measureExport(ctx context.Context, s *server, runID, format string) exportResult {
	r := exportResult{baseKB: vmHWM(s.pid())}
	stop := make(chan struct{})
	var peak atomic.Int64
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				peak.Store(max(peak.Load(), vmHWM(s.pid())))
			}
		}
	}()
	t0 := time.Now()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/runs/"+url.PathEscape(runID)+"/export?format="+format, nil)
	resp, err := clientFor(0).Do(req)
	if err != nil {
		r.status = err.Error()
	} else {
		r.bytes, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		r.status = resp.Status
	}
	r.seconds = time.Since(t0).Seconds()
	close(stop)
	r.peakKB = max(peak.Load(), vmHWM(s.pid()))
	return r
}

// consoleLatency runs one console query n times and reports p50/p99.
func consoleLatency(ctx context.Context, base, sql string, n int) (latency, error) {
	body, _ := json.Marshal(map[string]any{"sql": sql, "limit": 1000, "timeout_ms": 60000})
	var all []time.Duration
	c := clientFor(40)
	for i := 0; i < n; i++ {
		t0 := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			return latency{}, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return latency{}, fmt.Errorf("HTTP %d: %s", resp.StatusCode, firstN(string(b), 200))
		}
		all = append(all, time.Since(t0))
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	return latency{clients: 1, requests: n, p50: percentile(all, 0.5), p99: percentile(all, 0.99), max: all[len(all)-1]}, nil
}

// queryExportTTFB posts a console query with ?format=csv (or ndjson) and
// measures the time to the first byte of the body and to the end.
type ttfbResult struct {
	format      string
	ttfb, total time.Duration
	bytes       int64
	status      string
}

func queryExportTTFB(ctx context.Context, base, format, sql string) ttfbResult {
	body, _ := json.Marshal(map[string]any{"sql": sql, "timeout_ms": 60000})
	var first time.Time
	trace := &httptrace.ClientTrace{GotFirstResponseByte: func() { first = time.Now() }}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, base+"/api/query?format="+format, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	t0 := time.Now()
	resp, err := clientFor(41).Do(req)
	if err != nil {
		return ttfbResult{format: format, status: err.Error()}
	}
	defer resp.Body.Close()
	r := ttfbResult{format: format}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		r.status = fmt.Sprintf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(firstN(string(b), 160)))
		return r
	}
	r.bytes, _ = io.Copy(io.Discard, resp.Body)
	r.total = time.Since(t0)
	r.ttfb = first.Sub(t0)
	r.status = resp.Status
	return r
}

// waitIndex waits until the server's results index of the run is built
// (serve builds it in the background after a run completes, or at start
// for runs processed by the CLI) and says how long that took: the pages
// are measured on the index, as a user sees them once it is ready.
func waitIndex(ctx context.Context, base, runID string) string {
	t0 := time.Now()
	for {
		var run struct {
			ResultsIndex string `json:"results_index"`
		}
		resp, err := http.Get(base + "/api/runs/" + url.PathEscape(runID))
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&run)
			resp.Body.Close()
		}
		switch {
		case err != nil:
			return "state unknown: " + err.Error()
		case run.ResultsIndex == "ready":
			return fmt.Sprintf("ready %.1f s after the server started", time.Since(t0).Seconds())
		case run.ResultsIndex == "" || run.ResultsIndex == "failed":
			return "not used (state " + strconv.Quote(run.ResultsIndex) + "): pages read the Parquet file"
		}
		progress("results index: %s (%.0f s)", run.ResultsIndex, time.Since(t0).Seconds())
		select {
		case <-ctx.Done():
			return "not ready: " + ctx.Err().Error()
		case <-time.After(5 * time.Second):
		}
	}
}
