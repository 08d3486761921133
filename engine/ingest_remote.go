package engine

import (
	"context"
	"errors"
	"io"
	"net/url"
	"path"
	"sync"

	"github.com/exohunter/exohunter/remote"
)

// URLFetcher downloads one remote object into w. *remote.Fetcher satisfies
// it; tests pass fakes.
type URLFetcher interface {
	Fetch(ctx context.Context, rawURL string, w io.Writer) (remote.Info, error)
}

// defaultFetchers are built from the environment on the first URL ingest
// when Options.Fetcher is nil: index 1 refuses private addresses
// (Options.BlockPrivateURLs).
var defaultFetchers = [2]func() (URLFetcher, error){envFetcher(false), envFetcher(true)}

func envFetcher(blockPrivate bool) func() (URLFetcher, error) {
	return sync.OnceValues(func() (URLFetcher, error) {
		cfg, err := remote.ConfigFromEnv()
		if err != nil {
			return nil, err
		}
		cfg.BlockPrivate = blockPrivate
		return remote.New(cfg)
	})
}

// fetcher returns Options.Fetcher or the default one.
func (e *Engine) fetcher() (URLFetcher, error) {
	if e.opts.Fetcher != nil {
		return e.opts.Fetcher, nil
	}
	i := 0
	if e.opts.BlockPrivateURLs {
		i = 1
	}
	f, err := defaultFetchers[i]()
	if err != nil {
		return nil, Wrap(BadRequest, err, "Remote downloads are misconfigured: %s", err.Error())
	}
	return f, nil
}

// receiveURL streams a remote object through the same copy pass as an
// upload: the fetcher writes into a pipe that copyIn reads.
func (e *Engine) receiveURL(ctx context.Context, in *IngestInput) (*stored, string, error) {
	f, err := e.fetcher()
	if err != nil {
		return nil, "", err
	}
	name := in.OriginalName
	if name == "" {
		name = urlBaseName(in.URL)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	type result struct {
		info remote.Info
		err  error
	}
	done := make(chan result, 1)
	go func() {
		info, err := f.Fetch(ctx, in.URL, pw)
		_ = pw.CloseWithError(err)
		done <- result{info, err}
	}()
	st, cerr := e.copyIn(pr, displayName(name))
	// note: stop the download if the copy gave up first (bad bytes, bomb).
	_ = pr.CloseWithError(errStopped)
	cancel()
	res := <-done
	if res.err != nil && cerr == nil {
		// note: copyIn saw a clean EOF but the fetch failed after all.
		_ = removePart(st)
		return nil, "", remoteError(res.err)
	}
	if cerr != nil {
		if res.err != nil && !errors.Is(res.err, errStopped) && !errors.Is(res.err, context.Canceled) {
			return nil, "", remoteError(res.err)
		}
		return nil, "", cerr
	}
	if in.OriginalName == "" && res.info.Name != "" {
		name = res.info.Name
	}
	in.OriginalName = name
	return st, name, nil
}

// removePart deletes a stored .part file.
func removePart(st *stored) error {
	if st == nil || st.partPath == "" {
		return nil
	}
	return removeFile(st.partPath)
}

// urlBaseName returns the last path segment of a URL, or "download".
func urlBaseName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "download"
	}
	b := path.Base(u.Path)
	if b == "." || b == "/" || b == "" {
		return "download"
	}
	return b
}

// remoteError maps a fetch failure to a code; remote's messages are
// already sentences a scientist can act on.
func remoteError(err error) error {
	var re *remote.Error
	msg := err.Error()
	if errors.As(err, &re) {
		msg = re.Msg
	}
	switch {
	case errors.Is(err, remote.ErrNotFound):
		return Wrap(NotFound, err, "%s", msg)
	case errors.Is(err, remote.ErrTooLarge):
		return Wrap(TooLarge, err, "%s", msg)
	case errors.Is(err, remote.ErrUpstream):
		// note: the remote side failed (5xx, rate limit, no route, a broken
		// transfer), not the request: 502, which says try again later.
		return Wrap(Upstream, err, "%s", msg)
	case errors.Is(err, context.DeadlineExceeded):
		return Wrap(Timeout, err, "The download took too long and was stopped (%s). A slow server may need a longer EXOHUNTER_FETCH_HEADER_TIMEOUT or EXOHUNTER_FETCH_IDLE_TIMEOUT; `exohunter ingest URL` on the command line has no request time limit", msg)
	case errors.Is(err, context.Canceled):
		return err
	case re != nil:
		return Wrap(BadRequest, err, "%s", msg)
	}
	return Wrap(BadRequest, err, "The download failed: %s", msg)
}
