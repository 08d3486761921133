package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/exohunter/exohunter/api"
	"github.com/exohunter/exohunter/engine"
)

// lockedBuffer collects the server's logs from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe runs `exohunter serve` in process until the returned stop is
// called, and returns the base URL read from DATA/server.json.
func startServe(t *testing.T, data string, env map[string]string, args ...string) (base string, logs *lockedBuffer, stop func() error) {
	t.Helper()
	logs = &lockedBuffer{}
	m := &Main{Stdout: io.Discard, Stderr: logs, Getenv: func(k string) string { return env[k] },
		Logger: slog.New(slog.NewTextHandler(logs, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := m.Run(ctx, append([]string{"serve", "--data-dir", data, "--feature-store", filepath.Join(data, "..", "fs"),
			"--addr", "127.0.0.1:0", "--memory-limit", "512MB", "--threads", "2"}, args...))
		if cerr := m.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		info, err := engine.ReadServerInfo(data)
		if err == nil {
			base = "http://" + info.Addr
			break
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve stopped before listening: %v\n%s", err, logs)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not write server.json\n%s", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			return errors.New("serve did not stop within 30 s of SIGINT")
		}
	}
	t.Cleanup(func() { stop() })
	return base, logs, stop
}

// get fetches a URL and returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestServe starts the real server with a sample, uses it, stops it
// cleanly, and restarts it on the same data (the sample is not loaded
// twice).
func TestServe(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	sample := filepath.Join("api", "testdata", "koi_tiny.csv")
	base, logs, stop := startServe(t, data, nil, "--sample", sample)

	if code, body := get(t, base+"/api/runs"); code != 200 || !strings.Contains(body, `"dataset":"koi_tiny"`) || !strings.Contains(body, `"status":"complete"`) {
		t.Fatalf("runs after the sample: %d %s", code, body)
	}
	if code, body := get(t, base+"/"); code != 200 || !strings.Contains(body, "<title>ExoHunter</title>") {
		t.Errorf("dashboard: %d %.200s", code, body)
	}
	if code, body := get(t, base+"/api/nope"); code != 404 || !strings.Contains(body, `"code":"not_found"`) {
		t.Errorf("unknown route: %d %s", code, body)
	}
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v\n%s", err, logs)
	}
	if _, err := os.Stat(filepath.Join(data, engine.ServerInfoFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("server.json left behind after shutdown: %v", err)
	}
	if _, err := http.Get(base + "/api/health"); err == nil {
		t.Error("still serving after shutdown")
	}

	base, logs, stop = startServe(t, data, nil, "--sample", sample)
	code, body := get(t, base+"/api/datasets")
	var list struct{ Items []struct{ Name string } }
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil || len(list.Items) != 1 {
		t.Errorf("datasets after restart: %d %v %.300s", code, err, body)
	}
	if !strings.Contains(logs.String(), "sample skipped") {
		t.Errorf("restart did not skip the sample:\n%s", logs)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestServe_EmptyHint starts without a sample on an empty database: the
// log says how to load a catalog, the token applies to writes, and the
// Host check of a loopback address is on.
func TestServe_EmptyHint(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	base, logs, stop := startServe(t, data, map[string]string{"EXOHUNTER_TOKEN": "tok", "EXOHUNTER_UPLOAD_LIMIT": "10MB"})
	if !strings.Contains(logs.String(), "the database is empty: load a catalog") {
		t.Errorf("no hint in the log:\n%s", logs)
	}
	res, err := http.Post(base+"/api/datasets", "application/json", strings.NewReader(`{"url":"https://example.org/x.csv"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("write without the token: %d, want 401", res.StatusCode)
	}
	// On a loopback address serve answers only this machine's names (DNS
	// rebinding), and any IP address.
	for host, want := range map[string]int{"evil.example": 403, "localhost": 200, "127.0.0.2": 200} {
		req, err := http.NewRequest("GET", base+"/api/datasets", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("Host %s: %d, want %d", host, res.StatusCode, want)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestServe_BusyPort: a port in use is a usage mistake said at once,
// before the sample is loaded; the data dir stays as it was.
func TestServe_BusyPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	data := filepath.Join(t.TempDir(), "data")
	logs := &lockedBuffer{}
	m := &Main{Stdout: io.Discard, Stderr: logs, Getenv: func(string) string { return "" },
		Logger: slog.New(slog.NewTextHandler(logs, nil))}
	err = m.Run(context.Background(), []string{"serve", "--data-dir", data, "--addr", busy.Addr().String(),
		"--sample", filepath.Join("api", "testdata", "koi_tiny.csv")})
	m.Close()
	if engine.ErrorCode(err) != engine.BadRequest || !strings.Contains(engine.ErrorMessage(err), "choose another address with --addr") {
		t.Errorf("serve on a busy port: %v, want a bad request naming --addr", err)
	}
	if _, err := os.Stat(filepath.Join(data, engine.DefaultDBName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the sample was loaded before the port was checked: %v\n%s", err, logs)
	}
}

// TestLoopback: serve warns that writes are open when it listens beyond
// this machine without a token, which loopback decides.
func TestLoopback(t *testing.T) {
	for _, tc := range []struct {
		ip   net.IP
		want bool
	}{{net.IPv4(127, 0, 0, 1), true}, {net.IPv6loopback, true}, {net.IPv4zero, false}, {net.IPv6unspecified, false}, {net.IPv4(10, 0, 0, 1), false}} {
		if got := loopback(&net.TCPAddr{IP: tc.ip}); got != tc.want {
			t.Errorf("loopback(%s) = %v, want %v", tc.ip, got, tc.want)
		}
	}
}

func TestServeConfig(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"defaults", nil, ""},
		{"token and protections", map[string]string{"EXOHUNTER_TOKEN": "t", "EXOHUNTER_PROTECT_READS": "true", "EXOHUNTER_PROTECT_CONSOLE": "1"}, ""},
		{"protection without a token", map[string]string{"EXOHUNTER_PROTECT_READS": "true"}, "need EXOHUNTER_TOKEN"},
		{"bad boolean", map[string]string{"EXOHUNTER_PROTECT_CONSOLE": "maybe"}, "want true or false"},
		{"bad size", map[string]string{"EXOHUNTER_UPLOAD_LIMIT": "lots"}, "not a size"},
		{"blank token", map[string]string{"EXOHUNTER_TOKEN": "  "}, "only blank space"},
		{"any origin", map[string]string{"EXOHUNTER_CORS_ORIGINS": "*"}, "is not an origin"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := &Main{Getenv: func(k string) string { return tc.env[k] }}
			_, err := m.serveConfig()
			if (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("serveConfig: %v, want %q", err, tc.wantErr)
			}
		})
	}
	// Protected reads protect the console too: it reads every table.
	m := &Main{Getenv: func(k string) string {
		return map[string]string{"EXOHUNTER_TOKEN": "t", "EXOHUNTER_PROTECT_READS": "1", "EXOHUNTER_ALLOWED_HOSTS": "exo.example.org, lab",
			"EXOHUNTER_CORS_ORIGINS": "https://Exo.example.org/, http://localhost:5173"}[k]
	}}
	cfg, err := m.serveConfig()
	if err != nil || !cfg.ProtectConsole || !slices.Equal(cfg.AllowedHosts, []string{"exo.example.org", "lab"}) ||
		!slices.Equal(cfg.CORSOrigins, []string{"https://exo.example.org", "http://localhost:5173"}) {
		t.Errorf("serveConfig: console protected %v, allowed hosts %v, origins %v, err %v", cfg.ProtectConsole, cfg.AllowedHosts, cfg.CORSOrigins, err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1048576": 1 << 20, "500MB": 500e6, "2GiB": 2 << 30, "1.5 KiB": 1536, "10kb": 10e3} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "0", "MB", "2 XB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}

// emfileListener fails its first Accepts as a process out of file
// descriptors does.
type emfileListener struct {
	net.Listener
	fails int
}

func (l *emfileListener) Accept() (net.Conn, error) {
	if l.fails > 0 {
		l.fails--
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// TestRetryListener: out of file descriptors, accepting waits and goes
// on (fasthttp would stop serving); a closed listener still ends it.
func TestRetryListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := retryListener{Listener: &emfileListener{Listener: inner, fails: 3}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	go func() {
		if c, err := net.Dial("tcp", inner.Addr().String()); err == nil {
			defer c.Close()
			time.Sleep(time.Second)
		}
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatalf("accept after three EMFILE: %v", err)
	}
	c.Close()
	inner.Close()
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("accept on a closed listener: %v, want net.ErrClosed", err)
	}
}

// TestServe_SecondServer: a second serve of the same data dir on the
// first one's address names the running server, rather than suggesting
// another address (which would only meet the database lock).
func TestServe_SecondServer(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	base, logs, stop := startServe(t, data, nil)
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("stop: %v\n%s", err, logs)
		}
	}()
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	err := m.Run(context.Background(), []string{"serve", "--data-dir", data, "--addr", strings.TrimPrefix(base, "http://")})
	m.Close()
	if engine.ErrorCode(err) != engine.Conflict || !strings.Contains(engine.ErrorMessage(err), "already serves this data dir at "+base) {
		t.Errorf("second serve: %v, want a conflict naming %s", err, base)
	}
}

// slowUpload starts POST /api/datasets of a multipart body, sends its
// first half, and returns once the server streams it into a .part file
// (the request is in the handler). finish sends the rest and returns the
// answer's status and body.
func slowUpload(t *testing.T, base, data, name string, csv []byte) (finish func() (int, string)) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.WriteField("name", name); err != nil {
		t.Fatal(err)
	}
	part, err := w.CreateFormFile("file", name+".csv")
	if err != nil {
		t.Fatal(err)
	}
	part.Write(csv)
	w.Close()
	body := buf.Bytes()
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", base+"/api/datasets", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", w.FormDataContentType())
	type answer struct {
		code int
		body string
		err  error
	}
	answers := make(chan answer, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			answers <- answer{err: err}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		answers <- answer{code: res.StatusCode, body: string(b)}
	}()
	half := len(body) / 2
	if _, err := pw.Write(body[:half]); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if parts, _ := filepath.Glob(filepath.Join(data, "raw", ".incoming", "*.part")); len(parts) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the upload's first half did not reach a .part file")
		}
	}
	return func() (int, string) {
		if _, err := pw.Write(body[half:]); err != nil {
			t.Errorf("the upload's second half: %v", err)
		}
		pw.Close()
		a := <-answers
		if a.err != nil {
			t.Errorf("upload: %v", a.err)
		}
		return a.code, a.body
	}
}

// refusedSoon waits until addr refuses connections; it fails when that
// takes longer than half the shutdown grace.
func refusedSoon(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(shutdownGrace / 2); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("%s still accepts connections %s after the shutdown began", addr, shutdownGrace/2)
		}
	}
}

// TestServeUntilDone_grace: at shutdown the listener closes at once and a
// request in progress (an upload) still finishes, while the jobs are
// cancelled; a job that does not stop within the grace is recorded as
// interrupted and named in the one error the exit prints. Before, the
// jobs had the whole grace first, with the listener open: new uploads were
// accepted and then cut, with every request in progress.
func TestServeUntilDone_grace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	logs := &lockedBuffer{}
	m := &Main{Stdout: io.Discard, Stderr: logs, Getenv: func(string) string { return "" },
		Logger: slog.New(slog.NewTextHandler(logs, nil))}
	e, err := engine.Open(context.Background(), engine.Options{DataDir: data, FeatureStore: filepath.Join(dir, "fs"),
		Config: configFS(""), MemoryLimit: "512MB", Threads: 2, Lock: true, Logger: m.Logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	jobs := engine.NewJobs(e)
	srv, err := api.New(api.Config{Jobs: jobs, Console: e.Console(), Logger: m.Logger}, e)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	started, release := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(release) })
	stubborn, err := jobs.Start(context.Background(), engine.JobKindTrain, func(_ context.Context, report func(float64, string)) (any, error) {
		report(0.5, "a step that does not look at its context")
		close(started)
		<-release
		return "late", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.serveUntilDone(ctx, srv, jobs, ln) }()
	csv, err := os.ReadFile(koiSubset(t, 40))
	if err != nil {
		t.Fatal(err)
	}
	finish := slowUpload(t, base, data, "late", csv)

	stop() // SIGTERM
	refusedSoon(t, ln.Addr().String())
	if code, body := finish(); code != http.StatusCreated {
		t.Errorf("the upload in progress at the shutdown: %d %.300s, want 201", code, body)
	}
	err = <-done
	var cut *shutdownCut
	if !errors.As(err, &cut) || !strings.Contains(cut.msg, "1 job(s) did not stop within the shutdown grace and were recorded as interrupted: "+stubborn.ID+" (train)") {
		t.Fatalf("serveUntilDone = %v, want the job that did not stop named", err)
	}
	job, err := jobs.Get(context.Background(), stubborn.ID)
	if err != nil || job.Status != engine.JobFailed || job.Error == nil || job.Error.Code != engine.JobInterrupted || job.Progress != 0.5 {
		t.Errorf("the job that did not stop: %+v (%v), want failed, interrupted, progress 0.5", job, err)
	}
	// The exit prints one line, with the signal's status.
	var stderr strings.Builder
	m.Stderr, m.signal = &stderr, syscall.SIGTERM
	if code := m.exitCode(ctx, cut); code != 143 || strings.Count(stderr.String(), "\n") != 1 || !strings.HasPrefix(stderr.String(), "exohunter: stopped at the end of the 10s shutdown grace: ") {
		t.Errorf("exit %d, stderr %q; want 143 and one line", code, stderr.String())
	}
}

// TestServe_shutdownDuringTraining: SIGTERM while a model trains cancels
// the training between two boosting rounds, and the server stops cleanly
// well within its grace; after a restart the job reads failed with the
// code cancelled, and no model exists. Before, the training ran on to
// its final model, past the grace, and the job read "running" until the
// next start called it interrupted.
func TestServe_shutdownDuringTraining(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	base, logs, stop := startServe(t, data, nil, "--sample", "../shared/data/koi_cumulative_2025.csv")
	res, err := http.Post(base+"/api/models/train", "application/json", strings.NewReader(`{"target":"disposition","name":"t"}`))
	if err != nil {
		t.Fatal(err)
	}
	var job engine.Job
	err = json.NewDecoder(res.Body).Decode(&job)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("train: %d %v", res.StatusCode, err)
	}
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		_, body := get(t, base+"/api/jobs/"+job.ID)
		if err := json.Unmarshal([]byte(body), &job); err != nil {
			t.Fatal(err)
		}
		if job.Done() {
			t.Fatalf("the training ended before the shutdown: %s", body)
		}
		if strings.HasPrefix(job.Message, "fold ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the training did not reach its folds: %s", body)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("shutdown during the training: %v\n%s", err, logs)
	}

	base, logs, stop = startServe(t, data, nil)
	code, body := get(t, base+"/api/jobs/"+job.ID)
	var got engine.Job
	if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil || got.Status != engine.JobFailed || got.Error == nil ||
		got.Error.Code != engine.JobCancelled || !strings.Contains(got.Error.Message, "the server shut down before the job finished") ||
		!strings.Contains(got.Error.Message, "Training was cancelled; no model was written.") {
		t.Errorf("the training after the restart: %d %s", code, body)
	}
	if code, body := get(t, base+"/api/models"); code != 200 || !strings.Contains(body, `"items":[]`) {
		t.Errorf("models after a cancelled training: %d %s", code, body)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
