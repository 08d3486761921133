package sqltmpl_test

import (
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/exohunter/exohunter/engine/mapping"
	"github.com/exohunter/exohunter/engine/spec"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// mustRunSelect renders the run query for a few generic columns with the
// given overrides.
func mustRunSelect(t *testing.T, set map[string]string) (string, sqltmpl.Rendered) {
	t.Helper()
	return mustRunSelectFS(t, os.DirFS(".."), set)
}

// mustRunSelectFS is mustRunSelect over another config tree.
func mustRunSelectFS(t *testing.T, fsys fs.FS, set map[string]string) (string, sqltmpl.Rendered) {
	t.Helper()
	b, err := spec.Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = b.WithRun(set, nil); err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Map([]mapping.Column{{Name: "koi_period", Type: "DOUBLE"}, {Name: "koi_prad", Type: "DOUBLE"}}, b.Columns, mapping.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := sqltmpl.PipelineInput{Dataset: "d", Bundle: b, Mapping: m}
	q, err := sqltmpl.RunSelect(in)
	if err != nil {
		t.Fatal(err)
	}
	r, err := sqltmpl.Render(in)
	if err != nil {
		t.Fatal(err)
	}
	return q, r
}

// TestRunSelect_negativeParameter: "x-$a" with a = -1 must not render as
// "x--1", which SQL reads as the start of a comment. Thresholds are never
// negative (Load and overrides refuse one), but a metrics.yaml of
// --config-dir may give a parameter a negative range.
func TestRunSelect_negativeParameter(t *testing.T) {
	t.Parallel()
	yaml, err := os.ReadFile("../configs/metrics.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const from = "    value: 0.3\n    min: 0\n"
	if !strings.Contains(string(yaml), from) {
		t.Fatalf("configs/metrics.yaml has no %q lines to change", from)
	}
	tree := overlay{top: fstest.MapFS{"configs/metrics.yaml": {Data: []byte(strings.Replace(string(yaml), from, "    value: -1\n    min: -1\n", 1))}},
		base: os.DirFS("..")}
	q, _ := mustRunSelectFS(t, tree, nil)
	if !strings.Contains(q, "1 - (-1)") {
		t.Errorf("negative parameter not parenthesized:\n%s", q)
	}
	if strings.Contains(q, "--") {
		t.Errorf("rendered SQL contains \"--\"")
	}
}

// TestRender_origins: every metric, flag and category line maps back to its
// YAML element, and the text is deterministic.
func TestRender_origins(t *testing.T) {
	t.Parallel()
	q, r := mustRunSelect(t, nil)
	again, _ := mustRunSelect(t, nil)
	if q != again || q != r.SQL {
		t.Fatal("rendering is not deterministic")
	}
	if !strings.HasSuffix(q, "\n") || strings.HasSuffix(q, "\n\n") {
		t.Error("the SQL must end with exactly one newline")
	}
	want := map[string]bool{"metrics[0].sql": false, "metrics[0].fills": false, "flags[0].when": false, "categories[8].when": false, "score.sql": false}
	for i, line := range strings.Split(q, "\n") {
		o, ok := r.Origin(i + 1)
		if !ok {
			continue
		}
		if _, tracked := want[o.Path]; tracked {
			want[o.Path] = true
		}
		if o.Path == "metrics[0].sql" && !strings.Contains(line, `AS "stellar_mass_derived"`) {
			t.Errorf("line %d is attributed to metrics[0].sql: %s", i+1, line)
		}
	}
	for p, seen := range want {
		if !seen {
			t.Errorf("no line is attributed to %s", p)
		}
	}
}
