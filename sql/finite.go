package sqltmpl

import (
	"fmt"
	"strings"

	"github.com/exohunter/exohunter/sql/ducktype"
)

// NaN and ±Inf become NULL before anything is stored or exported
// (DESIGN.md), at any depth of a nested value: a run's pass-through
// columns, Parquet downloads and the raw tables of a snapshot write what
// DuckDB holds, so their FLOAT and DOUBLE values, also inside lists,
// arrays, structs and map values, go through FiniteSQL.

// FiniteSQL returns an expression for x, of DuckDB type dbType, whose
// NaN and ±Inf are NULL, and false when the type holds no FLOAT or
// DOUBLE (x is then used as it is). Nested values are rebuilt and cast
// back to dbType, so that an ARRAY keeps its size and a STRUCT its type.
// Not guarded (false): UNION members and unnamed struct fields (a UNION
// read back from Parquet), which cannot be rebuilt by name.
func FiniteSQL(x, dbType string) (string, bool) {
	t := ducktype.Parse(dbType)
	e, ok := rebuild(x, t, 0, finiteLeaf)
	if !ok {
		return x, false
	}
	up := strings.ToUpper(dbType)
	if t.Name == "FLOAT" || t.Name == "DOUBLE" || strings.Contains(up, "ENUM") && !strings.Contains(up, "ENUM(") {
		// note: the driver names an ENUM without its values, which is no
		// type to cast to; struct_pack keeps the field's own ENUM.
		return e, true
	}
	return "CAST(" + e + " AS " + dbType + ")", true
}

// JSONSQL returns an expression for x, of DuckDB type dbType, whose value
// DuckDB's JSON writer prints as the Contracts' JSON rules say, at any
// depth: NaN and ±Inf NULL, UBIGINT, HUGEINT and UHUGEINT as strings (a
// number beyond 2^53 loses digits in most JSON readers), BLOB as base64,
// timestamps and TIMETZ as RFC 3339 text, the results pages' forms
// (engine/jsonvalue.go); false when x needs nothing. The type changes, so
// there is no cast back.
func JSONSQL(x, dbType string) (string, bool) {
	return rebuild(x, ducktype.Parse(dbType), 0, jsonLeaf)
}

// CSVSQL is JSONSQL for a CSV cell: DuckDB's own text of dates and times
// is what spreadsheets read, so only the number and BLOB rules apply.
func CSVSQL(x, dbType string) (string, bool) {
	return rebuild(x, ducktype.Parse(dbType), 0, textLeaf)
}

// finiteLeaf guards a FLOAT or DOUBLE value.
func finiteLeaf(x string, t *ducktype.Type) (string, bool) {
	if t.Name == "FLOAT" || t.Name == "DOUBLE" {
		return string(finite(x)), true
	}
	return x, false
}

// textLeaf is CSVSQL's conversion of one scalar value.
func textLeaf(x string, t *ducktype.Type) (string, bool) {
	switch t.Name {
	case "UBIGINT", "HUGEINT", "UHUGEINT":
		return "CAST(" + x + " AS VARCHAR)", true
	case "BLOB":
		return "to_base64(" + x + ")", true
	}
	return finiteLeaf(x, t)
}

// jsonLeaf is JSONSQL's conversion of one scalar value. DuckDB's JSON
// writer prints "2019-07-24 15:58:33", "…+00" and "infinity"; the pages
// print "2019-07-24T15:58:33Z" (fraction trimmed as Go's RFC3339Nano
// does), "…Z" and null (RFC 3339 has no infinity and only four-digit
// years).
func jsonLeaf(x string, t *ducktype.Type) (string, bool) {
	switch t.Name {
	case "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMPTZ":
		utc, frac := x, "%f"
		if t.Name == "TIMESTAMPTZ" {
			utc = "timezone('UTC', " + x + ")"
		}
		if t.Name == "TIMESTAMP_NS" {
			frac = "%n"
		}
		return "CASE WHEN isfinite(" + x + ") AND year(" + utc + ") BETWEEN 0 AND 9999 THEN rtrim(rtrim(strftime(" + utc +
			", '%Y-%m-%dT%H:%M:%S." + frac + "'), '0'), '.') || 'Z' END", true
	case "DATE":
		// note: strftime, as DuckDB writes year 0 as "0001-01-01 (BC)".
		return "CASE WHEN isfinite(" + x + ") AND year(" + x + ") BETWEEN 0 AND 9999 THEN strftime(" + x + ", '%Y-%m-%d') END", true
	case "TIMETZ":
		// note: DuckDB writes a whole-hour offset as +05 and a seconds one
		// as +05:30:15; RFC 3339 (and Go, which drops the seconds) needs
		// +05:00 and +05:30, and Go writes a zero offset as Z.
		return "regexp_replace(regexp_replace(regexp_replace(CAST(" + x + " AS VARCHAR), '([+-]\\d\\d:\\d\\d):\\d\\d$', '\\1'), '([+-]\\d\\d)$', '\\1:00'), '[+-]00:00$', 'Z')", true
	}
	return textLeaf(x, t)
}

// rebuild applies leaf to every scalar inside x (of type t), rebuilding
// lists, arrays, structs and map values around the results; false when
// leaf changes nothing.
func rebuild(x string, t *ducktype.Type, depth int, leaf func(string, *ducktype.Type) (string, bool)) (string, bool) {
	switch t.Name {
	case "LIST", "ARRAY":
		v := fmt.Sprintf("finite_v%d", depth)
		inner, ok := rebuild(v, t.ElemType(), depth+1, leaf)
		if !ok {
			return x, false
		}
		return fmt.Sprintf("list_transform(%s, lambda %s: %s)", x, v, inner), true
	case "STRUCT":
		parts := make([]string, len(t.Fields))
		changed := false
		for i, f := range t.Fields {
			if f.Name == "" {
				return x, false
			}
			e, ok := rebuild("struct_extract("+x+", "+Lit(f.Name).String()+")", f.Type, depth+1, leaf)
			changed = changed || ok
			parts[i] = Ident(f.Name).String() + " := " + e
		}
		if !changed {
			return x, false
		}
		// note: struct_pack of a NULL struct's fields is a struct of NULLs.
		return "CASE WHEN " + x + " IS NOT NULL THEN struct_pack(" + strings.Join(parts, ", ") + ") END", true
	case "MAP":
		// note: only values; a NULL key is not allowed in a map.
		e := fmt.Sprintf("finite_e%d", depth)
		v, ok := rebuild(e+".value", t.ValueType(), depth+1, leaf)
		if !ok {
			return x, false
		}
		return fmt.Sprintf("map_from_entries(list_transform(map_entries(%s), lambda %s: {'key': %s.key, 'value': %s}))", x, e, e, v), true
	}
	return leaf(x, t)
}
