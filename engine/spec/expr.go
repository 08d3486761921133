package spec

import (
	"fmt"
	"strings"
	"unicode"
)

// Expr is an SQL expression taken from YAML, checked for the shape the
// renderer relies on: balanced parentheses, no comments, no statement
// separators, no control characters. Parameters are written $name (metric
// parameters such as $albedo) or $section.key (thresholds such as
// $planet_radius.rocky_max) and are replaced by numeric literals when the SQL
// is rendered, so an expression never carries a run's numbers itself.
type Expr struct {
	// Text is the expression with runs of whitespace outside literals
	// collapsed to one space, so it renders on one line.
	Text string
	// Columns lists the identifiers the expression reads, lower-cased, in
	// order of first use.
	Columns []string
	// Params lists the $parameters the expression uses, in order of first use.
	Params []string

	toks []token
	// written maps each of Columns to its spelling at first use, for
	// messages (FLAG_RADIUS_TOO_BIG, not flag_radius_too_big).
	written map[string]string
}

// Written returns a column of Columns as the expression spells it.
func (e *Expr) Written(column string) string {
	if w, ok := e.written[column]; ok {
		return w
	}
	return column
}

// tokKind classifies a token of an expression.
type tokKind int

const (
	tokSpace  tokKind = iota
	tokWord           // identifier or keyword
	tokQuoted         // "quoted identifier"
	tokString         // 'literal'
	tokNumber
	tokParam // $name
	tokPunct
)

// token is one lexical piece of an expression.
type token struct {
	kind tokKind
	text string
	off  int // byte offset in the YAML value
}

// ParseExpr lexes s into an Expr. It rejects what would break rendering or
// smuggle in a second statement.
func ParseExpr(s string) (*Expr, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	e := &Expr{toks: toks}
	var b strings.Builder
	for _, t := range toks {
		if t.kind == tokSpace {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			continue
		}
		b.WriteString(t.text)
	}
	e.Text = strings.TrimSpace(b.String())
	if e.Text == "" {
		return nil, errf(ErrInvalidExpr, "(empty)")
	}
	e.Columns, e.written = referencedColumns(toks)
	seen := map[string]bool{}
	for _, t := range toks {
		if t.kind == tokParam && !seen[t.text] {
			seen[t.text] = true
			e.Params = append(e.Params, t.text[1:])
		}
	}
	return e, nil
}

// lex splits s into tokens, collapsing whitespace.
func lex(s string) ([]token, error) {
	var toks []token
	depth := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			j := i
			for j < len(s) && strings.IndexByte(" \t\n\r", s[j]) >= 0 {
				j++
			}
			toks = append(toks, token{tokSpace, " ", i})
			i = j
		case c < 0x20 || c == 0x7f:
			return nil, errf(ErrInvalidExpr, "(control character at offset %d)", i)
		case c == '\'' || c == '"':
			j := i + 1
			for ; j < len(s); j++ {
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c {
						j++
						continue
					}
					break
				}
				if s[j] < 0x20 && s[j] != '\t' {
					return nil, errf(ErrInvalidExpr, "(control character at offset %d)", j)
				}
			}
			if j >= len(s) {
				return nil, errf(ErrInvalidExpr, "(unterminated quote at offset %d)", i)
			}
			kind := tokString
			if c == '"' {
				kind = tokQuoted
			}
			toks = append(toks, token{kind, s[i : j+1], i})
			i = j + 1
		case c == '-' && strings.HasPrefix(s[i:], "--"), c == '/' && strings.HasPrefix(s[i:], "/*"):
			// a comment would swallow the rest of the rendered line
			return nil, errf(ErrInvalidExpr, "(SQL comments are not allowed; use YAML comments)")
		case c == ';':
			return nil, errf(ErrInvalidExpr, "(';' is not allowed: one expression only)")
		case c == '$':
			// $name or $section.key; a trailing dot ends the sentence,
			// not the name. $1 (a bind parameter) is refused.
			j := i + 1
			for j < len(s) && (isWordByte(s[j]) || s[j] == '.') {
				j++
			}
			name := strings.TrimRight(s[i+1:j], ".")
			if name == "" || !isLetter(name[0]) {
				return nil, errf(ErrInvalidExpr, "(a parameter is written $name, at offset %d)", i)
			}
			j = i + 1 + len(name)
			toks = append(toks, token{tokParam, s[i:j], i})
			i = j
		case isLetter(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			toks = append(toks, token{tokWord, s[i:j], i})
			i = j
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i
			for j < len(s) && (isWordByte(s[j]) || s[j] == '.' ||
				(s[j] == '+' || s[j] == '-') && (s[j-1] == 'e' || s[j-1] == 'E')) {
				j++
			}
			toks = append(toks, token{tokNumber, s[i:j], i})
			i = j
		default:
			// note: identifiers outside ASCII must be double-quoted; a
			// bare non-ASCII byte is more likely a pasted typographic sign.
			if c >= 0x80 {
				return nil, errf(ErrInvalidExpr, "(non-ASCII character at offset %d)", i)
			}
			switch c {
			case '(':
				depth++
			case ')':
				depth--
				if depth < 0 {
					return nil, errf(ErrInvalidExpr, "(unbalanced ')' at offset %d)", i)
				}
			}
			toks = append(toks, token{tokPunct, string(c), i})
			i++
		}
	}
	if depth != 0 {
		return nil, errf(ErrInvalidExpr, "(unbalanced parentheses)")
	}
	return toks, nil
}

func isLetter(c byte) bool   { return c == '_' || unicode.IsLetter(rune(c)) && c < 0x80 }
func isWordByte(c byte) bool { return isLetter(c) || c >= '0' && c <= '9' }

// sqlWords are keywords and type names that are never column references.
var sqlWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`and or not is null true false case when then else end in
		between like ilike glob similar to escape as cast try_cast distinct from exists any all some
		interval collate lambda asc desc nulls first last over partition by order rows range
		groups preceding following unbounded current row filter within group
		double float real integer int bigint smallint tinyint hugeint ubigint uinteger decimal numeric
		varchar text string boolean bool date time timestamp`) {
		m[w] = true
	}
	return m
}()

// referencedColumns returns the identifiers that name columns: words that are
// not keywords, not function names (followed by "("), not type names (after
// AS or ::), not struct fields (after "."), and not lambda parameters. They
// are lower-cased, with the spelling of each at its first use.
func referencedColumns(toks []token) ([]string, map[string]string) {
	sig := make([]token, 0, len(toks))
	for _, t := range toks {
		if t.kind != tokSpace {
			sig = append(sig, t)
		}
	}
	lambdaParams := map[string]bool{}
	for i, t := range sig {
		if t.kind != tokWord {
			continue
		}
		if i+2 < len(sig) && sig[i+1].text == "-" && sig[i+2].text == ">" {
			lambdaParams[strings.ToLower(t.text)] = true
		}
		if strings.EqualFold(t.text, "lambda") && i+1 < len(sig) {
			lambdaParams[strings.ToLower(sig[i+1].text)] = true
		}
	}
	var out []string
	written := map[string]string{}
	for i, t := range sig {
		var name, spelled string
		switch t.kind {
		case tokWord:
			name, spelled = strings.ToLower(t.text), t.text
			if sqlWords[name] || lambdaParams[name] {
				continue
			}
			if i+1 < len(sig) && sig[i+1].text == "(" {
				continue
			}
		case tokQuoted:
			spelled = strings.ReplaceAll(t.text[1:len(t.text)-1], `""`, `"`)
			name = strings.ToLower(spelled)
		default:
			continue
		}
		if i > 0 && (sig[i-1].text == "." || sig[i-1].text == ":" && i > 1 && sig[i-2].text == ":" ||
			strings.EqualFold(sig[i-1].text, "as")) {
			continue
		}
		if _, seen := written[name]; !seen {
			written[name] = spelled
			out = append(out, name)
		}
	}
	return out, written
}

// Bind returns the expression text with every $parameter replaced by the
// text lookup gives for it (the renderer passes numeric literals).
func (e *Expr) Bind(lookup func(name string) (string, bool)) (string, error) {
	var b strings.Builder
	for _, t := range e.toks {
		switch t.kind {
		case tokSpace:
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
		case tokParam:
			v, ok := lookup(t.text[1:])
			if !ok {
				return "", errf(ErrUnknownParameter, "%q", t.text)
			}
			b.WriteString(v)
		default:
			b.WriteString(t.text)
		}
	}
	return strings.TrimSpace(b.String()), nil
}

// String returns the normalized expression text.
func (e *Expr) String() string { return e.Text }

// MarshalYAML writes the expression back as its text.
func (e *Expr) MarshalYAML() (any, error) { return e.Text, nil }

// GoString helps test failure output.
func (e *Expr) GoString() string { return fmt.Sprintf("spec.Expr(%q)", e.Text) }
