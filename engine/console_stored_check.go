package engine

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/exohunter/exohunter/engine/spec"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// CheckStoredQueries asks DuckDB about every stored query of b when the
// config loads, as CheckSpec does for the pipeline: the console's guard
// must accept it (one SELECT, no file access), it must read exactly the
// parameters it declares ($name; positional ones are refused), and it must
// bind: inside a transaction that is rolled back, runs.results is replaced
// by an empty table with exactly the columns every run has (run_id plus
// the pipeline's output over the canonical columns), so a query that
// reads a column only some catalogs have, or misspells one, fails here
// rather than for the first user. DuckDB's "LINE n" is mapped back to the
// line of configs/queries.yaml. It returns spec.Errors, or nil.
func CheckStoredQueries(ctx context.Context, db *sql.DB, b *spec.Bundle) error {
	qs := b.StoredQueries()
	if len(qs) == 0 {
		return nil
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("check stored queries: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fmt.Errorf("check stored queries: %w", err)
	}
	// note: the replacement is never committed; other connections keep
	// seeing the real runs.results view.
	defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") }()
	stmts, err := checkRunsView(b)
	if err != nil {
		return err
	}
	for _, stmt := range stmts {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("check stored queries: replace runs.results: %w", err)
		}
	}
	var errs spec.Errors
	for i := range qs {
		errs = append(errs, checkStoredQuery(ctx, conn, b, &qs[i])...)
	}
	return errs.Err()
}

// checkRunsView renders the statements that replace runs.results by an
// empty table with a run's columns and types.
func checkRunsView(b *spec.Bundle) ([]string, error) {
	c, err := newSpecChecker(b)
	if err != nil {
		return nil, err
	}
	r, err := sqltmpl.Render(sqltmpl.PipelineInput{Dataset: "check", Bundle: b, Mapping: c.m, From: c.from})
	if err != nil {
		return nil, fmt.Errorf("check stored queries: %w", err)
	}
	pipeline := strings.TrimSuffix(strings.TrimSpace(r.SQL), ";")
	// note: an empty table rather than a view over the pipeline: binding
	// a view re-binds the whole pipeline for every query prepared over it
	// (about 40 ms each), a table once.
	return []string{
		"DROP VIEW IF EXISTS runs.results",
		"CREATE TABLE runs.results AS\nSELECT CAST(NULL AS VARCHAR) AS run_id, *\nFROM (\n" + pipeline + "\n) AS p\nWHERE false",
	}, nil
}

// checkStoredQuery checks one query; every problem is positioned in the
// queries file.
func checkStoredQuery(ctx context.Context, conn *sql.Conn, b *spec.Bundle, q *spec.Query) spec.Errors {
	at := func(path string, err error) spec.Errors {
		return spec.Errors{b.Errorf(spec.QueriesFile, q.Path()+path, err)}
	}
	sqlErr := func(line int, msg string) spec.Errors {
		e := b.Errorf(spec.QueriesFile, q.Path()+".sql", fmt.Errorf("%w: %s", spec.ErrSQL, msg))
		if line > 0 && q.SQLLine > 0 {
			e.Line, e.Col = q.SQLLine+line-1, 1
		}
		return spec.Errors{e}
	}
	tree, err := consoleSerialize(ctx, conn, q.SQL)
	if err != nil {
		return sqlErr(0, err.Error())
	}
	if tree.Error {
		line := 0
		if off, err := strconv.Atoi(tree.Position.String()); err == nil && off >= 0 {
			line = sqlPositionAt(q.SQL, off).Line
		}
		return sqlErr(line, ErrorMessage(tree.guardError(q.SQL)))
	}
	if len(tree.Statements) != 1 {
		return sqlErr(0, fmt.Sprintf("%d statements (want exactly one SELECT)", len(tree.Statements)))
	}
	stmt := tree.Statements[0]
	node, _ := stmt["node"].(map[string]any)
	if node == nil {
		return sqlErr(0, "not a SELECT")
	}
	if err := checkConsoleTree(node, connRelations(ctx, conn)); err != nil {
		return sqlErr(0, "the console refuses it: "+ErrorMessage(err))
	}
	if errs := checkStoredParams(q, storedParamNames(stmt), at); errs != nil {
		return errs
	}
	stmtP, err := conn.PrepareContext(ctx, q.SQL)
	if err != nil {
		msg := err.Error()
		line := 0
		if m := lineRe.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		return sqlErr(line, firstLine(msg))
	}
	_ = stmtP.Close()
	return nil
}

// checkStoredParams compares the $name parameters the SQL reads with the
// declared ones.
func checkStoredParams(q *spec.Query, used []string, at func(string, error) spec.Errors) spec.Errors {
	var errs spec.Errors
	for _, name := range used {
		if _, err := strconv.Atoi(name); err == nil {
			errs = append(errs, at(".sql", fmt.Errorf("%w: positional parameter $%s or ?; name it $name and declare it under params", spec.ErrSQL, name))...)
			continue
		}
		if _, ok := q.Param(name); !ok {
			errs = append(errs, at(".sql", fmt.Errorf("%w $%s (not declared under params)", spec.ErrUnknownParameter, name))...)
		}
	}
	for i, p := range q.Params {
		if !slices.Contains(used, p.Name) {
			errs = append(errs, at(fmt.Sprintf(".params[%d].name", i), fmt.Errorf("%w %q (the SQL never reads $%s)", spec.ErrUnusedParameter, p.Name, p.Name))...)
		}
	}
	return errs
}

// checkStoredQueriesAtOpen runs CheckStoredQueries on the loaded config; a
// broken queries.yaml fails Open like a broken pipeline config (Invalid).
func checkStoredQueriesAtOpen(ctx context.Context, e *Engine) error {
	if e.bundle == nil {
		return nil
	}
	if err := CheckStoredQueries(ctx, e.db, e.bundle); err != nil {
		return specError(err)
	}
	return nil
}

func init() { openHooks = append(openHooks, checkStoredQueriesAtOpen) }
