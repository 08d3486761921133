package engine

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	sqltmpl "github.com/exohunter/exohunter/sql"
)

// TestCatalog_Live checks that catalog.tables and catalog.columns describe
// every relation with units and descriptions from the spec, the NASA
// header and the service docs, and follow ingests and deletes without a
// refresh.
func TestCatalog_Live(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := MustOpenEngine(t)
	MustIngest(t, e, IngestInput{Path: filepath.Join("testdata", "koi_small_commented.csv"), Name: "koi"})

	tests := []struct {
		name, schema, table, column, wantUnit, wantDesc, wantSource string
	}{
		{"canonical_in_normalized", "normalized", "koi", "koi_prad", "R_earth", "Planet radius", "dictionary"},
		{"uncertainty", "classified", "koi", "koi_prad_err2", "R_earth", "Lower (−) uncertainty, stored negative, of: planet radius", "dictionary"},
		{"metric_with_formula", "metrics", "koi", "sma_derived", "AU", "Semi-major axis from Kepler's third law (planet mass neglected): a = (M * (P / 365.25)^2)^(1/3)", "dictionary"},
		{"provenance", "classified", "koi", "koi_sma_source", "", "Where koi_sma comes from: catalog, derived (by sma_derived) or missing", "dictionary"},
		{"raw_nasa_header", "raw", "koi", "koi_period", "days", "Orbital Period; mapped to koi_period", "nasa_header"},
		{"passthrough_nasa_label", "normalized", "koi", "koi_pdisposition", "", "Disposition Using Kepler Data (source column, passed through)", "nasa_header"},
		{"service", "meta", "datasets", "sha256", "", "SHA-256 of the stored bytes", "service"},
		{"catalog_itself", "catalog", "columns", "unit", "", "Physical unit, when the column has one", "service"},
	}
	for _, tc := range tests {
		var unit, desc, src string
		err := e.db.QueryRowContext(ctx, `SELECT coalesce(unit, ''), coalesce(description, ''), coalesce(doc_source, '')
			FROM catalog.columns WHERE schema_name = ? AND table_name = ? AND column_name = ?`, tc.schema, tc.table, tc.column).Scan(&unit, &desc, &src)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if unit != tc.wantUnit || desc != tc.wantDesc || src != tc.wantSource {
			t.Errorf("%s: got (%q, %q, %q), want (%q, %q, %q)", tc.name, unit, desc, src, tc.wantUnit, tc.wantDesc, tc.wantSource)
		}
	}
	if got := mustQueryString(t, e, `SELECT description FROM catalog.tables WHERE schema_name = 'raw' AND table_name = 'koi'`); got != "Dataset koi as stored: the source file's columns, with the types pinned at ingest (koi_small_commented.csv, mission koi, 12 rows)" {
		t.Errorf("raw.koi description = %q", got)
	}
	// The Contracts' names: name, type, unit and description.
	if got := mustQueryString(t, e, `SELECT name || ' ' || type || ' ' || unit || ' ' || description FROM catalog.columns
		WHERE schema_name = 'classified' AND table_name = 'koi' AND name = 'koi_prad'`); got != "koi_prad DOUBLE R_earth Planet radius" {
		t.Errorf("catalog.columns name, type, unit, description of classified.koi.koi_prad = %q", got)
	}
	// The views' fingerprint (createViews) is their comment, not a description.
	if got := mustQueryString(t, e, `SELECT name || ' ' || type || ': ' || description FROM catalog.tables
		WHERE schema_name = 'classified' AND table_name = 'koi'`); !strings.HasPrefix(got, "koi view: ") || strings.Contains(got, sqltmpl.ViewsFingerprintPrefix) {
		t.Errorf("catalog.tables name, type and description of classified.koi = %q", got)
	}
	if n := mustQueryInt(t, e, `SELECT count(*) FROM catalog.tables WHERE starts_with(description, ?)`, sqltmpl.ViewsFingerprintPrefix); n != 0 {
		t.Errorf("%d relations are described by the views' fingerprint", n)
	}
	if n := mustQueryInt(t, e, `SELECT count(*) FROM catalog.columns WHERE schema_name IN ('normalized', 'metrics', 'classified') AND description IS NULL`); n != 0 {
		t.Errorf("%d pipeline columns have no description", n)
	}
	if err := e.DeleteDataset(ctx, "koi"); err != nil {
		t.Fatal(err)
	}
	if n := mustQueryInt(t, e, `SELECT count(*) FROM catalog.tables WHERE dataset = 'koi'`); n != 0 {
		t.Errorf("after delete, catalog.tables still lists %d relations of koi", n)
	}
}

// TestCatalog_API checks the grouped shape GET /api/schema serves, and
// that it is fast enough for a schema browser with the real catalogs.
func TestCatalog_API(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := MustOpenEngine(t)
	for _, f := range []string{"koi_cumulative_2025-09-29_commented.csv", "toi_2025-09-29_commented.csv", "k2pandc_2025-10-04_commented.csv", "pscomppars_2024-10-15_commented.csv"} {
		MustIngest(t, e, IngestInput{Path: filepath.Join(sharedData, f)})
	}
	c, err := e.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Schemas) != len(catalogSchemas) || c.Schemas[0].Name != "raw" {
		t.Fatalf("schemas = %+v", c.Schemas)
	}
	var cols, described int
	for _, s := range c.Schemas {
		for _, tb := range s.Tables {
			if tb.Schema != s.Name || tb.Description == "" {
				t.Errorf("table %s.%s in %s: description %q", tb.Schema, tb.Name, s.Name, tb.Description)
			}
			for _, col := range tb.Columns {
				cols++
				if col.Description != "" {
					described++
				}
			}
		}
	}
	if len(c.Schemas[0].Tables) != 4 || cols < 1000 {
		t.Errorf("raw tables %d, columns %d", len(c.Schemas[0].Tables), cols)
	}
	t.Logf("%d columns, %d described", cols, described)
}
