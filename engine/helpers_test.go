package engine

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	sqltmpl "github.com/exohunter/exohunter/sql"
)

// dump keeps test data dirs (database files included) for debugging.
var dump = flag.Bool("dump", false, "keep the test data dirs and print where they are")

// repoRoot is the repository root relative to this package; its configs/
// and schemas/ are the embedded defaults.
const repoRoot = ".."

// sharedData is the folder of real NASA files (../shared/data from the repo
// root).
const sharedData = "../../shared/data"

// MustOpenEngine opens an engine on an in-memory database, with a fresh data
// dir and the repository's configs, and closes it when the test ends.
// Options may be adjusted by the optional functions.
func MustOpenEngine(tb testing.TB, adjust ...func(*Options)) *Engine {
	tb.Helper()
	dir := MustTempDir(tb)
	opts := Options{
		DBPath:       InMemory,
		DataDir:      filepath.Join(dir, "data"),
		FeatureStore: filepath.Join(dir, "feature_store"),
		Config:       os.DirFS(repoRoot),
		MemoryLimit:  "512MB",
		Threads:      2,
	}
	for _, f := range adjust {
		f(&opts)
	}
	return MustOpenEngineWith(tb, opts)
}

// MustOpenEngineWith opens an engine with exactly these options and closes it
// when the test ends.
func MustOpenEngineWith(tb testing.TB, opts Options) *Engine {
	tb.Helper()
	e, err := Open(context.Background(), opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := e.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return e
}

// MustTempDir returns a temporary dir, kept after the test with -dump.
func MustTempDir(tb testing.TB) string {
	tb.Helper()
	if !*dump {
		return tb.TempDir()
	}
	dir, err := os.MkdirTemp("", "exohunter-test-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("-dump: data kept in %s", dir)
	return dir
}

// MustIngest ingests a file and fails the test on error.
func MustIngest(tb testing.TB, e *Engine, in IngestInput) *Dataset {
	tb.Helper()
	ds, err := e.Ingest(context.Background(), in)
	if err != nil {
		tb.Fatalf("Ingest(%s): %v", in.Path+in.OriginalName, err)
	}
	return ds
}

// MustWriteFile writes data to dir/name and returns the path.
func MustWriteFile(tb testing.TB, dir, name string, data []byte) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// mustQueryInt runs a query returning one integer.
func mustQueryInt(tb testing.TB, e *Engine, q string, args ...any) int64 {
	tb.Helper()
	var n int64
	if err := e.db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return n
}

// mustQueryString runs a query returning one string.
func mustQueryString(tb testing.TB, e *Engine, q string, args ...any) string {
	tb.Helper()
	var s string
	if err := e.db.QueryRowContext(context.Background(), q, args...).Scan(&s); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return s
}

// litPath quotes a path as an SQL literal for test queries.
func litPath(p string) string { return sqltmpl.Lit(p).String() }

// syncBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// mustSparseFile creates a file of size bytes that takes no disk space (a
// hole), for disk-room checks that look at sizes only.
func mustSparseFile(tb testing.TB, size int64) string {
	tb.Helper()
	path := filepath.Join(MustTempDir(tb), "huge.parquet")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		tb.Fatal(err)
	}
	return path
}

// progressLog records a job's progress reports (the Progress field of an
// input) for check.
type progressLog struct {
	fractions []float64
	messages  []string
}

func (l *progressLog) report(p float64, msg string) {
	l.fractions = append(l.fractions, p)
	l.messages = append(l.messages, msg)
}

// check asserts that the fractions stay in [0, 1] and never go back, and
// that messages starting with each of want were reported, in that order.
func (l *progressLog) check(tb testing.TB, want ...string) {
	tb.Helper()
	for i, p := range l.fractions {
		if p < 0 || p > 1 || i > 0 && p < l.fractions[i-1] {
			tb.Errorf("progress %v goes back or leaves [0, 1]: %q", l.fractions, l.messages)
			break
		}
	}
	i := 0
	for _, m := range l.messages {
		if i < len(want) && strings.HasPrefix(m, want[i]) {
			i++
		}
	}
	if i < len(want) {
		tb.Errorf("progress %q lacks %q (in order %q)", l.messages, want[i], want)
	}
}

// ConfigLine returns the 1-based line of the first occurrence of text in
// the repository's config file, so that the expected positions follow
// edits to the shipped YAML. Exported for the external tests.
func ConfigLine(tb testing.TB, file, text string) int {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, file))
	if err != nil {
		tb.Fatal(err)
	}
	i := strings.Index(string(data), text)
	if i < 0 {
		tb.Fatalf("%s has no %q", file, text)
	}
	return strings.Count(string(data[:i]), "\n") + 1
}
