package engine

import (
	"context"
	"fmt"
	"time"

	sqltmpl "github.com/exohunter/exohunter/sql"
)

// Annotators recorded on imported labels.
const (
	AnnotatorNASA  = "nasa-exoplanet-archive"
	AnnotatorRules = "exohunter-rules"
)

// LabelImport is the result of a bulk import.
type LabelImport struct {
	Dataset string `json:"dataset"`
	RunID   string `json:"run_id,omitempty"`
	Source  string `json:"source"`
	// Inserted counts the labels added; objects whose current label already
	// said the same (NASA) or that were imported from the same run
	// (heuristic) are skipped.
	Inserted int64 `json:"inserted"`
	// LabeledObjects counts the dataset's objects with a current label of
	// this source after the import.
	LabeledObjects int64     `json:"labeled_objects"`
	CreatedAt      time.Time `json:"created_at"`
}

// ImportNASALabels records the catalog disposition of every object of a
// dataset as a `nasa` label, in one INSERT ... SELECT. Objects without a
// disposition get no label; importing again adds only changed dispositions.
func (e *Engine) ImportNASALabels(ctx context.Context, dataset string) (*LabelImport, error) {
	if e.bundle == nil {
		return nil, Errorf(Internal, "the engine was opened without a configuration")
	}
	ds, err := e.Dataset(ctx, dataset)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	q, err := sqltmpl.ImportNASALabels(sqltmpl.LabelImport{
		Dataset: ds.Name, From: sqltmpl.QualifiedIdent{Schema: sqltmpl.SchemaNormalized, Name: sqltmpl.Ident(ds.Name)},
		Annotator: AnnotatorNASA, Note: "catalog disposition of dataset " + ds.Name, Now: now,
	})
	if err != nil {
		return nil, err
	}
	return e.runImport(ctx, q, &LabelImport{Dataset: ds.Name, Source: SourceNASA, CreatedAt: now})
}

// ImportRunLabels records the category of every object of a complete run
// as a `heuristic` label, in one INSERT ... SELECT. Importing the same run
// twice adds nothing.
func (e *Engine) ImportRunLabels(ctx context.Context, runID string) (*LabelImport, error) {
	r, err := e.completeRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	q, err := sqltmpl.ImportRunLabels(sqltmpl.LabelImport{
		Dataset: r.Dataset, RunID: r.RunID, RunPath: e.abs(r.Path),
		Annotator: AnnotatorRules, Note: "category of run " + r.RunID, Now: now,
	})
	if err != nil {
		return nil, err
	}
	return e.runImport(ctx, q, &LabelImport{Dataset: r.Dataset, RunID: r.RunID, Source: SourceHeuristic, CreatedAt: now})
}

// runImport executes one import statement (autocommit: one transaction)
// and fills the counts.
func (e *Engine) runImport(ctx context.Context, q string, res *LabelImport) (*LabelImport, error) {
	e.labelImportMu.Lock()
	defer e.labelImportMu.Unlock()
	out, err := e.db.ExecContext(ctx, q)
	if err != nil {
		if ctx.Err() != nil {
			return nil, Wrap(Timeout, err, "The import of %s labels was cancelled; nothing was stored.", res.Source)
		}
		return nil, fmt.Errorf("import %s labels of %s: %w", res.Source, res.Dataset, err)
	}
	res.Inserted, _ = out.RowsAffected()
	err = e.db.QueryRowContext(ctx, `SELECT count(*) FROM labels.current WHERE dataset = ? AND source = ?`,
		res.Dataset, res.Source).Scan(&res.LabeledObjects)
	if err != nil {
		return nil, fmt.Errorf("count %s labels of %s: %w", res.Source, res.Dataset, err)
	}
	return res, nil
}

// completeRun returns a run that is complete: NotFound for an unknown run,
// Conflict for one still running or failed.
func (e *Engine) completeRun(ctx context.Context, runID string) (*Run, error) {
	r, err := e.Run(ctx, runID)
	if err != nil {
		return nil, err
	}
	if r.Status != RunComplete {
		return nil, Errorf(Conflict, "Run %s is %s, not complete.", r.RunID, r.Status)
	}
	return r, nil
}

// ResolveRun picks the run a command works on: runID when given (it must
// be complete), else the latest complete run of dataset, else, when
// exactly one dataset exists, its latest complete run. With several
// datasets and neither given, the run is required (BadRequest).
func (e *Engine) ResolveRun(ctx context.Context, runID, dataset string) (*Run, error) {
	if runID != "" {
		r, err := e.completeRun(ctx, runID)
		if err == nil && dataset != "" && r.Dataset != dataset {
			return nil, Errorf(BadRequest, "Run %s is a run of dataset %s, not of %s: name one of them.", r.RunID, r.Dataset, dataset)
		}
		return r, err
	}
	if dataset != "" {
		return e.LatestRun(ctx, dataset)
	}
	all, err := e.Datasets(ctx)
	if err != nil {
		return nil, err
	}
	switch len(all) {
	case 0:
		return nil, Errorf(BadRequest, "There is no dataset yet: ingest and process a catalog first.")
	case 1:
		return e.LatestRun(ctx, all[0].Name)
	}
	return nil, Errorf(BadRequest, "There are %d datasets: name the run (--run RUN on the command line, run_id in the API) or the dataset (--dataset D, dataset).", len(all))
}
