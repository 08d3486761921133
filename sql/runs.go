package sqltmpl

import (
	"fmt"
	"strings"
)

// RunColumn is a column of the source that reaches a run unchanged, with
// its DuckDB type.
type RunColumn struct{ Name, Type string }

// RunCopy renders the COPY that materializes one run: the pipeline's SELECT
// (pipelineSQL, rendered by RunSelect, never client text) with a run_id
// column in front, the FLOAT and DOUBLE values of the passed-through
// columns, at any depth, turned from NaN/±Inf into NULL (FiniteSQL),
// written as Parquet to path.
func RunCopy(runID string, pipelineSQL string, passed []RunColumn, path string) (string, error) {
	var finite []ExportColumn
	for _, c := range passed {
		if e, ok := FiniteSQL(Ident(c.Name).String(), c.Type); ok {
			finite = append(finite, ExportColumn{Expr: Expr(e), Name: Ident(c.Name)})
		}
	}
	return exec("run_copy", map[string]any{
		"RunID":  Lit(runID),
		"Select": Expr(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(pipelineSQL), ";"))),
		"Finite": finite,
		"Path":   Lit(path),
	})
}

// RunCounts renders the per-category count over a run's Parquet file.
func RunCounts(path string) (string, error) {
	return exec("run_counts", map[string]any{"Path": Lit(path)})
}

// RunsResultsView renders runs.results over every complete run file, or an
// empty view when there is none.
func RunsResultsView(paths []string) (string, error) {
	lits := make([]Lit, len(paths))
	for i, p := range paths {
		lits[i] = Lit(p)
	}
	return exec("runs_results_view", map[string]any{"Paths": lits})
}

// LatestRunView renders runs."latest_D" over the latest complete run of D.
func LatestRunView(dataset, path string) (string, error) {
	return exec("runs_latest_view", map[string]any{"View": Ident("latest_" + dataset), "Path": Lit(path)})
}

// ExportColumn is one output column of an export: an expression over the
// source relation r and its output name.
type ExportColumn struct {
	Expr Expr
	Name Ident
}

// String renders expr AS "name".
func (c ExportColumn) String() string { return c.Expr.String() + " AS " + c.Name.String() }

// ExportFormat is the COPY option list of one export format.
type ExportFormat string

// Export formats.
const (
	FormatCSV     ExportFormat = "FORMAT csv, HEADER true"
	FormatJSON    ExportFormat = "FORMAT json, ARRAY true"
	FormatNDJSON  ExportFormat = "FORMAT json"
	FormatParquet ExportFormat = "FORMAT parquet, COMPRESSION zstd"
)

// ExportInput describes one COPY ... TO of an export.
type ExportInput struct {
	// From is the source relation, e.g. read_parquet('...') or a view.
	From Expr
	// Columns is the output list; empty means r.*.
	Columns []ExportColumn
	// Where is a validated filter over r (built from bound-safe parts by
	// the engine), empty for none.
	Where Expr
	// OrderBy is a validated ORDER BY list, empty for file order.
	OrderBy Expr
	// Path is the output file.
	Path   string
	Format ExportFormat
}

// ExportCopy renders a COPY of (a filtered, projected) relation to a file.
func ExportCopy(in ExportInput) (string, error) {
	cols := make([]fmt.Stringer, 0, len(in.Columns))
	for _, c := range in.Columns {
		cols = append(cols, c)
	}
	if len(cols) == 0 {
		cols = append(cols, rawCode("r.*"))
	}
	data := map[string]any{
		"From": in.From, "Columns": cols, "Path": Lit(in.Path), "Options": rawCode(string(in.Format)),
		"Where": "", "OrderBy": "",
	}
	if in.Where != "" {
		data["Where"] = rawCode(string(in.Where))
	}
	if in.OrderBy != "" {
		data["OrderBy"] = rawCode(string(in.OrderBy))
	}
	return exec("export_copy", data)
}

// rawCode is SQL text this package composed itself from safe parts.
type rawCode string

func (c rawCode) String() string { return string(c) }
