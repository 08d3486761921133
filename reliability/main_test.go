package reliability

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// repoRoot is the module root, relative to this package.
const repoRoot = ".."

// koiPath is the shared NASA KOI table (read by path, never copied into
// the repository).
var koiPath = filepath.Join(repoRoot, "..", "shared", "data", "koi_cumulative_2025.csv")

// binPath is the exohunter binary under test: EXOHUNTER_BIN, or built once
// by TestMain into a temporary folder.
var binPath string

// keepData keeps the data dirs of the tests and logs where they are.
var keepData = flag.Bool("keep", false, "keep each test's data dir and log where it is")

func TestMain(m *testing.M) {
	flag.Parse()
	code := func() int {
		if testing.Short() {
			// note: every test here starts real processes.
			fmt.Fprintln(os.Stderr, "reliability: skipped in -short mode (each test drives the real binary)")
			return 0
		}
		if b := os.Getenv("EXOHUNTER_BIN"); b != "" {
			// note: go test runs in reliability/; a relative path is read
			// from the repository root, as the README writes it.
			if !filepath.IsAbs(b) {
				b = filepath.Join("..", b)
			}
			abs, err := filepath.Abs(b)
			if err == nil {
				_, err = os.Stat(abs)
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "EXOHUNTER_BIN: %v\n", err)
				return 1
			}
			binPath = abs
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "exohunter-reliability-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		binPath = filepath.Join(dir, "exohunter")
		start := time.Now()
		if err := BuildBinary(repoRoot, binPath); err != nil {
			fmt.Fprintln(os.Stderr, "reliability:", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "reliability: built %s in %v\n", binPath, time.Since(start).Round(time.Millisecond))
		return m.Run()
	}()
	removeFixtureDirs()
	os.Exit(code)
}

// testDir returns a fresh folder for one test's data: a t.TempDir, or a
// kept folder with -keep.
func testDir(t *testing.T) string {
	t.Helper()
	if !*keepData {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("", "exohunter-"+filepath.Base(t.Name())+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("data kept in %s", dir)
	return dir
}

// env is one test's server setup: its folders, its current server, and
// the options to start the next one the same way.
type env struct {
	t    *testing.T
	dir  string
	opts Options
	srv  *Server
	c    *Client
}

// newEnv prepares folders under a fresh dir; adjust may change the options
// (environment, data dir on another filesystem).
func newEnv(t *testing.T, adjust ...func(*Options)) *env {
	t.Helper()
	dir := testDir(t)
	e := &env{t: t, dir: dir, opts: Options{Bin: binPath, DataDir: filepath.Join(dir, "data"), FeatureStore: filepath.Join(dir, "fs")}}
	for _, a := range adjust {
		a(&e.opts)
	}
	return e
}

// cli runs one exohunter command against this env's folders (while no
// server holds the database).
func (e *env) cli(args ...string) string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := RunCLI(ctx, binPath, append(args, "--data-dir", e.opts.DataDir, "--feature-store", e.opts.FeatureStore)...)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// start starts a server (stopping nothing: the previous one must be gone).
func (e *env) start() *Server {
	e.t.Helper()
	s, err := Start(e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		if !s.Exited() {
			s.Kill()
		}
		if e.t.Failed() {
			e.t.Logf("server %d logs:\n%s", s.Cmd.Process.Pid, tail(s.Logs.String(), 4000))
		}
	})
	e.srv, e.c = s, s.Client()
	return s
}

// kill SIGKILLs the current server.
func (e *env) kill() {
	e.t.Helper()
	e.srv.Kill()
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// ctxFor returns a context bounded by d, cancelled at the end of the test.
func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// bigKOI is a synthetic KOI table large enough that a run and a feature
// build take seconds (written once per test binary, shared read-only).
var bigKOI = sync.OnceValues(func() (string, error) {
	dir, err := tempDirOnce("exohunter-reliability-big-")
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "koi_big.csv")
	f, err := os.Create(p)
	if err != nil {
		return "", err
	}
	if err := WriteKOI(f, bigRows, 1); err != nil {
		f.Close()
		return "", err
	}
	return p, f.Close()
})

// bigRows is the size of bigKOI.
const bigRows = 300_000

// mustBigKOI returns bigKOI's path.
func mustBigKOI(t *testing.T) string {
	t.Helper()
	p, err := bigKOI()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
