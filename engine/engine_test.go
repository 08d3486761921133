package engine

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	sqltmpl "github.com/exohunter/exohunter/sql"
)

// TestOpen_Defaults opens a file database with default options in a fresh
// data dir: every runtime folder exists, settings are applied, migrations
// are at their latest version.
func TestOpen_Defaults(t *testing.T) {
	t.Parallel()
	dir := MustTempDir(t)
	e := MustOpenEngineWith(t, Options{DataDir: filepath.Join(dir, "data"), FeatureStore: filepath.Join(dir, "fs"), Threads: 2, MemoryLimit: "300MB"})
	for _, d := range append(runtimeDirs(e.DataDir()), e.path(DirRaw, dirIncoming)) {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			t.Errorf("runtime dir %s: %v", d, err)
		}
	}
	if want := filepath.Join(dir, "data", DefaultDBName); e.DBPath() != want {
		t.Errorf("DBPath = %s, want %s", e.DBPath(), want)
	}
	got := map[string]string{}
	for _, name := range []string{"threads", "preserve_insertion_order", "temp_directory", "autoinstall_known_extensions"} {
		got[name] = mustQueryString(t, e, "SELECT current_setting(?)::VARCHAR", name)
	}
	want := map[string]string{"threads": "2", "preserve_insertion_order": "false", "temp_directory": e.spillDir, "autoinstall_known_extensions": "false"}
	if filepath.Dir(e.spillDir) != e.path(DirTmp) {
		t.Errorf("spill dir %s is not in %s", e.spillDir, e.path(DirTmp))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	if mem := mustQueryString(t, e, "SELECT current_setting('memory_limit')"); !strings.HasPrefix(mem, "286") && !strings.HasPrefix(mem, "300") {
		t.Errorf("memory_limit = %s, want about 300MB", mem)
	}
	v, dirty, err := e.MigrationVersion(context.Background())
	if want := latestMigration(t); err != nil || v != want || dirty {
		t.Errorf("MigrationVersion = %d, %v, %v; want %d, false, nil", v, dirty, err, want)
	}
	if e.Bundle() != nil {
		t.Errorf("Bundle() without Config = %v, want nil", e.Bundle())
	}
}

// TestOpen_BadOptions covers options Open must refuse with a sentence.
func TestOpen_BadOptions(t *testing.T) {
	t.Parallel()
	broken := configFS(t)
	broken["configs/thresholds.yaml"] = &fstest.MapFile{Data: []byte("planet_radius:\n  rocky_max: [not, a, number\n")}
	tests := []struct {
		name     string
		adjust   func(*Options)
		wantCode Code
		wantMsg  string
	}{
		{name: "memory limit", adjust: func(o *Options) { o.MemoryLimit = "lots" }, wantCode: BadRequest, wantMsg: "memory limit"},
		{name: "broken config", adjust: func(o *Options) { o.Config = broken }, wantCode: Invalid, wantMsg: "configs/thresholds.yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{DBPath: InMemory, DataDir: dir, Config: os.DirFS(repoRoot)}
			tc.adjust(&opts)
			e, err := Open(context.Background(), opts)
			if err == nil {
				e.Close()
			}
			if ErrorCode(err) != tc.wantCode || !strings.Contains(ErrorMessage(err), tc.wantMsg) {
				t.Errorf("err = %v (code %q), want %q containing %q", err, ErrorCode(err), tc.wantCode, tc.wantMsg)
			}
			if tc.wantCode == Invalid && len(ErrorDetails(err)) == 0 {
				t.Errorf("Invalid config error has no details")
			}
		})
	}
}

// configFS copies the repository's configs/ and schemas/ into a MapFS that
// a test may break.
func configFS(t *testing.T) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	root := os.DirFS(repoRoot)
	for _, dir := range []string{"configs", "schemas"} {
		err := fs.WalkDir(root, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(root, p)
			out[p] = &fstest.MapFile{Data: b}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestOpen_Lock checks serve mode: DuckDB may read and write the runtime
// folders only, the configuration is locked, and ingest still works.
func TestOpen_Lock(t *testing.T) {
	t.Parallel()
	dir := MustTempDir(t)
	outside := MustWriteFile(t, dir, "outside.csv", []byte(koiHeader+koiRow))
	e := MustOpenEngine(t, func(o *Options) {
		o.Lock = true
		o.DataDir = filepath.Join(dir, "data")
		o.DBPath = filepath.Join(dir, "db", "exohunter.duckdb")
		o.FeatureStore = filepath.Join(dir, "fs")
	})
	sep := string(filepath.Separator)
	var want []string
	for _, d := range runtimeSubdirs {
		want = append(want, filepath.Join(dir, "data", d)+sep)
	}
	want = append(want, filepath.Join(dir, "fs")+sep)
	got := mustQueryString(t, e, "SELECT current_setting('allowed_directories')::VARCHAR")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("allowed_directories %s lacks %s", got, w)
		}
	}
	if strings.Contains(got, filepath.Join(dir, "db")) {
		t.Errorf("allowed_directories %s contains the database folder", got)
	}
	ctx := context.Background()
	ds := MustIngest(t, e, IngestInput{Path: outside})
	if n := mustQueryInt(t, e, "SELECT count(*) FROM "+quoteView("raw", ds.Name)); n != 1 {
		t.Errorf("raw view in locked mode reads %d rows, want 1", n)
	}
	denied := []string{
		"SELECT count(*) FROM read_csv(" + litPath(outside) + ")",
		"SELECT count(*) FROM read_csv(" + litPath(e.path(DirRaw, "..", "..", "outside.csv")) + ")",
		"SET enable_external_access = true",
		"SET memory_limit = '8GB'",
	}
	for _, q := range denied {
		if _, err := e.db.ExecContext(ctx, q); err == nil {
			t.Errorf("%s: succeeded in locked mode", q)
		}
	}
	out := e.path(DirOutputs, "x.parquet")
	if _, err := e.db.ExecContext(ctx, "COPY (SELECT 1 AS x) TO "+litPath(out)+" (FORMAT parquet)"); err != nil {
		t.Errorf("COPY into outputs in locked mode: %v", err)
	}
}

// TestOpen_RestoreViewsAfterMove ingests into a file database, moves the
// whole data dir and reopens it: the views follow the files.
func TestOpen_RestoreViewsAfterMove(t *testing.T) {
	t.Parallel()
	dir := MustTempDir(t)
	opts := Options{DataDir: filepath.Join(dir, "a"), Config: os.DirFS(repoRoot), Threads: 2}
	e, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ds := MustIngest(t, e, IngestInput{Path: filepath.Join("testdata", "koi_small_commented.csv")})
	fpQuery := "SELECT comment FROM duckdb_views() WHERE schema_name = 'classified' AND view_name = ?"
	before := mustQueryString(t, e, fpQuery, ds.Name)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "a"), filepath.Join(dir, "b")); err != nil {
		t.Fatal(err)
	}
	opts.DataDir = filepath.Join(dir, "b")
	e2 := MustOpenEngineWith(t, opts)
	for _, schema := range datasetSchemas {
		if n := mustQueryInt(t, e2, "SELECT count(*) FROM "+quoteView(schema, ds.Name)); n != ds.Rows {
			t.Errorf("%s.%s after the move reads %d rows, want %d", schema, ds.Name, n, ds.Rows)
		}
	}
	if after := mustQueryString(t, e2, fpQuery, ds.Name); after == before || !strings.HasPrefix(after, "exohunter views ") {
		t.Errorf("views fingerprint after the move = %q (before %q), want a new one", after, before)
	}
	if n, err := e2.restoreViews(context.Background()); n != 0 || err != nil {
		t.Errorf("restoreViews on current views re-created %d datasets (%v), want 0", n, err)
	}
	got, err := e2.Dataset(context.Background(), ds.Name)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ds, got); diff != "" {
		t.Errorf("dataset after reopen (-want +got):\n%s", diff)
	}
}

// TestOpen_RecoversInterruptedIngest plants what a process killed during
// an ingest leaves behind: Open removes it and keeps complete datasets.
func TestOpen_RecoversInterruptedIngest(t *testing.T) {
	t.Parallel()
	dir := MustTempDir(t)
	opts := Options{DataDir: dir, Config: os.DirFS(repoRoot), Threads: 2}
	e, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ds := MustIngest(t, e, IngestInput{Path: filepath.Join("testdata", "koi_small_commented.csv")})
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(dir, DirRaw)
	part := MustWriteFile(t, filepath.Join(raw, dirIncoming), "abc.part", []byte("half an upload"))
	ghost := filepath.Join(raw, "ghost")
	_ = os.MkdirAll(ghost, 0o755)
	MustWriteFile(t, ghost, pendingMarker, nil)
	MustWriteFile(t, ghost, "ghost.csv", []byte(koiHeader+koiRow))
	kept := MustWriteFile(t, filepath.Join(raw, ds.Name), pendingMarker, nil)

	e2 := MustOpenEngineWith(t, opts)
	for _, p := range []string{part, ghost, kept} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s survived Open (err %v)", p, err)
		}
	}
	if n := mustQueryInt(t, e2, "SELECT count(*) FROM "+quoteView("raw", ds.Name)); n != ds.Rows {
		t.Errorf("complete dataset reads %d rows after recovery, want %d", n, ds.Rows)
	}
}

// holdEnv names the database a helper process opens and holds.
const holdEnv = "EXOHUNTER_TEST_HOLD_DB"

// TestHelperHoldDatabase is not a test: started by TestOpen_LockedByOtherProcess
// as a child process, it opens the database, says "ready" and holds the
// file lock until its stdin closes.
func TestHelperHoldDatabase(t *testing.T) {
	dataDir := os.Getenv(holdEnv)
	if dataDir == "" {
		t.Skip("helper process only")
	}
	e, err := Open(context.Background(), Options{DataDir: dataDir, Threads: 1})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	_ = e.Close()
	os.Exit(0)
}

// TestOpen_LockedByOtherProcess opens a database that another process
// holds: Open fails at once, naming the holder and the server's address.
func TestOpen_LockedByOtherProcess(t *testing.T) {
	t.Parallel()
	dir := MustTempDir(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldDatabase$")
	cmd.Env = append(os.Environ(), holdEnv+"="+dir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		_ = cmd.Process.Kill()
		t.Fatalf("helper: %q", line)
	}
	// Not a server (no DATA/server.json names it): the holder's command
	// line, and the advice to wait rather than to use a server.
	_, err := Open(context.Background(), Options{DataDir: dir})
	msg := ErrorMessage(err)
	for _, want := range []string{fmt.Sprintf("(PID %d: ", cmd.Process.Pid), "-test.run=^TestHelperHoldDatabase$", "Wait for it to finish"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "use its API at") {
		t.Errorf("message %q points to a server that does not exist", msg)
	}
	if err := WriteServerInfo(dir, ServerInfo{PID: cmd.Process.Pid, Addr: "127.0.0.1:9999"}); err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), Options{DataDir: dir})
	if ErrorCode(err) != Conflict || !errors.Is(err, ErrLocked) {
		t.Fatalf("Open = %v (code %q), want Conflict wrapping ErrLocked", err, ErrorCode(err))
	}
	msg = ErrorMessage(err)
	for _, want := range []string{fmt.Sprintf("PID %d", cmd.Process.Pid), "http://127.0.0.1:9999", "--server URL"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	// The server's database with another --data-dir: refused the same
	// way, naming the server (its server.json is beside the database),
	// and without leaving that data dir's folders behind.
	other := filepath.Join(t.TempDir(), "other")
	_, err = Open(context.Background(), Options{DataDir: other, DBPath: filepath.Join(dir, DefaultDBName)})
	if ErrorCode(err) != Conflict || !strings.Contains(ErrorMessage(err), "server at http://127.0.0.1:9999") {
		t.Errorf("Open with another data dir = %v, want a Conflict naming the server", err)
	}
	if _, err := os.Stat(other); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the refused Open created %s (%v)", other, err)
	}
}

// TestServerInfo round-trips DATA/server.json and checks that only the
// process it names removes it.
func TestServerInfo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := ReadServerInfo(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadServerInfo on an empty dir = %v, want ErrNotExist", err)
	}
	if err := WriteServerInfo(dir, ServerInfo{Addr: ":8080"}); err != nil {
		t.Fatal(err)
	}
	got, err := ReadServerInfo(dir)
	if err != nil || got.PID != os.Getpid() || got.Addr != ":8080" || got.StartedAt.IsZero() {
		t.Errorf("ReadServerInfo = %+v, %v", got, err)
	}
	if err := WriteServerInfo(dir, ServerInfo{PID: os.Getpid() + 1, Addr: ":9"}); err != nil {
		t.Fatal(err)
	}
	if err := RemoveServerInfo(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadServerInfo(dir); err != nil {
		t.Errorf("RemoveServerInfo removed another process's file: %v", err)
	}
	if got := serverURL(":8080"); got != "http://127.0.0.1:8080" {
		t.Errorf("serverURL(:8080) = %s", got)
	}
}

// latestMigration returns the highest migration number embedded.
func latestMigration(t *testing.T) uint {
	t.Helper()
	files, err := fs.Glob(sqltmpl.Migrations, "migrations/*.up.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	var max uint
	for _, f := range files {
		var n uint
		if _, err := fmt.Sscanf(filepath.Base(f), "%d_", &n); err == nil && n > max {
			max = n
		}
	}
	return max
}
