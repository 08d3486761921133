package engine

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"regexp"
	"sync"
	"time"

	"github.com/exohunter/exohunter/engine/spec"
)

// Console limits (STYLE rule 31). Requests may lower the row cap and the
// time limit, and raise them only up to the configured maximums.
const (
	consoleMaxRows       = 1000             // default row cap of a console query
	consoleMaxRowsCap    = 10_000           // default ceiling a request may raise the row cap to
	consoleTimeout       = 5 * time.Second  // default time limit of a console query
	consoleMaxTimeout    = 60 * time.Second // default ceiling of the time limit; downloads default to it
	consoleMaxQueryLen   = 64 << 10         // bytes of SQL text
	consoleMaxBytes      = 8 << 20          // bytes of a JSON response (rows and their values)
	consoleMaxValueBytes = 64 << 10         // bytes of one value before it is truncated and marked
	consoleMinValueBytes = 256              // value cap floor when many wide columns share consoleMaxBytes

	consoleDownloadMaxRows       = 1_000_000 // row cap of a streamed download
	consoleDownloadMaxBytes      = 1 << 30   // bytes of a download file
	consoleDownloadMaxValueBytes = 1 << 20   // bytes of one value in a CSV or NDJSON download

	// consoleRollbackTimeout bounds the ROLLBACK that ends every query; it
	// runs on a fresh context because the query's own may have expired.
	consoleRollbackTimeout = 5 * time.Second
	// consoleTruncMark ends every value the console shortened.
	consoleTruncMark = "…"
)

// ConsoleLimits bounds every console query. NewConsole replaces each zero
// field by its default.
type ConsoleLimits struct {
	// Rows is the default row cap (1000); MaxRows the most a request may ask
	// for (10000).
	Rows, MaxRows int
	// Timeout is the default time limit (5 s); MaxTimeout the most a request
	// may ask for (60 s). Downloads default to MaxTimeout.
	Timeout, MaxTimeout time.Duration
	// MaxQueryLen is the longest SQL text accepted, in bytes (64 KiB).
	MaxQueryLen int
	// MaxBytes caps a JSON response's rows, in bytes (8 MiB).
	MaxBytes int
	// MaxValueBytes is the most one value may take in a JSON response
	// (64 KiB); longer strings, blobs and nested values are cut and marked.
	// Wide results get a smaller per-value cap so that the whole result
	// stays under MaxBytes.
	MaxValueBytes int
	// DownloadMaxRows is the row cap of downloads (1,000,000).
	DownloadMaxRows int
	// DownloadMaxBytes caps a download file (1 GiB).
	DownloadMaxBytes int64
	// DownloadMaxValueBytes is the most one value may take in a CSV or
	// NDJSON download (1 MiB). Parquet downloads keep values whole.
	DownloadMaxValueBytes int
	// OutputsDir is where downloads are spooled (DATA/outputs). It must be
	// one of DuckDB's allowed_directories. Downloads fail without it.
	OutputsDir string
}

// DefaultConsoleLimits returns the documented defaults, without OutputsDir.
func DefaultConsoleLimits() ConsoleLimits {
	return ConsoleLimits{
		Rows: consoleMaxRows, MaxRows: consoleMaxRowsCap,
		Timeout: consoleTimeout, MaxTimeout: consoleMaxTimeout,
		MaxQueryLen: consoleMaxQueryLen, MaxBytes: consoleMaxBytes,
		MaxValueBytes:   consoleMaxValueBytes,
		DownloadMaxRows: consoleDownloadMaxRows, DownloadMaxBytes: consoleDownloadMaxBytes,
		DownloadMaxValueBytes: consoleDownloadMaxValueBytes,
	}
}

func (l ConsoleLimits) withDefaults() ConsoleLimits {
	d := DefaultConsoleLimits()
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.Rows, d.Rows)
	set(&l.MaxRows, max(d.MaxRows, l.Rows))
	set(&l.MaxQueryLen, d.MaxQueryLen)
	set(&l.MaxBytes, d.MaxBytes)
	set(&l.MaxValueBytes, d.MaxValueBytes)
	set(&l.DownloadMaxRows, d.DownloadMaxRows)
	set(&l.DownloadMaxValueBytes, d.DownloadMaxValueBytes)
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	if l.MaxTimeout <= 0 {
		l.MaxTimeout = max(d.MaxTimeout, l.Timeout)
	}
	if l.DownloadMaxBytes <= 0 {
		l.DownloadMaxBytes = d.DownloadMaxBytes
	}
	l.Rows, l.Timeout = min(l.Rows, l.MaxRows), min(l.Timeout, l.MaxTimeout)
	return l
}

// ConsoleRequest is one console query as the API and the CLI receive it.
type ConsoleRequest struct {
	// SQL is the query text, unvalidated.
	SQL string `json:"sql"`
	// Limit is the row cap; 0 means the default.
	Limit int `json:"limit"`
	// TimeoutMS is the time limit in milliseconds; 0 means the default.
	TimeoutMS int `json:"timeout_ms"`
	// QueryID names the query for Cancel; empty means one is generated.
	QueryID string `json:"query_id"`
}

// ConsoleColumn is one result column.
type ConsoleColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// ConsoleResult is the answer to a console query. Its slices are never nil.
type ConsoleResult struct {
	Columns []ConsoleColumn `json:"columns"`
	// Rows hold values converted by JSONValue, one slice per row.
	Rows [][]any `json:"rows"`
	// Truncated is true when more rows exist than were returned.
	Truncated bool `json:"truncated"`
	// TruncatedBy says which cap stopped the rows: "rows", "bytes" or "".
	TruncatedBy string `json:"truncated_by"`
	// TruncatedValues lists [row, column] of every value that was cut to
	// the value cap; such values end with "…".
	TruncatedValues [][2]int `json:"truncated_values"`
	// Limit is the row cap that applied (the request's, or lower when wide
	// values had to share the byte cap).
	Limit     int    `json:"limit"`
	ElapsedMS int64  `json:"elapsed_ms"`
	QueryID   string `json:"query_id"`
}

// Console runs read-only SQL typed by users. Every query is checked with
// DuckDB's own parser without being executed, then runs on a dedicated
// connection inside BEGIN TRANSACTION READ ONLY ... ROLLBACK, wrapped in an
// outer LIMIT and a value-size projection, under a deadline. It is safe for
// concurrent use.
type Console struct {
	// db is the console's own pool over the engine's DuckDB instance. Its
	// MaxOpenConns bounds how many console queries run at once, so that
	// they cannot starve the pipeline's pool.
	db     *sql.DB
	limits ConsoleLimits

	mu sync.Mutex
	// running maps query IDs to the cancel function of their context.
	running map[string]context.CancelCauseFunc
}

// NewConsole returns a console over db, which should be a pool reserved for
// it (a separate sql.DB over the engine's connector, with a small
// MaxOpenConns). In serve mode the DuckDB instance must already be locked
// (allowed_directories, enable_external_access=false,
// lock_configuration=true): the console blocks file access itself too, but
// the lock is the barrier that holds if a check is ever missed.
func NewConsole(db *sql.DB, limits ConsoleLimits) *Console {
	return &Console{db: db, limits: limits.withDefaults(), running: map[string]context.CancelCauseFunc{}}
}

// Limits returns the limits after defaults, for the API to document them.
func (c *Console) Limits() ConsoleLimits { return c.limits }

// errConsoleCancelled is the cause of a query stopped by Cancel.
var errConsoleCancelled = errors.New("cancelled by query_id")

// Cancel stops the running query with this ID and reports whether there
// was one. The query answers with a Conflict whose cause is
// context.Canceled.
func (c *Console) Cancel(queryID string) bool {
	c.mu.Lock()
	cancel := c.running[queryID]
	c.mu.Unlock()
	if cancel == nil {
		return false
	}
	cancel(errConsoleCancelled)
	return true
}

// Running reports how many console queries are in flight.
func (c *Console) Running() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.running)
}

// Query runs one read-only query and returns at most the row cap of rows
// and at most MaxBytes of values. Errors are *Error: BadRequest for
// anything wrong with the SQL (with the position in Details when DuckDB
// reports one), TooLarge for a query that is too long or needs more memory
// than DuckDB's memory_limit, Timeout at the deadline, Busy when every
// console connection stays busy until then, Conflict for a query_id that is
// already running or a query cancelled (Cancel) before it ended.
func (c *Console) Query(ctx context.Context, req ConsoleRequest) (*ConsoleResult, error) {
	start := time.Now()
	q, err := c.parseRequest(req, c.limits.Rows, c.limits.MaxRows, c.limits.Timeout)
	if err != nil {
		return nil, err
	}
	return c.run(ctx, q, start)
}

// run executes a validated query (typed or stored) under its query_id and
// fetches its page; start is when the request arrived, for elapsed_ms.
func (c *Console) run(ctx context.Context, q consoleQuery, start time.Time) (*ConsoleResult, error) {
	ctx, done, err := c.track(ctx, q)
	if err != nil {
		return nil, err
	}
	defer done()
	s, err := c.open(ctx, q)
	if err != nil {
		return nil, err
	}
	defer s.close()
	res, err := s.fetch(ctx)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	res.QueryID = q.id
	res.ElapsedMS = time.Since(start).Milliseconds()
	return res, nil
}

// consoleQuery is a validated request.
type consoleQuery struct {
	sql                 string
	limit               int
	timeout, maxTimeout time.Duration
	id                  string
	// stored and args are set for a stored query (console_stored.go): its
	// guard allows the declared $name parameters, bound from args.
	stored *spec.Query
	args   []any
}

var consoleQueryID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (c *Console) parseRequest(req ConsoleRequest, defRows, maxRows int, defTimeout time.Duration) (consoleQuery, error) {
	q := consoleQuery{sql: req.SQL, limit: req.Limit, id: req.QueryID, maxTimeout: c.limits.MaxTimeout}
	switch {
	case req.Limit < 0 || req.Limit > maxRows:
		return q, Errorf(BadRequest, "limit (the row cap) must be between 1 and %d (got %d)", maxRows, req.Limit)
	case req.Limit == 0:
		q.limit = defRows
	}
	max := c.limits.MaxTimeout
	switch {
	case req.TimeoutMS < 0 || time.Duration(req.TimeoutMS)*time.Millisecond > max:
		return q, Errorf(BadRequest, "timeout_ms (the time limit in milliseconds) must be between 1 and %d (got %d)", max.Milliseconds(), req.TimeoutMS)
	case req.TimeoutMS == 0:
		q.timeout = defTimeout
	default:
		q.timeout = time.Duration(req.TimeoutMS) * time.Millisecond
	}
	if q.id == "" {
		q.id = newConsoleID()
	} else if !consoleQueryID.MatchString(q.id) {
		return q, Errorf(BadRequest, "query_id must be 1 to 64 letters, digits, '-' or '_'")
	}
	if len(q.sql) > c.limits.MaxQueryLen {
		return q, Errorf(TooLarge, "the query is %d bytes long; the console accepts at most %d", len(q.sql), c.limits.MaxQueryLen)
	}
	return q, nil
}

func newConsoleID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// track registers the query for Cancel and returns its context, bounded by
// the query's time limit, and the function that unregisters it.
func (c *Console) track(ctx context.Context, q consoleQuery) (context.Context, func(), error) {
	ctx, cancel := context.WithCancelCause(ctx)
	c.mu.Lock()
	if _, dup := c.running[q.id]; dup {
		c.mu.Unlock()
		cancel(nil)
		return nil, nil, Errorf(Conflict, "a query with query_id %q is already running", q.id)
	}
	c.running[q.id] = cancel
	c.mu.Unlock()
	ctx, stop := context.WithTimeout(ctx, q.timeout)
	return ctx, func() {
		stop()
		cancel(nil)
		c.mu.Lock()
		delete(c.running, q.id)
		c.mu.Unlock()
	}, nil
}

// consoleSession is one query's connection, inside its read-only
// transaction, with the checked SQL and the columns it returns.
type consoleSession struct {
	c    *Console
	q    consoleQuery
	conn *sql.Conn
	// user is the query text to run: the submitted text with leading and
	// trailing semicolons blanked out.
	user string
	// ast is the parsed user statement, compared against every wrapper.
	ast  map[string]any
	cols []consoleCol
	// bad is set when the connection must not go back to the pool.
	bad bool
}

// open takes a console connection, checks the SQL, starts the read-only
// transaction and learns the result's columns.
func (c *Console) open(ctx context.Context, q consoleQuery) (*consoleSession, error) {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, c.busyError(ctx, err, q)
		}
		return nil, Wrap(Internal, err, "console connection")
	}
	s := &consoleSession{c: c, q: q, conn: conn}
	ast, user, err := q.guard(ctx, conn)
	if err != nil {
		s.release()
		return nil, s.fail(ctx, err)
	}
	s.ast, s.user = ast, user
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION READ ONLY"); err != nil {
		s.release()
		return nil, s.fail(ctx, err)
	}
	if s.cols, err = s.probe(ctx); err != nil {
		s.close()
		return nil, s.fail(ctx, err)
	}
	return s, nil
}

// busyError explains a query that got no console connection: cancelled
// while it waited, or the pool was full for its whole time limit. That is
// Busy (429), not Timeout: the Contract keeps 504 for a query that ran too
// long, and this one never ran.
func (c *Console) busyError(ctx context.Context, err error, q consoleQuery) error {
	if errors.Is(context.Cause(ctx), errConsoleCancelled) || errors.Is(err, context.Canceled) {
		return cancelledError(ctx, q)
	}
	return Wrap(Busy, err, "the console is busy: each of its %d connections was running another query for the whole %s time limit of this one, which did not start; try again shortly, or raise its time limit (timeout_ms) to wait longer", c.db.Stats().MaxOpenConnections, q.timeout)
}

// close ends the transaction (dropping anything temporary) and returns
// the connection to the pool, or discards it when it cannot be trusted.
func (s *consoleSession) close() {
	ctx, cancel := context.WithTimeout(context.Background(), consoleRollbackTimeout)
	defer cancel()
	if _, err := s.conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		s.bad = true
	}
	s.release()
}

// release returns the connection without ending a transaction.
func (s *consoleSession) release() {
	if s.bad {
		// note: returning driver.ErrBadConn from Raw makes database/sql
		// close this connection instead of pooling it.
		_ = s.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	_ = s.conn.Close()
}

// fail turns an execution error into the console's error for the client.
func (s *consoleSession) fail(ctx context.Context, err error) error {
	return consoleError(ctx, err, s.q, s.user)
}
