package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/exohunter/exohunter/engine"
)

// Commands that can ask a running server (--server URL) rather than open
// the database it holds: snapshot and query.

// serverBase checks a --server value and returns it without a trailing
// slash.
func serverBase(server string) (string, error) {
	base, err := url.Parse(strings.TrimRight(server, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return "", usageErr(fmt.Errorf("--server must be a URL such as http://127.0.0.1:8080, not %q", server))
	}
	return base.String(), nil
}

// runningServerURL is the URL of the server that holds the data dir's
// database, from the file it writes on start; "" when unknown.
func runningServerURL(dataDir string) string {
	info, err := engine.ReadServerInfo(dataDir)
	if err != nil || info.Addr == "" {
		return ""
	}
	addr := info.Addr
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	return addr
}

// serverDo sends a request to a server (with EXOHUNTER_TOKEN when set)
// and returns its 200 answer. Any other status becomes the error the
// server answered with, its code and message kept, so that the command
// fails as it would have without the server.
func (m *Main) serverDo(ctx context.Context, method, u string, body io.Reader, what string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, usageErr(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if tok := m.Getenv("EXOHUNTER_TOKEN"); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, engine.Wrap(engine.BadRequest, err, "Cannot reach the ExoHunter server at %s: %v", u, err)
	}
	if res.StatusCode == http.StatusOK {
		return res, nil
	}
	defer res.Body.Close()
	var env struct {
		Error struct {
			Code      engine.Code     `json:"code"`
			Message   string          `json:"message"`
			Details   []engine.Detail `json:"details"`
			RequestID string          `json:"request_id"`
		} `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if json.Unmarshal(b, &env) == nil && env.Error.Message != "" && env.Error.Code != "" {
		if env.Error.Code == engine.Internal {
			// note: the cause is in the server's log, under this id; an
			// internal error of this program would print neither.
			return nil, engine.Errorf(engine.Upstream, "The server at %s failed with an internal error (request id %s); its log has the cause.", u, env.Error.RequestID)
		}
		// note: the server's own sentence and details, as the command
		// would print them without the server.
		e := engine.Errorf(env.Error.Code, "%s", env.Error.Message)
		e.Details = env.Error.Details
		return nil, e
	}
	return nil, engine.Errorf(engine.BadRequest, "The server at %s refused the %s (%s): %s", u, what, res.Status, strings.TrimSpace(string(b)))
}
