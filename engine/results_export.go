package engine

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	sqltmpl "github.com/exohunter/exohunter/sql"
)

// exportSizeFactor is an export file's size as a multiple of the run's
// Parquet file, measured on 250k KOI rows (run file 78 MB): CSV 3.1,
// JSON and NDJSON 9.2, Parquet 0.94; rounded up.
var exportSizeFactor = map[ExportFormat]float64{CSV: 3.5, JSON: 10, NDJSON: 10, Parquet: 1.2}

// exportSpillFactor is the sort's spill in the temp dir, as a multiple of
// the run file: the sort into row_id (or the asked) order holds whole
// rows, as the results index's does (about 4x at 10M rows). Without a
// sort, the order-preserving COPY still spills what it holds beyond the
// memory limit: 0.9 GB for the 3 GB file of 10M rows (exportStreamSpill).
const (
	exportSpillFactor = 4
	exportStreamSpill = 0.5
)

// exportTempPrefix names the files an export writes in DATA/outputs before
// streaming them; Open removes leftovers of a crashed process.
const exportTempPrefix = ".export-"

// ExportFile is a finished export, ready to stream: a file on disk that
// DuckDB wrote (already unlinked, so it disappears when closed, whatever
// happens to the client) or the run's own Parquet file. The caller must
// Close it; fasthttp's SendStream does.
type ExportFile struct {
	io.ReadCloser
	// Size is the length in bytes, for Content-Length.
	Size int64
	// Name is a download file name: <run_id>.<ext>, or
	// <run_id>-filtered.<ext> when filters, a sort or a limit applied.
	Name   string
	Format ExportFormat
}

// OpenRunExport writes the rows of a run that match q's filters, in q's
// sort when one is given (row_id order otherwise), in format f, and opens
// the result for streaming. DuckDB writes the file with COPY into
// DATA/outputs, so no result set passes through Go memory and a 10M-row
// export runs in bounded memory; an
// unfiltered, unsorted Parquet export is the run file itself. Paging
// parameters (limit, cursor, offset) and a projection (Columns) are
// refused. Errors come before the first
// byte, so the caller can still answer with an error status.
func (e *Engine) OpenRunExport(ctx context.Context, runID string, f ExportFormat, q ResultsQuery) (*ExportFile, error) {
	if _, err := ParseExportFormat(string(f)); err != nil {
		return nil, err
	}
	q.RunID = runID
	if len(q.Columns) > 0 {
		return nil, &Error{Code: BadRequest, Msg: "Exports include every column; drop the columns parameter.",
			Details: []Detail{{Field: "columns", Message: "not supported for exports"}}}
	}
	// note: silently ignoring them would hand back every row to a client
	// that asked for one page.
	for field, set := range map[string]bool{"limit": q.Limit != 0, "offset": q.Offset != 0, "cursor": q.Cursor != ""} {
		if set {
			return nil, ExportPagingError(field)
		}
	}
	r, err := e.resultRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	filt, err := r.filter(q)
	if err != nil {
		return nil, err
	}
	src := exportSource{From: sqltmpl.Expr(r.sel), Where: filt.sql, Args: filt.args, KeepFormulas: q.KeepFormulas}
	// note: without a sort the rows still come in row_id order: the
	// engine runs with preserve_insertion_order off, so a plain scan of a
	// large run comes back in a different order on each download. A run
	// file in row_id order streams as it is (InFileOrder); a scored run's
	// scores are then lined up with it in the same order (the hash join of
	// r.sel does not keep it), or it is sorted.
	src.OrderBy = "row_id"
	if q.Sort == "" {
		ordered, err := e.fileInRowIDOrder(ctx, r.path)
		if err == nil && ordered && r.scored {
			var from string
			if from, ordered, err = e.orderedScoredRun(ctx, r); ordered {
				src.From, src.SortedFrom = sqltmpl.Expr(from), src.From
			}
		}
		if err != nil {
			return nil, e.runDeletedDuring(ctx, runID, err, "it was being exported")
		}
		if ordered {
			src.OrderBy, src.InFileOrder = "", true
		}
	}
	if q.Sort != "" {
		o, err := r.order(q)
		if err != nil {
			return nil, err
		}
		src.OrderBy = strings.Join(o.sql(), ", ")
	}
	name := runID
	if src.Where != "" || q.Sort != "" {
		name += "-filtered"
	}
	name += "." + string(f)
	// note: the run file itself, in its own order (fixed, so downloads
	// agree; RunCopy does not sort, to keep a 10M-row process lean).
	if f == Parquet && src.Where == "" && q.Sort == "" && !r.scored {
		return openExportFile(r.path, name, f, false)
	}
	release, err := slot(ctx, e.results().exports)
	if err != nil {
		return nil, err
	}
	defer release()
	// note: inside the slot, so that the exports that passed the check are
	// the ones writing (at most maxExportWrites at once).
	if err := e.exportDiskRoom(ctx, r, filt, f, src.OrderBy != ""); err != nil {
		if ErrorCode(err) == Storage {
			return nil, err
		}
		return nil, e.runDeletedDuring(ctx, runID, err, "it was being exported")
	}
	tmp, err := e.exportTempPath(f)
	if err != nil {
		return nil, err
	}
	if err := e.exportTo(ctx, src, f, tmp); err != nil {
		os.Remove(tmp)
		if ctx.Err() != nil {
			return nil, Wrap(Timeout, err, "The export of run %s was cancelled before it was written.", runID)
		}
		return nil, e.runDeletedDuring(ctx, runID, err, "it was being exported")
	}
	return openExportFile(tmp, name, f, true)
}

// orderedScoredRun returns the scored run in its file's order, when its
// scores hold each of its rows (row_id 1 to rows) exactly once; ok is
// false otherwise (the export then sorts).
func (e *Engine) orderedScoredRun(ctx context.Context, r *resultRun) (string, bool, error) {
	var n, distinct, lo, hi sql.NullInt64
	if err := e.db.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT row_id), min(row_id), max(row_id)
		FROM meta.scores WHERE run_id = ?`, r.id).Scan(&n, &distinct, &lo, &hi); err != nil {
		return "", false, err
	}
	if n.Int64 != r.rows || distinct.Int64 != r.rows || lo.Int64 != 1 || hi.Int64 != r.rows {
		return "", false, nil
	}
	from, err := sqltmpl.ScoredRunOrdered(r.id, r.path)
	return "(" + from + ")", err == nil, err
}

// exportDiskRoom refuses an export that would fill the disk before its
// first byte: the file is written whole to DATA/outputs before it is sent
// (so that an error can still be an error status), and the sort spills to
// the temp dir. A 10M-row CSV export needs about 20 GB; a full disk would
// also fail uploads and label writes while it lasts.
func (e *Engine) exportDiskRoom(ctx context.Context, r *resultRun, filt *resultsFilter, f ExportFormat, sorted bool) error {
	st, err := os.Stat(r.path)
	if err != nil || r.rows == 0 {
		return err
	}
	rows, err := e.total(ctx, r, filt)
	if err != nil {
		return err
	}
	file, spill := exportDiskNeed(st.Size(), rows, r.rows, f, sorted)
	need, free, ok, err := diskShortfall(diskNeed{e.path(DirOutputs), file}, diskNeed{e.tempDir, spill})
	if err != nil || ok {
		return err
	}
	return Errorf(Storage, "Not enough free disk to export %d rows of run %s as %s: the file (about %s) is written in full before it is sent%s; %s is needed where %s is free. Export fewer rows with a filter%s, or free disk space.",
		rows, r.id, f, humanBytes(file), spillNote(spill, sorted), humanBytes(need), humanBytes(free), parquetHint(f))
}

// spillNote is the clause of a disk refusal about the temp dir.
func spillNote(spill int64, sorted bool) string {
	if sorted {
		return " and sorting the rows spills about " + humanBytes(spill) + " more"
	}
	return " and DuckDB may spill about " + humanBytes(spill) + " more"
}

// parquetHint suggests the compact format when the export is another.
func parquetHint(f ExportFormat) string {
	if f == Parquet {
		return ""
	}
	return ", choose Parquet"
}

// exportDiskNeed estimates the export file and the sort's spill of rows of
// a run of total rows whose Parquet file has runBytes.
func exportDiskNeed(runBytes, rows, total int64, f ExportFormat, sorted bool) (file, spill int64) {
	share := float64(runBytes) * float64(rows) / float64(total)
	spillFactor := exportStreamSpill
	if sorted {
		spillFactor = exportSpillFactor
	}
	return int64(share * exportSizeFactor[f]), int64(share * spillFactor)
}

// ExportRun streams an export of a run to w (see OpenRunExport). Nothing
// is written to w when the export fails before its first byte.
func (e *Engine) ExportRun(ctx context.Context, w io.Writer, runID string, f ExportFormat, q ResultsQuery) error {
	x, err := e.OpenRunExport(ctx, runID, f, q)
	if err != nil {
		return err
	}
	defer x.Close()
	if _, err := io.Copy(w, x); err != nil {
		return fmt.Errorf("stream export of run %s: %w", runID, err)
	}
	return nil
}

// exportTempPath is a fresh file name in DATA/outputs.
func (e *Engine) exportTempPath(f ExportFormat) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return e.path(DirOutputs, exportTempPrefix+hex.EncodeToString(b[:])+"."+string(f)), nil
}

// openExportFile opens path for streaming; a temporary file is unlinked at
// once, so it is gone when the reader closes even if the client never
// finishes.
func openExportFile(path, name string, f ExportFormat, temporary bool) (*ExportFile, error) {
	fh, err := os.Open(path)
	if temporary {
		os.Remove(path)
	}
	if err != nil {
		return nil, fmt.Errorf("open export: %w", err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("stat export: %w", err)
	}
	return &ExportFile{ReadCloser: fh, Size: st.Size(), Name: name, Format: f}, nil
}

// removeStaleExports deletes export files a crashed process left behind,
// and the staged values of a score write (writeScores), the features and
// matrix of a scoring (scoringFeatures, writeMatrix), and the throw-away
// copies of an injected-anomaly evaluation (EvaluateAnomalies).
// Label exports leave a .tmp file and a Parquet snapshot in DATA/labeled
// when killed. Only when no other process uses the data dir.
func removeStaleExports(_ context.Context, e *Engine) error {
	if !e.aloneInDataDir() {
		return nil
	}
	patterns := []string{
		filepath.Join(e.path(DirOutputs), exportTempPrefix+"*"),
		e.path(DirTmp, ".score-*.parquet"),
		filepath.Join(e.path(DirLabeled), "*.tmp"),
		filepath.Join(e.path(DirLabeled), "*.snapshot.parquet"),
	}
	if e.tempDir == e.path(DirTmp) {
		// note: a --temp-dir elsewhere may be shared by processes of other
		// data dirs, whose lock says nothing about it: their scorings'
		// files there are left alone.
		patterns = append(patterns, filepath.Join(e.tempDir, ".scores-*.csv"), filepath.Join(e.tempDir, ".matrix-*.parquet"))
	}
	for _, pattern := range patterns {
		matches, _ := filepath.Glob(pattern)
		for _, m := range matches {
			os.Remove(m)
		}
	}
	evals, _ := filepath.Glob(e.path(DirTmp, anomalyEvalPrefix+"*"))
	for _, d := range evals {
		os.RemoveAll(d)
	}
	return nil
}

func init() { openHooks = append(openHooks, removeStaleExports) }

// ExportPagingError refuses a paging parameter (limit, offset, cursor) on
// an export, which holds every matching row; the API also calls it for a
// zero value, which the query struct cannot tell from an absent one.
func ExportPagingError(field string) error {
	return &Error{Code: BadRequest, Msg: "An export holds every row that matches the filters; drop " + field + ", which pages the results endpoint.",
		Details: []Detail{{Field: field, Message: "not supported for exports"}}}
}
