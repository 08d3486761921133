package engine

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/exohunter/exohunter/engine/mapping"
	"github.com/exohunter/exohunter/engine/spec"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// maxCheckErrors bounds how many DuckDB rejections CheckSpec collects: each
// one costs a prepare, and a config with more problems is best fixed in
// rounds anyway.
const maxCheckErrors = 20

// lineRe finds the query line DuckDB points at in parser and binder errors.
var lineRe = regexp.MustCompile(`LINE (\d+):`)

// CheckSpec asks DuckDB to prepare the pipeline SQL rendered from b, over an
// empty relation that holds every canonical column with its type, so that
// syntax, unknown functions and type errors surface when the config loads
// rather than at the first run. A rejection is mapped from DuckDB's
// "LINE n:" back to the YAML of the metric or rule that produced the line;
// that element is then rendered as NULL and the check repeats, so that
// every broken element is reported at once. It returns spec.Errors wrapping
// spec.ErrSQL, or nil.
func CheckSpec(ctx context.Context, db *sql.DB, b *spec.Bundle) error {
	cols := checkColumns(b.Columns)
	m, err := mapping.Map(cols, b.Columns, mapping.Options{Mission: spec.GenericMission})
	if err != nil {
		return fmt.Errorf("check config: map canonical columns: %w", err)
	}
	from, err := sqltmpl.EmptyRelation(cols)
	if err != nil {
		return fmt.Errorf("check config: %w", err)
	}
	var errs spec.Errors
	var disabled []sqltmpl.Origin
	for range maxCheckErrors {
		r, err := sqltmpl.Render(sqltmpl.PipelineInput{Dataset: "check", Bundle: b, Mapping: m, From: from, Disable: disabled})
		if err != nil {
			return fmt.Errorf("check config: %w", err)
		}
		msg := prepareError(ctx, db, r.SQL)
		if msg == "" {
			break
		}
		o, ok := originOf(r, msg)
		if !ok || slices.Contains(disabled, o) {
			// note: a problem no element owns is a renderer bug or a
			// DuckDB limit; report it without a position and stop.
			errs = append(errs, &spec.Error{Err: fmt.Errorf("%w: %s", spec.ErrSQL, msg)})
			break
		}
		errs = append(errs, b.Errorf(o.File, o.Path, fmt.Errorf("%w: %s", spec.ErrSQL, firstLine(msg))))
		disabled = append(disabled, o)
	}
	return errs.Err()
}

// checkColumns lists every canonical column under its own name and type,
// the shape of a normalized source that maps one to one.
func checkColumns(c *spec.Columns) []mapping.Column {
	var cols []mapping.Column
	for i := range c.Columns {
		col := &c.Columns[i]
		cols = append(cols, mapping.Column{Name: col.Name, Type: col.Type})
		for _, e := range col.ErrorNames() {
			cols = append(cols, mapping.Column{Name: e, Type: col.Type})
		}
	}
	return cols
}

// prepareError prepares query and returns DuckDB's message, "" when it is
// accepted. Preparing binds the statement without running it.
func prepareError(ctx context.Context, db *sql.DB, query string) string {
	stmt, err := db.PrepareContext(ctx, query)
	if err != nil {
		return err.Error()
	}
	_ = stmt.Close()
	return ""
}

// originOf maps a DuckDB message's "LINE n:" to the element that rendered
// that line.
func originOf(r sqltmpl.Rendered, msg string) (sqltmpl.Origin, bool) {
	m := lineRe.FindStringSubmatch(msg)
	if m == nil {
		return sqltmpl.Origin{}, false
	}
	n, _ := strconv.Atoi(m[1])
	return r.Origin(n)
}

// firstLine keeps DuckDB's headline ("Binder Error: Referenced column ...")
// and drops the echoed SQL and caret, which point into generated text.
func firstLine(msg string) string {
	line, _, _ := strings.Cut(msg, "\n")
	return strings.TrimSpace(line)
}
