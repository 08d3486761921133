package spec_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/exohunter/exohunter/engine/spec"
)

// MustLoadSpec loads the repository's configs and schemas.
func MustLoadSpec(tb testing.TB) *spec.Bundle {
	tb.Helper()
	b, err := spec.Load(os.DirFS("../.."))
	if err != nil {
		tb.Fatalf("load repository config: %v", err)
	}
	return b
}

// withFile returns the repository config FS with one file replaced.
func withFile(tb testing.TB, name, text string) fstest.MapFS {
	tb.Helper()
	fsys := fstest.MapFS{}
	for _, f := range []string{spec.ColumnsFile, spec.MetricsFile, spec.ThresholdsFile, spec.RulesFile} {
		data, err := os.ReadFile("../../" + f)
		if err != nil {
			tb.Fatal(err)
		}
		fsys[f] = &fstest.MapFile{Data: data}
	}
	fsys[name] = &fstest.MapFile{Data: []byte(text)}
	return fsys
}

func TestLoad_defaults(t *testing.T) {
	t.Parallel()
	b := MustLoadSpec(t)
	if got, want := len(b.Rules.Categories), len(spec.Categories); got != want {
		t.Errorf("categories = %d, want %d", got, want)
	}
	if v, ok := b.Param("albedo"); !ok || v != 0.3 {
		t.Errorf("albedo = %v %v, want 0.3", v, ok)
	}
	if v, ok := b.Param("planet_radius.rocky_max"); !ok || v != 2 {
		t.Errorf("rocky_max = %v %v, want 2", v, ok)
	}
	for _, name := range []string{"koi_smass_source", "hz_position", "FLAG_MISSING_PRAD", "category", "score"} {
		if !strings.Contains(" "+strings.Join(b.Columns.Reserved, " ")+" ", " "+name+" ") {
			t.Errorf("Reserved lacks %s", name)
		}
	}
}

// TestLoad_parameterTypo: a threshold renamed by a typo breaks the rules
// that read it, and their error names the key it probably meant.
func TestLoad_parameterTypo(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../" + spec.ThresholdsFile)
	if err != nil {
		t.Fatal(err)
	}
	typo := strings.Replace(string(data), "  min_teq: ", "  min_teqq: ", 1)
	_, err = spec.Load(withFile(t, spec.ThresholdsFile, typo))
	want := `unknown parameter "$hot_jupiter.min_teq" (configs/thresholds.yaml has "hot_jupiter.min_teqq": a typo?)`
	if !errors.Is(err, spec.ErrUnknownParameter) || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want one saying %s", err, want)
	}
}

// TestLoad_errors checks the sentinel and the position of each problem.
func TestLoad_errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		file     string
		text     string
		want     error
		wantText string
	}{
		{
			name: "unknown key", file: spec.MetricsFile,
			text: "version: 1\nmetrics:\n  - name: x\n    sql: koi_prad\n    colour: red\n",
			want: spec.ErrUnknownKey, wantText: `configs/metrics.yaml:5:5: metrics[0] (x).colour: unknown key "colour"`,
		},
		{
			name: "unknown column", file: spec.MetricsFile,
			text: "version: 1\nmetrics:\n  - name: x\n    sql: koi_prd * 2\n",
			want: spec.ErrUnknownColumn, wantText: `configs/metrics.yaml:4:5: metrics[0] (x).sql: unknown column "koi_prd"`,
		},
		{
			name: "later metric", file: spec.MetricsFile,
			text: "version: 1\nmetrics:\n  - name: x\n    sql: y\n  - name: y\n    sql: koi_prad\n",
			want: spec.ErrUnknownColumn, wantText: `configs/metrics.yaml:4:5: metrics[0] (x).sql: unknown column "y": metric y is defined later in configs/metrics.yaml (line 5); a metric may read only the metrics above it`,
		},
		{
			name: "metric reads itself", file: spec.MetricsFile,
			text: "version: 1\nmetrics:\n  - name: x\n    sql: x + 1\n",
			want: spec.ErrUnknownColumn, wantText: `configs/metrics.yaml:4:5: metrics[0] (x).sql: unknown column "x": metric x cannot read itself`,
		},
		{
			name: "spelling kept", file: spec.MetricsFile,
			text: "version: 1\nmetrics:\n  - name: x\n    sql: KOI_PRD * 2\n",
			want: spec.ErrUnknownColumn, wantText: `configs/metrics.yaml:4:5: metrics[0] (x).sql: unknown column "KOI_PRD"`,
		},
		{
			name: "wrong shape", file: spec.MetricsFile,
			text: "version: 1\nmetrics:\n  name: x\n  sql: koi_prad\n",
			want: spec.ErrInvalidValue, wantText: `configs/metrics.yaml:2:1: metrics: invalid value (got a mapping, want a list)`,
		},
		{
			name: "duplicate metric", file: spec.MetricsFile,
			text: "version: 1\nmetrics:\n  - name: x\n    sql: 1\n  - name: x\n    sql: 2\n",
			want: spec.ErrDuplicateName, wantText: `configs/metrics.yaml:5:5: metrics[1].name: duplicate name "x"`,
		},
		{
			name: "threshold not a number", file: spec.ThresholdsFile,
			text: "planet_radius:\n  rocky_max: big\n",
			want: spec.ErrNotNumber, wantText: `configs/thresholds.yaml:2:3: planet_radius.rocky_max: not a number "big"`,
		},
		{
			name: "empty file", file: spec.RulesFile, text: "",
			want: spec.ErrEmpty, wantText: `configs/rules.yaml:1:1: file is empty`,
		},
		{
			name: "limits of an id", file: spec.ColumnsFile,
			text: "version: 1\nmissions:\n  - name: generic\ncolumns:\n  - name: object_id\n    role: id\n    type: VARCHAR\n    limits: true\n",
			want: spec.ErrInvalidValue, wantText: `schemas/columns.yaml:8:5: columns[0] (object_id).limits: invalid value (only a measure has limits)`,
		},
		{
			name: "fill of unknown column", file: spec.MetricsFile,
			text: "version: 1\nmetrics:\n  - name: x\n    sql: 1\n    fills: koi_mass\n",
			want: spec.ErrUnknownColumn, wantText: `configs/metrics.yaml:5:5: metrics[0] (x).fills: unknown column "koi_mass" (fills needs a canonical measure column)`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := spec.Load(withFile(t, tc.file, tc.text))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var es spec.Errors
			if !errors.As(err, &es) {
				t.Fatalf("err is %T, want spec.Errors", err)
			}
			// note: a cut-down file also breaks rules that read what it
			// used to define; only the replaced file's problems are checked.
			var lines []string
			for _, e := range es {
				if e.File == tc.file && errors.Is(e, tc.want) {
					lines = append(lines, e.Error())
				}
			}
			if diff := cmp.Diff([]string{tc.wantText}, lines); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoad_missingFile(t *testing.T) {
	t.Parallel()
	fsys := withFile(t, spec.RulesFile, "")
	delete(fsys, spec.RulesFile)
	_, err := spec.Load(fsys)
	if !errors.Is(err, spec.ErrFileMissing) {
		t.Fatalf("err = %v, want ErrFileMissing", err)
	}
}

func TestThresholds_With(t *testing.T) {
	t.Parallel()
	b := MustLoadSpec(t)
	tests := []struct {
		name    string
		set     map[string]string
		key     string
		want    float64
		wantErr error
	}{
		{name: "dotted key", set: map[string]string{"planet_radius.rocky_max": "2.2"}, key: "planet_radius.rocky_max", want: 2.2},
		{name: "thresholds prefix", set: map[string]string{"thresholds.habitable_zone.max_radius": "3"}, key: "habitable_zone.max_radius", want: 3},
		{name: "unknown key", set: map[string]string{"planet_radius.rocky": "2"}, wantErr: spec.ErrUnknownKey},
		{name: "section is not a number", set: map[string]string{"planet_radius": "2"}, wantErr: spec.ErrUnknownKey},
		{name: "not a number", set: map[string]string{"planet_radius.rocky_max": "two"}, wantErr: spec.ErrNotNumber},
		{name: "infinity", set: map[string]string{"planet_radius.rocky_max": "Inf"}, wantErr: spec.ErrNotNumber},
		{name: "negative radius", set: map[string]string{"planet_radius.rocky_max": "-5"}, wantErr: spec.ErrInvalidValue},
		{name: "fraction above 1", set: map[string]string{"score.candidate": "1.5"}, wantErr: spec.ErrInvalidValue},
		{name: "out of order with the default", set: map[string]string{"planet_radius.rocky_max": "10"}, wantErr: spec.ErrInvalidValue},
		{name: "out of order between two overrides", set: map[string]string{"duration_ratio.min": "2", "duration_ratio.max": "1.5"}, wantErr: spec.ErrInvalidValue},
		{name: "stellar-mass bounds crossed", set: map[string]string{"plausible.min_derived_smass": "30"}, wantErr: spec.ErrInvalidValue},
		{name: "hot Jupiters above the anomalous radius", set: map[string]string{"planet_radius.hot_jupiter_min": "50"}, wantErr: spec.ErrInvalidValue},
		{name: "both moved in order", set: map[string]string{"planet_radius.rocky_max": "7", "planet_radius.super_earth_max": "8"}, key: "planet_radius.rocky_max", want: 7},
		{name: "zero is allowed", set: map[string]string{"score.anomalous_penalty": "0"}, key: "score.anomalous_penalty", want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := b.Thresholds.WithStrings(tc.set)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v, _ := got.Get(tc.key); v != tc.want {
				t.Errorf("%s = %v, want %v", tc.key, v, tc.want)
			}
			if v, _ := b.Thresholds.Get(tc.key); v == tc.want {
				t.Errorf("the original thresholds changed")
			}
		})
	}
}

func TestBundle_WithRun(t *testing.T) {
	t.Parallel()
	b := MustLoadSpec(t)
	a := 0.5
	rb, err := b.WithRun(map[string]string{"planet_radius.rocky_max": "1.5"}, &a)
	if err != nil {
		t.Fatal(err)
	}
	got := []float64{}
	for _, k := range []string{"albedo", "planet_radius.rocky_max"} {
		v, _ := rb.Param(k)
		got = append(got, v)
	}
	if diff := cmp.Diff([]float64{0.5, 1.5}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if v, _ := b.Param("albedo"); v != 0.3 {
		t.Errorf("original albedo changed to %v", v)
	}
	for _, bad := range []float64{1.2, 1} {
		if _, err := b.WithRun(nil, &bad); !errors.Is(err, spec.ErrOutOfRange) {
			t.Errorf("albedo %g: err = %v, want ErrOutOfRange", bad, err)
		}
	}
}

func TestParseExpr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		in          string
		wantText    string
		wantColumns []string
		wantParams  []string
		wantErr     error
	}{
		{
			name: "functions keywords and types", in: "CASE WHEN koi_srad > 0 THEN pow(10, koi_slogg - 4.438)::DOUBLE END",
			wantText:    "CASE WHEN koi_srad > 0 THEN pow(10, koi_slogg - 4.438)::DOUBLE END",
			wantColumns: []string{"koi_srad", "koi_slogg"},
		},
		{
			name: "params, strings and quoted names", in: "koi_prad <\n   $planet_radius.rocky_max AND \"Koi_Teq\" <> 'koi_x' AND x IS NOT NULL",
			wantText:    "koi_prad < $planet_radius.rocky_max AND \"Koi_Teq\" <> 'koi_x' AND x IS NOT NULL",
			wantColumns: []string{"koi_prad", "koi_teq", "x"},
			wantParams:  []string{"planet_radius.rocky_max"},
		},
		{
			name: "lambda and cast", in: "list_filter(flags, lambda f: f LIKE 'FLAG_%') AND CAST(a AS INTEGER) > 1 AND list_count(l, x -> x > 0) > 0",
			wantText:    "list_filter(flags, lambda f: f LIKE 'FLAG_%') AND CAST(a AS INTEGER) > 1 AND list_count(l, x -> x > 0) > 0",
			wantColumns: []string{"flags", "a", "l"},
		},
		{name: "comment", in: "a -- b", wantErr: spec.ErrInvalidExpr},
		{name: "block comment", in: "a /* b */", wantErr: spec.ErrInvalidExpr},
		{name: "second statement", in: "a; DROP TABLE x", wantErr: spec.ErrInvalidExpr},
		{name: "unbalanced", in: "(a", wantErr: spec.ErrInvalidExpr},
		{name: "unterminated string", in: "a = 'x", wantErr: spec.ErrInvalidExpr},
		{name: "positional parameter", in: "a = $1", wantErr: spec.ErrInvalidExpr},
		{name: "empty", in: "  ", wantErr: spec.ErrInvalidExpr},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := spec.ParseExpr(tc.in)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := []any{e.Text, e.Columns, e.Params}
			want := []any{tc.wantText, tc.wantColumns, tc.wantParams}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestExpr_Bind(t *testing.T) {
	t.Parallel()
	e, err := spec.ParseExpr("x < $a.b AND y = '$a.b' AND z > $c")
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Bind(func(n string) (string, bool) { return map[string]string{"a.b": "2.5", "c": "1"}[n], true })
	if err != nil {
		t.Fatal(err)
	}
	if want := "x < 2.5 AND y = '$a.b' AND z > 1"; got != want {
		t.Errorf("Bind = %q, want %q", got, want)
	}
	if _, err := e.Bind(func(string) (string, bool) { return "", false }); !errors.Is(err, spec.ErrUnknownParameter) {
		t.Errorf("unknown parameter: err = %v", err)
	}
}

func TestErrors_sortedAndFormatted(t *testing.T) {
	t.Parallel()
	es := spec.Errors{
		{File: "b.yaml", Line: 1, Col: 1, Path: "x", Err: spec.ErrEmpty},
		{File: "a.yaml", Line: 9, Col: 3, Path: "y", Err: spec.ErrNotNumber},
		{File: "a.yaml", Line: 2, Col: 5, Path: "rules[3].when", Err: spec.ErrUnknownColumn},
		{Path: "albedo", Err: spec.ErrOutOfRange},
		// a cause comes before what it causes in files read later: a
		// duplicate metric before the feature reading it
		{File: spec.FeaturesFile, Line: 3, Col: 5, Path: "numeric[0].name", Err: spec.ErrUnknownColumn},
		{File: spec.RulesFile, Line: 7, Col: 5, Path: "flags[0].when", Err: spec.ErrUnknownColumn},
		{File: spec.MetricsFile, Line: 40, Col: 5, Path: "metrics[4].name", Err: spec.ErrDuplicateName},
		{File: spec.ColumnsFile, Line: 90, Col: 5, Path: "columns[9].name", Err: spec.ErrDuplicateName},
	}
	err := es.Err()
	want := strings.Join([]string{
		"albedo: out of range",
		"schemas/columns.yaml:90:5: columns[9].name: duplicate name",
		"configs/metrics.yaml:40:5: metrics[4].name: duplicate name",
		"configs/rules.yaml:7:5: flags[0].when: unknown column",
		"configs/features.yaml:3:5: numeric[0].name: unknown column",
		"a.yaml:2:5: rules[3].when: unknown column",
		"a.yaml:9:3: y: not a number",
		"b.yaml:1:1: x: file is empty",
	}, "\n")
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !errors.Is(err, spec.ErrNotNumber) || errors.Is(err, spec.ErrSQL) {
		t.Errorf("errors.Is does not see the causes")
	}
	if (spec.Errors{}).Err() != nil {
		t.Errorf("empty list is not nil")
	}
}

// repoWith returns the whole repository config tree (every registered
// file) with one file replaced.
func repoWith(tb testing.TB, name, text string) fstest.MapFS {
	tb.Helper()
	fsys := fstest.MapFS{}
	for _, dir := range []string{"configs", "schemas"} {
		entries, err := os.ReadDir("../../" + dir)
		if err != nil {
			tb.Fatal(err)
		}
		for _, e := range entries {
			data, err := os.ReadFile("../../" + dir + "/" + e.Name())
			if err != nil {
				tb.Fatal(err)
			}
			fsys[dir+"/"+e.Name()] = &fstest.MapFile{Data: data}
		}
	}
	fsys[name] = &fstest.MapFile{Data: []byte(text)}
	return fsys
}

// TestLoad_duplicateKey: a key given twice is refused in every file, with
// the line of each. thresholds.yaml once took it: Get read the first value
// (the SQL used it) and the run record the last.
func TestLoad_duplicateKey(t *testing.T) {
	t.Parallel()
	tests := []struct{ file, after, insert, want string }{
		{spec.ThresholdsFile, "  rocky_max: 2.0", "  rocky_max: 3.0", `configs/thresholds.yaml:9:3: planet_radius.rocky_max: invalid YAML (mapping key "rocky_max" already defined at line 8)`},
		{spec.ThresholdsFile, "  anomalous_min: 30.0", "planet_radius:\n  rocky_max: 3.0", `configs/thresholds.yaml:12:1: planet_radius: invalid YAML (mapping key "planet_radius" already defined at line 7)`},
		{spec.MetricsFile, "version: 1", "version: 1", `configs/metrics.yaml:14:1: version: invalid YAML (mapping key "version" already defined at line 13)`},
		{spec.RulesFile, "version: 1", "version: 1", `configs/rules.yaml:10:1: version: invalid YAML (mapping key "version" already defined at line 9)`},
		{spec.ColumnsFile, "version: 1", "version: 1", `schemas/columns.yaml:21:1: version: invalid YAML (mapping key "version" already defined at line 20)`},
		{spec.FeaturesFile, "version: 1", "version: 1", `configs/features.yaml:25:1: version: invalid YAML (mapping key "version" already defined at line 24)`},
		{spec.LabelingFile, "version: 1", "version: 1", `configs/labeling.yaml:15:1: version: invalid YAML (mapping key "version" already defined at line 14)`},
		{spec.QueriesFile, "version: 1", "version: 1", `configs/queries.yaml:30:1: version: invalid YAML (mapping key "version" already defined at line 29)`},
		{spec.SplitsFile, "version: 1", "version: 1", `configs/splits.yaml:17:1: version: invalid YAML (mapping key "version" already defined at line 16)`},
	}
	for _, tc := range tests {
		t.Run(tc.file+" "+tc.after, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile("../../" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(data), "\n")
			i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, tc.after) })
			if i < 0 {
				t.Fatalf("%s has no line %q", tc.file, tc.after)
			}
			lines = slices.Insert(lines, i+1, tc.insert)
			_, err = spec.Load(repoWith(t, tc.file, strings.Join(lines, "\n")))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant a line %s", err, tc.want)
			}
		})
	}
}

// TestLoad_thresholdsChecked: thresholds.yaml gets the checks that --set
// and the API's overrides get, and a key no rule reads is named, with its
// line, instead of being accepted (or surfacing only as knock-on errors in
// rules.yaml).
func TestLoad_thresholdsChecked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, from, to string
		want           error
		wantText       string
	}{
		{
			name: "negative", from: "  rocky_max: 2.0 ", to: "  rocky_max: -5  ", want: spec.ErrInvalidValue,
			wantText: `configs/thresholds.yaml:8:3: planet_radius.rocky_max: invalid value (-5): a R_earth threshold cannot be negative`,
		},
		{
			name: "above its upper bound", from: "  rocky_max: 2.0 ", to: "  rocky_max: 9.0 ", want: spec.ErrInvalidValue,
			wantText: `configs/thresholds.yaml:8:3: planet_radius.rocky_max: invalid value (planet_radius.rocky_max = 9 is above planet_radius.super_earth_max = 6; it must not be)`,
		},
		{
			name: "fraction above 1", from: "  candidate: 0.6 ", to: "  candidate: 1.6 ", want: spec.ErrInvalidValue,
			wantText: `configs/thresholds.yaml:61:3: score.candidate: invalid value (1.6): a fraction is at most 1`,
		},
		{
			name: "misspelled section", from: "planet_radius:", to: "planet_raduis:", want: spec.ErrUnknownKey,
			wantText: `configs/thresholds.yaml:7:1: planet_raduis: unknown key "planet_raduis" (a typo of planet_radius?): ` +
				`no rule in configs/rules.yaml or metric in configs/metrics.yaml reads a threshold of section planet_raduis; ` +
				`the sections they read are cold_deep_transit, depth_consistency, duration_ratio, habitable_zone, hot_jupiter, ` +
				`insolation_consistency, planet_radius, plausible, score, transit_depth. Fix the name or remove the section.`,
		},
		{
			name: "extra misspelled key", from: "  anomalous_min: 30.0 ", to: "  roky_max: 2.2\n  anomalous_min: 30.0 ", want: spec.ErrUnknownKey,
			wantText: `configs/thresholds.yaml:11:3: planet_radius.roky_max: unknown key "roky_max" (a typo of rocky_max?): ` +
				`no rule in configs/rules.yaml or metric in configs/metrics.yaml reads $planet_radius.roky_max; ` +
				`the keys of planet_radius they read are anomalous_min, hot_jupiter_min, rocky_max, super_earth_max. Fix the name or remove the key.`,
		},
		{
			// note: a section or key that is no near miss of a read one is
			// allowed (kept for later, or left unread by one's own rules).
			name: "unused section", from: "score:", to: "extra:\n  x: 1\nscore:",
		},
		{
			name: "unused key", from: "  anomalous_min: 30.0 ", to: "  giant_min: 15 # R_earth: kept for later\n  anomalous_min: 30.0 ",
		},
		{
			// note: a metallicity cut in dex is negative; only radii,
			// periods, temperatures and the like cannot be.
			name: "signed unit", from: "score:", to: "metallicity:\n  max_feh: -0.5 # dex: metal-poor below this\nscore:",
		},
	}
	data, err := os.ReadFile("../../" + spec.ThresholdsFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(string(data), tc.from) {
				t.Fatalf("thresholds.yaml has no %q", tc.from)
			}
			_, err := spec.Load(withFile(t, spec.ThresholdsFile, strings.Replace(string(data), tc.from, tc.to, 1)))
			if tc.want == nil {
				if err != nil {
					t.Errorf("err = %v, want the config to load", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("err = %v\nwant a line %s", err, tc.wantText)
			}
		})
	}
}

// TestLoad_aliasCollision: an alias that another canonical column already
// claims for the same mission (its name or one of its aliases) is refused,
// naming both columns. koi_prad with the alias koi_srad took the stellar
// radius, and koi_srad was NULL in every row.
func TestLoad_aliasCollision(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../" + spec.ColumnsFile)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, from, to, want string }{
		{
			name: "another column's name", from: "      koi: [koi_prad]\n", to: "      koi: [koi_prad, koi_srad]\n",
			want: `schemas/columns.yaml:190:23: columns[12] (koi_prad).aliases.koi[1]: duplicate name "koi_srad": this alias of koi_prad is also ` +
				`the name of column koi_srad (line 251). A source column feeds one canonical column only: in koi tables koi_prad, ` +
				`earlier in the file, takes it and koi_srad is left without it; keep the name in one column only`,
		},
		{
			name: "another column's alias", from: "      ps: [pl_orbsmax]\n", to: "      ps: [pl_orbsmax, pl_rade]\n",
			want: `schemas/columns.yaml:201:24: columns[13] (koi_sma).aliases.ps[1]: duplicate name "pl_rade": this alias of koi_sma is also ` +
				`an alias of column koi_prad (line 192). A source column feeds one canonical column only: in k2, ps, pscomppars tables koi_prad, ` +
				`earlier in the file, takes it and koi_sma is left without it; keep the name in one column only`,
		},
		{
			// note: compared as the mapper reads names, a trailing unit
			// dropped: "pl_rade (R_earth)" is pl_rade.
			name: "an alias with a unit", from: "      ps: [pl_orbsmax]\n", to: "      ps: [pl_orbsmax, pl_rade (R_earth)]\n",
			want: `duplicate name "pl_rade (R_earth)": this alias of koi_sma is also an alias of column koi_prad`,
		},
		{
			// note: "pl_orbsmax_au" keeps its last word, "pl_orbsmax (au)"
			// would not: these differ.
			name: "a unit word is no unit suffix", from: "      ps: [pl_orbsmax]\n", to: "      ps: [pl_orbsmax, pl_rade_re]\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(string(data), tc.from) {
				t.Fatalf("columns.yaml has no %q", tc.from)
			}
			_, err := spec.Load(withFile(t, spec.ColumnsFile, strings.Replace(string(data), tc.from, tc.to, 1)))
			if tc.want == "" {
				if err != nil {
					t.Errorf("err = %v, want the columns to load", err)
				}
				return
			}
			if !errors.Is(err, spec.ErrDuplicateName) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant a line %s", err, tc.want)
			}
		})
	}
}

// TestLoad_flagRequires: a flag's requires must name a canonical column;
// the renderer used to find out at the first run, without a line.
func TestLoad_flagRequires(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../" + spec.RulesFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "requires: koi_depth\n") {
		t.Fatal("rules.yaml has no requires: koi_depth")
	}
	_, err = spec.Load(withFile(t, spec.RulesFile, strings.Replace(string(data), "requires: koi_depth\n", "requires: koi_dept\n", 1)))
	line := strings.Count(string(data[:strings.Index(string(data), "requires: koi_depth\n")]), "\n") + 1
	want := fmt.Sprintf(`configs/rules.yaml:%d:5: flags[3] (FLAG_MISSING_DEPTH).requires: unknown column "koi_dept" (a typo of koi_depth?): requires names a canonical column of schemas/columns.yaml`, line)
	if !errors.Is(err, spec.ErrUnknownColumn) || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v\nwant a line %s", err, want)
	}
}
