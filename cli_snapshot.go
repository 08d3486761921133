package main

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/exohunter/exohunter/engine"
)

// runSnapshot writes a self-contained .duckdb snapshot for notebooks and
// prints what it holds as one JSON line. While a server holds the
// database, --server URL downloads the snapshot from it (GET
// /api/snapshot); without it the command fails naming the server.
func (m *Main) runSnapshot(ctx context.Context, args []string) error {
	var g globalFlags
	f := m.flags("snapshot", &g)
	var runs multiFlag
	f.Var(&runs, "runs", "latest (default), all, or run ids (comma-separated or repeated)")
	include := f.String("include", "", "optional parts: raw,features,labels or none (default features,labels)")
	server := f.String("server", "", "download the snapshot from this running ExoHunter server (e.g. http://127.0.0.1:8080)")
	pos, err := f.parse(args, 1, 1, "needs exactly one OUT.duckdb")
	if err != nil {
		return err
	}
	opts, err := engine.ParseSnapshotOptions(strings.Join(runs, ","), *include)
	if err != nil {
		return err
	}
	out, err := filepath.Abs(pos[0])
	if err != nil {
		return usageErr(err)
	}
	if *server != "" {
		// note: the server's database is locked by the server, which
		// CheckSnapshotTarget sees; the data dir's own database may be
		// named while no server runs, and replacing it would leave a data
		// dir that no longer opens.
		if db, err := filepath.Abs(cmp.Or(g.db, filepath.Join(g.dataDir, engine.DefaultDBName))); err == nil && engine.ReplacesDatabase(db, out) {
			return engine.Errorf(engine.BadRequest, "The snapshot cannot overwrite the database of %s (%s); name another file.", g.dataDir, out)
		}
		if err := engine.CheckSnapshotTarget(out); err != nil {
			return err
		}
		return m.snapshotFromServer(ctx, *server, out, strings.Join(runs, ","), *include)
	}
	e, err := m.open(ctx, &g)
	if errors.Is(err, engine.ErrLocked) {
		return lockedSnapshotError(err, g.dataDir, pos[0], strings.Join(runs, ","), *include)
	}
	if err != nil {
		return err
	}
	res, err := e.Snapshot(ctx, out, opts)
	if err != nil {
		return err
	}
	return m.printJSON(res)
}

// lockedSnapshotError adds the exact command to retry through the server
// to the engine's "database in use" message: the same file, runs and
// parts, through the server.
func lockedSnapshotError(err error, dataDir, out, runs, include string) error {
	addr := runningServerURL(dataDir)
	if addr == "" {
		return err
	}
	cmd := []string{shellWord(cmp.Or(os.Args[0], "exohunter")), "snapshot", shellWord(out)}
	if runs != "" {
		cmd = append(cmd, "--runs", shellWord(runs))
	}
	if include != "" {
		cmd = append(cmd, "--include", shellWord(include))
	}
	return engine.Wrap(engine.Conflict, err, "%s To snapshot it now, run: %s --server %s",
		engine.ErrorMessage(err), strings.Join(cmd, " "), addr)
}

// shellWord quotes s for a POSIX shell when it holds more than letters,
// digits and ./_,:=+-.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./_,:=+-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// snapshotFromServer downloads GET /api/snapshot into out (through a
// temporary file renamed into place), checks it opens, and prints it.
func (m *Main) snapshotFromServer(ctx context.Context, server, out, runs, include string) error {
	base, err := serverBase(server)
	if err != nil {
		return err
	}
	q := url.Values{}
	if runs != "" {
		q.Set("runs", runs)
	}
	if include != "" {
		q.Set("include", include)
	}
	u := base + "/api/snapshot"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	t0 := time.Now()
	tmp, err := m.download(ctx, u, out)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	res, err := engine.InspectSnapshot(ctx, tmp)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return engine.Wrap(engine.BadRequest, err, "Cannot place the snapshot at %s.", out)
	}
	if st, err := os.Stat(out); err == nil {
		res.Bytes = st.Size()
	}
	res.Path, res.Server, res.ElapsedMS = out, base, time.Since(t0).Milliseconds()
	return m.printJSON(res)
}

// download GETs u into a temporary file next to out and returns its path.
// A non-200 answer becomes an error carrying the server's message.
func (m *Main) download(ctx context.Context, u, out string) (string, error) {
	res, err := m.serverDo(ctx, http.MethodGet, u, nil, "snapshot")
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".download-*")
	if err != nil {
		return "", engine.Wrap(engine.BadRequest, err, "Cannot write in %s.", filepath.Dir(out))
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", engine.Wrap(engine.BadRequest, err, "The download from %s broke off: %v", u, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	// note: CreateTemp makes the file 0600; a snapshot is shared as a
	// local one is (0644).
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
