package engine

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	sqltmpl "github.com/exohunter/exohunter/sql"
)

// Scores: model probabilities and anomaly scores of a run's rows live in
// meta.scores, one row per (run_id, row_id). Runs stay immutable; results,
// exports and the labeling queue LEFT JOIN the scores.

// scoresMu serializes writes to meta.scores within the process.
var scoresMu sync.Mutex

// scoreColumns is one write: per-row values of some float columns, plus
// constant values of others, for the given rows of a run.
type scoreColumns struct {
	rowIDs []int64
	// names and values: values[j][i] is column names[j] of rowIDs[i]; NaN
	// is written as NULL.
	names  []string
	values [][]float64
	// constants are written to every listed row (e.g. the model name).
	constants map[string]string
}

// writeScores writes meta.scores for some rows of a run, in one
// transaction that replaces the run's rows (sqltmpl.ScoresWrite), so that
// every row of the run has one. Columns not named keep their values, so a
// model and the anomaly detectors can score the same run.
func (e *Engine) writeScores(ctx context.Context, run *Run, sc scoreColumns) error {
	scoresMu.Lock()
	defer scoresMu.Unlock()
	values, err := sc.writeCSV(e.tempDir)
	if err != nil {
		return fmt.Errorf("stage scores of %s: %w", run.RunID, err)
	}
	defer os.Remove(values)
	w := sqltmpl.ScoresWrite{RunID: run.RunID, RunPath: e.abs(run.Path), Values: values, Names: sc.names,
		Constants: sc.constants, Now: time.Now()}
	stmts, err := w.Render()
	if err != nil {
		return err
	}
	err = e.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("write scores of %s: %w", run.RunID, err)
			}
		}
		return nil
	})
	if err != nil && ctx.Err() != nil {
		// note: cancelled or out of time (the API's limit) while writing:
		// the transaction rolled back, so the old scores stand.
		return e.queryError(ctx, err, "write the scores of run "+run.RunID)
	}
	if err != nil {
		return e.runDeletedDuring(ctx, run.RunID, err, "its scores were being written")
	}
	if err := refreshScoredView(ctx, e); err != nil {
		e.log.Warn("runs.scored not refreshed", "err", err)
	}
	e.forgetResultRun(run.RunID)
	e.index().invalidate(run.RunID)
	return nil
}

// forgetResultRun drops the results endpoints' cached description and
// counts of a run (engine/results_run.go), whose score columns just
// changed.
func (e *Engine) forgetResultRun(runID string) {
	st := e.results()
	st.mu.Lock()
	delete(st.runs, runID)
	st.mu.Unlock()
	st.counts.dropRun(runID)
}

// RunScored reports whether anything wrote scores for a run. The results
// endpoints read a scored run through ScoredRunFrom and an unscored one
// straight from its file, so the keyset paging of a large run never pays
// for the join.
func (e *Engine) RunScored(ctx context.Context, runID string) (bool, error) {
	var n int
	err := e.db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM meta.scores WHERE run_id = ? LIMIT 1)`, runID).Scan(&n)
	return n > 0, err
}

// writeCSV stages the per-row values in a CSV file in dir (row_id, then
// c0, c1, ... in the order of names; NULL for NaN and ±Inf), for one
// UPDATE that reads it. 500-row UPDATEs with bound VALUES, as before, each
// scanned the run's score rows: scoring a 1M-row run took 186 s.
func (sc scoreColumns) writeCSV(dir string) (path string, err error) {
	f, err := os.CreateTemp(dir, ".scores-*.csv")
	if err != nil {
		return "", err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriter(f)
	w.WriteString("row_id")
	for j := range sc.names {
		fmt.Fprintf(w, ",c%d", j)
	}
	w.WriteByte('\n')
	var buf []byte
	for i, id := range sc.rowIDs {
		buf = strconv.AppendInt(buf[:0], id, 10)
		for j := range sc.names {
			buf = append(buf, ',')
			if v, ok := nullableFloat(sc.values[j][i]).(float64); ok {
				buf = strconv.AppendFloat(buf, v, 'g', -1, 64)
			}
		}
		buf = append(buf, '\n')
		w.Write(buf)
	}
	return f.Name(), w.Flush()
}

// nullableFloat binds NaN and ±Inf as NULL.
func nullableFloat(x float64) any {
	if x != x || x > 1e308 || x < -1e308 {
		return nil
	}
	return x
}

// ScoredRunFrom is the relation results and exports read for a run: the
// run's Parquet file with p_model, p_model_model, anomaly_score,
// anomaly_score_iforest and anomaly_score_lof LEFT JOINed from
// meta.scores (NULL until something scores the run). It is a FROM item
// with the alias r, so a query reads SELECT ... FROM <it>.
func ScoredRunFrom(runID, path string) (string, error) {
	s, err := sqltmpl.ScoredRun(runID, path)
	if err != nil {
		return "", err
	}
	return "(" + s + ") AS r", nil
}

// ScoreColumns are the columns ScoredRunFrom adds to a run's own.
var ScoreColumns = []string{"p_model", "p_model_model", "anomaly_score", "anomaly_score_iforest", "anomaly_score_lof"}

// refreshScoredView re-creates runs.scored (runs.results with every run's
// scores) at Open and after each write of scores. Before the first run,
// runs.results has no row_id and runs.scored is left alone.
func refreshScoredView(ctx context.Context, e *Engine) error {
	var n int
	if err := e.db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_columns()
		WHERE schema_name = 'runs' AND table_name = 'results' AND column_name = 'row_id'`).Scan(&n); err != nil || n == 0 {
		return err
	}
	q, err := sqltmpl.ScoredRunsView()
	if err != nil {
		return err
	}
	if _, err := e.db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("create runs.scored: %w", err)
	}
	return nil
}

// dropOrphanScores deletes the scores of runs that no longer exist, after
// a dataset (and its runs) is deleted.
func dropOrphanScores(ctx context.Context, e *Engine, _ string) error {
	scoresMu.Lock()
	defer scoresMu.Unlock()
	_, err := e.db.ExecContext(ctx, `DELETE FROM meta.scores WHERE run_id NOT IN (SELECT run_id FROM meta.runs)`)
	return err
}

// openScoredView is refreshScoredView at Open, where a failure is logged
// rather than fatal: a server without runs.scored still serves
// everything else, and the next write of scores retries.
func openScoredView(ctx context.Context, e *Engine) error {
	if err := refreshScoredView(ctx, e); err != nil {
		e.log.Warn("runs.scored could not be created", "err", err)
	}
	return nil
}

func init() {
	openHooks = append(openHooks, openScoredView)
	datasetDeleteHooks = append(datasetDeleteHooks, dropOrphanScores)
}

// ExportScoredRun writes a run's rows with its score columns (see
// ScoredRunFrom) to out; the format follows the extension (.csv, .json,
// .ndjson, .parquet). It backs `score --out` and `anomalies --out`.
func (e *Engine) ExportScoredRun(ctx context.Context, runID, out string) error {
	f, err := exportFormatOf(out)
	if err != nil {
		return err
	}
	run, err := e.completeRun(ctx, runID)
	if err != nil {
		return err
	}
	q, err := sqltmpl.ScoredRun(run.RunID, e.abs(run.Path))
	if err != nil {
		return err
	}
	return e.exportToFile(ctx, exportSource{From: sqltmpl.Expr(q), OrderBy: "row_id", KeepFormulas: true}, f, out)
}
