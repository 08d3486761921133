package engine

import (
	"context"
	"io"
)

// URLFetcher downloads one remote object into w and returns its file name.
// The remote package's adapter satisfies it once wired.
type URLFetcher interface {
	Fetch(ctx context.Context, rawURL string, w io.Writer) (name string, err error)
}

// receiveURL is not wired yet: URL ingest arrives with the remote package.
func (e *Engine) receiveURL(ctx context.Context, in *IngestInput) (*stored, string, error) {
	return nil, "", Errorf(BadRequest, "Ingesting from a URL is not available in this build yet; download the file and ingest its path.")
}
