package engine

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// SQLPosition locates an error in the SQL text a user submitted: 1-based
// line and column, the column counted in characters.
type SQLPosition struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// ErrorSQLPosition returns where in the submitted SQL err was found, when
// DuckDB reported it. The same position is in the error's Details as
// {"field":"sql","message":"line L, column C"}.
func ErrorSQLPosition(err error) (SQLPosition, bool) {
	var p *sqlPositionError
	if errors.As(err, &p) {
		return p.pos, true
	}
	return SQLPosition{}, false
}

type sqlPositionError struct {
	pos   SQLPosition
	cause error
}

func (e *sqlPositionError) Error() string {
	at := fmt.Sprintf("line %d, column %d", e.pos.Line, e.pos.Column)
	if e.cause == nil {
		return at
	}
	return at + ": " + e.cause.Error()
}

func (e *sqlPositionError) Unwrap() error { return e.cause }

// withSQLPosition adds pos to e's message, details and cause chain.
func withSQLPosition(e *Error, pos SQLPosition) *Error {
	at := fmt.Sprintf("line %d, column %d", pos.Line, pos.Column)
	e.Msg += " (" + at + ")"
	e.Details = append(e.Details, Detail{Field: "sql", Message: at})
	e.Err = &sqlPositionError{pos: pos, cause: e.Err}
	return e
}

// sqlPositionAt converts an offset in characters (as json_serialize_sql
// reports it) to a line and column.
func sqlPositionAt(text string, chars int) SQLPosition {
	pos := SQLPosition{Line: 1, Column: 1}
	for _, r := range text {
		if chars == 0 {
			break
		}
		chars--
		if r == '\n' {
			pos.Line, pos.Column = pos.Line+1, 1
		} else {
			pos.Column++
		}
	}
	return pos
}

// consoleWrapperLines is how many lines the console puts before the user's
// text in the statements it runs: the user's line 1 is DuckDB's LINE 2.
const consoleWrapperLines = 1

// cancelledError is the answer of a query stopped before it ended: by
// DELETE /api/query/{id} (Cancel), or because its request ended (the
// client went away, the server is shutting down). A Conflict, not a
// BadRequest: nothing is wrong with the query, and running it again gets
// its result.
func cancelledError(ctx context.Context, q consoleQuery) error {
	if errors.Is(context.Cause(ctx), errConsoleCancelled) {
		return &Error{Code: Conflict, Msg: fmt.Sprintf("query %s was cancelled by DELETE /api/query/%s before it ended; run it again for its result", q.id, q.id), Err: context.Canceled}
	}
	return &Error{Code: Conflict, Msg: fmt.Sprintf("query %s was cancelled: its request ended before the query did", q.id), Err: context.Canceled}
}

// consoleError turns an error from running a console query into an *Error
// for the client. user is the text as run (same lines and offsets as the
// text submitted).
func consoleError(ctx context.Context, err error, q consoleQuery, user string) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	var de *duckdb.Error
	isDuck := errors.As(err, &de)
	switch msg := storageFault(err); {
	case msg != "":
		// note: a full disk (or spill folder) is the server's condition,
		// not the query's; DuckDB's own text names a server path.
		return Wrap(Storage, err, "%s", msg)
	case isDuck && de.Type == duckdb.ErrorTypeOutOfMemory:
		// note: before the deadline case: a query that ran out of memory
		// after its time limit passed must not be reported as slow.
		return Wrap(TooLarge, err, "the query needs more memory than the server allows (DuckDB's memory_limit); filter or aggregate the data, or select fewer columns")
	case errors.Is(context.Cause(ctx), errConsoleCancelled) || errors.Is(ctx.Err(), context.Canceled):
		return cancelledError(ctx, q)
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return Wrap(Timeout, err, "the query ran longer than its time limit of %s and was stopped; narrow it down, or raise the time limit (timeout_ms, or --timeout-ms on the command line; at most %d ms)", q.timeout, q.maxTimeout.Milliseconds())
	}
	if !isDuck {
		return Wrap(Internal, err, "console query")
	}
	head, pos, hasPos := consoleSplitMessage(de.Msg, user, consoleWrapperLines)
	var out *Error
	switch de.Type {
	case duckdb.ErrorTypeFatal, duckdb.ErrorTypeInternal:
		return Wrap(Internal, err, "console query")
	case duckdb.ErrorTypeInterrupt:
		return Wrap(BadRequest, err, "the query was interrupted")
	case duckdb.ErrorTypePermission:
		out = Wrap(BadRequest, err, "the console cannot reach files outside the registered data: %s", head)
	case duckdb.ErrorTypeTransaction:
		if strings.Contains(head, "read-only") {
			out = Wrap(BadRequest, err, "the console is read-only: %s", head)
		}
	}
	if de.Type == duckdb.ErrorTypeCatalog {
		head = consoleCatalogHint(head)
	}
	if out == nil {
		out = Wrap(BadRequest, err, "%s", head)
	}
	if hasPos {
		out = withSQLPosition(out, pos)
	}
	return out
}

var consoleLineRe = regexp.MustCompile(`^LINE (\d+): `)

// consoleSuggestionRe is DuckDB's guess after a name it cannot find.
var consoleSuggestionRe = regexp.MustCompile(`(?s)\s*Did you mean "([^"]*)"\?\s*$`)

// consoleTablesHint says where the queryable tables are listed.
const consoleTablesHint = "catalog.tables lists every table and view you can query: SELECT schema_name, table_name, description FROM catalog.tables"

// consoleCatalogHint keeps DuckDB's guess for a table it cannot find when
// the guess is one of ours (raw.toi for raw.tio, runs.results for
// results), and replaces a guess from DuckDB's own system catalog
// (pg_enum for a name like nope, which points a scientist nowhere) with
// where the tables are listed.
func consoleCatalogHint(head string) string {
	if !strings.Contains(head, "Table with name") || !strings.Contains(head, "does not exist") {
		return head
	}
	m := consoleSuggestionRe.FindStringSubmatchIndex(head)
	if m == nil {
		return head + "\n" + consoleTablesHint
	}
	guess := strings.ToLower(head[m[2]:m[3]])
	for _, p := range []string{"pg_", "duckdb_", "sqlite_", "information_schema", "pragma_", "main.", "system.", "temp."} {
		if strings.HasPrefix(guess, p) {
			return head[:m[0]] + "\n" + consoleTablesHint
		}
	}
	return head
}

// consoleSplitMessage separates DuckDB's message from the "LINE n: context"
// block it appends, and locates the caret in the user's text. DuckDB may
// shorten a long line to "...middle..."; the context is found in the line
// to recover the column.
func consoleSplitMessage(msg, user string, skipLines int) (string, SQLPosition, bool) {
	i := strings.Index(msg, "\n\nLINE ")
	if i < 0 {
		return strings.TrimSpace(msg), SQLPosition{}, false
	}
	head, block := strings.TrimSpace(msg[:i]), msg[i+2:]
	ctxLine, caretLine, _ := strings.Cut(block, "\n")
	m := consoleLineRe.FindStringSubmatch(ctxLine)
	caret := strings.IndexByte(caretLine, '^')
	if m == nil || caret < len(m[0]) {
		return head, SQLPosition{}, false
	}
	n, _ := strconv.Atoi(m[1])
	line := n - skipLines
	lines := strings.Split(user, "\n")
	if line < 1 || line > len(lines) {
		return head, SQLPosition{}, false
	}
	text, shown, at := lines[line-1], ctxLine[len(m[0]):], caret-len(m[0])
	if strings.HasPrefix(shown, "...") {
		shown, at = shown[3:], at-3
	}
	shown = strings.TrimSuffix(shown, "...")
	start := strings.Index(text, shown)
	if start < 0 || at < 0 {
		return head, SQLPosition{}, false
	}
	// note: the caret is placed in display columns (a wide character such
	// as 🦆 takes two), not in bytes or characters.
	off := start
	for w := 0; w < at && off < len(text); {
		r, size := utf8.DecodeRuneInString(text[off:])
		w += consoleRuneWidth(r)
		off += size
	}
	col := utf8.RuneCountInString(text[:off]) + 1
	return head, SQLPosition{Line: line, Column: col}, true
}

// consoleRuneWidth approximates the terminal width DuckDB gives a character
// when it places the caret: 0 for combining marks, 2 for East Asian wide
// characters and emoji, 1 otherwise.
func consoleRuneWidth(r rune) int {
	switch {
	case unicode.In(r, unicode.Mn, unicode.Me) || r == 0x200D || (r >= 0xFE00 && r <= 0xFE0F):
		return 0
	case r >= 0x1100 && r <= 0x115F, r >= 0x2E80 && r <= 0xA4CF && r != 0x303F,
		r >= 0xAC00 && r <= 0xD7A3, r >= 0xF900 && r <= 0xFAFF, r >= 0xFE30 && r <= 0xFE4F,
		r >= 0xFF00 && r <= 0xFF60, r >= 0xFFE0 && r <= 0xFFE6, r >= 0x1F300 && r <= 0x1F64F,
		r >= 0x1F680 && r <= 0x1F6FF, r >= 0x1F900 && r <= 0x1F9FF, r >= 0x20000 && r <= 0x3FFFD:
		return 2
	}
	return 1
}
