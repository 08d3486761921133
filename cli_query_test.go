package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exohunter/exohunter/engine"
)

// TestQueryCommand_Stored runs stored queries from the command line, with
// flags before and after the others, and each refusal.
func TestQueryCommand_Stored(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	if _, stderr, err := runMain(t, "ingest", smallKOI, "--name", "koi", "--data-dir", data, "--config-dir", "."); err != nil {
		t.Fatalf("ingest: %v\n%s", err, stderr)
	}
	if _, stderr, err := runMain(t, "--data-dir", data, "process", "koi", "--config-dir", "."); err != nil {
		t.Fatalf("process: %v\n%s", err, stderr)
	}
	out, stderr, err := runMain(t, "--data-dir", data, "query", "--stored", "multi_planet_systems", "--config-dir", ".",
		"--param", "min_planets=3", "--format", "csv")
	if err != nil {
		t.Fatalf("query --stored: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "dataset,star_id,n_planets") || !strings.HasPrefix(lines[1], "koi,10872983,3,") {
		t.Errorf("multi_planet_systems printed:\n%s", out)
	}
	tests := []struct {
		name  string
		args  []string
		code  engine.Code
		usage bool
	}{
		{"unknown parameter", []string{"query", "--stored", "multi_planet_systems", "--param", "moons=2"}, engine.BadRequest, false},
		{"out of range", []string{"query", "--stored", "multi_planet_systems", "--param", "min_planets=1"}, engine.BadRequest, false},
		{"unknown query", []string{"query", "--stored", "nope"}, engine.NotFound, false},
		{"param without stored", []string{"query", "SELECT 1", "--param", "a=1"}, "", true},
		{"both", []string{"query", "SELECT 1", "--stored", "category_counts"}, "", true},
		{"neither", []string{"query"}, "", true},
		{"param without =", []string{"query", "--stored", "category_counts", "--param", "dataset"}, "", true},
		{"param twice", []string{"query", "--stored", "habitable_zone_rocky", "--param", "max_radius=1", "--param", "max_radius=2"}, "", true},
		{"unknown run", []string{"query", "--stored", "habitable_zone_rocky", "--param", "run=nonexistent_run"}, engine.BadRequest, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runMain(t, append(tc.args, "--data-dir", data, "--config-dir", ".")...)
			switch {
			case err == nil:
				t.Fatal("no error")
			case tc.usage && !errors.Is(err, errUsage):
				t.Errorf("err = %v, want a usage error", err)
			case !tc.usage && engine.ErrorCode(err) != tc.code:
				t.Errorf("err = %v (%s), want %s", err, engine.ErrorCode(err), tc.code)
			}
		})
	}
}

// TestQueryCommand_TruncatedCSV: a CSV cut at the row cap says so on
// stderr (stdout stays clean CSV); a complete one says nothing.
func TestQueryCommand_TruncatedCSV(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	out, stderr, err := runMain(t, "--data-dir", data, "query", "--format", "csv", "SELECT range AS n FROM range(1500)")
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(out, "\n"); lines != 1001 || !strings.Contains(stderr, "only the first 1000 rows") {
		t.Errorf("%d lines on stdout, stderr %q", lines, stderr)
	}
	_, stderr, err = runMain(t, "--data-dir", data, "query", "--format", "csv", "--limit", "2000", "SELECT range AS n FROM range(1500)")
	if err != nil || strings.Contains(stderr, "only the first") {
		t.Errorf("complete CSV: %v, stderr %q", err, stderr)
	}
}

// TestQueryCommand_NestedValues: JSON, STRUCT, MAP and list cells print as
// compact JSON in the table and CSV formats, as the API answers them.
func TestQueryCommand_NestedValues(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	out, _, err := runMain(t, "--data-dir", data, "query", "--format", "csv",
		`SELECT '{"a":1}'::JSON j, {'a': 1, 'b': 'x'} s, MAP {'k': 1} m, [1.5, NULL] l, DATE '2025-09-29' d, 0.1 x`)
	if err != nil {
		t.Fatal(err)
	}
	want := "j,s,m,l,d,x\n" + `"{""a"":1}","{""a"":1,""b"":""x""}","{""k"":1}","[1.5,null]",2025-09-29,0.1` + "\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// TestQueryCommand_Server asks the real server in another process: a
// query without --server fails at once naming it, and with --server the
// console answers as it would locally (SQL and stored queries, numbers
// printed exactly, the server's refusals with their codes).
func TestQueryCommand_Server(t *testing.T) {
	t.Parallel()
	data, url := startServer(t, t.TempDir())
	_, _, err := runMain(t, "query", "SELECT 1", "--data-dir", data, "--config-dir", ".")
	if engine.ErrorCode(err) != engine.Conflict || !strings.Contains(engine.ErrorMessage(err), "add --server "+url+" to the command") {
		t.Fatalf("query while the server runs: %v, want a Conflict naming --server %s", err, url)
	}
	// note: 2^53 + 1 is where a number read as float64 would change.
	out, stderr, err := runMain(t, "query", "--server", url, "--format", "csv",
		"SELECT count(*) AS n, 9007199254740993::BIGINT AS big, 'a,b' AS s, {'b': 1, 'a': 2.5} AS st FROM runs.results")
	if err != nil {
		t.Fatalf("query --server: %v\n%s", err, stderr)
	}
	// note: a struct keeps its declared key order, as locally.
	if want := "n,big,s,st\n12,9007199254740993,\"a,b\",\"{\"\"b\"\":1,\"\"a\"\":2.5}\"\n"; out != want {
		t.Errorf("query --server printed %q, want %q", out, want)
	}
	out, stderr, err = runMain(t, "query", "--server", url, "--stored", "multi_planet_systems", "--param", "min_planets=3", "--format", "csv")
	if err != nil {
		t.Fatalf("query --server --stored: %v\n%s", err, stderr)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.Contains(lines[1], ",10872983,3,") {
		t.Errorf("multi_planet_systems through the server printed:\n%s", out)
	}
	out, _, err = runMain(t, "query", "--server", url, "--format", "json", "--limit", "2", "SELECT object_id FROM runs.results ORDER BY 1")
	var res engine.ConsoleResult
	if err != nil || json.Unmarshal([]byte(out), &res) != nil || len(res.Rows) != 2 || !res.Truncated {
		t.Errorf("--limit 2 through the server: %v %q", err, out)
	}
	tests := []struct {
		name  string
		args  []string
		code  engine.Code
		in    string // in the message
		usage bool
	}{
		{"syntax error", []string{"SELECT FROM WHERE"}, engine.BadRequest, "syntax error", false},
		{"a write", []string{"DROP TABLE meta.datasets"}, engine.BadRequest, "read-only", false},
		{"unknown stored query", []string{"--stored", "nope"}, engine.NotFound, "nope", false},
		{"stored out of range", []string{"--stored", "multi_planet_systems", "--param", "min_planets=1"}, engine.BadRequest, "min_planets", false},
		{"not a URL", []string{"SELECT 1", "--server", "127.0.0.1:8080"}, "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"query", "--server", url}, tc.args...)
			_, _, err := runMain(t, args...)
			switch {
			case err == nil:
				t.Fatal("no error")
			case tc.usage && !errors.Is(err, errUsage):
				t.Errorf("err = %v, want a usage error", err)
			case !tc.usage && (engine.ErrorCode(err) != tc.code || !strings.Contains(engine.ErrorMessage(err), tc.in)):
				t.Errorf("err = %v (%s), want %s saying %q", err, engine.ErrorCode(err), tc.code, tc.in)
			}
		})
	}
	if r, err := http.Get(url + "/api/health"); err != nil || r.StatusCode != 200 {
		t.Errorf("server after the queries: %v", err)
	}
}
