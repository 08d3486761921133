package spec

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Sentinel causes. Every *Error wraps exactly one of them (with %w), so tests
// and callers use errors.Is instead of matching message text.
var (
	ErrSyntax           = errors.New("invalid YAML")
	ErrEmpty            = errors.New("file is empty")
	ErrFileMissing      = errors.New("file not found")
	ErrUnknownKey       = errors.New("unknown key")
	ErrMissingKey       = errors.New("missing required key")
	ErrNotNumber        = errors.New("not a number")
	ErrInvalidValue     = errors.New("invalid value")
	ErrInvalidName      = errors.New("invalid name")
	ErrDuplicateName    = errors.New("duplicate name")
	ErrUnknownColumn    = errors.New("unknown column")
	ErrUnknownParameter = errors.New("unknown parameter")
	ErrUnknownMission   = errors.New("unknown mission")
	ErrUnknownUnit      = errors.New("unknown unit")
	ErrUnknownCategory  = errors.New("unknown category")
	ErrMissingCategory  = errors.New("missing category")
	ErrInvalidExpr      = errors.New("invalid SQL expression")
	ErrOutOfRange       = errors.New("out of range")
	ErrContract         = errors.New("breaks the data contract")
	ErrSQL              = errors.New("rejected by DuckDB")
)

// Error is one configuration problem. It prints as
// "configs/rules.yaml:12:5: categories[3].when: unknown column "koi_prd"".
// File is empty for problems that come from run overrides rather than files.
type Error struct {
	File string
	Line int
	Col  int
	Path string
	Err  error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", e.Line, max(e.Col, 1))
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause, normally a sentinel wrapped with %w.
func (e *Error) Unwrap() error { return e.Err }

// Errors is a list of problems sorted by file, line, column and path, files
// in the order they depend on each other (fileRank). It is returned as a
// whole so that a user fixes every problem in one pass.
type Errors []*Error

// Error prints one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes every problem to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Err returns nil for an empty list, otherwise the sorted list as an error.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	es.Sort()
	return es
}

// Sort orders the problems by file, line, column and path.
func (es Errors) Sort() {
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(fileRank(a.File), fileRank(b.File)),
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Col, b.Col),
			cmp.Compare(a.Path, b.Path),
		)
	})
}

// fileRank orders files as Load reads them: columns, metrics, thresholds,
// rules, then the registered files. Each may read only the ones before it,
// so a cause (a duplicate metric name) is listed before the problems it
// causes in later files (the features reading that metric). Run overrides
// (no file) come first, files Load does not know last.
func fileRank(file string) int {
	if file == "" {
		return -1
	}
	for i, f := range files {
		if f.Path == file {
			return i
		}
	}
	return len(files)
}

// AsErrors flattens err into an Errors list: an Errors value is returned as
// is, a single *Error becomes a list of one, and anything else becomes one
// position-less problem.
func AsErrors(err error) Errors {
	if err == nil {
		return nil
	}
	var es Errors
	if errors.As(err, &es) {
		return es
	}
	var e *Error
	if errors.As(err, &e) {
		return Errors{e}
	}
	return Errors{{Err: err}}
}

// errf builds a cause that wraps a sentinel with detail text.
func errf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w "+format, append([]any{sentinel}, args...)...)
}
