// Package sqltmpl holds every SQL statement of ExoHunter, embedded, and the
// pure renderer that turns validated config values into SQL text.
//
// Templates never receive a plain string: data passed to a template holds
// Ident (a quoted identifier), Lit (a quoted string literal), Num (a finite
// number) or Expr (a validated expression), each printing itself safely
// through fmt.Stringer. Importers use the alias sqltmpl because the
// directory name collides with database/sql.
package sqltmpl

import (
	"math"
	"strconv"
	"strings"
)

// Ident is an SQL identifier. It prints double-quoted with inner quotes
// doubled, so any name is safe to splice.
type Ident string

// String returns the quoted identifier.
func (i Ident) String() string {
	return `"` + strings.ReplaceAll(string(i), `"`, `""`) + `"`
}

// QualifiedIdent is schema.name, each part quoted.
type QualifiedIdent struct {
	Schema Ident
	Name   Ident
}

// String returns "schema"."name", or just "name" without a schema.
func (q QualifiedIdent) String() string {
	if q.Schema == "" {
		return q.Name.String()
	}
	return q.Schema.String() + "." + q.Name.String()
}

// Lit is an SQL string literal. It prints single-quoted with inner quotes
// doubled; file paths are spliced through it too.
type Lit string

// String returns the quoted literal.
func (l Lit) String() string {
	return "'" + strings.ReplaceAll(string(l), "'", "''") + "'"
}

// Num is a numeric literal. Non-finite values print as NULL, because DuckDB
// has no literal for them and they must never reach a table.
type Num float64

// String returns the shortest decimal form that round-trips.
func (n Num) String() string {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "NULL"
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		// note: whole numbers print without an exponent (2454833, not 2.454833e+06).
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// Expr is an SQL expression that has been validated (parsed by DuckDB or
// composed by this package). It prints wrapped in parentheses so that it
// composes without precedence surprises.
type Expr string

// String returns (expr).
func (e Expr) String() string { return "(" + string(e) + ")" }
