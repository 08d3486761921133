package spec_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exohunter/exohunter/engine/spec"
)

// updateDictionary rewrites schemas/data_dictionary.md (same as go generate).
var updateDictionary = flag.Bool("update-dictionary", false, "rewrite schemas/data_dictionary.md")

// repoRoot holds configs/ and schemas/, relative to this package.
const repoRoot = "../.."

// mustLoadRepo loads the repository's configuration.
func mustLoadRepo(t *testing.T) *spec.Bundle {
	t.Helper()
	b, err := spec.Load(os.DirFS(repoRoot))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return b
}

// TestDictionary_UpToDate fails when schemas/data_dictionary.md differs
// from what the configuration generates.
func TestDictionary_UpToDate(t *testing.T) {
	want := spec.BuildDictionary(mustLoadRepo(t)).Markdown()
	path := filepath.Join(repoRoot, spec.DictionaryFile)
	if *updateDictionary {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go generate ./engine/spec)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date: run `go generate ./engine/spec` (or go test ./engine/spec -update-dictionary) and commit it", spec.DictionaryFile)
	}
}

// TestBuildDictionary checks that every canonical column and metric is
// there with its unit, and that sources resolve along the mission lineage.
func TestBuildDictionary(t *testing.T) {
	b := mustLoadRepo(t)
	d := spec.BuildDictionary(b)
	if len(d.Columns) != len(b.Columns.Columns) || len(d.Metrics) != len(b.Metrics.Metrics) {
		t.Fatalf("columns %d/%d metrics %d/%d", len(d.Columns), len(b.Columns.Columns), len(d.Metrics), len(b.Metrics.Metrics))
	}
	byName := map[string]spec.DictColumn{}
	for _, c := range d.Columns {
		byName[c.Name] = c
	}
	tests := []struct {
		name, column, mission, wantSource, wantUnit string
	}{
		{"koi_own_alias", "koi_period", "koi", "koi_period", ""},
		{"k2_inherits_ps", "koi_period", "k2", "pl_orbper", ""},
		{"ps_depth_in_percent", "koi_depth", "ps", "pl_trandep", "percent (x10000)"},
		{"pscomppars_inherits_percent", "koi_depth", "pscomppars", "pl_trandep", "percent (x10000)"},
		{"toi_epoch_bjd", "koi_time0bk", "toi", "pl_tranmid", "BJD (-2454833)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := byName[tc.column]
			if got := c.Sources[tc.mission]; len(got) == 0 || got[0] != tc.wantSource {
				t.Errorf("Sources[%s] = %v, want first %s", tc.mission, got, tc.wantSource)
			}
			if got := c.SourceUnits[tc.mission]; got != tc.wantUnit {
				t.Errorf("SourceUnits[%s] = %q, want %q", tc.mission, got, tc.wantUnit)
			}
		})
	}
	if c := byName["koi_sma"]; c.FilledBy != "sma_derived" || c.Unit != "AU" {
		t.Errorf("koi_sma = %+v", c)
	}
	docs := d.ColumnDocs()
	seen := map[string]spec.ColumnDoc{}
	for _, doc := range docs {
		if _, dup := seen[doc.Name]; dup {
			t.Errorf("ColumnDocs lists %s twice", doc.Name)
		}
		seen[doc.Name] = doc
	}
	for _, name := range []string{"koi_prad_err2", "koi_teq_source", "hz_position", "category", "row_id", "run_id"} {
		if seen[name].Description == "" {
			t.Errorf("ColumnDocs has no description for %s", name)
		}
	}
	if u := seen["koi_prad_err1"].Unit; u != "R_earth" {
		t.Errorf("koi_prad_err1 unit = %q", u)
	}
	// JSON keeps [] for empty lists (the dashboard reads them).
	j, _ := json.Marshal(spec.BuildDictionary(nil))
	if !strings.Contains(string(j), `"flags":[]`) {
		t.Errorf("empty dictionary JSON = %s", j)
	}
}
