package ducktype

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want string // a compact rendering of the parsed tree
	}{
		{"INTEGER", "INTEGER"},
		{"DECIMAL(18,3)", "DECIMAL"},
		{"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"},
		{"INTEGER[]", "LIST<INTEGER>"},
		{"INTEGER[3][]", "LIST<ARRAY<INTEGER>>"},
		{`STRUCT("a" INTEGER, "b c" VARCHAR[])`, "STRUCT{a:INTEGER,b c:LIST<VARCHAR>}"},
		{`STRUCT(a INTEGER, "we""ird" DATE)`, `STRUCT{a:INTEGER,we"ird:DATE}`},
		{"MAP(VARCHAR, STRUCT(x DOUBLE))", "MAP{key:VARCHAR,value:STRUCT{x:DOUBLE}}"},
		{`UNION("name" VARCHAR, "age" SMALLINT)`, "UNION{name:VARCHAR,age:SMALLINT}"},
		{"ENUM('a', 'b,c')", "ENUM"},
		{"STRUCT(UTINYINT, DOUBLE, VARCHAR)", "STRUCT{:UTINYINT,:DOUBLE,:VARCHAR}"},
		{"", ""},
		{"INTEGER" + strings.Repeat("[]", 200), ""},
	}
	for _, tc := range tests {
		got := render(Parse(tc.in))
		if strings.HasSuffix(tc.in, "[][][]") {
			if !strings.HasPrefix(got, "LIST<LIST<") || strings.Contains(got, "INTEGER") {
				t.Errorf("deep type: %s", got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("Parse(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func render(t *Type) string {
	switch {
	case t.Elem != nil:
		return t.Name + "<" + render(t.Elem) + ">"
	case len(t.Fields) > 0:
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = f.Name + ":" + render(f.Type)
		}
		return t.Name + "{" + strings.Join(parts, ",") + "}"
	}
	return t.Name
}
