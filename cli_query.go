package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/exohunter/exohunter/engine"
)

// runQuery runs one read-only query through the same guard as the API's
// console and prints it as a table, CSV or one JSON object. With --stored
// NAME it runs a stored query of configs/queries.yaml instead, its
// parameters given as --param KEY=VALUE (bound, never spliced). While a
// server holds the database, --server URL asks it (POST /api/query, or
// GET /api/queries/{name}); without it the command fails naming the server.
func (m *Main) runQuery(ctx context.Context, args []string) error {
	var g globalFlags
	f := m.flags("query", &g)
	format := f.String("format", "table", "output format: table, csv or json")
	limit := f.Int("limit", 0, "row cap (default 1000)")
	timeout := f.Int("timeout-ms", 0, "time limit in milliseconds (default 5000)")
	stored := f.String("stored", "", "run the stored query NAME of configs/queries.yaml instead of SQL")
	var params multiFlag
	f.Var(&params, "param", "parameter of the stored query KEY=VALUE (repeatable)")
	server := f.String("server", "", "ask this running ExoHunter server (e.g. http://127.0.0.1:8080) instead of opening the database")
	pos, err := f.parse(args, 0, 1, "needs exactly one SQL text (quote it), or --stored NAME")
	if err != nil {
		return err
	}
	switch {
	case *stored == "" && len(pos) != 1:
		return usageErr(errUsageText("query: needs exactly one SQL text (quote it), or --stored NAME"))
	case *stored != "" && len(pos) > 0:
		return usageErr(errUsageText("query: give either SQL text or --stored NAME, not both"))
	case *stored == "" && len(params) > 0:
		return usageErr(errUsageText("query: --param needs --stored NAME"))
	}
	switch *format {
	case "table", "csv", "json":
	default:
		return usageErr(errUsageText("query: --format must be table, csv or json"))
	}
	values, err := keyValues(params, "param")
	if err != nil {
		return usageErr(err)
	}
	var res *engine.ConsoleResult
	if *server != "" {
		if res, err = m.queryServer(ctx, *server, strings.Join(pos, ""), *stored, values, *limit, *timeout); err != nil {
			return err
		}
		return m.printQuery(res, *format)
	}
	e, err := m.open(ctx, &g)
	if errors.Is(err, engine.ErrLocked) {
		if addr := runningServerURL(g.dataDir); addr != "" {
			return engine.Wrap(engine.Conflict, err, "%s To query it now, add --server %s to the command.", engine.ErrorMessage(err), addr)
		}
	}
	if err != nil {
		return err
	}
	if *stored != "" {
		sr, err := e.RunStored(ctx, engine.StoredRequest{Name: *stored, Params: values, Limit: *limit, TimeoutMS: *timeout})
		if err != nil {
			return err
		}
		res = sr.ConsoleResult
	} else if res, err = e.Console().Query(ctx, engine.ConsoleRequest{SQL: pos[0], Limit: *limit, TimeoutMS: *timeout}); err != nil {
		return err
	}
	return m.printQuery(res, *format)
}

// printQuery prints a console result in the chosen format.
func (m *Main) printQuery(res *engine.ConsoleResult, format string) error {
	var err error
	switch format {
	case "json":
		return m.printJSON(res) // note: the JSON says "truncated" itself
	case "csv":
		err = writeCSV(m.Stdout, res)
	default:
		err = writeTable(m.Stdout, res)
	}
	if err == nil && res.Truncated {
		// note: on stderr, so that CSV on stdout stays clean, but never
		// silent: a cut-off CSV looks complete.
		fmt.Fprintf(m.Stderr, "exohunter: only the first %d rows were printed; raise --limit (the console allows up to 10,000), or download every row from a server with GET /api/query?format=csv\n",
			len(res.Rows))
	}
	return err
}

// queryServer runs SQL (POST /api/query) or the stored query named
// stored (GET /api/queries/{name}) on a running server and decodes its
// answer as the local console's (serverCell).
func (m *Main) queryServer(ctx context.Context, server, sql, stored string, params map[string]string, limit, timeout int) (*engine.ConsoleResult, error) {
	base, err := serverBase(server)
	if err != nil {
		return nil, err
	}
	var res *http.Response
	if stored != "" {
		q := url.Values{}
		for k, v := range params {
			q.Set(k, v)
		}
		if limit > 0 {
			q.Set("limit", strconv.Itoa(limit))
		}
		if timeout > 0 {
			q.Set("timeout_ms", strconv.Itoa(timeout))
		}
		u := base + "/api/queries/" + url.PathEscape(stored)
		if len(q) > 0 {
			u += "?" + q.Encode()
		}
		res, err = m.serverDo(ctx, http.MethodGet, u, nil, "stored query "+stored)
	} else {
		body, _ := json.Marshal(engine.ConsoleRequest{SQL: sql, Limit: limit, TimeoutMS: timeout})
		res, err = m.serverDo(ctx, http.MethodPost, base+"/api/query", bytes.NewReader(body), "query")
	}
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var raw struct {
		engine.ConsoleResult
		Rows [][]json.RawMessage `json:"rows"`
	}
	if err := json.NewDecoder(res.Body).Decode(&raw); err != nil {
		return nil, engine.Wrap(engine.BadRequest, err, "The server at %s answered the query with something other than a console result: %v", base, err)
	}
	out := raw.ConsoleResult
	out.Rows = make([][]any, len(raw.Rows))
	for i, row := range raw.Rows {
		out.Rows[i] = make([]any, len(row))
		for j, v := range row {
			out.Rows[i][j] = serverCell(v)
		}
	}
	return &out, nil
}

// serverCell is one value of a server's console answer as the local
// console gives it to the printers: a string, nil, or the JSON text
// itself, so that numbers keep their digits (2^53 + 1 exactly) and
// structs their declared key order.
func serverCell(v json.RawMessage) any {
	var s string
	switch {
	case string(v) == "null":
		return nil
	case json.Unmarshal(v, &s) == nil:
		return s
	}
	return v
}

// writeCSV prints a console result as CSV with a header line.
func writeCSV(w io.Writer, res *engine.ConsoleResult) error {
	cw := csv.NewWriter(w)
	head := make([]string, len(res.Columns))
	for i, c := range res.Columns {
		head[i] = c.Name
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, row := range res.Rows {
		rec := make([]string, len(row))
		for i, v := range row {
			rec[i] = cell(v)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeTable prints a console result as aligned columns for a terminal.
func writeTable(w io.Writer, res *engine.ConsoleResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := make([]string, len(res.Columns))
	for i, c := range res.Columns {
		head[i] = c.Name
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, row := range res.Rows {
		rec := make([]string, len(row))
		for i, v := range row {
			rec[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(cell(v))
		}
		fmt.Fprintln(tw, strings.Join(rec, "\t"))
	}
	fmt.Fprintf(tw, "(%d rows)\n", len(res.Rows))
	return tw.Flush()
}

// cell formats one JSON-converted value for text output: NULL is empty.
// Nested values (lists, STRUCT, MAP, JSON) print as the compact JSON the
// API answers with, never as Go's own rendering of them.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s
	}
	return string(b)
}
