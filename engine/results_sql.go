package engine

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	sq "github.com/Masterminds/squirrel"

	"github.com/exohunter/exohunter/engine/spec"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// Request-shaped SQL of the results endpoints (STYLE rule 12): squirrel
// with ? placeholders; every column name is checked against the run's
// columns and then quoted with sqltmpl.Ident; every value is a bound
// parameter.

// ident quotes an allow-listed column name.
func ident(name string) string { return sqltmpl.Ident(name).String() }

// resultsFilter is a validated WHERE clause over one run.
type resultsFilter struct {
	conds sq.And
	sql   string // rendered conds, "" for none
	args  []any
	cols  []string // the columns the conds read
}

// key identifies the filter for the count cache.
func (f *resultsFilter) key(runID string, extra ...string) string {
	var b strings.Builder
	b.WriteString(runID)
	b.WriteByte(0)
	b.WriteString(f.sql)
	for _, a := range f.args {
		fmt.Fprintf(&b, "\x00%T:%v", a, a)
	}
	for _, x := range extra {
		b.WriteByte(0)
		b.WriteString(x)
	}
	return b.String()
}

// filter validates q's filters against the run and renders them. Every
// problem is reported at once as a BadRequest.
func (r *resultRun) filter(q ResultsQuery) (*resultsFilter, error) {
	p := &paramErrors{}
	var conds sq.And
	if vals := q.Category; len(vals) > 0 {
		checkCategories(p, "category", vals)
		conds = appendIn(conds, p, r, "category", "category", vals)
	}
	if vals := q.Tag; len(vals) > 0 {
		checkCategories(p, "tag", vals)
		conds = appendListHas(conds, p, r, "tag", "tags", vals)
	}
	if vals := q.Flag; len(vals) > 0 {
		conds = appendListHas(conds, p, r, "flag", "flags", canonicalFlags(p, r.flags, vals))
	}
	if vals := q.Disposition; len(vals) > 0 {
		conds = appendDisposition(conds, p, r, vals)
	}
	if q.MinScore != nil {
		conds = appendRange(conds, p, r, RangeFilter{Column: "score", Op: "gte", Value: num(*q.MinScore)}, "min_score")
	}
	if q.MaxScore != nil {
		conds = appendRange(conds, p, r, RangeFilter{Column: "score", Op: "lte", Value: num(*q.MaxScore)}, "max_score")
	}
	for _, rf := range q.Ranges {
		conds = appendRange(conds, p, r, rf, rf.Column+"__"+rf.Op)
	}
	if s := strings.TrimSpace(q.Q); s != "" && p.err() == nil {
		// note: last, since its whole-match test reads the other filters.
		conds = appendSearch(conds, r, s, filterColumns(q, r))
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	f := &resultsFilter{conds: conds, cols: filterColumns(q, r)}
	if len(conds) > 0 {
		s, args, err := conds.ToSql()
		if err != nil {
			return nil, fmt.Errorf("render results filter: %w", err)
		}
		f.sql, f.args = s, args
	}
	return f, nil
}

// filterColumns lists the columns q's filters read (validated by filter).
func filterColumns(q ResultsQuery, r *resultRun) []string {
	var cols []string
	for _, c := range []struct {
		on  bool
		col string
	}{
		{len(q.Category) > 0, "category"}, {len(q.Tag) > 0, "tags"}, {len(q.Flag) > 0, "flags"},
		{len(q.Disposition) > 0, "koi_disposition"}, {q.MinScore != nil || q.MaxScore != nil, "score"},
	} {
		if c.on {
			cols = append(cols, c.col)
		}
	}
	if strings.TrimSpace(q.Q) != "" {
		for _, c := range searchColumns {
			if r.has(c) {
				cols = append(cols, c)
			}
		}
	}
	for _, rf := range q.Ranges {
		cols = append(cols, rf.Column)
	}
	return cols
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// appendIn adds col IN (?, ...).
func appendIn(conds sq.And, p *paramErrors, r *resultRun, param, col string, vals []string) sq.And {
	if _, err := r.col(param, col); err != nil {
		p.addErr(err)
		return conds
	}
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	return append(conds, sq.Expr(ident(col)+" IN ("+sq.Placeholders(len(vals))+")", args...))
}

// checkCategories refuses a category or tag that no run can hold (tags
// are the categories that apply), as an unknown disposition is refused:
// a typo would otherwise answer an empty page that looks like a result.
func checkCategories(p *paramErrors, param string, vals []string) {
	for _, v := range vals {
		if !slices.Contains(spec.Categories, v) {
			p.add(param, "Unknown %s %q: use one of %s.", param, v, strings.Join(spec.Categories, ", "))
		}
	}
}

// canonicalFlags maps each value to the rules' flag it names, in any case
// and with or without the FLAG_ prefix (the dashboard shows
// RADIUS_TOO_LARGE and radius_too_large for FLAG_RADIUS_TOO_LARGE); a
// value that names no flag is reported, since it would match nothing
// without a word. Without known flags (no rules loaded) values pass as
// they are.
func canonicalFlags(p *paramErrors, known, vals []string) []string {
	if len(known) == 0 {
		return vals
	}
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		want := strings.ToUpper(strings.TrimSpace(v))
		i := slices.IndexFunc(known, func(k string) bool { return k == want || k == "FLAG_"+want })
		if i < 0 {
			p.add("flag", "Unknown flag %q. The flags are %s (with or without FLAG_, any case).", v, strings.Join(known, ", "))
			continue
		}
		out = append(out, known[i])
	}
	return out
}

// appendListHas adds (list_contains(col, ?) OR ...): rows whose list holds
// any of the values.
func appendListHas(conds sq.And, p *paramErrors, r *resultRun, param, col string, vals []string) sq.And {
	c, err := r.col(param, col)
	if err != nil {
		p.addErr(err)
		return conds
	}
	if !isListType(c.Type) {
		p.add(param, "Column %s is not a list in run %s.", col, r.id)
		return conds
	}
	or := make(sq.Or, len(vals))
	for i, v := range vals {
		or[i] = sq.Expr("list_contains("+ident(col)+", ?)", v)
	}
	return append(conds, or)
}

// appendDisposition adds the koi_disposition filter; MISSING (or NONE,
// NULL) matches rows without a disposition.
func appendDisposition(conds sq.And, p *paramErrors, r *resultRun, vals []string) sq.And {
	const col = "koi_disposition"
	if _, err := r.col("disposition", col); err != nil {
		p.addErr(err)
		return conds
	}
	var or sq.Or
	var in []any
	for _, v := range vals {
		d := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(v), "_", " "))
		switch d {
		case "CONFIRMED", "CANDIDATE", "FALSE POSITIVE":
			in = append(in, d)
		case "MISSING", "NONE", "NULL":
			or = append(or, sq.Expr(ident(col)+" IS NULL"))
		default:
			p.add("disposition", "Unknown disposition %q: use CONFIRMED, CANDIDATE, FALSE POSITIVE or MISSING.", v)
		}
	}
	if len(in) > 0 {
		or = append(or, sq.Expr(ident(col)+" IN ("+sq.Placeholders(len(in))+")", in...))
	}
	if len(or) == 0 {
		return conds
	}
	return append(conds, or)
}

// searchColumns are the id columns the q search looks in.
var searchColumns = []string{"object_id", "star_id", "kepler_name"}

// appendSearch adds the q search over the id columns the run has. An id
// or name typed whole shows just its objects: equal to one (any case), or
// one without its planet suffix (K00087 or KOI-87 for K00087.01, TOI-700
// for 700.01 or for the planets of the star TOI-700, Kepler-22 for
// Kepler-22 b, a star id for its planets). Otherwise every object whose
// ids contain q (or the catalog form of a TOI-/KOI- number) is shown: a
// substring search alone put Kepler-227 b before Kepler-22 b, and 1700.01
// before TOI-700.01. Whether q matches whole is decided among the rows the
// other filters (conds, over cols) keep.
func appendSearch(conds sq.And, r *resultRun, s string, cols []string) sq.And {
	var whole, part sq.Or
	for _, col := range searchColumns {
		if !r.has(col) {
			continue
		}
		c := "lower(" + ident(col) + ")"
		for i, n := range searchNeedles(s) {
			// note: the catalog form of a TOI-/KOI- number (i > 0) is an
			// object id, and a prefix of one: as a substring, TOI-700's
			// "700" matched 74 KOIs and any star id holding 700.
			if i > 0 && col != "object_id" {
				continue
			}
			whole = append(whole, sq.Expr("("+c+" = ? OR starts_with("+c+", ?) OR starts_with("+c+", ?))", n, n+".", n+" "))
			if i > 0 {
				part = append(part, sq.Expr("starts_with("+c+", ?)", n))
			} else {
				part = append(part, sq.Expr("contains("+c+", ?)", n))
			}
		}
	}
	if len(whole) == 0 {
		return conds
	}
	within := append(sq.And{}, conds...)
	within = append(within, whole)
	w, args, err := within.ToSql()
	if err != nil {
		return append(conds, part)
	}
	// note: the rows the outer query reads (the index when it holds every
	// column involved); DuckDB runs the uncorrelated EXISTS once.
	src := r.source(cols...)
	return append(conds, sq.Or{whole, sq.And{sq.Expr("NOT EXISTS (SELECT 1 FROM "+src+" WHERE "+w+")", args...), part}})
}

// searchNeedles is q in lower case and, for a TOI or KOI number, also the
// id the KOI and TOI tables hold for it (TOI-700.01 is 700.01, KOI-87.01
// is K00087.01); other catalogs (K2, Planetary Systems) name objects
// "TOI-700 d" and keep q as typed.
func searchNeedles(s string) []string {
	n := strings.ToLower(strings.TrimSpace(s))
	m := missionPrefixRe.FindStringSubmatch(n)
	if m == nil {
		return []string{n}
	}
	num, rest := strings.TrimLeft(m[2], "0"), m[3]
	if m[1] == "toi" {
		return []string{n, cmp.Or(num, "0") + rest}
	}
	if len(num) <= 5 {
		return []string{n, "k" + strings.Repeat("0", 5-len(num)) + num + rest}
	}
	return []string{n}
}

// missionPrefixRe matches "toi-700", "TOI 700.01", "koi87" and the like.
var missionPrefixRe = regexp.MustCompile(`^(toi|koi)[- _]?(\d+)(\.\d+)?$`)

// appendRange adds column <op> ?, the value converted to the column's type.
// Numeric columns take finite numbers; text and boolean columns take eq and
// ne only.
func appendRange(conds sq.And, p *paramErrors, r *resultRun, rf RangeFilter, param string) sq.And {
	c, err := r.col(param, rf.Column)
	if err != nil {
		p.addErr(err)
		return conds
	}
	op, ok := rangeOps[rf.Op]
	if !ok {
		p.add(param, "Unknown operator %q: use gte, gt, lte, lt, eq or ne.", rf.Op)
		return conds
	}
	var arg any
	switch {
	case isNumericType(c.Type):
		f, err := strconv.ParseFloat(strings.TrimSpace(rf.Value), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			p.add(param, "%s needs a finite number, not %q.", param, rf.Value)
			return conds
		}
		arg = f
	case isTemporalType(c.Type):
		t, ok := parseTime(rf.Value)
		if !ok {
			p.add(param, "%s needs a date or time such as 2019-07-24 or 2019-07-24T15:58:33Z, not %q.", param, rf.Value)
			return conds
		}
		arg = t
	case isListType(c.Type):
		p.add(param, "Column %s is a list (%s) and cannot be compared to a value; filter tags with tag= and flags with flag=.", rf.Column, c.Type)
		return conds
	case rf.Op != "eq" && rf.Op != "ne":
		p.add(param, "Column %s is %s, not numeric: it takes __eq and __ne only.", rf.Column, c.Type)
		return conds
	case c.Type == "VARCHAR":
		arg = rf.Value
	case c.Type == "BOOLEAN":
		b, err := strconv.ParseBool(strings.TrimSpace(rf.Value))
		if err != nil {
			p.add(param, "%s needs true or false, not %q.", param, rf.Value)
			return conds
		}
		arg = b
	default:
		p.add(param, "Column %s (%s) cannot be filtered.", rf.Column, c.Type)
		return conds
	}
	return append(conds, sq.Expr(ident(rf.Column)+" "+op+" ?", arg))
}

// isTemporalType reports DATE and the TIMESTAMP types.
func isTemporalType(t string) bool { return t == "DATE" || strings.HasPrefix(t, "TIMESTAMP") }

// timeLayouts are the forms a date or time filter takes: RFC 3339 (as the
// pages print times), DuckDB's own, and a bare date.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05.999999999", "2006-01-02"}

// parseTime reads a filter or cursor time; a time without a zone is UTC,
// as the catalogs' TIMESTAMP columns are.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// resultsOrder is a validated sort: a column, a direction, NULLs last and
// row_id as the tie-breaker.
type resultsOrder struct {
	col  Column
	desc bool
}

// order validates q.Sort and q.Order against the run.
func (r *resultRun) order(q ResultsQuery) (resultsOrder, error) {
	name := q.Sort
	if name == "" {
		name = "row_id"
	}
	c, err := r.col("sort", name)
	if err != nil {
		return resultsOrder{}, err
	}
	if !isNumericType(c.Type) && !isTemporalType(c.Type) && c.Type != "VARCHAR" && c.Type != "BOOLEAN" {
		return resultsOrder{}, Errorf(BadRequest, "Cannot sort by %s: its type %s has no order; sort by a number, date, text or boolean column.", name, c.Type)
	}
	return resultsOrder{col: c, desc: q.Order == "desc"}, nil
}

// isRowID reports the default sort, which needs no tie-breaker.
func (o resultsOrder) isRowID() bool { return o.col.Name == "row_id" }

// sql renders the ORDER BY list.
func (o resultsOrder) sql() []string {
	dir := " ASC"
	if o.desc {
		dir = " DESC"
	}
	if o.isRowID() {
		return []string{ident("row_id") + dir}
	}
	return []string{ident(o.col.Name) + dir + " NULLS LAST", ident("row_id") + " ASC"}
}

// cursor is the position after the last row of a page: its sort value and
// row_id, plus the sort it belongs to.
type cursor struct {
	Sort  string          `json:"s"`
	Desc  bool            `json:"d,omitempty"`
	Value json.RawMessage `json:"v,omitempty"` // absent when NULL
	RowID int64           `json:"r"`
}

// encodeCursor writes the cursor after a row with sort value v (nil for
// NULL) and row id rid.
func encodeCursor(o resultsOrder, v any, rid int64) (string, error) {
	c := cursor{Sort: o.col.Name, Desc: o.desc, RowID: rid}
	if v != nil && !o.isRowID() {
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		c.Value = b
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// after decodes a cursor and renders the keyset condition "rows after it in
// this order"; it also returns the cursor's row_id.
func (o resultsOrder) after(s string) (sq.Sqlizer, int64, error) {
	bad := func(why string) error {
		msg := "The cursor is not valid for this query (" + why + "): start again from the first page without a cursor."
		return &Error{Code: BadRequest, Msg: msg, Details: []Detail{{Field: "cursor", Message: msg}}}
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, 0, bad("not a cursor this server issued")
	}
	var c cursor
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		return nil, 0, bad("not a cursor this server issued")
	}
	if c.Sort != o.col.Name || c.Desc != o.desc {
		return nil, 0, bad("it belongs to another sort")
	}
	rid := ident("row_id")
	if o.isRowID() {
		if o.desc {
			return sq.Expr(rid+" < ?", c.RowID), c.RowID, nil
		}
		return sq.Expr(rid+" > ?", c.RowID), c.RowID, nil
	}
	col := ident(o.col.Name)
	if len(c.Value) == 0 || string(c.Value) == "null" {
		return sq.Expr(col+" IS NULL AND "+rid+" > ?", c.RowID), c.RowID, nil
	}
	v, err := cursorValue(c.Value, o.col.Type)
	if err != nil {
		return nil, 0, bad("its sort value does not fit the column")
	}
	cmp := " > ?"
	if o.desc {
		cmp = " < ?"
	}
	return sq.Expr("("+col+cmp+" OR ("+col+" = ? AND "+rid+" > ?) OR "+col+" IS NULL)", v, v, c.RowID), c.RowID, nil
}

// cursorValue decodes a sort value with the column's Go type, exactly: a
// DOUBLE round-trips through JSON's shortest form, a BIGINT stays an int64.
func cursorValue(raw json.RawMessage, typ string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case json.Number:
		if isIntegerType(typ) {
			if n, err := x.Int64(); err == nil {
				return n, nil
			}
			return x.String(), nil // note: HUGEINT/UBIGINT beyond int64; DuckDB casts the text
		}
		if !isNumericType(typ) {
			return nil, fmt.Errorf("a number for a %s column", typ)
		}
		return x.Float64()
	case string:
		if isTemporalType(typ) {
			if t, ok := parseTime(x); ok {
				return t, nil
			}
			return nil, fmt.Errorf("%q is not a time", x)
		}
		// note: a text value for a numeric column would reach DuckDB as a
		// failed cast (a 500); only a text column takes one.
		if !isTextDBType(typ) {
			return nil, fmt.Errorf("text for a %s column", typ)
		}
		return x, nil
	case bool:
		if typ != "BOOLEAN" {
			return nil, fmt.Errorf("a boolean for a %s column", typ)
		}
		return x, nil
	}
	return nil, fmt.Errorf("unexpected cursor value %T", v)
}

// flagNames lists the rules' flag names (nil without rules).
func (e *Engine) flagNames() []string {
	if e.bundle == nil || e.bundle.Rules == nil {
		return nil
	}
	out := make([]string, len(e.bundle.Rules.Flags))
	for i, f := range e.bundle.Rules.Flags {
		out[i] = f.Name
	}
	return out
}
