package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
		return m.snapshotFromServer(ctx, *server, out, strings.Join(runs, ","), *include)
	}
	e, err := m.open(ctx, &g)
	if errors.Is(err, engine.ErrLocked) {
		return lockedSnapshotError(err, g.dataDir, pos[0])
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
// to the engine's "database in use" message.
func lockedSnapshotError(err error, dataDir, out string) error {
	info, ierr := engine.ReadServerInfo(dataDir)
	if ierr != nil || info.Addr == "" {
		return err
	}
	addr := info.Addr
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	return engine.Wrap(engine.Conflict, err, "%s To snapshot it now, run: exohunter snapshot %s --server %s",
		engine.ErrorMessage(err), out, addr)
}

// snapshotFromServer downloads GET /api/snapshot into out (through a
// temporary file renamed into place), checks it opens, and prints it.
func (m *Main) snapshotFromServer(ctx context.Context, server, out, runs, include string) error {
	base, err := url.Parse(strings.TrimRight(server, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return usageErr(fmt.Errorf("--server must be a URL such as http://127.0.0.1:8080, not %q", server))
	}
	q := url.Values{}
	if runs != "" {
		q.Set("runs", runs)
	}
	if include != "" {
		q.Set("include", include)
	}
	u := base.String() + "/api/snapshot"
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
	res.Path, res.Server, res.ElapsedMS = out, base.String(), time.Since(t0).Milliseconds()
	return m.printJSON(res)
}

// download GETs u into a temporary file next to out and returns its path.
// A non-200 answer becomes an error carrying the server's message.
func (m *Main) download(ctx context.Context, u, out string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", usageErr(err)
	}
	if tok := m.Getenv("EXOHUNTER_TOKEN"); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", engine.Wrap(engine.BadRequest, err, "Cannot reach the ExoHunter server at %s: %v", u, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		var env struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &env) == nil && env.Error.Message != "" {
			msg = env.Error.Message
		}
		return "", engine.Errorf(engine.BadRequest, "The server at %s refused the snapshot (%s): %s", u, res.Status, msg)
	}
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
	return f.Name(), nil
}
