package sqltmpl

import "strings"

// ResultsIndexDB is the name the results index database is attached as.
const ResultsIndexDB = "results_index"

// ResultsIndexAttach renders the ATTACH of the results index file.
func ResultsIndexAttach(path string) (string, error) {
	return exec("results_index_attach", map[string]any{"Path": Lit(path), "DB": Ident(ResultsIndexDB)})
}

// ResultsIndexSchema renders the table that lists the built indexes.
func ResultsIndexSchema() (string, error) {
	return exec("results_index_schema", map[string]any{"DB": Ident(ResultsIndexDB)})
}

// ResultsIndexTable is the qualified name of a run's index table.
func ResultsIndexTable(table string) string {
	return Ident(ResultsIndexDB).String() + ".main." + Ident(table).String()
}

// ResultsIndexBuild renders the CREATE TABLE of one run's index: columns of
// selectSQL (a SELECT over the run, rendered by this package), sorted by
// the clustering columns, then row_id.
func ResultsIndexBuild(table, selectSQL string, columns, cluster []string) (string, error) {
	cols := make([]Ident, len(columns))
	for i, c := range columns {
		cols[i] = Ident(c)
	}
	keys := make([]Ident, len(cluster))
	for i, c := range cluster {
		keys[i] = Ident(c)
	}
	return exec("results_index_build", map[string]any{
		"DB": Ident(ResultsIndexDB), "Table": Ident(table), "Columns": cols,
		"From": Expr(strings.TrimSuffix(strings.TrimSpace(selectSQL), ";")), "Cluster": keys,
	})
}

// ResultsIndexRecord renders the row that marks a run's index as built; it
// runs in the build's transaction, so a listed index is always complete.
func ResultsIndexRecord(runID, table string, columns []string) (string, error) {
	lits := make([]string, len(columns))
	for i, c := range columns {
		lits[i] = Lit(c).String()
	}
	return exec("results_index_record", map[string]any{
		"DB": Ident(ResultsIndexDB), "Table": Ident(table), "TableName": Lit(table),
		"RunID": Lit(runID), "ColumnList": Expr("[" + strings.Join(lits, ", ") + "]::VARCHAR[]"),
	})
}

// RunParquetSelect is SELECT * over one run file.
func RunParquetSelect(path string) string {
	return "SELECT * FROM read_parquet(" + Lit(path).String() + ")"
}
