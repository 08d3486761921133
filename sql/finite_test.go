package sqltmpl

import (
	"strings"
	"testing"
)

// TestFiniteSQL: which types get a guard and in what form. The guards
// themselves run in DuckDB in the engine's tests (TestEngine_ExportRun_values,
// TestSnapshot_RawIsFinite, TestConsole_mapNestedKey).
func TestFiniteSQL(t *testing.T) {
	tests := []struct {
		typ      string
		want     bool
		contains []string
		not      []string
	}{
		{"DOUBLE", true, []string{"isfinite(x)"}, []string{"CAST"}},
		{"INTEGER", false, nil, nil},
		{"VARCHAR[]", false, nil, nil},
		{"DOUBLE[]", true, []string{"list_transform(x", "CAST("}, nil},
		{"FLOAT[3]", true, []string{"AS FLOAT[3])"}, nil},
		{`STRUCT("a b" DOUBLE, c VARCHAR)`, true, []string{`struct_extract(x, 'a b')`, `"a b" := `}, nil},
		{"MAP(VARCHAR, DOUBLE)", true, []string{"map_from_entries("}, nil},
		{"MAP(INTEGER[], STRUCT(e ENUM, d DOUBLE))", true, []string{"struct_pack("}, []string{"CAST(CASE", "AS MAP("}},
		{"STRUCT(UTINYINT, DOUBLE, VARCHAR)", false, nil, nil},
		{"UNION(d DOUBLE, s VARCHAR)", false, nil, nil},
	}
	for typ, want := range map[string]string{
		"UBIGINT":                      "CAST(x AS VARCHAR)",
		"BLOB[]":                       "list_transform(x, lambda finite_v0: to_base64(finite_v0))",
		"STRUCT(a HUGEINT, b INTEGER)": "CASE WHEN x IS NOT NULL THEN struct_pack(\"a\" := CAST(struct_extract(x, 'a') AS VARCHAR), \"b\" := struct_extract(x, 'b')) END",
		"DOUBLE":                       "CASE WHEN isfinite(x) THEN x END",
		"INTEGER[]":                    "x",
	} {
		if got, _ := JSONSQL("x", typ); got != want {
			t.Errorf("JSONSQL(%s) = %q, want %q", typ, got, want)
		}
	}
	// note: a CSV cell keeps DuckDB's text of dates and times.
	for typ, want := range map[string]string{
		"STRUCT(a HUGEINT, b DATE)": "CASE WHEN x IS NOT NULL THEN struct_pack(\"a\" := CAST(struct_extract(x, 'a') AS VARCHAR), \"b\" := struct_extract(x, 'b')) END",
		"TIMESTAMP[]":               "x",
	} {
		if got, _ := CSVSQL("x", typ); got != want {
			t.Errorf("CSVSQL(%s) = %q, want %q", typ, got, want)
		}
	}
	for _, tc := range tests {
		got, ok := FiniteSQL("x", tc.typ)
		if strings.Contains(tc.typ, "UNION") {
			// note: checked below for JSONSQL too.
			if j, jok := JSONSQL("x", tc.typ); jok || j != "x" {
				t.Errorf("JSONSQL(%s) = %q, %v: a UNION is left as it is", tc.typ, j, jok)
			}
		}
		if ok != tc.want {
			t.Errorf("%s: guarded %v, want %v (%s)", tc.typ, ok, tc.want, got)
			continue
		}
		if !ok && got != "x" {
			t.Errorf("%s: unguarded expression %q, want x itself", tc.typ, got)
		}
		for _, c := range tc.contains {
			if !strings.Contains(got, c) {
				t.Errorf("%s: %q lacks %q", tc.typ, got, c)
			}
		}
		for _, c := range tc.not {
			if strings.Contains(got, c) {
				t.Errorf("%s: %q has %q", tc.typ, got, c)
			}
		}
	}
}
