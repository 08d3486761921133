package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
)

// Retyped is a CSV column that DuckDB typed from its sample of the first
// rows (about 20,000) and that a later row proved wrong: a text value in a
// column sniffed as numbers. The column is then served as text, as it
// would have been had the sample held that row, and the pipeline's
// TRY_CAST makes such values empty (NULL) where it needs a number.
type Retyped struct {
	Column string `json:"column"`
	// Was is the type sniffed from the sample.
	Was string `json:"was"`
	// Line and Value are the first line that did not fit, and its value.
	Line  int64  `json:"line"`
	Value string `json:"value"`
}

// Sentence says what happened to the column, for logs and messages.
func (r Retyped) Sentence() string {
	return fmt.Sprintf("column %s was typed %s from the first rows, but line %d holds %q: it is read as text from now on, and its values that are not numbers are empty where a number is needed",
		r.Column, r.Was, r.Line, r.Value)
}

// lateValueRe reads DuckDB's CSV conversion error: the line, the column and
// the value that did not fit the sniffed type.
var (
	lateLineRe  = regexp.MustCompile(`CSV Error on Line: (\d+)`)
	lateValueRe = regexp.MustCompile(`Error when converting column "(.*)"\. Could not convert string "(.*)" to '([A-Z0-9_]+)'`)
)

// parseLateValue recognizes a read that failed on a value its column's
// sniffed type cannot hold.
func parseLateValue(err error) (Retyped, bool) {
	msg := err.Error()
	l := lateLineRe.FindStringSubmatch(msg)
	v := lateValueRe.FindStringSubmatch(msg)
	if l == nil || v == nil {
		return Retyped{}, false
	}
	line, perr := strconv.ParseInt(l[1], 10, 64)
	if perr != nil {
		return Retyped{}, false
	}
	return Retyped{Column: v[1], Was: v[3], Line: line, Value: v[2]}, true
}

// retypeLateValue makes the column that err (a failed read of dataset)
// names as holding an unfitting value a text column: its raw view and the
// views over it are re-created and meta.datasets records the change. It
// reports whether it changed anything; a failure that is not such a value,
// or a column already text, changes nothing. Ingest types columns from
// DuckDB's sample, and reading a whole large file again there would cost as
// much as a run; a run meets the value anyway, so it repairs the type and
// reads again (Process, snapshots).
func (e *Engine) retypeLateValue(ctx context.Context, dataset string, err error) (*Retyped, error) {
	var ee *Error
	if errors.As(err, &ee) && ee.Err != nil {
		err = ee.Err
	}
	r, ok := parseLateValue(err)
	if !ok {
		return nil, nil
	}
	e.ingestMu.Lock()
	defer e.ingestMu.Unlock()
	ds, derr := e.Dataset(ctx, dataset)
	if derr != nil || ds.Format != FormatCSV || ds.CSV == nil {
		return nil, derr
	}
	i := slices.IndexFunc(ds.Columns, func(c Column) bool { return c.Name == r.Column })
	switch {
	case i < 0:
		return nil, nil
	case ds.Columns[i].Type == "VARCHAR":
		// note: another run or snapshot retyped it since this read began;
		// reading again with the current views is all that is needed.
		return &r, nil
	}
	ds.Columns[i].Type = "VARCHAR"
	ds.CSV.Retyped = append(ds.CSV.Retyped, r)
	m, merr := e.mapColumns(ds.Columns, IngestInput{Mission: ds.Mission, Units: ds.Units})
	if merr != nil {
		return nil, merr
	}
	ds.Mapping = m.Report
	cols, _ := json.Marshal(ds.Columns)
	opts, _ := json.Marshal(ds.CSV)
	report, _ := json.Marshal(ds.Mapping)
	terr := e.inTx(ctx, func(tx *sql.Tx) error {
		if err := e.createViews(ctx, tx, ds, m); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE meta.datasets SET columns = ?::JSON, csv_options = ?::JSON, mapping = ?::JSON WHERE name = ?`,
			string(cols), string(opts), string(report), ds.Name)
		return err
	})
	if terr != nil {
		return nil, fmt.Errorf("retype %s.%s: %w", ds.Name, r.Column, terr)
	}
	e.log.Warn("dataset column retyped", "dataset", ds.Name, "column", r.Column, "was", r.Was, "line", r.Line, "value", r.Value)
	return &r, nil
}
