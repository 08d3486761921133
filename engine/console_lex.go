package engine

import (
	"strings"
	"unicode/utf8"
)

// A small SQL lexer for the console. It knows DuckDB's comments (-- and
// nested /* */), quoted strings ('...', E'...' with backslash escapes, $tag$
// dollar quotes) and quoted identifiers, which is enough to find semicolons
// and each statement's first keyword. It never decides what may run (DuckDB's
// parser does); a mistake here can only make a message less precise or a
// query fail the wrapper check.

type sqlTokenKind int

const (
	tokSpace sqlTokenKind = iota
	tokComment
	tokSemicolon
	tokWord
	tokString // '...', E'...', $$...$$ and "..."
	tokOther
)

type sqlToken struct {
	kind       sqlTokenKind
	start, end int
}

func lexSQL(s string) []sqlToken {
	var toks []sqlToken
	for i := 0; i < len(s); {
		kind, end := lexSQLToken(s, i)
		toks = append(toks, sqlToken{kind, i, end})
		i = end
	}
	return toks
}

// lexSQLToken returns the kind and end of the token starting at i.
func lexSQLToken(s string, i int) (sqlTokenKind, int) {
	c := s[i]
	switch {
	case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
		return tokSpace, i + 1
	case strings.HasPrefix(s[i:], "--"):
		if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
			return tokComment, i + j + 1
		}
		return tokComment, len(s)
	case strings.HasPrefix(s[i:], "/*"):
		return tokComment, sqlBlockCommentEnd(s, i)
	case c == ';':
		return tokSemicolon, i + 1
	case c == '\'':
		return tokString, sqlQuotedEnd(s, i+1, '\'', false)
	case c == '"':
		return tokString, sqlQuotedEnd(s, i+1, '"', false)
	case c == '$':
		if end, ok := sqlDollarQuoteEnd(s, i); ok {
			return tokString, end
		}
		return tokOther, i + 1
	case sqlWordByte(c):
		j := i
		for j < len(s) && (sqlWordByte(s[j]) || s[j] == '$') {
			j++
		}
		if j-i == 1 && (c == 'E' || c == 'e') && j < len(s) && s[j] == '\'' {
			return tokString, sqlQuotedEnd(s, j+1, '\'', true)
		}
		return tokWord, j
	}
	_, size := utf8.DecodeRuneInString(s[i:])
	return tokOther, i + size
}

func sqlWordByte(c byte) bool {
	return c == '_' || c >= 0x80 || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// sqlBlockCommentEnd finds the end of a (nested) block comment starting at i,
// or the end of s when it is not closed.
func sqlBlockCommentEnd(s string, i int) int {
	depth := 0
	for j := i; j+1 < len(s); j++ {
		switch s[j : j+2] {
		case "/*":
			depth++
			j++
		case "*/":
			depth--
			j++
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(s)
}

// sqlQuotedEnd finds the end of a quoted token whose body starts at i; a
// doubled quote is an escaped quote, and so is a backslash in E'...' strings.
func sqlQuotedEnd(s string, i int, q byte, backslash bool) int {
	for j := i; j < len(s); j++ {
		switch {
		case backslash && s[j] == '\\':
			j++
		case s[j] == q:
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

// sqlDollarQuoteEnd recognises $$...$$ and $tag$...$tag$ (but not $1 or
// $name parameters) and returns where it ends.
func sqlDollarQuoteEnd(s string, i int) (int, bool) {
	j := i + 1
	for j < len(s) && (s[j] == '_' || ('a' <= s[j] && s[j] <= 'z') || ('A' <= s[j] && s[j] <= 'Z') || (j > i+1 && '0' <= s[j] && s[j] <= '9')) {
		j++
	}
	if j >= len(s) || s[j] != '$' {
		return 0, false
	}
	tag := s[i : j+1]
	if k := strings.Index(s[j+1:], tag); k >= 0 {
		return j + 1 + k + len(tag), true
	}
	return len(s), true
}

// sqlHasCode reports whether the tokens hold anything but space, comments and
// semicolons.
func sqlHasCode(toks []sqlToken) bool {
	for _, t := range toks {
		if t.kind != tokSpace && t.kind != tokComment && t.kind != tokSemicolon {
			return true
		}
	}
	return false
}

// sqlStatementKeywords splits s at semicolons and returns each non-empty
// statement's first word, upper-cased ("" when it starts with something
// else, such as a parenthesis).
func sqlStatementKeywords(s string) []string {
	var out []string
	started := false
	for _, t := range lexSQL(s) {
		switch t.kind {
		case tokSemicolon:
			started = false
		case tokSpace, tokComment:
		default:
			if !started {
				started = true
				kw := ""
				if t.kind == tokWord {
					kw = strings.ToUpper(s[t.start:t.end])
				}
				out = append(out, kw)
			}
		}
	}
	return out
}

// sqlTrimSemicolons blanks out the semicolons before the first and after the
// last token of code, so that "SELECT 1;" can be wrapped as a subquery.
// Offsets and line numbers are unchanged.
func sqlTrimSemicolons(s string) string {
	toks := lexSQL(s)
	first, last := -1, -1
	for i, t := range toks {
		if t.kind != tokSpace && t.kind != tokComment && t.kind != tokSemicolon {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	b := []byte(s)
	for i, t := range toks {
		if t.kind == tokSemicolon && (i < first || i > last) {
			b[t.start] = ' '
		}
	}
	return string(b)
}
