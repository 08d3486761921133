package main

import (
	"context"
	"net/url"
	"os"

	"github.com/exohunter/exohunter/engine"
)

// enginePager reads pages through engine.Results in this process: the
// fallback when `exohunter serve` cannot be started, and a way to see the
// HTTP layer's share of the latency.
type enginePager struct {
	e     *engine.Engine
	runID string
}

func openEngine(ctx context.Context, dataDir, repoRoot string) (*engine.Engine, error) {
	return engine.Open(ctx, engine.Options{DataDir: dataDir, Config: os.DirFS(repoRoot)})
}

func (p *enginePager) page(ctx context.Context, _ int, query url.Values, cursor string) (string, error) {
	q, err := engine.ParseResultsQuery(p.runID, query)
	if err != nil {
		return "", err
	}
	q.Cursor = cursor
	page, err := p.e.Results(ctx, q)
	if err != nil {
		return "", err
	}
	if page.NextCursor == nil {
		return "", nil
	}
	return *page.NextCursor, nil
}
