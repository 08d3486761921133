package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/exohunter/exohunter/engine/spec"
)

// Stored queries (configs/queries.yaml, engine/spec/queries.go) run on the
// console's own path: its connection pool, guard, read-only transaction,
// row and byte caps, time limit, JSON conversion and error mapping. The
// only difference from a typed query is that the SQL comes from the config
// and reads $name parameters, which are bound (sql.Named), never spliced.

// StoredRequest runs one stored query by name.
type StoredRequest struct {
	Name string
	// Params are the request's values as text (URL parameters or
	// --param k=v), converted by each parameter's type. Parameters left out
	// take their defaults; unknown names are refused.
	Params map[string]string
	// Limit, TimeoutMS and QueryID work as in ConsoleRequest.
	Limit     int
	TimeoutMS int
	QueryID   string
}

// StoredResult is a console result plus the stored query's name and the
// parameter values it ran with (defaults filled in).
type StoredResult struct {
	*ConsoleResult
	Name   string         `json:"name"`
	Params map[string]any `json:"params"`
}

// StoredQueries lists the stored queries in file order; empty when the
// config has no queries.yaml.
func (e *Engine) StoredQueries() []spec.Query {
	qs := e.bundle.StoredQueries()
	if qs == nil {
		return []spec.Query{}
	}
	return qs
}

// RunStored runs a stored query. An unknown name is NotFound; an unknown
// parameter, a value of the wrong type, out of range, not among the
// allowed values or naming no dataset is a BadRequest with one detail per
// problem. Everything else answers as Console.Query does.
func (e *Engine) RunStored(ctx context.Context, req StoredRequest) (*StoredResult, error) {
	q, ok := e.bundle.StoredQuery(req.Name)
	if !ok {
		names := make([]string, 0)
		for _, q := range e.bundle.StoredQueries() {
			names = append(names, q.Name)
		}
		return nil, Errorf(NotFound, "There is no stored query named %q; the stored queries are: %s (GET /api/queries documents them).",
			req.Name, strings.Join(names, ", "))
	}
	values, err := e.storedValues(ctx, q, req.Params)
	if err != nil {
		return nil, err
	}
	res, err := e.console.RunStored(ctx, q, values, ConsoleRequest{
		SQL: q.SQL, Limit: req.Limit, TimeoutMS: req.TimeoutMS, QueryID: req.QueryID,
	})
	if err != nil {
		return nil, err
	}
	return &StoredResult{ConsoleResult: res, Name: q.Name, Params: values}, nil
}

// storedValues converts the request's text values and fills in defaults,
// collecting every problem.
func (e *Engine) storedValues(ctx context.Context, q *spec.Query, in map[string]string) (map[string]any, error) {
	var details []Detail
	bad := func(field, format string, args ...any) {
		details = append(details, Detail{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	names := make([]string, 0, len(in))
	for k := range in {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if _, ok := q.Param(k); !ok {
			bad(k, "Unknown parameter %q for stored query %s; it takes %s.", k, q.Name, paramList(q))
		}
	}
	values := make(map[string]any, len(q.Params))
	for i := range q.Params {
		p := &q.Params[i]
		text, given := in[p.Name]
		if !given {
			values[p.Name] = p.Default
			continue
		}
		v, err := p.ParseValue(text)
		switch {
		case errors.Is(err, spec.ErrNotNumber):
			noun := "a finite number"
			if p.Type == spec.ParamInteger {
				noun = "an integer"
			}
			bad(p.Name, "Parameter %s must be %s, not %q.", p.Name, noun, text)
			continue
		case err != nil:
			bad(p.Name, "Parameter %s: %s.", p.Name, err)
			continue
		}
		if s, ok := v.(string); ok && p.Type == spec.ParamDataset && s != "" {
			if _, err := e.Dataset(ctx, s); ErrorCode(err) == NotFound {
				bad(p.Name, "Parameter %s: there is no dataset named %q.", p.Name, s)
				continue
			} else if err != nil {
				return nil, err
			}
		}
		if s, ok := v.(string); ok && p.Type == spec.ParamRun && s != "" {
			if _, err := e.Run(ctx, s); ErrorCode(err) == NotFound {
				bad(p.Name, "Parameter %s: there is no run %q (GET /api/runs lists them).", p.Name, s)
				continue
			} else if err != nil {
				return nil, err
			}
		}
		values[p.Name] = v
	}
	if len(details) > 0 {
		msg := details[0].Message
		if len(details) > 1 {
			msg += fmt.Sprintf(" (and %d more in details)", len(details)-1)
		}
		return nil, &Error{Code: BadRequest, Msg: msg, Details: details}
	}
	return values, nil
}

// paramList names a query's parameters for messages.
func paramList(q *spec.Query) string {
	if len(q.Params) == 0 {
		return "no parameters"
	}
	names := make([]string, len(q.Params))
	for i, p := range q.Params {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// RunStored runs a stored query's SQL with its parameter values bound by
// name ($name). values must hold a value for every parameter of q (the
// engine's RunStored fills in defaults). req.SQL must be q.SQL; its limit,
// time limit and query id apply as in Query.
func (c *Console) RunStored(ctx context.Context, q *spec.Query, values map[string]any, req ConsoleRequest) (*ConsoleResult, error) {
	start := time.Now()
	cq, err := c.parseRequest(req, c.limits.Rows, c.limits.MaxRows, c.limits.Timeout)
	if err != nil {
		return nil, err
	}
	cq.stored = q
	for _, p := range q.Params {
		v, ok := values[p.Name]
		if !ok {
			return nil, fmt.Errorf("stored query %s: no value for parameter %s", q.Name, p.Name)
		}
		cq.args = append(cq.args, sql.Named(p.Name, v))
	}
	return c.run(ctx, cq, start)
}

// guard checks the query's text before it runs: consoleGuard for typed
// SQL, storedGuard for a stored query.
func (q consoleQuery) guard(ctx context.Context, conn consoleQueryRower) (map[string]any, string, error) {
	if q.stored == nil {
		return consoleGuard(ctx, conn, q.sql)
	}
	return storedGuard(ctx, conn, q.stored)
}

// errStoredParams is the cause of a stored query whose $name parameters
// differ from the ones it declares.
var errStoredParams = errors.New("parameters differ from the declaration")

// storedGuard applies the console's checks to a stored query (one SELECT,
// no file access, no SQL from strings) and requires that the statement
// reads exactly the declared parameters, by name. The config was checked
// the same way at load; this keeps the run path as strict as the console's.
func storedGuard(ctx context.Context, conn consoleQueryRower, q *spec.Query) (map[string]any, string, error) {
	tree, err := consoleSerialize(ctx, conn, q.SQL)
	if err != nil {
		return nil, "", err
	}
	if tree.Error {
		return nil, "", tree.guardError(q.SQL)
	}
	if len(tree.Statements) != 1 {
		return nil, "", Errorf(BadRequest, "stored query %s holds %d statements; it must be exactly one SELECT", q.Name, len(tree.Statements))
	}
	stmt := tree.Statements[0]
	node, _ := stmt["node"].(map[string]any)
	if node == nil {
		return nil, "", Errorf(BadRequest, "stored query %s is not a SELECT", q.Name)
	}
	if err := checkConsoleTree(node, connRelations(ctx, conn)); err != nil {
		return nil, "", err
	}
	used := storedParamNames(stmt)
	declared := make([]string, len(q.Params))
	for i, p := range q.Params {
		declared[i] = p.Name
	}
	slices.Sort(declared)
	if !slices.Equal(used, declared) {
		return nil, "", Wrap(Internal, errStoredParams, "stored query %s reads %v but declares %v", q.Name, used, declared)
	}
	return node, sqlTrimSemicolons(q.SQL), nil
}

// storedParamNames returns the parameter names a serialized statement
// reads, sorted ("1", "2", ... for positional ones).
func storedParamNames(stmt map[string]any) []string {
	list, _ := stmt["named_param_map"].([]any)
	out := make([]string, 0, len(list))
	for _, item := range list {
		m, _ := item.(map[string]any)
		if k, ok := m["key"].(string); ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
