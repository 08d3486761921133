package sqltmpl

import (
	"fmt"
	"strings"
)

// SnapshotAttach renders ATTACH of a new snapshot file under alias, written
// in the given storage version (e.g. "v1.2.0": the oldest DuckDB release
// that must be able to read it).
func SnapshotAttach(path, alias, storageVersion string) (string, error) {
	return exec("snapshot_attach", map[string]any{"Path": Lit(path), "Alias": Ident(alias), "Version": Lit(storageVersion)})
}

// SnapshotDetach renders DETACH of a snapshot being written.
func SnapshotDetach(alias string) (string, error) {
	return exec("snapshot_detach", map[string]any{"Alias": Ident(alias)})
}

// SnapshotSchema renders CREATE SCHEMA in the attached snapshot.
func SnapshotSchema(alias, schema string) (string, error) {
	return exec("snapshot_schema", map[string]any{"Alias": Ident(alias), "Schema": Ident(schema)})
}

// SnapshotCopy is one table a snapshot materializes: every row of a
// relation of the source (or of the run files), optionally only the rows
// whose Column is one of Values.
type SnapshotCopy struct {
	// Schema and Name are the table's name, in the snapshot and (unless
	// RunFiles is set) in the source.
	Schema, Name string
	// RunFiles, when not nil, reads these Parquet run files instead of a
	// source relation (an empty list gives an empty runs table).
	RunFiles []string
	// Column and Values filter the rows when Filter is true; an empty
	// Values keeps none.
	Filter bool
	Column string
	Values []string
	// Replace gives columns new values (SELECT * REPLACE), such as
	// FLOAT and DOUBLE columns whose NaN and ±Inf become NULL.
	Replace []ExportColumn
}

// SnapshotCopyTable renders CREATE TABLE alias.schema.name AS SELECT ....
func SnapshotCopyTable(alias string, c SnapshotCopy) (string, error) {
	var from fmt.Stringer = QualifiedIdent{Schema: Ident(c.Schema), Name: Ident(c.Name)}
	if c.RunFiles != nil {
		paths := make([]Lit, len(c.RunFiles))
		for i, p := range c.RunFiles {
			paths[i] = Lit(p)
		}
		text, err := exec("snapshot_run_files", map[string]any{"Paths": paths})
		if err != nil {
			return "", err
		}
		from = code(text)
	}
	values := make([]fmt.Stringer, len(c.Values))
	for i, v := range c.Values {
		values[i] = Lit(v)
	}
	if len(values) == 0 {
		// note: IN () is not SQL; NULL matches nothing.
		values = []fmt.Stringer{code("NULL")}
	}
	data := map[string]any{"Alias": Ident(alias), "Schema": Ident(c.Schema), "Name": Ident(c.Name), "From": from,
		"Filter": c.Filter, "Column": Ident(c.Column), "Values": values, "Replace": c.Replace}
	return exec("snapshot_copy", data)
}

// SnapshotInfo is the one row of meta.snapshot.
type SnapshotInfo struct {
	CreatedAt      string // RFC 3339 / ISO timestamp, UTC
	Source         string
	DuckDB         string
	StorageVersion string
	Runs           string
	RunIDs         []string
	Include        []string
}

// SnapshotInfoTable renders CREATE TABLE alias.meta.snapshot with one row.
func SnapshotInfoTable(alias string, in SnapshotInfo) (string, error) {
	lits := func(ss []string) []Lit {
		out := make([]Lit, len(ss))
		for i, s := range ss {
			out[i] = Lit(s)
		}
		return out
	}
	return exec("snapshot_info", map[string]any{"Alias": Ident(alias), "CreatedAt": Lit(in.CreatedAt),
		"Source": Lit(in.Source), "DuckDB": Lit(in.DuckDB), "Storage": Lit(in.StorageVersion),
		"Runs": Lit(in.Runs), "RunIDs": lits(in.RunIDs), "Include": lits(in.Include)})
}

// SnapshotLatestView renders runs."latest_D" inside a snapshot: the rows of
// one run of runs.results, with exactly that run's columns.
func SnapshotLatestView(dataset, runID, comment string, columns []string) (string, error) {
	cols := make([]Ident, len(columns))
	for i, c := range columns {
		cols[i] = Ident(c)
	}
	return exec("snapshot_latest_view", map[string]any{"View": Ident("latest_" + dataset), "RunID": Lit(runID), "Columns": cols, "Comment": Lit(comment)})
}

// SnapshotCatalog renders catalog.tables and catalog.columns as tables of
// the current database (a snapshot opened on its own). The tables are
// created empty first so that they list themselves.
func SnapshotCatalog(d CatalogDocs) (string, error) {
	tables, columns, err := CatalogSelects(d)
	if err != nil {
		return "", err
	}
	return exec("snapshot_catalog", map[string]any{"Tables": code(tables), "Columns": code(columns)})
}

// RelationComment is the description of one relation and its columns.
type RelationComment struct {
	Schema, Name string
	// View is true for a view (COMMENT ON VIEW).
	View bool
	Text string
	// Columns maps column names to descriptions; empty ones are skipped.
	Columns []ColumnComment
}

// ColumnComment is the description of one column.
type ColumnComment struct{ Name, Text string }

// SnapshotComments renders COMMENT ON TABLE/VIEW and COMMENT ON COLUMN for
// the relations of the current database, as one multi-statement text.
func SnapshotComments(rels []RelationComment) (string, error) {
	type col struct {
		Name code
		Text Lit
	}
	type rel struct {
		Kind    code
		Name    QualifiedIdent
		Text    Lit
		Columns []col
	}
	var data []rel
	for _, r := range rels {
		q := QualifiedIdent{Schema: Ident(r.Schema), Name: Ident(r.Name)}
		x := rel{Kind: "TABLE", Name: q, Text: Lit(r.Text)}
		if r.View {
			x.Kind = "VIEW"
		}
		for _, c := range r.Columns {
			if strings.TrimSpace(c.Text) == "" {
				continue
			}
			x.Columns = append(x.Columns, col{Name: code(q.String() + "." + Ident(c.Name).String()), Text: Lit(c.Text)})
		}
		data = append(data, x)
	}
	return exec("snapshot_comments", map[string]any{"Relations": data})
}
