package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/exohunter/exohunter/api"
	"github.com/exohunter/exohunter/engine"
	"github.com/exohunter/exohunter/memtrim"
)

// Defaults of serve.
const (
	defaultAddr = "127.0.0.1:8080"
	// shutdownGrace bounds a clean shutdown: running jobs are cancelled and
	// open requests get this long to finish, both at once.
	shutdownGrace = 10 * time.Second
)

// runServe serves the dashboard and the REST API until ctx ends (SIGINT or
// SIGTERM), then shuts down cleanly: new connections are refused at once,
// running jobs are cancelled (they and their runs end as failed) while
// open requests finish, DATA/server.json is removed and the engine closes
// (Main.Close).
//
// Security settings come from the environment so that the token never
// appears in a process listing: EXOHUNTER_TOKEN, EXOHUNTER_PROTECT_READS and
// EXOHUNTER_PROTECT_CONSOLE (true|false), EXOHUNTER_CORS_ORIGINS (comma
// separated), EXOHUNTER_UPLOAD_LIMIT (bytes, or e.g. 500MB, 2GiB) and
// EXOHUNTER_ALLOW_PRIVATE_URLS (true lets {"url": ...} ingests reach
// loopback and private addresses).
func (m *Main) runServe(ctx context.Context, args []string) error {
	var g globalFlags
	f := m.flags("serve", &g)
	addr := f.String("addr", envOr(m.Getenv, "EXOHUNTER_ADDR", defaultAddr), "listen address HOST:PORT (env EXOHUNTER_ADDR)")
	sample := f.String("sample", "", "catalog file to ingest and process once when the database has no datasets")
	if _, err := f.parse(args, 0, 0, "takes no positional arguments"); err != nil {
		return err
	}
	cfg, err := m.serveConfig()
	if err != nil {
		return usageErr(err)
	}
	opts := m.engineOptions(&g, true)
	// note: a client of the server names URLs for the server to fetch; it
	// must not reach the server's own network unless the operator says so.
	allowPrivate, err := envBool(m.Getenv, "EXOHUNTER_ALLOW_PRIVATE_URLS")
	if err != nil {
		return usageErr(err)
	}
	opts.BlockPrivateURLs = !allowPrivate
	// note: the port first, so that a busy one is said at once, before
	// minutes of loading a sample that the server could not serve.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		if url := runningServerURL(g.dataDir); url != "" && errors.Is(err, syscall.EADDRINUSE) {
			// note: another address would only meet the database lock.
			return engine.Wrap(engine.Conflict, err, "An ExoHunter server already serves this data dir at %s; use it, or stop it first.", url)
		}
		return engine.Wrap(engine.BadRequest, err, "Cannot listen on %s (%v): choose another address with --addr HOST:PORT or EXOHUNTER_ADDR.", *addr, err)
	}
	defer ln.Close()
	ln = retryListener{Listener: ln, log: m.Logger}
	e, err := engine.Open(ctx, opts)
	if err != nil {
		return err
	}
	m.engine = e
	// note: a long-running server gives the C heap's free memory back
	// (package memtrim says why); one-shot commands exit instead.
	go memtrim.Every(ctx, memtrim.Interval)
	if err := m.loadSample(ctx, e, *sample); err != nil {
		return err
	}
	jobs := engine.NewJobs(e)
	cfg.Jobs, cfg.Console, cfg.Logger = jobs, e.Console(), m.Logger
	if loopback(ln.Addr()) {
		cfg.AllowedHosts = slices.Concat(api.LoopbackHosts, cfg.AllowedHosts)
	}
	srv, err := api.New(cfg, e)
	if err != nil {
		return err
	}
	if err := engine.WriteServerInfo(e.DataDir(), engine.ServerInfo{Addr: ln.Addr().String()}); err != nil {
		return err
	}
	defer func() {
		if err := engine.RemoveServerInfo(e.DataDir()); err != nil {
			m.Logger.Warn("cannot remove server.json", "err", err)
		}
	}()
	m.Logger.Info("serving ExoHunter", "url", "http://"+ln.Addr().String(), "data_dir", e.DataDir(),
		"token", cfg.Token != "", "upload_limit", srv.Config().UploadLimit)
	if cfg.Token == "" && !loopback(ln.Addr()) {
		m.Logger.Warn("anyone who can reach this address can upload, delete datasets and start runs: set EXOHUNTER_TOKEN to require a bearer token for writes", "addr", ln.Addr().String())
	}
	return m.serveUntilDone(ctx, srv, jobs, ln)
}

// loopback reports whether addr accepts connections from this machine only.
func loopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// serveUntilDone serves until ctx ends or the server fails, then shuts
// down within shutdownGrace: the listener closes at once, and the open
// requests finish while the jobs are cancelled (an event stream ends with
// its job). Jobs and requests still running at the end of the grace are
// cut off, and the error says what was (shutdownCut).
func (m *Main) serveUntilDone(ctx context.Context, srv *api.Server, jobs *engine.Jobs, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		_ = jobs.Close(context.Background())
		return err
	case <-ctx.Done():
	}
	m.Logger.Info("shutting down: new connections are refused; open requests and running jobs get a grace to end", "grace", shutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	// note: both at once. Jobs first took the whole grace when a training
	// ignored its cancel, and the listener stayed open meanwhile: uploads
	// begun after SIGTERM were accepted, then cut with the requests in
	// progress when HTTP's turn came with no time left.
	jerrc := make(chan error, 1)
	go func() { jerrc <- jobs.Close(sctx) }()
	herr := srv.Shutdown(sctx)
	open := srv.App().Server().GetOpenConnectionsCount()
	jerr := <-jerrc
	if err := <-errc; err != nil && herr == nil {
		herr = err
	}
	var cut []string
	if jerr != nil {
		cut = append(cut, jerr.Error())
	}
	if errors.Is(herr, context.DeadlineExceeded) {
		cut = append(cut, fmt.Sprintf("%d connection(s) with a request in progress were cut as the process exited", open))
	} else if herr != nil {
		cut = append(cut, herr.Error())
	}
	if len(cut) == 0 {
		return nil
	}
	return &shutdownCut{msg: fmt.Sprintf("stopped at the end of the %s shutdown grace: %s", shutdownGrace, strings.Join(cut, "; "))}
}

// shutdownCut is the error of a shutdown whose grace ended before every
// job and request did; the process's exit prints it as its one line.
type shutdownCut struct{ msg string }

func (e *shutdownCut) Error() string { return e.msg }

// loadSample ingests and processes path when the database has no datasets
// (make run passes the shared KOI file), so there is something to explore
// at once. Without a sample, an empty database gets a hint on how to load a
// catalog.
func (m *Main) loadSample(ctx context.Context, e *engine.Engine, path string) error {
	list, err := e.Datasets(ctx)
	if err != nil {
		return err
	}
	switch {
	case len(list) > 0:
		if path != "" {
			m.Logger.Info("sample skipped: the database already has datasets", "datasets", len(list))
		}
		return nil
	case path == "":
		m.Logger.Info("the database is empty: load a catalog with the dashboard's Datasets page, " +
			"POST /api/datasets (multipart file, {\"url\":...} or {\"nasa\":\"cumulative\"}), " +
			"or stop the server and run `exohunter ingest FILE` then `exohunter process DATASET`")
		return nil
	}
	m.Logger.Info("loading the sample catalog", "path", path)
	ds, err := e.Ingest(ctx, engine.IngestInput{Path: path})
	if err != nil {
		return fmt.Errorf("sample %s: %w", path, err)
	}
	run, err := e.Process(ctx, engine.ProcessInput{Dataset: ds.Name})
	if err != nil {
		return fmt.Errorf("sample %s: %w", path, err)
	}
	m.Logger.Info("sample ready", "dataset", ds.Name, "rows", ds.Rows, "run", run.RunID)
	return nil
}

// serveConfig reads the API's security and limit settings from the
// environment.
func (m *Main) serveConfig() (api.Config, error) {
	cfg := api.Config{
		Token:        strings.TrimSpace(m.Getenv("EXOHUNTER_TOKEN")),
		CORSOrigins:  splitList(m.Getenv("EXOHUNTER_CORS_ORIGINS")),
		AllowedHosts: splitList(m.Getenv("EXOHUNTER_ALLOWED_HOSTS")),
	}
	for i, o := range cfg.CORSOrigins {
		// note: browsers send an origin in lower case without a path;
		// "https://Exo.example.org/" would never match and its page's
		// writes would be refused.
		if o == "*" || !strings.Contains(o, "://") {
			return cfg, fmt.Errorf("EXOHUNTER_CORS_ORIGINS: %q is not an origin; list each one as scheme://host[:port], e.g. https://exo.example.org", o)
		}
		cfg.CORSOrigins[i] = strings.ToLower(strings.TrimRight(o, "/"))
	}
	if cfg.Token == "" && m.Getenv("EXOHUNTER_TOKEN") != "" {
		return cfg, errors.New("EXOHUNTER_TOKEN is only blank space; give a token, or unset it to run without one")
	}
	var err error
	if cfg.ProtectReads, err = envBool(m.Getenv, "EXOHUNTER_PROTECT_READS"); err != nil {
		return cfg, err
	}
	if cfg.ProtectConsole, err = envBool(m.Getenv, "EXOHUNTER_PROTECT_CONSOLE"); err != nil {
		return cfg, err
	}
	if (cfg.ProtectReads || cfg.ProtectConsole) && cfg.Token == "" {
		return cfg, errors.New("EXOHUNTER_PROTECT_READS/EXOHUNTER_PROTECT_CONSOLE need EXOHUNTER_TOKEN to be set")
	}
	// note: the console reads every table, so protected reads with an open
	// console protected nothing (a review read all runs through it).
	cfg.ProtectConsole = cfg.ProtectConsole || cfg.ProtectReads
	if v := m.Getenv("EXOHUNTER_UPLOAD_LIMIT"); v != "" {
		if cfg.UploadLimit, err = parseSize(v); err != nil {
			return cfg, fmt.Errorf("EXOHUNTER_UPLOAD_LIMIT: %w", err)
		}
	}
	return cfg, nil
}

// envBool reads a true/false environment variable ("" is false).
func envBool(getenv func(string) string, key string) (bool, error) {
	v := strings.TrimSpace(getenv(key))
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: want true or false", key, v)
	}
	return b, nil
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// sizeUnits are the suffixes parseSize accepts, longest first.
var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"TIB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

// parseSize reads a byte count such as 1048576, 500MB or 2GiB.
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size (write it like 500MB or 2GiB)", s)
	}
	return int64(n * float64(mult)), nil
}
