package engine

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

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
// rather than at the first run. A rejection is mapped back to the YAML of
// the metric or rule that produced it: through DuckDB's "LINE n:" when the
// message has one, otherwise by bisection over the elements (rendering a
// suffix of them as NULL). The element is then rendered as NULL and the
// check repeats, so every broken element is reported at once. It returns
// spec.Errors wrapping spec.ErrSQL, or nil.
func CheckSpec(ctx context.Context, db *sql.DB, b *spec.Bundle) error {
	c, err := newSpecChecker(b)
	if err != nil {
		return err
	}
	c.probe = func(ctx context.Context, q string) string { return prepareError(ctx, db, q) }
	var errs spec.Errors
	for range maxCheckErrors {
		r, msg, err := c.try(ctx, nil)
		if err != nil {
			return err
		}
		if msg == "" {
			break
		}
		o, ok := originOf(r, msg)
		if !ok {
			o, msg, ok, err = c.bisect(ctx, r.Origins())
			if err != nil {
				return err
			}
		}
		if !ok || slices.Contains(c.disabled, o) {
			// note: a problem no element owns is a renderer bug or a
			// DuckDB limit; report it without a position and stop.
			errs = append(errs, &spec.Error{Err: fmt.Errorf("%w: %s", spec.ErrSQL, firstLine(msg))})
			break
		}
		errs = append(errs, b.Errorf(o.File, o.Path, fmt.Errorf("%w: %s", spec.ErrSQL, firstLine(msg))))
		c.disabled = append(c.disabled, o)
	}
	return errs.Err()
}

// specChecker renders the pipeline over the empty relation, or over a
// dataset when a run failed (blameRunError), and asks DuckDB through probe.
type specChecker struct {
	b        *spec.Bundle
	m        *mapping.Mapping
	dataset  string
	from     sqltmpl.Expr
	disabled []sqltmpl.Origin
	probe    func(ctx context.Context, query string) string
}

func newSpecChecker(b *spec.Bundle) (*specChecker, error) {
	cols := checkColumns(b.Columns)
	m, err := mapping.Map(cols, b.Columns, mapping.Options{Mission: spec.GenericMission})
	if err != nil {
		return nil, fmt.Errorf("check config: map canonical columns: %w", err)
	}
	from, err := sqltmpl.EmptyRelation(cols)
	if err != nil {
		return nil, fmt.Errorf("check config: %w", err)
	}
	return &specChecker{b: b, m: m, dataset: "check", from: from}, nil
}

// try renders with the known-bad elements and extra ones disabled and
// returns DuckDB's message, "" when the SQL is accepted.
func (c *specChecker) try(ctx context.Context, extra []sqltmpl.Origin) (sqltmpl.Rendered, string, error) {
	r, err := sqltmpl.Render(sqltmpl.PipelineInput{Dataset: c.dataset, Bundle: c.b, Mapping: c.m, From: c.from,
		Disable: append(slices.Clone(c.disabled), extra...)})
	if err != nil {
		return r, "", fmt.Errorf("check config: %w", err)
	}
	return r, c.probe(ctx, r.SQL), nil
}

// bisect finds the first element whose SQL DuckDB rejects, for messages
// without a position: with elements [0, k) enabled the SQL fails exactly
// when k is past the first bad element, so a binary search over k needs
// about log2(len(order)) prepares.
func (c *specChecker) bisect(ctx context.Context, order []sqltmpl.Origin) (sqltmpl.Origin, string, bool, error) {
	lo, hi, msg := 0, len(order), "" // invariant: prefix lo passes, prefix hi fails
	for lo+1 < hi {
		mid := (lo + hi) / 2
		_, m, err := c.try(ctx, order[mid:])
		if err != nil {
			return sqltmpl.Origin{}, "", false, err
		}
		if m == "" {
			lo = mid
		} else {
			hi, msg = mid, m
		}
	}
	if hi == 0 || hi > len(order) {
		return sqltmpl.Origin{}, msg, false, nil
	}
	if msg == "" {
		_, m, err := c.try(ctx, order[hi:])
		if err != nil {
			return sqltmpl.Origin{}, "", false, err
		}
		msg = m
	}
	return order[hi-1], msg, msg != "", nil
}

// blameBudget bounds the search for the config element behind a failed
// run or feature build: each step is a pass over the data, and a search
// that runs out of time leaves the failure unexplained rather than late.
const blameBudget = 2 * time.Minute

// blameProbeHook, when set by a test, runs before each probe of a blame
// search.
var blameProbeHook func()

// blameRunError finds the metric or rule whose SQL raised a run's error on
// the dataset's real values (ln of 0, the square root of a negative, a
// failed CAST): errors that CheckSpec's empty relation cannot show. It
// bisects over the elements as CheckSpec does, running the query instead
// of preparing it, so it costs a few passes over the dataset, paid only
// after a run failed. It returns the element's spec.Error, or nil when the
// SQL fails with every element disabled too (the dataset's own bytes),
// when ctx ends or when the search outlasts blameBudget.
func blameRunError(ctx context.Context, db *sql.DB, b *spec.Bundle, dataset string, m *mapping.Mapping) (*spec.Error, error) {
	ctx, cancel := context.WithTimeout(ctx, blameBudget)
	defer cancel()
	c := &specChecker{b: b, m: m, dataset: dataset, probe: func(ctx context.Context, q string) string {
		if blameProbeHook != nil {
			blameProbeHook()
		}
		// note: hashing the whole row makes DuckDB evaluate every column,
		// which a count(*) would let it skip.
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT count(hash(t)) FROM ("+q+") AS t").Scan(&n); err != nil {
			return err.Error()
		}
		return ""
	}}
	r, err := sqltmpl.Render(sqltmpl.PipelineInput{Dataset: dataset, Bundle: b, Mapping: m})
	if err != nil {
		return nil, fmt.Errorf("blame: %w", err)
	}
	// note: the run failed with every element on; first the file alone,
	// so that a bad value in the file costs one pass, not a search.
	order := r.Origins()
	if _, none, err := c.try(ctx, order); err != nil || none != "" {
		return nil, err
	}
	o, msg, ok, err := c.bisect(ctx, order)
	if err != nil || !ok || ctx.Err() != nil {
		// note: a search cut short by ctx saw "context canceled" as a
		// failure and would blame an innocent element.
		return nil, err
	}
	return b.Errorf(o.File, o.Path, fmt.Errorf("%w: %s", spec.ErrSQL, firstLine(msg))), nil
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
		if n := col.LimitName(); n != "" {
			cols = append(cols, mapping.Column{Name: n, Type: "INTEGER"})
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
