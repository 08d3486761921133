package engine

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/exohunter/exohunter/remote"
)

// NASAFetcher runs queries against the NASA Exoplanet Archive's TAP
// service. *remote.Fetcher satisfies it; an Options.Fetcher that does not
// cannot import from the archive.
type NASAFetcher interface {
	NASA(ctx context.Context, q remote.TAPQuery, w io.Writer) (remote.Info, error)
	// TAPURL is the address NASA fetches q from, recorded as the
	// dataset's source.
	TAPURL(q remote.TAPQuery) (string, error)
}

// IngestNASA imports a table straight from the NASA Exoplanet Archive (TAP
// sync, CSV) and ingests it like an upload: the answer streams through the
// same copy pass, and the dataset name derives from the table name unless
// in.Name is set. in.Path, in.Reader and in.URL must be empty. Refused
// queries are BadRequest with the archive's message.
func (e *Engine) IngestNASA(ctx context.Context, q NASAQuery, in IngestInput) (*Dataset, error) {
	if in.Path != "" || in.Reader != nil || in.URL != "" {
		return nil, Errorf(BadRequest, "A NASA import takes a table, not a file or a URL.")
	}
	if _, err := q.ADQL(); err != nil {
		return nil, remoteError(err)
	}
	f, err := e.fetcher()
	if err != nil {
		return nil, err
	}
	nf, ok := f.(NASAFetcher)
	if !ok {
		return nil, Errorf(BadRequest, "This server's downloader cannot query the NASA Exoplanet Archive.")
	}
	if in.OriginalName == "" {
		in.OriginalName = strings.ToLower(strings.TrimSpace(q.Table)) + ".csv"
	}
	if u, err := nf.TAPURL(q); err == nil {
		in.source = remote.Redact(u)
	}
	if in.Name != "" {
		// note: here, not only in Ingest: the query starts before Ingest
		// reads its answer.
		if err := checkDatasetName(in.Name); err != nil {
			return nil, err
		}
		if err := e.checkNameBeforeFetch(ctx, in); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := nf.NASA(ctx, q, pw)
		_ = pw.CloseWithError(err)
		done <- err
	}()
	in.Reader = pr
	ds, ierr := e.Ingest(ctx, in)
	// note: stop the download if the ingest gave up first (bad bytes).
	_ = pr.CloseWithError(errStopped)
	cancel()
	ferr := <-done
	if ferr != nil && !errors.Is(ferr, errStopped) && !errors.Is(ferr, context.Canceled) {
		// note: the archive's failure explains the ingest's failure.
		return nil, remoteError(ferr)
	}
	return ds, ierr
}

// NASAQuery is an import from the NASA Exoplanet Archive: a table of
// remote.NASATables plus optional ADQL where and select clauses.
type NASAQuery = remote.TAPQuery

// NASATables lists the archive tables IngestNASA accepts.
var NASATables = remote.NASATables
