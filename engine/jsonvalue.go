package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/exohunter/exohunter/sql/ducktype"
)

// JSONValue converts one value scanned from DuckDB into a value that
// encoding/json renders as the Contracts require ("JSON shapes: Values"):
// DECIMAL becomes a number, HUGEINT, UHUGEINT, UBIGINT and BIGNUM become
// strings, BLOB becomes base64, DATE, TIME, TIMETZ and every TIMESTAMP become
// RFC 3339 text, LIST, ARRAY, STRUCT, MAP and UNION become JSON arrays and
// objects (STRUCT fields and MAP entries keep their order), UUID becomes its
// canonical text, INTERVAL an ISO 8601 duration, and NaN and ±Inf become
// null. dbType is the column's DuckDB type as the driver reports it
// (sql.ColumnType.DatabaseTypeName) or as DESCRIBE prints it; it decides
// between types that scan to the same Go type (DATE and TIMESTAMP, UUID and
// BLOB). An empty or unknown dbType falls back on the Go type.
func JSONValue(v any, dbType string) any {
	return jsonValue(v, ducktype.Parse(dbType))
}

// CSVCell formats one value scanned from DuckDB as a CSV cell, consistently
// with JSONValue: NULL, NaN and ±Inf are empty, numbers use the shortest
// exact form, dates and times are RFC 3339, BLOB is base64, and nested
// values are compact JSON. It does not neutralise formulas; wrap text cells
// with SpreadsheetSafe for downloads meant for spreadsheets.
func CSVCell(v any, dbType string) string {
	return csvCellText(jsonValue(v, ducktype.Parse(dbType)))
}

// SpreadsheetSafe neutralises a text cell that a spreadsheet would run as a
// formula (it starts with =, +, -, @, tab or carriage return) by prefixing a
// single quote. Apply it to text columns only: negative numbers in numeric
// columns are data, not formulas.
func SpreadsheetSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// isTextDBType reports whether dbType is a text column for SpreadsheetSafe.
func isTextDBType(dbType string) bool {
	switch ducktype.Parse(dbType).Name {
	case "VARCHAR", "ENUM":
		return true
	}
	return false
}

// csvCellText renders a JSONValue result as CSV cell text.
func csvCellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return string(x)
	case json.RawMessage:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int8, int16, int32, int64, int, uint8, uint16, uint32:
		return fmt.Sprint(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func jsonValue(v any, t *ducktype.Type) any {
	if v == nil {
		return nil
	}
	switch t.Name {
	case "UUID":
		if b, ok := v.([]byte); ok && len(b) == 16 {
			return jsonUUID(b)
		}
	case "DATE":
		if tm, ok := v.(time.Time); ok {
			if !rfc3339Year(tm) {
				return nil
			}
			return tm.Format("2006-01-02")
		}
	case "TIME", "TIME_NS":
		if tm, ok := v.(time.Time); ok {
			return jsonClock(tm)
		}
	case "TIMETZ":
		if tm, ok := v.(time.Time); ok {
			return jsonClock(tm) + tm.Format("Z07:00")
		}
	case "JSON":
		return jsonText(v)
	case "LIST", "ARRAY":
		if xs, ok := v.([]any); ok {
			out := make([]any, len(xs))
			for i, x := range xs {
				out[i] = jsonValue(x, t.ElemType())
			}
			return out
		}
	case "STRUCT":
		if m, ok := v.(map[string]any); ok {
			return jsonStructObject(m, t)
		}
	case "MAP":
		if m, ok := v.(duckdb.OrderedMap); ok {
			return jsonMapObject(m, t)
		}
	case "UNION":
		if u, ok := v.(duckdb.Union); ok {
			return jsonValue(u.Value, t.FieldType(u.Tag))
		}
	}
	return jsonScalarValue(v)
}

// jsonScalarValue converts by Go type alone.
func jsonScalarValue(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	case float32:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
		// note: float64(x) would print float32 noise (0.1 -> 0.10000000149011612).
		return json.Number(strconv.FormatFloat(f, 'g', -1, 32))
	case duckdb.Decimal:
		if x.Value == nil {
			return nil
		}
		return json.Number(x.String())
	case *big.Int:
		if x == nil {
			return nil
		}
		return x.String()
	case uint64:
		return strconv.FormatUint(x, 10)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case time.Time:
		if !rfc3339Year(x) {
			return nil
		}
		return x.UTC().Format(time.RFC3339Nano)
	case duckdb.Interval:
		return jsonInterval(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e, ducktype.Unknown)
		}
		return out
	case map[string]any:
		return jsonStructObject(x, ducktype.Unknown)
	case duckdb.OrderedMap:
		return jsonMapObject(x, ducktype.Unknown)
	case duckdb.Union:
		return jsonValue(x.Value, ducktype.Unknown)
	case bool, string, int8, int16, int32, int64, int, uint8, uint16, uint32, json.Number, json.RawMessage:
		return x
	}
	return fmt.Sprint(v)
}

// jsonText turns a JSON column into raw JSON. The driver decodes JSON
// columns itself; the console casts them to VARCHAR first (the driver fails
// on DuckDB's bare NaN), so both shapes arrive here.
func jsonText(v any) any {
	if s, ok := v.(string); ok {
		if json.Valid([]byte(s)) {
			return json.RawMessage(s)
		}
		return s
	}
	return jsonValue(v, ducktype.Unknown)
}

// jsonObject is an object whose members keep their order when encoded.
type jsonObject []jsonMember

type jsonMember struct {
	Key   string
	Value any
}

// MarshalJSON implements json.Marshaler.
func (o jsonObject) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := json.Marshal(m.Key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(m.Value)
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// jsonStructObject orders a STRUCT's fields as the type declares them (the
// driver hands them over in a Go map), then any others by name.
func jsonStructObject(m map[string]any, t *ducktype.Type) jsonObject {
	out := make(jsonObject, 0, len(m))
	seen := make(map[string]bool, len(m))
	for _, f := range t.Fields {
		if v, ok := m[f.Name]; ok {
			out = append(out, jsonMember{f.Name, jsonValue(v, f.Type)})
			seen[f.Name] = true
		}
	}
	rest := make([]string, 0, len(m))
	for k := range m {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		out = append(out, jsonMember{k, jsonValue(m[k], ducktype.Unknown)})
	}
	return out
}

// jsonMapObject renders a MAP as an object; keys that are not text become their
// JSON text (MAP(INTEGER, …) key 1 becomes "1").
func jsonMapObject(m duckdb.OrderedMap, t *ducktype.Type) jsonObject {
	keys, vals := m.Keys(), m.Values()
	out := make(jsonObject, len(keys))
	for i, k := range keys {
		out[i] = jsonMember{csvCellText(jsonValue(k, t.KeyType())), jsonValue(vals[i], t.ValueType())}
	}
	return out
}

func jsonUUID(b []byte) string {
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&0xf])
	}
	return string(out)
}

// rfc3339Year reports whether t's year has the four digits RFC 3339 allows.
// DuckDB's 'infinity' and '-infinity' dates and timestamps arrive as years
// such as 5881580 and -290308; like NaN and Inf they become null.
func rfc3339Year(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 0 && y <= 9999
}

// jsonClock prints an RFC 3339 partial-time. DuckDB's TIME '24:00:00'
// arrives as midnight of the next day.
func jsonClock(t time.Time) string {
	if t.Day() != 1 || t.Month() != time.January {
		return "24:00:00"
	}
	s := fmt.Sprintf("%02d:%02d:%02d", t.Hour(), t.Minute(), t.Second())
	if ns := t.Nanosecond(); ns != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%09d", ns), "0")
	}
	return s
}

// jsonInterval prints an ISO 8601 duration such as P1Y2M3DT4H5M6.789S.
// DuckDB keeps months, days and microseconds apart (each may be negative),
// so each part keeps its own sign.
func jsonInterval(iv duckdb.Interval) string {
	var b strings.Builder
	b.WriteByte('P')
	if y := iv.Months / 12; y != 0 {
		fmt.Fprintf(&b, "%dY", y)
	}
	if m := iv.Months % 12; m != 0 {
		fmt.Fprintf(&b, "%dM", m)
	}
	if iv.Days != 0 {
		fmt.Fprintf(&b, "%dD", iv.Days)
	}
	if us := iv.Micros; us != 0 {
		b.WriteByte('T')
		h, us := us/3_600_000_000, us%3_600_000_000
		m, us := us/60_000_000, us%60_000_000
		if h != 0 {
			fmt.Fprintf(&b, "%dH", h)
		}
		if m != 0 {
			fmt.Fprintf(&b, "%dM", m)
		}
		if us != 0 {
			s := strconv.FormatFloat(float64(us)/1e6, 'f', -1, 64)
			fmt.Fprintf(&b, "%sS", s)
		}
	}
	if b.Len() == 1 {
		return "PT0S"
	}
	return b.String()
}
