package engine

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/exohunter/exohunter/engine/spec"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// The catalog (DESIGN.md "Relation names"): catalog.tables and
// catalog.columns list every relation of the catalog schemas with type,
// unit and description. They are views over DuckDB's own catalog
// (duckdb_tables, duckdb_views, duckdb_columns) joined with
// catalog.dictionary (units and descriptions from the spec), the datasets'
// NASA # headers and mapping reports (meta.datasets) and fixed
// descriptions of service tables, so they are always current: an ingest,
// run, delete or feature build needs no refresh. Code that creates a
// relation may describe it with COMMENT ON TABLE/VIEW/COLUMN; comments take
// precedence.

// catalogMu serializes RefreshCatalog (concurrent CREATE OR REPLACE of the
// same entries would conflict).
var catalogMu sync.Mutex

// RefreshCatalog (re)creates catalog.dictionary from the spec bundle and
// the views catalog.tables and catalog.columns. Open calls it; since the
// views read DuckDB's catalog live, calling it after an ingest or a run is
// harmless but not needed.
func (e *Engine) RefreshCatalog(ctx context.Context) error {
	docs := e.catalogDocs()
	dict, err := sqltmpl.CatalogDictionary(docs, "")
	if err != nil {
		return err
	}
	views, err := sqltmpl.CatalogViews(docs)
	if err != nil {
		return err
	}
	catalogMu.Lock()
	defer catalogMu.Unlock()
	return e.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{dict, views} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("refresh catalog: %w", err)
			}
		}
		return nil
	})
}

// catalogDocs gathers what the catalog knows beyond DuckDB's catalog.
func (e *Engine) catalogDocs() sqltmpl.CatalogDocs {
	d := sqltmpl.CatalogDocs{Schemas: catalogSchemas, Relations: relationDocs, Service: serviceDocs}
	for _, c := range spec.BuildDictionary(e.bundle).ColumnDocs() {
		d.Columns = append(d.Columns, sqltmpl.CatalogColumnDoc{Name: c.Name, Kind: c.Kind, Unit: c.Unit,
			Description: c.Description, Formula: c.Formula})
	}
	return d
}

func init() {
	openHooks = append(openHooks, func(ctx context.Context, e *Engine) error { return e.RefreshCatalog(ctx) })
}

// Dictionary returns the data dictionary of the engine's spec (empty
// without a configuration).
func (e *Engine) Dictionary() *spec.Dictionary { return spec.BuildDictionary(e.bundle) }

// Catalog is GET /api/schema: the catalog grouped for a schema browser,
// schemas in pipeline order, relations and columns in order.
type Catalog struct {
	Schemas []CatalogSchema `json:"schemas"`
}

// CatalogSchema is one schema and its relations.
type CatalogSchema struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Tables      []CatalogTable `json:"tables"`
}

// CatalogTable is one table or view.
type CatalogTable struct {
	Schema      string          `json:"schema"`
	Name        string          `json:"name"`
	Kind        string          `json:"kind"`
	Dataset     string          `json:"dataset,omitempty"`
	Description string          `json:"description"`
	Columns     []CatalogColumn `json:"columns"`
}

// CatalogColumn is one column with its type, unit and description.
type CatalogColumn struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Unit        string `json:"unit"`
	Description string `json:"description"`
	// Source says where the description comes from: dictionary,
	// nasa_header, mapping, service or comment ("" when unknown).
	Source string `json:"source,omitempty"`
	// Canonical is, for a raw column, the canonical column it maps to.
	Canonical string `json:"canonical,omitempty"`
}

// Catalog reads catalog.tables and catalog.columns. Every schema of the
// catalog is listed, empty ones too; slices are never nil.
func (e *Engine) Catalog(ctx context.Context) (*Catalog, error) {
	out := &Catalog{Schemas: make([]CatalogSchema, len(catalogSchemas))}
	index := map[string]int{}
	for i, s := range catalogSchemas {
		out.Schemas[i] = CatalogSchema{Name: s, Description: schemaDescriptions[s], Tables: []CatalogTable{}}
		index[s] = i
	}
	tables, err := e.catalogTables(ctx)
	if err != nil {
		return nil, err
	}
	if err := e.catalogColumns(ctx, tables); err != nil {
		return nil, err
	}
	for _, key := range tables.order {
		t := tables.byKey[key]
		i, ok := index[t.Schema]
		if !ok {
			continue
		}
		out.Schemas[i].Tables = append(out.Schemas[i].Tables, *t)
	}
	return out, nil
}

// catalogTableSet keeps tables in catalog order, addressable by schema.name.
type catalogTableSet struct {
	order []string
	byKey map[string]*CatalogTable
}

// catalogTables reads catalog.tables.
func (e *Engine) catalogTables(ctx context.Context) (*catalogTableSet, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT schema_name, table_name, kind, coalesce(dataset, ''), coalesce(description, '')
		FROM catalog.tables ORDER BY schema_name, table_name`)
	if err != nil {
		return nil, fmt.Errorf("read catalog.tables: %w", err)
	}
	defer rows.Close()
	set := &catalogTableSet{byKey: map[string]*CatalogTable{}}
	for rows.Next() {
		t := &CatalogTable{Columns: []CatalogColumn{}}
		if err := rows.Scan(&t.Schema, &t.Name, &t.Kind, &t.Dataset, &t.Description); err != nil {
			return nil, err
		}
		key := t.Schema + "." + t.Name
		set.order = append(set.order, key)
		set.byKey[key] = t
	}
	return set, rows.Err()
}

// catalogColumns reads catalog.columns into the tables of set.
func (e *Engine) catalogColumns(ctx context.Context, set *catalogTableSet) error {
	rows, err := e.db.QueryContext(ctx, `SELECT schema_name, table_name, column_name, data_type, coalesce(unit, ''),
		coalesce(description, ''), coalesce(doc_source, ''), coalesce(canonical, '')
		FROM catalog.columns ORDER BY schema_name, table_name, ordinal`)
	if err != nil {
		return fmt.Errorf("read catalog.columns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var schema, table string
		var c CatalogColumn
		if err := rows.Scan(&schema, &table, &c.Name, &c.Type, &c.Unit, &c.Description, &c.Source, &c.Canonical); err != nil {
			return err
		}
		if t := set.byKey[schema+"."+table]; t != nil {
			t.Columns = append(t.Columns, c)
		}
	}
	return rows.Err()
}
