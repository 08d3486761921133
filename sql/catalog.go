package sqltmpl

// CatalogDocs is what the catalog knows beyond DuckDB's own catalog: the
// dictionary of pipeline column names, relation descriptions by name
// pattern, and exact descriptions of service-table columns. Plain strings
// here are quoted as literals before they reach a template.
type CatalogDocs struct {
	// Schemas are the schemas the catalog lists.
	Schemas []string
	// Columns become catalog.dictionary rows.
	Columns []CatalogColumnDoc
	// Relations describe relations: Pattern is a LIKE pattern over the
	// relation name (escape '\'); {name} and {dataset} in Description are
	// replaced. The longest matching pattern wins.
	Relations []CatalogRelationDoc
	// Service describes columns of service tables exactly.
	Service []CatalogServiceDoc
}

// CatalogColumnDoc is one row of catalog.dictionary.
type CatalogColumnDoc struct{ Name, Kind, Unit, Description, Formula string }

// CatalogRelationDoc describes the relations of a schema matching Pattern.
type CatalogRelationDoc struct{ Schema, Pattern, Description string }

// CatalogServiceDoc describes one column of a service table.
type CatalogServiceDoc struct{ Schema, Table, Column, Unit, Description string }

// ViewsFingerprintPrefix starts the comment that records which statements
// created a dataset's views (engine createViews); the catalog does not
// show it as the view's description.
const ViewsFingerprintPrefix = "exohunter views "

// catalogData is the template data of catalog.sql.tmpl.
type catalogData struct {
	Q                 code
	Database          code
	FingerprintPrefix Lit
	Schemas           []Lit
	Columns           []map[string]Lit
	Relations         []map[string]Lit
	Service           []map[string]Lit
}

// data quotes the docs for the templates. alias "" means the live
// database (current_database(), unqualified names).
func (d CatalogDocs) data(alias string) catalogData {
	out := catalogData{Q: "", Database: "current_database()", FingerprintPrefix: Lit(ViewsFingerprintPrefix)}
	if alias != "" {
		out.Q = code(Ident(alias).String() + ".")
		out.Database = code(Lit(alias).String())
	}
	for _, s := range d.Schemas {
		out.Schemas = append(out.Schemas, Lit(s))
	}
	for _, c := range d.Columns {
		out.Columns = append(out.Columns, map[string]Lit{"Name": Lit(c.Name), "Kind": Lit(c.Kind),
			"Unit": Lit(c.Unit), "Description": Lit(c.Description), "Formula": Lit(c.Formula)})
	}
	for _, r := range d.Relations {
		out.Relations = append(out.Relations, map[string]Lit{"Schema": Lit(r.Schema), "Pattern": Lit(r.Pattern),
			"Description": Lit(r.Description)})
	}
	for _, s := range d.Service {
		out.Service = append(out.Service, map[string]Lit{"Schema": Lit(s.Schema), "Table": Lit(s.Table),
			"Column": Lit(s.Column), "Unit": Lit(s.Unit), "Description": Lit(s.Description)})
	}
	return out
}

// CatalogDictionary renders CREATE OR REPLACE TABLE catalog.dictionary and
// its rows, in the live database (alias "") or in an attached one.
func CatalogDictionary(d CatalogDocs, alias string) (string, error) {
	return exec("catalog_dictionary", d.data(alias))
}

// CatalogViews renders the live views catalog.tables and catalog.columns
// over DuckDB's own catalog (duckdb_tables, duckdb_views, duckdb_columns),
// so they are always current and need no refresh after an ingest or run.
func CatalogViews(d CatalogDocs) (string, error) {
	if len(d.Relations) == 0 || len(d.Service) == 0 || len(d.Schemas) == 0 {
		return "", errEmptyDocs
	}
	return exec("catalog_views", d.data(""))
}

// CatalogSelects renders the SELECTs behind catalog.tables and
// catalog.columns over the current database, for writing them as tables
// (a snapshot, opened on its own, materializes its catalog this way).
func CatalogSelects(d CatalogDocs) (tables, columns string, err error) {
	if len(d.Relations) == 0 || len(d.Service) == 0 || len(d.Schemas) == 0 {
		return "", "", errEmptyDocs
	}
	data := d.data("")
	if tables, err = exec("catalog_relations", data); err != nil {
		return "", "", err
	}
	columns, err = exec("catalog_columns", data)
	return tables, columns, err
}

// errEmptyDocs reports docs without the lists the templates need.
var errEmptyDocs = errorString("catalog docs need schemas, relations and service columns")

// errorString is a constant error.
type errorString string

func (e errorString) Error() string { return string(e) }
