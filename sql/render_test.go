package sqltmpl_test

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/exohunter/exohunter/engine/mapping"
	"github.com/exohunter/exohunter/engine/spec"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

var update = flag.Bool("update", false, "update golden files")

// goldenCase is testdata/<case>/case.yaml: the inputs of one rendering.
type goldenCase struct {
	Dataset string            `yaml:"dataset"`
	Mode    string            `yaml:"mode"` // views | normalize (first view only) | run
	Mission string            `yaml:"mission"`
	Units   map[string]string `yaml:"units"`
	Set     map[string]string `yaml:"set"`
	Albedo  *float64          `yaml:"albedo"`
	Columns []string          `yaml:"columns"`
	// Header names a file under ../shared/data whose first non-# line
	// gives the columns.
	Header string `yaml:"header"`
}

// overlay serves a case directory's config files first and the repository
// defaults for every file the case does not override.
type overlay struct{ top, base fs.FS }

func (o overlay) Open(name string) (fs.File, error) {
	if f, err := o.top.Open(name); err == nil {
		return f, nil
	}
	return o.base.Open(name)
}

// TestRender renders every case under testdata and compares it with
// want.sql, or, for a broken config, the error lines with want.err.
func TestRender(t *testing.T) {
	t.Parallel()
	dirs, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		name := d.Name()
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join("testdata", name)
			got, report, gotErr := renderCase(t, dir)
			if gotErr != nil {
				compareGolden(t, filepath.Join(dir, "want.err"), pipelineErrors(gotErr))
				return
			}
			compareGolden(t, filepath.Join(dir, "want.sql"), got)
			compareGolden(t, filepath.Join(dir, "want.mapping"), report)
		})
	}
}

// renderCase loads the case's config and renders its SQL and mapping
// report. Config and override problems are returned as the error to compare.
func renderCase(t *testing.T, dir string) (sqlText, report string, err error) {
	t.Helper()
	var c goldenCase
	data, err := os.ReadFile(filepath.Join(dir, "case.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("case.yaml: %v", err)
	}
	b, err := spec.Load(overlay{os.DirFS(dir), os.DirFS("..")})
	if err != nil {
		return "", "", err
	}
	if b, err = b.WithRun(c.Set, c.Albedo); err != nil {
		return "", "", err
	}
	m, err := mapping.Map(caseColumns(t, c), b.Columns, mapping.Options{Mission: c.Mission, Units: c.Units})
	if err != nil {
		return "", "", err
	}
	report = formatReport(m)
	in := sqltmpl.PipelineInput{Dataset: c.Dataset, Bundle: b, Mapping: m}
	if c.Mode == "run" {
		sqlText, err = sqltmpl.RunSelect(in)
		return sqlText, report, err
	}
	views, err := sqltmpl.Views(in)
	if err != nil {
		return "", "", err
	}
	if c.Mode == "normalize" {
		views = views[:1]
	}
	for i, v := range views {
		views[i] = strings.TrimSuffix(v, "\n") + ";\n"
	}
	return strings.Join(views, "\n"), report, nil
}

// formatReport prints the mapping report one entry per line, tab-separated:
// source, canonical, alias, conversion, status, reason.
func formatReport(m *mapping.Mapping) string {
	var b strings.Builder
	b.WriteString("# mission: " + m.Mission + "\n")
	for _, e := range m.Report {
		b.WriteString(strings.Join([]string{e.Source, e.Canonical, e.Alias, e.Conversion, e.Status, e.Reason}, "\t") + "\n")
	}
	return b.String()
}

// caseColumns returns the case's columns, from the list or a real header.
func caseColumns(t *testing.T, c goldenCase) []mapping.Column {
	t.Helper()
	names := c.Columns
	if c.Header != "" {
		data, err := os.ReadFile(filepath.Join("..", "..", "shared", "data", c.Header))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.HasPrefix(line, "#") {
				names = strings.Split(strings.TrimSpace(line), ",")
				break
			}
		}
	}
	cols := make([]mapping.Column, len(names))
	for i, n := range names {
		cols[i] = mapping.Column{Name: n, Type: "VARCHAR"}
	}
	return cols
}

// pipelineErrors prints the problems of the pipeline's own files (and of
// overrides), one per line. Configs that other parts of the project register
// (features, labeling, ...) may echo a broken metric; their tests cover them.
func pipelineErrors(err error) string {
	own := map[string]bool{"": true, spec.ColumnsFile: true, spec.MetricsFile: true, spec.ThresholdsFile: true, spec.RulesFile: true}
	var b strings.Builder
	es := spec.AsErrors(err)
	for _, e := range es {
		if own[e.File] {
			b.WriteString(e.Error() + "\n")
		}
	}
	return b.String()
}

// compareGolden diffs got against the file, or rewrites it with -update.
func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s is missing; run go test ./sql -update and review it. Got:\n%s", path, got)
	}
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}
