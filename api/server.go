// Package api is ExoHunter's HTTP service: the REST API over the engine
// (datasets, runs, results, exports, jobs, the SQL console, the data
// dictionary), the legacy routes of the prototype, and the embedded
// dashboard. It is the only package that imports fiber and ui.
//
// Every route is in one table (routes.go); every error is rendered by one
// handler (errors.go) from one status table; handlers bind, validate, make
// one engine call and render.
package api

import (
	"context"
	"io/fs"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/exohunter/exohunter/ui"
)

// Defaults of Config. The read timeout bounds headers and small bodies (a
// slow-loris client is cut off); uploads and streams extend their own
// deadlines while bytes keep moving.
const (
	DefaultUploadLimit       int64 = 2 << 30
	DefaultBodyLimit               = 1 << 20
	DefaultReadTimeout             = 15 * time.Second
	DefaultWriteTimeout            = 60 * time.Second
	DefaultIdleTimeout             = 120 * time.Second
	DefaultStreamIdleTimeout       = 60 * time.Second
	DefaultRequestTimeout          = 30 * time.Second
	DefaultRunWait                 = 2 * time.Second
	DefaultMaxPerClient            = 32
	DefaultMaxStreams              = 32
	DefaultMaxHeaderBytes          = 16 << 10
)

// Config configures the server. The zero value works: every zero field
// takes the default documented on it.
type Config struct {
	// Token, when set (env EXOHUNTER_TOKEN), is required as
	// "Authorization: Bearer <token>" by every write endpoint: 401 without
	// it, 403 with a wrong one.
	Token string
	// ProtectReads makes read endpoints token-only too.
	ProtectReads bool
	// ProtectConsole makes the SQL console token-only too.
	ProtectConsole bool
	// CORSOrigins are the origins allowed to call the API from a browser
	// (e.g. "http://localhost:5173"); empty means same-origin only.
	CORSOrigins []string
	// AllowedHosts, when set, are the host names a request's Host header
	// may name (any port); others get 403 (DNS rebinding). serve sets
	// LoopbackHosts for a loopback address, plus EXOHUNTER_ALLOWED_HOSTS.
	AllowedHosts []string

	// UploadLimit caps one uploaded file (default 2 GiB): 413 beyond it.
	UploadLimit int64
	// BodyLimit caps a JSON request body (default 1 MiB): 413 beyond it.
	BodyLimit int
	// ReadTimeout bounds reading a request's headers and small body
	// (default 15 s), WriteTimeout writing a response (default 60 s),
	// IdleTimeout an idle keep-alive connection (default 120 s).
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// StreamIdleTimeout is how long an upload or a streamed response may
	// stall before the connection is cut (default 60 s); while bytes move,
	// it has no overall limit.
	StreamIdleTimeout time.Duration
	// RequestTimeout is the default deadline of a request's engine work
	// (default 30 s); some routes have their own.
	RequestTimeout time.Duration
	// RunWait is how long POST /api/datasets/{name}/runs waits for the job
	// before answering (default 2 s), so small inputs answer complete.
	RunWait time.Duration
	// MaxPerClient caps concurrent requests from one client address
	// (default 32): 429 beyond it.
	MaxPerClient int
	// MaxStreamsPerClient caps the job event streams one client address
	// keeps open (default 32): 429 beyond it. Open streams do not count
	// against MaxPerClient.
	MaxStreamsPerClient int
	// MaxHeaderBytes caps request headers (default 16 KiB).
	MaxHeaderBytes int

	// Jobs runs background jobs (required); Console is the SQL console
	// (required).
	Jobs    Jobs
	Console Console
	// UI is the dashboard's file tree (index.html at its root); nil means
	// the embedded dashboard, ui.FS (itself nil in -tags noui builds, which
	// serve no dashboard).
	UI fs.FS
	// Logger receives request errors (default: discard).
	Logger *slog.Logger
	// Version is reported by GET /api/health.
	Version string
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.ReadTimeout, DefaultReadTimeout)
	def(&c.WriteTimeout, DefaultWriteTimeout)
	def(&c.IdleTimeout, DefaultIdleTimeout)
	def(&c.StreamIdleTimeout, DefaultStreamIdleTimeout)
	def(&c.RequestTimeout, DefaultRequestTimeout)
	def(&c.RunWait, DefaultRunWait)
	if c.UploadLimit <= 0 {
		c.UploadLimit = DefaultUploadLimit
	}
	if c.BodyLimit <= 0 {
		c.BodyLimit = DefaultBodyLimit
	}
	if c.MaxPerClient <= 0 {
		c.MaxPerClient = DefaultMaxPerClient
	}
	if c.MaxStreamsPerClient <= 0 {
		c.MaxStreamsPerClient = DefaultMaxStreams
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.UI == nil {
		c.UI = ui.FS
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	return c
}

// Server is the HTTP service over one engine.
type Server struct {
	cfg     Config
	eng     Engine
	jobs    Jobs
	console Console
	app     *fiber.App
	log     *slog.Logger
	clients *clientLimiter
	started time.Time
	table   []route
}

// New builds the server: the fiber app with its middleware, every route of
// routes(), and the dashboard after /api.
func New(cfg Config, eng Engine) (*Server, error) {
	cfg = cfg.withDefaults()
	if eng == nil || cfg.Jobs == nil || cfg.Console == nil {
		return nil, errMissing
	}
	s := &Server{
		cfg: cfg, eng: eng, jobs: cfg.Jobs, console: cfg.Console,
		log: newLogger(cfg.Logger), clients: newClientLimiter(cfg.MaxPerClient, cfg.MaxStreamsPerClient), started: time.Now(),
	}
	s.app = fiber.New(fiber.Config{
		AppName:           "exohunter",
		Immutable:         true,
		StreamRequestBody: true,
		// note: fasthttp would otherwise parse multipart bodies into
		// temporary files before the handler runs; uploads parse the
		// stream themselves.
		DisablePreParseMultipartForm: true,
		// note: with StreamRequestBody, BodyLimit is how much of a body is
		// buffered before the rest streams; handlers enforce their own
		// limits (readJSON, the upload limit). Below 8 KiB fasthttp's first
		// read of a body may take the next pipelined request's bytes with
		// it (a limit of 1 byte made a POST and a GET sent together panic).
		BodyLimit:             64 << 10,
		ReadBufferSize:        cfg.MaxHeaderBytes,
		ReadTimeout:           cfg.ReadTimeout,
		WriteTimeout:          cfg.WriteTimeout,
		IdleTimeout:           cfg.IdleTimeout,
		ErrorHandler:          s.handleError,
		DisableStartupMessage: true,
	})
	// note: fasthttp reads a body's first bytes (up to 8 KiB) before the
	// handler runs, under ReadTimeout; an upload then follows the idle
	// rule (idleReader), so it gets the idle timeout for them too: with
	// 15 s, an upload that sent its first 8 KiB slower was cut (408).
	s.app.Server().HeaderReceived = func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
		if isUpload(h) {
			return fasthttp.RequestConfig{ReadTimeout: cfg.StreamIdleTimeout}
		}
		return fasthttp.RequestConfig{}
	}
	s.table = s.routes()
	s.mount()
	return s, nil
}

// isUpload reports whether a request is a catalog upload (the routes
// that stream a file body to disk).
func isUpload(h *fasthttp.RequestHeader) bool {
	if !h.IsPost() {
		return false
	}
	p := strings.TrimSuffix(string(h.RequestURI()), "/")
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = strings.TrimSuffix(p[:i], "/")
	}
	return p == "/api/datasets" || p == "/api/upload"
}

// errMissing is returned by New when a required part is missing.
var errMissing = fiber.NewError(fiber.StatusInternalServerError, "api.New needs an engine, Config.Jobs and Config.Console")

// Config returns the configuration in effect, defaults included.
func (s *Server) Config() Config { return s.cfg }

// App returns the fiber app, for tests (app.Test) and for serving.
func (s *Server) App() *fiber.App { return s.app }

// Serve serves HTTP on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.app.Listener(ln) }

// Shutdown stops accepting connections and waits for open requests until
// ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.app.ShutdownWithContext(ctx) }
