// Package reliability drives the real exohunter binary from the outside:
// crash safety (SIGKILL in the middle of uploads, runs and feature builds,
// then a restart), a full or read-only data dir, hostile uploads over HTTP,
// access control against the running server, and the soak load generator
// (cmd/soak, `make soak`). It never imports the engine: everything it
// knows, it learns through the process, its HTTP API and its data dir, as
// a user would.
//
// The tests build the binary once (or use EXOHUNTER_BIN) and give every
// server its own data dir. README.md lists the scenarios.
package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// BuildBinary builds the exohunter binary of the module rooted at repo
// into out. It returns the go build output on failure.
func BuildBinary(repo, out string) error {
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = repo
	b, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build: %v\n%s", err, b)
	}
	return nil
}

// Options configure one server process.
type Options struct {
	// Bin is the exohunter binary.
	Bin string
	// DataDir and FeatureStore are the server's folders (created if
	// missing).
	DataDir, FeatureStore string
	// Env is added to the process environment (e.g. EXOHUNTER_TOKEN=x).
	Env []string
	// MemoryLimit is passed as --memory-limit (default 512MB); Threads as
	// --threads (default 2).
	MemoryLimit string
	Threads     int
	// StartTimeout bounds the wait for the first healthy answer (default
	// 3 minutes: the machine may be shared with other builds).
	StartTimeout time.Duration
}

// Server is one running `exohunter serve` process.
type Server struct {
	Opts Options
	Cmd  *exec.Cmd
	// Base is the server's URL, e.g. http://127.0.0.1:41234.
	Base string
	// Logs holds the process's stdout and stderr.
	Logs *Buffer

	waitOnce sync.Once
	waitErr  error
	done     chan struct{}
}

// Start starts `exohunter serve` on a free loopback port and waits until
// it answers GET /api/health. The address is read from DATA/server.json
// (the server writes it once it listens), so no port is guessed.
func Start(opts Options) (*Server, error) {
	if opts.MemoryLimit == "" {
		opts.MemoryLimit = "512MB"
	}
	if opts.Threads == 0 {
		opts.Threads = 2
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 3 * time.Minute
	}
	s := &Server{Opts: opts, Logs: &Buffer{}, done: make(chan struct{})}
	// note: with EXOHUNTER_PROTECT_READS even the health probe needs the
	// token.
	probe := NewClient("")
	for _, kv := range opts.Env {
		if v, ok := strings.CutPrefix(kv, "EXOHUNTER_TOKEN="); ok {
			probe.Token = v
		}
	}
	s.Cmd = exec.Command(opts.Bin, "serve", "--data-dir", opts.DataDir, "--feature-store", opts.FeatureStore,
		"--addr", "127.0.0.1:0", "--memory-limit", opts.MemoryLimit, "--threads", strconv.Itoa(opts.Threads))
	s.Cmd.Env = append(os.Environ(), opts.Env...)
	s.Cmd.Stdout, s.Cmd.Stderr = s.Logs, s.Logs
	if err := s.Cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = s.Wait(); close(s.done) }()
	deadline := time.Now().Add(opts.StartTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return nil, fmt.Errorf("serve exited before answering (%v); logs:\n%s", s.waitErr, s.Logs.String())
		default:
		}
		// note: a killed server leaves its server.json behind; wait for
		// this process's own.
		if info, err := ReadServerInfo(opts.DataDir); err == nil && info.PID == s.Cmd.Process.Pid {
			probe.Base = "http://" + info.Addr
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			res, err := probe.Get(ctx, "/api/health")
			cancel()
			if err == nil && res.Status == http.StatusOK {
				s.Base = probe.Base
				return s, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.Kill()
	return nil, fmt.Errorf("serve did not answer within %v; logs:\n%s", opts.StartTimeout, s.Logs.String())
}

// ServerInfo is DATA/server.json, written by a serving process.
type ServerInfo struct {
	PID  int    `json:"pid"`
	Addr string `json:"addr"`
}

// ReadServerInfo reads DATA/server.json.
func ReadServerInfo(dataDir string) (ServerInfo, error) {
	var info ServerInfo
	b, err := os.ReadFile(filepath.Join(dataDir, "server.json"))
	if err != nil {
		return info, err
	}
	return info, json.Unmarshal(b, &info)
}

// Wait waits for the process to exit (once; later calls return the same
// error).
func (s *Server) Wait() error {
	s.waitOnce.Do(func() { s.waitErr = s.Cmd.Wait() })
	return s.waitErr
}

// Exited reports whether the process has exited.
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (s *Server) Kill() {
	_ = s.Cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// Stop sends SIGTERM (a clean shutdown) and waits up to grace, then
// kills. It reports whether the process stopped by itself.
func (s *Server) Stop(grace time.Duration) bool {
	_ = s.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return true
	case <-time.After(grace):
		s.Kill()
		return false
	}
}

// RSS returns the process's resident set size in bytes (Linux
// /proc/PID/status VmRSS), or 0 when it cannot be read.
func (s *Server) RSS() int64 { return ProcessRSS(s.Cmd.Process.Pid) }

// ProcessRSS returns a process's resident set size in bytes, or 0.
func ProcessRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// Client returns an HTTP client for this server.
func (s *Server) Client() *Client { return NewClient(s.Base) }

// RunCLI runs one exohunter command (ingest, process, ...) and returns its
// stdout; stderr is in the error.
func RunCLI(ctx context.Context, bin string, args ...string) (string, error) {
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("exohunter %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

// Buffer is a bytes.Buffer safe for concurrent writers (a process's
// stdout and stderr) and readers.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Client is a small JSON client for the API.
type Client struct {
	Base  string
	Token string
	HTTP  *http.Client
}

// NewClient returns a client with a 2-minute timeout per request.
func NewClient(base string) *Client {
	return &Client{Base: base, HTTP: &http.Client{Timeout: 2 * time.Minute}}
}

// Response is an answer read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// String shows the status and the start of the body, for messages.
func (r *Response) String() string {
	b := r.Body
	if len(b) > 600 {
		b = append(b[:600:600], "..."...)
	}
	return fmt.Sprintf("%d %s", r.Status, b)
}

// ErrorMessage returns error.message of an error envelope, or "".
func (r *Response) ErrorMessage() string {
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &env)
	return env.Error.Message
}

// ErrorCode returns error.code of an error envelope, or "".
func (r *Response) ErrorCode() string {
	var env struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &env)
	return env.Error.Code
}

// Decode unmarshals the body into v.
func (r *Response) Decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("decode %s: %w", r, err)
	}
	return nil
}

// Do sends one request; body may be nil, a string, []byte or an
// io.Reader. A JSON content type is set for string and []byte bodies
// unless the header says otherwise.
func (c *Client) Do(ctx context.Context, method, path string, body any, header map[string]string) (*Response, error) {
	var r io.Reader
	isJSON := false
	switch b := body.(type) {
	case nil:
	case string:
		r, isJSON = strings.NewReader(b), true
	case []byte:
		r, isJSON = bytes.NewReader(b), true
	case io.Reader:
		r = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		r, isJSON = bytes.NewReader(j), true
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, r)
	if err != nil {
		return nil, err
	}
	if isJSON {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: b}, nil
}

// Get is Do with GET and no body.
func (c *Client) Get(ctx context.Context, path string) (*Response, error) {
	return c.Do(ctx, http.MethodGet, path, nil, nil)
}

// Post is Do with POST and a JSON body.
func (c *Client) Post(ctx context.Context, path string, body any) (*Response, error) {
	return c.Do(ctx, http.MethodPost, path, body, nil)
}

// Upload streams one file as a multipart upload to POST /api/datasets,
// with the form field name when it is not empty. The body is produced as
// it is sent (never held whole in memory).
func (c *Client) Upload(ctx context.Context, name, fileName string, content io.Reader) (*Response, error) {
	body, ct := MultipartStream(name, fileName, content)
	return c.Do(ctx, http.MethodPost, "/api/datasets", body, map[string]string{"Content-Type": ct})
}

// Dataset is the part of the dataset JSON the tests read.
type Dataset struct {
	Name         string `json:"name"`
	OriginalName string `json:"original_name"`
	Bytes        int64  `json:"bytes"`
	SHA256       string `json:"sha256"`
	Rows         int64  `json:"rows"`
	Path         string `json:"path"`
	DuplicateOf  string `json:"duplicate_of"`
}

// Run is the part of the run JSON the tests read.
type Run struct {
	RunID  string           `json:"run_id"`
	JobID  string           `json:"job_id"`
	Status string           `json:"status"`
	Rows   int64            `json:"rows"`
	Error  runError         `json:"error"`
	Counts map[string]int64 `json:"counts"`
}

// runError is a run's error: a sentence in GET /api/runs/{id}, an error
// envelope body ({"code","message"}) in the answer of POST .../runs.
type runError string

// UnmarshalJSON accepts both shapes.
func (r *runError) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*r = runError(s)
		return nil
	}
	var o struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	*r = runError(o.Message)
	return nil
}

// Label is the label JSON.
type Label struct {
	ID        int64  `json:"id"`
	ObjectID  string `json:"object_id"`
	Dataset   string `json:"dataset"`
	Label     string `json:"label"`
	Source    string `json:"source"`
	Annotator string `json:"annotator"`
	Note      string `json:"note"`
}

// Datasets lists the datasets' names.
func (c *Client) Datasets(ctx context.Context) ([]Dataset, error) {
	res, err := c.Get(ctx, "/api/datasets")
	if err != nil {
		return nil, err
	}
	if res.Status != http.StatusOK {
		return nil, fmt.Errorf("GET /api/datasets: %s", res)
	}
	var list struct {
		Items []Dataset `json:"items"`
	}
	return list.Items, res.Decode(&list)
}

// Runs lists the runs.
func (c *Client) Runs(ctx context.Context) ([]Run, error) {
	res, err := c.Get(ctx, "/api/runs")
	if err != nil {
		return nil, err
	}
	if res.Status != http.StatusOK {
		return nil, fmt.Errorf("GET /api/runs: %s", res)
	}
	var list struct {
		Items []Run `json:"items"`
	}
	return list.Items, res.Decode(&list)
}

// Run reads one run.
func (c *Client) Run(ctx context.Context, id string) (*Run, *Response, error) {
	res, err := c.Get(ctx, "/api/runs/"+id)
	if err != nil {
		return nil, nil, err
	}
	if res.Status != http.StatusOK {
		return nil, res, nil
	}
	var r Run
	return &r, res, res.Decode(&r)
}

// StartRun starts a run of dataset with the default thresholds.
func (c *Client) StartRun(ctx context.Context, dataset string) (*Run, error) {
	res, err := c.Post(ctx, "/api/datasets/"+dataset+"/runs", "{}")
	if err != nil {
		return nil, err
	}
	if res.Status != http.StatusCreated && res.Status != http.StatusAccepted {
		return nil, fmt.Errorf("start run of %s: %s", dataset, res)
	}
	var r Run
	return &r, res.Decode(&r)
}

// WaitRun polls a run until it is complete or failed.
func (c *Client) WaitRun(ctx context.Context, id string) (*Run, error) {
	for {
		r, res, err := c.Run(ctx, id)
		if err != nil {
			return nil, err
		}
		if r == nil {
			return nil, fmt.Errorf("GET /api/runs/%s: %s", id, res)
		}
		if r.Status == "complete" || r.Status == "failed" {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return r, fmt.Errorf("run %s still %s: %w", id, r.Status, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Labels lists every label (one page of up to 100000).
func (c *Client) Labels(ctx context.Context) ([]Label, error) {
	var all []Label
	cursor := ""
	for {
		res, err := c.Get(ctx, "/api/labels?limit=100000&cursor="+cursor)
		if err != nil {
			return nil, err
		}
		if res.Status != http.StatusOK {
			return nil, fmt.Errorf("GET /api/labels: %s", res)
		}
		var page struct {
			Items      []Label `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		if err := res.Decode(&page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.NextCursor == nil || *page.NextCursor == "" {
			return all, nil
		}
		cursor = *page.NextCursor
	}
}

// Query runs one console query and returns its rows.
func (c *Client) Query(ctx context.Context, sql string) ([][]any, *Response, error) {
	res, err := c.Post(ctx, "/api/query", map[string]any{"sql": sql})
	if err != nil {
		return nil, nil, err
	}
	if res.Status != http.StatusOK {
		return nil, res, nil
	}
	var out struct {
		Rows [][]any `json:"rows"`
	}
	return out.Rows, res, res.Decode(&out)
}
