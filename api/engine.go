package api

import (
	"context"
	"time"

	"github.com/exohunter/exohunter/engine"
	"github.com/exohunter/exohunter/engine/spec"
)

// Engine is what the API needs from the engine: datasets, runs, results
// and the spec bundle. *engine.Engine satisfies it (asserted in
// engine_assert.go); tests of single handlers may pass hand-written fakes.
type Engine interface {
	Ingest(ctx context.Context, in engine.IngestInput) (*engine.Dataset, error)
	IngestNASA(ctx context.Context, q engine.NASAQuery, in engine.IngestInput) (*engine.Dataset, error)
	Datasets(ctx context.Context) ([]*engine.Dataset, error)
	Dataset(ctx context.Context, name string) (*engine.Dataset, error)
	DeleteDataset(ctx context.Context, name string) error

	Process(ctx context.Context, in engine.ProcessInput) (*engine.Run, error)
	Runs(ctx context.Context, dataset string) ([]*engine.Run, error)
	Run(ctx context.Context, id string) (*engine.Run, error)
	LatestRun(ctx context.Context, dataset string) (*engine.Run, error)

	Results(ctx context.Context, q engine.ResultsQuery) (*engine.ResultsPage, error)
	ResultRow(ctx context.Context, runID, objectID string) (*engine.ObjectResult, error)
	Points(ctx context.Context, runID, x, y string, q engine.ResultsQuery, limit int) (*engine.PointsPage, error)
	OpenRunExport(ctx context.Context, runID string, f engine.ExportFormat, q engine.ResultsQuery) (*engine.ExportFile, error)
	Counts(ctx context.Context, q engine.ResultsQuery, by string) (*engine.CountsPage, error)
	Histogram(ctx context.Context, q engine.ResultsQuery, h engine.HistogramRequest) (*engine.Histogram, error)

	// Bundle is the validated pipeline spec (thresholds, column units).
	Bundle() *spec.Bundle
	// Dictionary is the data dictionary built from the spec.
	Dictionary() *spec.Dictionary
	// Catalog lists every relation the console can reach.
	Catalog(ctx context.Context) (*engine.Catalog, error)
	// DataDir is the absolute data dir; legacy routes report paths
	// relative to it.
	DataDir() string

	// StoredQueries lists configs/queries.yaml; RunStored runs one on the
	// console's read-only path with its parameters bound.
	StoredQueries() []spec.Query
	RunStored(ctx context.Context, req engine.StoredRequest) (*engine.StoredResult, error)
}

// Jobs runs background work (runs of large inputs) and reports progress.
// *engine.Jobs satisfies it.
type Jobs interface {
	StartRun(ctx context.Context, in engine.ProcessInput, wait time.Duration) (*engine.RunStart, error)
	Get(ctx context.Context, id string) (*engine.Job, error)
	Subscribe(ctx context.Context, id string) (<-chan engine.Job, func(), error)
	List(ctx context.Context, status string, limit int) ([]engine.Job, error)
	Cancel(ctx context.Context, id string, wait time.Duration) (*engine.Job, error)
}

// Console is the read-only SQL console. *engine.Console satisfies it.
type Console interface {
	Query(ctx context.Context, req engine.ConsoleRequest) (*engine.ConsoleResult, error)
	Download(ctx context.Context, req engine.ConsoleDownloadRequest) (*engine.ConsoleDownload, error)
	Cancel(queryID string) bool
	Limits() engine.ConsoleLimits
}
