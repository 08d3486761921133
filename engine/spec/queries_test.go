package spec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exohunter/exohunter/engine/spec"
)

// TestQueries_shipped: configs/queries.yaml loads, holds the queries the
// console issue asks for, and its defaults have their types' Go values.
func TestQueries_shipped(t *testing.T) {
	t.Parallel()
	b := MustLoadSpec(t)
	qs := b.StoredQueries()
	var names []string
	for _, q := range qs {
		names = append(names, q.Name)
		if q.SQLLine <= 0 || !strings.Contains(q.SQL, "$") {
			t.Errorf("%s: SQLLine %d, SQL without parameters", q.Name, q.SQLLine)
		}
		for _, p := range q.Params {
			var ok bool
			switch p.Type {
			case spec.ParamNumber:
				_, ok = p.Default.(float64)
			case spec.ParamInteger:
				_, ok = p.Default.(int64)
			case spec.ParamBoolean:
				_, ok = p.Default.(bool)
			default:
				_, ok = p.Default.(string)
			}
			if !ok {
				t.Errorf("%s.%s: default %#v is not a %s", q.Name, p.Name, p.Default, p.Type)
			}
		}
	}
	for _, want := range []string{"habitable_zone_rocky", "hot_jupiters_by_host", "multi_planet_systems", "disposition_disagreements", "category_counts", "default_parameter_sets"} {
		if _, ok := b.StoredQuery(want); !ok {
			t.Errorf("stored query %s missing; have %v", want, names)
		}
	}
	// note: the first line of a block scalar is the line after "sql: |".
	q, _ := b.StoredQuery("habitable_zone_rocky")
	if got := q.SQLLine; got < 10 {
		t.Errorf("SQLLine = %d", got)
	}
}

func TestQueryParam_ParseValue(t *testing.T) {
	t.Parallel()
	f := func(v float64) *float64 { return &v }
	num := &spec.QueryParam{Name: "r", Type: spec.ParamNumber, Min: f(0.5), Max: f(2.5)}
	integer := &spec.QueryParam{Name: "n", Type: spec.ParamInteger, Min: f(2)}
	str := &spec.QueryParam{Name: "s", Type: spec.ParamString, Values: []string{"any", "K"}}
	boolean := &spec.QueryParam{Name: "b", Type: spec.ParamBoolean}
	tests := []struct {
		name string
		p    *spec.QueryParam
		in   string
		want any
		err  error
	}{
		{"number", num, " 1.5 ", 1.5, nil},
		{"number at max", num, "2.5", 2.5, nil},
		{"number above max", num, "2.6", nil, spec.ErrOutOfRange},
		{"NaN", num, "NaN", nil, spec.ErrNotNumber},
		{"Inf", num, "+Inf", nil, spec.ErrNotNumber},
		{"word", num, "big", nil, spec.ErrNotNumber},
		{"integer", integer, "7", int64(7), nil},
		{"integer below min", integer, "1", nil, spec.ErrOutOfRange},
		{"integer fraction", integer, "2.5", nil, spec.ErrNotNumber},
		{"allowed value", str, "K", "K", nil},
		{"value not allowed", str, "k", nil, spec.ErrInvalidValue},
		{"quote is just text", &spec.QueryParam{Type: spec.ParamString}, "' OR 1=1 --", "' OR 1=1 --", nil},
		{"text too long", &spec.QueryParam{Type: spec.ParamString}, strings.Repeat("x", spec.MaxParamTextLen+1), nil, spec.ErrOutOfRange},
		{"boolean", boolean, "true", true, nil},
		{"boolean 0", boolean, "0", false, nil},
		{"not a boolean", boolean, "yes", nil, spec.ErrInvalidValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.p.ParseValue(tc.in)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if tc.err == nil && got != tc.want {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestLoad_queriesErrors(t *testing.T) {
	t.Parallel()
	base := "version: 1\nqueries:\n  - name: q\n    title: T\n    description: D\n    params:\n" +
		"      - name: n\n        type: integer\n        default: 3\n        min: 2\n        description: N\n" +
		"    sql: SELECT $n\n"
	if _, err := spec.Load(withFile(t, spec.QueriesFile, base)); err != nil {
		t.Fatalf("the base text must load: %v", err)
	}
	tests := []struct {
		name     string
		text     string
		want     error
		wantText string
	}{
		{"bad name", strings.Replace(base, "name: q", "name: Bad-Name", 1), spec.ErrInvalidName,
			`configs/queries.yaml:3:5: queries[0].name: invalid name "Bad-Name" (want lower case letters, digits and _)`},
		{"duplicate query", base + "  - name: q\n    title: T\n    description: D\n    sql: SELECT 1\n", spec.ErrDuplicateName,
			`configs/queries.yaml:13:5: queries[1].name: duplicate name "q"`},
		{"no title", strings.Replace(base, "title: T", "title: ''", 1), spec.ErrMissingKey,
			`configs/queries.yaml:4:5: queries[0] (q).title: missing required key (title)`},
		{"reserved parameter", strings.Replace(base, "- name: n", "- name: limit", 1), spec.ErrReservedName,
			`configs/queries.yaml:7:9: queries[0] (q).params[0].name: reserved name "limit" is a request option (limit, query_id, timeout_ms, format)`},
		{"unknown type", strings.Replace(base, "type: integer", "type: float", 1), spec.ErrInvalidValue,
			`configs/queries.yaml:8:9: queries[0] (q).params[0] (n).type: invalid value "float" (want one of [number integer string boolean dataset run])`},
		{"default missing", strings.Replace(base, "        default: 3\n", "", 1), spec.ErrMissingKey,
			`configs/queries.yaml:7:9: queries[0] (q).params[0] (n).default: missing required key (default: every parameter needs one, so the query runs without arguments)`},
		{"default out of range", strings.Replace(base, "default: 3", "default: 1", 1), spec.ErrOutOfRange,
			`configs/queries.yaml:9:9: queries[0] (q).params[0] (n).default: out of range 1 (want at least 2)`},
		{"default of another type", strings.Replace(base, "default: 3", "default: three", 1), spec.ErrInvalidValue,
			`configs/queries.yaml:9:9: queries[0] (q).params[0] (n).default: invalid value three (want type integer)`},
		{"values on an integer", strings.Replace(base, "min: 2", "values: [a]", 1), spec.ErrInvalidValue,
			`configs/queries.yaml:10:9: queries[0] (q).params[0] (n).values: invalid value (values apply to string parameters only)`},
		{"unknown key", strings.Replace(base, "title: T", "titel: T", 1), spec.ErrUnknownKey,
			`configs/queries.yaml:4:5: queries[0] (q).titel: unknown key "titel"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := spec.Load(withFile(t, spec.QueriesFile, tc.text))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var es spec.Errors
			errors.As(err, &es)
			var lines []string
			for _, e := range es {
				if errors.Is(e, tc.want) {
					lines = append(lines, e.Error())
				}
			}
			if diff := cmp.Diff([]string{tc.wantText}, lines); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
