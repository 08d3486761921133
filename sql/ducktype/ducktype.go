// Package ducktype parses DuckDB type names, such as DECIMAL(9,4),
// INTEGER[3][], STRUCT("a" INTEGER, "b" VARCHAR[]) or MAP(VARCHAR, DATE),
// into enough structure to walk nested values: the engine converts values
// to JSON by it, and the SQL templates build per-type expressions (NaN and
// ±Inf to NULL at any depth) by it.
package ducktype

import (
	"strings"
	"sync"
)

// Type is a parsed DuckDB type name: enough structure to convert nested
// values (element, field and key/value types).
type Type struct {
	// Name is the upper-case base name with aliases resolved: INTEGER,
	// DECIMAL, VARCHAR, TIMESTAMPTZ, LIST, ARRAY, STRUCT, MAP, UNION, ...
	Name string
	// Elem is the element type of LIST and ARRAY.
	Elem *Type
	// Fields are STRUCT fields and UNION members, in declared order; MAP
	// has two, the key and the value.
	Fields []Field
}

// Field is a STRUCT field, UNION member, or MAP key or value.
type Field struct {
	Name string
	Type *Type
}

// Unknown is the type of a name that could not be read.
var Unknown = &Type{}

// ElemType is the element type of a LIST or ARRAY (Unknown otherwise).
func (t *Type) ElemType() *Type {
	if t.Elem == nil {
		return Unknown
	}
	return t.Elem
}

// FieldType is the type of a STRUCT field or UNION member (Unknown when absent).
func (t *Type) FieldType(name string) *Type {
	for _, f := range t.Fields {
		if f.Name == name {
			return f.Type
		}
	}
	return Unknown
}

// KeyType is a MAP's key type (Unknown otherwise).
func (t *Type) KeyType() *Type {
	if t.Name == "MAP" && len(t.Fields) == 2 {
		return t.Fields[0].Type
	}
	return Unknown
}

// ValueType is a MAP's value type (Unknown otherwise).
func (t *Type) ValueType() *Type {
	if t.Name == "MAP" && len(t.Fields) == 2 {
		return t.Fields[1].Type
	}
	return Unknown
}

// cache keeps parsed type names; a result has few distinct types
// and JSONValue is called once per cell.
var cache sync.Map

// Parse parses names such as DECIMAL(9,4), INTEGER[3][],
// STRUCT("a" INTEGER, "b" VARCHAR[]), MAP(VARCHAR, DATE) and
// UNION(name VARCHAR, age SMALLINT). It never fails: what it cannot read
// becomes a type with only a Name (or Unknown).
func Parse(s string) *Type {
	if s == "" {
		return Unknown
	}
	if t, ok := cache.Load(s); ok {
		return t.(*Type)
	}
	t := parseAt(strings.TrimSpace(s), 0)
	cache.Store(s, t)
	return t
}

// MaxDepth bounds recursion on hostile or absurd type names (and the
// walks of a parsed type).
const MaxDepth = 64

func parseAt(s string, depth int) *Type {
	if depth > MaxDepth || s == "" {
		return Unknown
	}
	if strings.HasSuffix(s, "]") {
		if i := matchingOpen(s, '[', ']'); i > 0 {
			name := "LIST"
			if strings.TrimSpace(s[i+1:len(s)-1]) != "" {
				name = "ARRAY"
			}
			return &Type{Name: name, Elem: parseAt(strings.TrimSpace(s[:i]), depth+1)}
		}
	}
	base, args := s, ""
	if i := strings.IndexByte(s, '('); i > 0 && strings.HasSuffix(s, ")") {
		base, args = strings.TrimSpace(s[:i]), s[i+1:len(s)-1]
	}
	t := &Type{Name: canonicalName(strings.ToUpper(base))}
	switch t.Name {
	case "STRUCT", "UNION":
		for _, part := range splitArgs(args) {
			name, typ := splitField(part)
			if typ == "" {
				// note: an unnamed field (STRUCT(INTEGER, DOUBLE), what
				// DuckDB reads a Parquet UNION as) is a type alone.
				name, typ = "", part
			}
			t.Fields = append(t.Fields, Field{name, parseAt(typ, depth+1)})
		}
	case "MAP":
		if parts := splitArgs(args); len(parts) == 2 {
			t.Fields = []Field{
				{"key", parseAt(parts[0], depth+1)},
				{"value", parseAt(parts[1], depth+1)},
			}
		}
	}
	return t
}

func canonicalName(n string) string {
	switch n {
	case "TIMESTAMP WITH TIME ZONE":
		return "TIMESTAMPTZ"
	case "TIME WITH TIME ZONE":
		return "TIMETZ"
	case "INT", "INT4", "SIGNED":
		return "INTEGER"
	case "INT8", "LONG":
		return "BIGINT"
	case "STRING", "TEXT", "CHAR", "BPCHAR":
		return "VARCHAR"
	case "NUMERIC":
		return "DECIMAL"
	case "DATETIME", "TIMESTAMP_US":
		return "TIMESTAMP"
	case "VARINT":
		return "BIGNUM"
	case "BYTEA", "BINARY", "VARBINARY":
		return "BLOB"
	case "FLOAT8":
		return "DOUBLE"
	case "FLOAT4", "REAL":
		return "FLOAT"
	}
	return n
}

// matchingOpen returns the index of the bracket that opens the one closing
// s, skipping quoted names, or -1.
func matchingOpen(s string, open, close byte) int {
	depth, inQuote := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		switch {
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == close:
			depth++
		case c == open:
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// splitArgs splits a type argument list at commas outside brackets and
// quotes.
func splitArgs(s string) []string {
	var parts []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '(' || c == '[':
			depth++
		case c == ')' || c == ']':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	if rest := strings.TrimSpace(s[start:]); rest != "" {
		parts = append(parts, rest)
	}
	return parts
}

// splitField splits `"a b" INTEGER` or `a INTEGER` into name and type.
func splitField(s string) (string, string) {
	if strings.HasPrefix(s, `"`) {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			if s[i] == '"' {
				if i+1 < len(s) && s[i+1] == '"' {
					b.WriteByte('"')
					i++
					continue
				}
				return b.String(), strings.TrimSpace(s[i+1:])
			}
			b.WriteByte(s[i])
		}
		return b.String(), ""
	}
	name, typ, _ := strings.Cut(s, " ")
	return name, strings.TrimSpace(typ)
}
