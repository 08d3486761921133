// Package engine is ExoHunter's DuckDB engine: it stores catalog files,
// registers the raw/normalized/metrics/classified views over them, runs the
// pipeline, and owns the service's own tables. It is the only package that
// imports the DuckDB driver. See README.md in this directory for who owns
// which file and how to add things.
package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/exohunter/exohunter/engine/spec"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// Defaults for a laptop. DuckDB spills to TempDir beyond MemoryLimit, so a
// small limit slows large inputs down but does not fail them.
const (
	DefaultDataDir      = "data"
	DefaultFeatureStore = "feature_store"
	DefaultDBName       = "exohunter.duckdb"
	DefaultMemoryLimit  = "1GB"
	// InMemory as Options.DBPath opens a database that lives only as long as
	// the Engine (tests).
	InMemory = ":memory:"
	// consoleMaxConns bounds the console pool so console queries cannot
	// starve the pipeline and the API.
	consoleMaxConns = 2
)

// Options configures Open. The zero value works: every empty field takes the
// default documented on it.
type Options struct {
	// DBPath is the database file (default DataDir/exohunter.duckdb), or
	// InMemory.
	DBPath string
	// DataDir holds all runtime state (default "data"); Open creates its
	// subfolders raw, runs, outputs, labeled, snapshots, models and tmp.
	DataDir string
	// FeatureStore holds versioned feature sets (default "feature_store").
	// Open does not create it; the feature builder does.
	FeatureStore string
	// Config is a file system whose root holds configs/ and schemas/. When
	// nil, only raw views are registered and the pipeline is unavailable
	// (enough for `migrate`).
	Config fs.FS
	// MemoryLimit is DuckDB's memory_limit, e.g. "2GB" (default "1GB").
	MemoryLimit string
	// Threads is DuckDB's thread count (default: the number of CPUs).
	Threads int
	// TempDir is where DuckDB spills (default DataDir/tmp).
	TempDir string
	// Lock is serve mode: after Open, DuckDB may only touch the runtime
	// subfolders and the feature store, and its configuration is locked.
	Lock bool
	// ResultsIndex keeps a sorted native copy of each complete run's
	// results columns for fast results pages (engine/results_index.go):
	// serve mode turns it on; one-shot CLI commands do not pay for it.
	ResultsIndex bool
	// IndexMinRows leaves runs with fewer rows out of the results index:
	// their pages are read from the Parquet file (0 indexes every run;
	// serve uses DefaultIndexMinRows).
	IndexMinRows int64
	// indexDiskFactor overrides the results index's disk need (a multiple
	// of the run file; 0 is indexDiskFactor); tests raise it.
	indexDiskFactor int64
	// ScoreBatch is the rows ScoreRun predicts at a time, and a run with
	// more rows has its matrix written to a file and read back in batches
	// (0 or less is 50,000). Lower it to bound the memory of scoring.
	ScoreBatch int
	// Logger receives the engine's logs (default: discard).
	Logger *slog.Logger
	// Fetcher downloads IngestInput.URL (default: a remote.Fetcher
	// configured from the environment on first use).
	Fetcher URLFetcher
	// BlockPrivateURLs makes the default Fetcher refuse http(s) URLs on
	// private or local addresses (remote.Config.BlockPrivate): serve sets
	// it, so that a client cannot point the server at its own network.
	BlockPrivateURLs bool
	// Console bounds the SQL console; zero fields take their defaults and
	// OutputsDir is always DATA/outputs.
	Console ConsoleLimits
}

// Engine is one open DuckDB database plus its data dir. It is safe for
// concurrent use. Fields are documented for the engine's other files
// (runs, exports, console, labels, features).
type Engine struct {
	// db is the pool for the pipeline and the API. Use it for everything
	// except console queries.
	db *sql.DB
	// consoleDB is a small pool (consoleMaxConns) over the same DuckDB
	// instance, reserved for the read-only SQL console.
	consoleDB *sql.DB
	// orderedDB is a pool of maxExportWrites connections whose sessions
	// preserve insertion order, for exports that stream a run file in its
	// order (execCopy). The session setting is made at Open: once serve
	// locks the configuration, no SET is allowed.
	orderedDB *sql.DB
	// connector is the one DuckDB instance; both pools share it and Close
	// closes it last.
	connector *duckdb.Connector

	// dbPath is the absolute database path, or InMemory.
	dbPath string
	// dataDir is the absolute data dir; use e.path for paths under it.
	dataDir string
	// featureStore is the absolute feature store dir.
	featureStore string
	// tempDir is the absolute temp dir; DuckDB spills to spillDir, this
	// process's own folder in it (engine/spill.go).
	tempDir, spillDir string
	// dataLock and storeLock are this engine's holds on the data dir and
	// the feature store (engine/dirlock.go); storeMu guards a storeLock
	// taken after Open.
	dataLock, storeLock *dirLock
	storeMu             sync.Mutex

	// bundle is the validated pipeline config, nil without Options.Config.
	bundle *spec.Bundle
	// log is never nil.
	log *slog.Logger
	// opts are the options after defaults, paths made absolute.
	opts Options
	// limits bound ingest; tests lower them.
	limits ingestLimits
	// ephemerisBudget bounds the classifier's ephemeris matching
	// (planEphemeris); tests lower it.
	ephemerisBudget int64
	// scoreBatch is Options.ScoreBatch or its default; tests lower it.
	scoreBatch int
	// memAvailable reports the memory left for the anomaly detectors
	// (memroom.go); tests replace it.
	memAvailable func() int64
	// bulk makes the work over whole large runs take turns (bulk.go).
	bulk *bulk
	// snapshotTurn lets one snapshot write at a time (writeSnapshot);
	// snapshotWaiting counts those waiting for it, at most
	// maxWaitingSnapshots.
	snapshotTurn    chan struct{}
	snapshotWaiting atomic.Int32
	// ingestMu serializes the short register step of Ingest, DeleteDataset
	// (duplicate check, name choice, rename, meta row, views) and the
	// recording of a new run (insertRun).
	ingestMu sync.Mutex

	// console runs the read-only SQL console over consoleDB
	// (engine/engine_console.go wires it at Open).
	console *Console
	// labelImportMu serializes the bulk label imports: each inserts what
	// labels.current lacks, and two at once would both see it lacking (the
	// same NASA import three times inserted every label three times).
	labelImportMu sync.Mutex
	// runViewsMu serializes re-creating runs.results and runs.latest_*
	// (engine/runs.go): concurrent CREATE OR REPLACE VIEW statements conflict.
	runViewsMu sync.Mutex
	// finishing holds runs whose file is in place and whose completion is
	// being recorded (engine/runs.go); guarded by runViewsMu.
	finishing map[string]*Run
	// unrecorded holds runs (run id → *Run) that failed when their failure
	// could not be written either, typically on a full disk: reads answer
	// their failed state and retry the write (engine/runs.go).
	unrecorded sync.Map

	closeOnce sync.Once
	closeErr  error
}

// Open opens (or creates) the database, applies migrations, sets DuckDB's
// resource settings, loads and checks the pipeline spec, re-creates every
// dataset's views from meta.datasets (paths may have moved) and, in Lock
// mode, restricts DuckDB to the runtime folders. When another process holds
// the database file it fails at once with a Conflict that names the holder
// (errors.Is(err, ErrLocked)).
func Open(ctx context.Context, opts Options) (_ *Engine, err error) {
	opts, err = opts.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &Engine{
		dbPath: opts.DBPath, dataDir: opts.DataDir, featureStore: opts.FeatureStore,
		tempDir: opts.TempDir, log: opts.Logger, opts: opts, limits: defaultIngestLimits, ephemerisBudget: sqltmpl.EphemerisPairBudget, scoreBatch: scoreBatchOf(opts.ScoreBatch), memAvailable: memAvailable,
		bulk: newBulk(), snapshotTurn: make(chan struct{}, 1),
	}
	dsn := e.dbPath
	if dsn == InMemory {
		dsn = ""
	} else if err := makeDir(filepath.Dir(e.dbPath)); err != nil {
		return nil, err
	}
	// note: the database first, the data dir's folders after: a command
	// refused because a server holds the database (with another
	// --data-dir) left a whole empty data dir tree behind.
	c, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, openError(e.dbPath, e.dataDir, err)
	}
	e.connector = c
	defer func() {
		if err != nil {
			_ = e.Close()
		}
	}()
	if err := e.makeDirs(); err != nil {
		return nil, err
	}
	e.makeSpillDir()
	e.dataLock = lockDir(e.dataDir)
	// note: the feature store is created by the first build, not here (a
	// CLI query must not leave ./feature_store behind); holdFeatureStore
	// takes the lock then.
	if fi, err := os.Stat(e.featureStore); err == nil && fi.IsDir() {
		e.storeLock = lockDir(e.featureStore)
	}
	e.db = sql.OpenDB(sharedConnector{c})
	e.consoleDB = sql.OpenDB(sharedConnector{c})
	e.consoleDB.SetMaxOpenConns(consoleMaxConns)
	e.consoleDB.SetMaxIdleConns(consoleMaxConns)
	e.orderedDB = sql.OpenDB(sharedConnector{c})
	e.orderedDB.SetMaxOpenConns(maxExportWrites)
	e.orderedDB.SetMaxIdleConns(maxExportWrites)
	if err := e.applySettings(ctx); err != nil {
		return nil, err
	}
	if err := e.primeOrderedConns(ctx); err != nil {
		return nil, err
	}
	if err := e.checkOwnDatabase(ctx); err != nil {
		return nil, err
	}
	if err := e.Migrate(ctx, "up"); err != nil {
		return nil, err
	}
	if err := e.loadPipeline(ctx); err != nil {
		return nil, err
	}
	if err := e.recoverIngests(ctx); err != nil {
		return nil, err
	}
	if n, err := e.restoreViews(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		e.log.Info("re-created dataset views", "datasets", n)
	}
	// note: before the hooks. runs.results lists run files by path, and
	// a view over a file that is gone (a crash in the middle of a dataset
	// delete) fails every statement that binds it: runs.scored's refresh
	// stopped the server and every CLI command from starting.
	if err := recoverRuns(ctx, e); err != nil {
		return nil, err
	}
	for _, hook := range openHooks {
		if err := hook(ctx, e); err != nil {
			return nil, err
		}
	}
	if opts.Lock {
		if err := e.lockDown(ctx); err != nil {
			return nil, err
		}
	}
	e.dataLock.share()
	e.storeLock.share()
	return e, nil
}

// openHooks run at the end of Open, before the Lock step, in order. Other
// engine files register here from init() to restore their own views (for
// example runs.results) after the dataset views exist.
var openHooks []func(context.Context, *Engine) error

// closeHooks run first in Close, to stop background work that uses the
// pools. Register from init().
var closeHooks []func(*Engine)

// Close closes both pools and the DuckDB instance. It is safe to call more
// than once.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		for _, hook := range closeHooks {
			hook(e)
		}
		var errs []error
		for _, db := range []*sql.DB{e.orderedDB, e.consoleDB, e.db} {
			if db != nil {
				errs = append(errs, db.Close())
			}
		}
		if e.connector != nil {
			errs = append(errs, e.connector.Close())
		}
		e.dataLock.release()
		e.storeLock.release()
		if e.spillDir != "" && e.spillDir != e.tempDir {
			_ = os.RemoveAll(e.spillDir)
		}
		e.closeErr = errors.Join(errs...)
	})
	return e.closeErr
}

// DataDir returns the absolute data dir.
func (e *Engine) DataDir() string { return e.dataDir }

// DBPath returns the absolute database path, or InMemory.
func (e *Engine) DBPath() string { return e.dbPath }

// FeatureStore returns the absolute feature store dir.
func (e *Engine) FeatureStore() string { return e.featureStore }

// Logger returns the engine's logger, never nil.
func (e *Engine) Logger() *slog.Logger { return e.log }

// Locked reports whether the engine runs in serve mode (configuration
// locked, file access limited to the runtime folders).
func (e *Engine) Locked() bool { return e.opts.Lock }

// withDefaults fills empty options and makes every path absolute.
func (o Options) withDefaults() (Options, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.DataDir == "" {
		o.DataDir = DefaultDataDir
	}
	if o.FeatureStore == "" {
		o.FeatureStore = DefaultFeatureStore
	}
	if o.MemoryLimit == "" {
		o.MemoryLimit = DefaultMemoryLimit
	}
	if o.Threads <= 0 {
		o.Threads = runtime.NumCPU()
	}
	var err error
	if o.DataDir, err = absDir(o.DataDir, "data dir"); err != nil {
		return o, err
	}
	if o.DBPath == "" {
		o.DBPath = filepath.Join(o.DataDir, DefaultDBName)
	} else if o.DBPath != InMemory {
		if o.DBPath, err = absDir(o.DBPath, "database path"); err != nil {
			return o, err
		}
	}
	if o.FeatureStore, err = absDir(o.FeatureStore, "feature store"); err != nil {
		return o, err
	}
	if o.TempDir == "" {
		o.TempDir = filepath.Join(o.DataDir, DirTmp)
	} else if o.TempDir, err = absDir(o.TempDir, "temp dir"); err != nil {
		return o, err
	}
	return o, nil
}

// absDir returns p as a clean absolute path.
func absDir(p, what string) (string, error) {
	a, err := filepath.Abs(p)
	if err != nil {
		return "", Wrap(BadRequest, err, "The %s %q cannot be resolved to an absolute path", what, p)
	}
	return a, nil
}

// applySettings sets DuckDB's resource settings. They are global to the
// instance, so they are set once here.
func (e *Engine) applySettings(ctx context.Context) error {
	if _, err := e.db.ExecContext(ctx, "SET memory_limit = "+sqltmpl.Lit(e.opts.MemoryLimit).String()); err != nil {
		return Wrap(BadRequest, err, "The memory limit %q is not a size DuckDB understands (write it like 512MB or 2GB)", e.opts.MemoryLimit)
	}
	stmts := []string{
		fmt.Sprintf("SET threads = %d", e.opts.Threads),
		"SET temp_directory = " + sqltmpl.Lit(e.spillDir).String(),
		// note: results are ordered explicitly where order matters; without
		// this, DuckDB must buffer to keep scan order, which costs memory
		// and parallelism on large files.
		"SET preserve_insertion_order = false",
		// note: the engine runs offline; never try to download an extension
		// in the middle of a request.
		"SET autoinstall_known_extensions = false",
		// note: checkpoint as soon as a database's WAL holds 1 MB (DuckDB's
		// default is 16 MB). Rows appended since the last checkpoint stay
		// in memory, in blocks allocated per column (duckdb_memory() tag
		// IN_MEMORY_TABLE), which the buffer manager does not evict below
		// memory_limit. The results index writes a table per run (about
		// 2.3 MB of WAL for a 3,000-row run of 164 columns), which held
		// about 20 MB of such blocks per run: in `make soak` (3 min,
		// --memory-limit 1GB, an indexed run every 10 s) IN_MEMORY_TABLE
		// climbed to 156 MB before each 16 MB checkpoint, over and over.
		// With 1 MB it stayed between 4 and 24 MB; in a 5 min soak it was
		// below 1 MB at the end (was 111 MB) and RSS grew 28% between
		// minute 1 and the end instead of 36%. An explicit CHECKPOINT of
		// the index after each build was tried first: DuckDB refuses it
		// ("other write transactions active") while any transaction reads
		// that database, which in serve mode is almost always; the
		// automatic checkpoint at commit runs beside readers. Checkpoints
		// are cheap at this size (the catalog database is a few MB, and a
		// large index table is written to its file while it is built).
		"SET wal_autocheckpoint = '1MB'",
		// note: DuckDB's external file cache keeps the bytes it read from
		// data files in its buffer pool (tag EXTERNAL_FILE_CACHE), evicted
		// only under memory_limit. Every file the engine reads is local
		// (URLs are downloaded to the raw store first), so the OS page cache
		// already holds them; the copy only grew, by about 0.4 MB per new
		// run (25 MB after 60 uploads and runs, tmp driver), and RSS with it.
		"SET enable_external_file_cache = false",
	}
	for _, q := range stmts {
		if _, err := e.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// lockDown restricts DuckDB to the runtime folders and locks the
// configuration. The folder that holds the database file is deliberately
// not in the list (unless it is one of them), so the console cannot read or
// overwrite it.
func (e *Engine) lockDown(ctx context.Context) error {
	dirs := e.allowedDirs()
	lits := make([]string, len(dirs))
	for i, d := range dirs {
		lits[i] = sqltmpl.Lit(d).String()
	}
	stmts := []string{
		"SET allowed_directories = [" + strings.Join(lits, ", ") + "]",
		"SET enable_external_access = false",
		"SET lock_configuration = true",
	}
	for _, q := range stmts {
		if _, err := e.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("lock: %s: %w", q, err)
		}
	}
	e.log.Info("duckdb locked", "allowed_directories", dirs)
	return nil
}

// sharedConnector lets several sql.DB pools share one DuckDB instance:
// sql.DB.Close closes a connector that implements io.Closer, and this
// wrapper hides Close so that only Engine.Close closes the instance.
type sharedConnector struct{ c *duckdb.Connector }

// Connect implements driver.Connector.
func (s sharedConnector) Connect(ctx context.Context) (driver.Conn, error) { return s.c.Connect(ctx) }

// Driver implements driver.Connector.
func (s sharedConnector) Driver() driver.Driver { return s.c.Driver() }

// makeDirs creates the data dir's runtime folders.
func (e *Engine) makeDirs() error {
	for _, d := range append(runtimeDirs(e.dataDir), e.path(DirRaw, dirIncoming), e.tempDir) {
		if err := makeDir(d); err != nil {
			return err
		}
	}
	return nil
}

// makeDir creates a folder and its parents, or says why it cannot.
func makeDir(d string) error {
	if err := os.MkdirAll(d, 0o755); err != nil {
		reason := "check that its parent folder is writable"
		if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EEXIST) {
			reason = "a file of that name (or of a folder above it) is in the way"
		}
		return Wrap(BadRequest, err, "Cannot create the folder %s: %s.", d, reason)
	}
	return nil
}
