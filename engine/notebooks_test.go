package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// notebookDir holds the Jupyter notebooks of issue 7.
const notebookDir = "../ml/notebooks"

// notebooks lists them with a few strings each must contain (what its
// name promises).
var notebooks = []struct {
	file string
	want []string
}{
	{"01_explore.ipynb", []string{"plt.", "catalog.columns", "koi_disposition"}},
	{"02_build_features.ipynb", []string{"meta.feature_sets", "query_table('features.'", "koi_fpflag_nt"}},
	{"03_baselines.ipynb", []string{"anomalous_signal", "robust_z", "IsolationForest", "exohunter anomalies eval"}},
	{"04_supervised.ipynb", []string{"oof_predictions.csv", "metrics.json", "calibration", "confusion"}},
}

// notebookRegistrations are the DataFrames the notebooks register with
// con.register, rebuilt as views over the same files for the test. A
// notebook that registers anything else fails the test.
func notebookRegistrations(modelDir string) map[string]string {
	return map[string]string{
		"oof": `CREATE OR REPLACE TEMP VIEW oof AS SELECT * FROM read_csv(` + litPath(filepath.Join(modelDir, ModelOOFFile)) +
			`, types = {'object_id': 'VARCHAR', 'star_id': 'VARCHAR'})`,
		// note: pd.DataFrame([metrics["source"]]), one row.
		"model_source": `CREATE OR REPLACE TEMP VIEW model_source AS SELECT source.* FROM read_json(` +
			litPath(filepath.Join(modelDir, ModelMetricsFile)) + `)`,
	}
}

// TestNotebooks checks that every notebook is nbformat 4 JSON with
// markdown and code cells, names no path of this machine, and that every
// SQL string of its code cells runs, in order, against a snapshot the
// engine wrote from the KOI table (a run, a feature set, NASA labels and a
// trained model's out-of-fold predictions).
func TestNotebooks(t *testing.T) {
	t.Parallel()
	mustXGBoost(t)
	e := MustOpenEngine(t)
	run := mustKOIRun(t, e, mustKOISubset(t, 3))
	ctx := context.Background()
	if _, err := e.BuildFeatures(ctx, FeatureBuildInput{Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ImportNASALabels(ctx, run.Dataset); err != nil {
		t.Fatal(err)
	}
	model, err := e.Train(ctx, TrainInput{Features: "v1", Target: TargetConfirmedVsFP})
	if err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(MustTempDir(t), "snapshot.duckdb")
	if _, err := e.Snapshot(ctx, snap, SnapshotOptions{}); err != nil {
		t.Fatal(err)
	}
	db, closeDB, err := openSnapshotDB(snap, "256MB", true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeDB)
	for _, nb := range notebooks {
		t.Run(nb.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(notebookDir, nb.file))
			if err != nil {
				t.Fatal(err)
			}
			code := checkNotebook(t, raw)
			for _, w := range nb.want {
				if !strings.Contains(code, w) {
					t.Errorf("the notebook never mentions %q", w)
				}
			}
			stmts, err := notebookSQL(code)
			if err != nil {
				t.Fatal(err)
			}
			if len(stmts) < 4 {
				t.Errorf("only %d SQL strings", len(stmts))
			}
			t.Logf("%d SQL strings", len(stmts))
			// note: one connection per notebook, as a kernel has: SET
			// VARIABLE and registered views carry over between cells.
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			regs := notebookRegistrations(model.ArtifactDir)
			for _, name := range regexp.MustCompile(`con\.register\("(\w+)"`).FindAllStringSubmatch(code, -1) {
				q, ok := regs[name[1]]
				if !ok {
					t.Fatalf("the notebook registers %q, which the test cannot rebuild", name[1])
				}
				if _, err := conn.ExecContext(ctx, q); err != nil {
					t.Fatalf("register %s: %v", name[1], err)
				}
			}
			for i, q := range stmts {
				rows, err := conn.QueryContext(ctx, q)
				if err != nil {
					t.Errorf("SQL %d fails: %v\n%s", i+1, err, q)
					continue
				}
				for rows.Next() {
				}
				if err := rows.Err(); err != nil {
					t.Errorf("SQL %d fails: %v\n%s", i+1, err, q)
				}
				rows.Close()
			}
			if strings.Contains(code, "model_source") {
				// note: the model's errors are joined with the run it was
				// trained on, not merely the newest one.
				var got string
				if err := conn.QueryRowContext(ctx, `SELECT getvariable('run_id')`).Scan(&got); err != nil || got != run.RunID {
					t.Errorf("the notebook reads run %q (%v), want the model's run %s", got, err, run.RunID)
				}
			}
		})
	}
}

// machinePath matches absolute paths of a machine (the notebooks must
// read relative paths or environment variables).
var machinePath = regexp.MustCompile(`(^|[\s"'(=])(/work/|/tmp/|/root/|/home/|/Users/|[A-Z]:\\)`)

// checkNotebook validates the nbformat 4 structure and returns the code
// cells' source joined.
func checkNotebook(t *testing.T, raw []byte) string {
	t.Helper()
	var nb struct {
		NBFormat      int `json:"nbformat"`
		NBFormatMinor int `json:"nbformat_minor"`
		Metadata      struct {
			Kernelspec struct {
				Name     string `json:"name"`
				Language string `json:"language"`
			} `json:"kernelspec"`
		} `json:"metadata"`
		Cells []struct {
			CellType       string          `json:"cell_type"`
			ID             string          `json:"id"`
			Metadata       map[string]any  `json:"metadata"`
			Source         []string        `json:"source"`
			Outputs        []any           `json:"outputs"`
			ExecutionCount json.RawMessage `json:"execution_count"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(raw, &nb); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if nb.NBFormat != 4 || nb.NBFormatMinor < 4 || nb.Metadata.Kernelspec.Name != "python3" || nb.Metadata.Kernelspec.Language != "python" {
		t.Errorf("nbformat %d.%d, kernel %+v", nb.NBFormat, nb.NBFormatMinor, nb.Metadata.Kernelspec)
	}
	kinds := map[string]int{}
	ids := map[string]bool{}
	var code strings.Builder
	for i, c := range nb.Cells {
		kinds[c.CellType]++
		if c.Metadata == nil || len(c.Source) == 0 || c.ID == "" || ids[c.ID] {
			t.Errorf("cell %d: metadata %v, %d source lines, id %q (ids must be unique)", i, c.Metadata, len(c.Source), c.ID)
		}
		ids[c.ID] = true
		src := strings.Join(c.Source, "")
		if m := machinePath.FindString(src); m != "" {
			t.Errorf("cell %d names a path of this machine: %q", i, m)
		}
		switch c.CellType {
		case "markdown":
		case "code":
			if c.Outputs == nil || string(c.ExecutionCount) != "null" {
				t.Errorf("code cell %d: outputs %v, execution_count %s (want [] and null)", i, c.Outputs, c.ExecutionCount)
			}
			code.WriteString(src)
			code.WriteString("\n")
		default:
			t.Errorf("cell %d has type %q", i, c.CellType)
		}
	}
	if kinds["markdown"] < 2 || kinds["code"] < 3 {
		t.Errorf("cells by type: %v", kinds)
	}
	if !strings.Contains(code.String(), "duckdb.connect(") || !strings.Contains(code.String(), "os.environ.get(\"EXOHUNTER_SNAPSHOT\"") {
		t.Error("the notebook must open the snapshot named by EXOHUNTER_SNAPSHOT with duckdb.connect")
	}
	return code.String()
}

// sqlCallRe finds the calls whose first argument is SQL.
var sqlCallRe = regexp.MustCompile(`con\.(sql|execute)\(`)

// notebookSQL extracts the SQL strings passed to con.sql(...) and
// con.execute(...): Python string literals (single, double or triple
// quoted, optionally r-prefixed, adjacent ones concatenated). An f-string
// or a non-literal argument is an error: the SQL must be checkable.
func notebookSQL(code string) ([]string, error) {
	var out []string
	for _, loc := range sqlCallRe.FindAllStringIndex(code, -1) {
		s, err := pyStrings(code[loc[1]:])
		if err != nil {
			line := strings.Count(code[:loc[0]], "\n") + 1
			return nil, fmt.Errorf("code line %d: %w", line, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// pyStrings reads one or more adjacent Python string literals at the start
// of s (after blanks) and returns their concatenation.
func pyStrings(s string) (string, error) {
	var b strings.Builder
	n := 0
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		raw := false
		if strings.HasPrefix(s, "r") || strings.HasPrefix(s, "R") {
			raw, s = true, s[1:]
		}
		if s == "" || (s[0] != '"' && s[0] != '\'') {
			if n == 0 {
				return "", fmt.Errorf("the SQL is not a string literal: %.40q", s)
			}
			return b.String(), nil
		}
		q := s[:1]
		if strings.HasPrefix(s, q+q+q) {
			q = q + q + q
		}
		end := strings.Index(s[len(q):], q)
		if len(q) == 1 {
			end = closingQuote(s[1:], q[0], raw)
		}
		if end < 0 {
			return "", fmt.Errorf("unterminated string literal")
		}
		body := s[len(q) : len(q)+end]
		if !raw {
			body = strings.NewReplacer(`\\`, `\`, `\"`, `"`, `\'`, `'`, `\n`, "\n").Replace(body)
		}
		b.WriteString(body)
		s = s[len(q)+end+len(q):]
		n++
	}
}

// closingQuote finds the closing quote of a one-quote literal, skipping
// escaped quotes.
func closingQuote(s string, q byte, raw bool) int {
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && !raw:
			i++
		case s[i] == q:
			return i
		case s[i] == '\n':
			return -1
		}
	}
	return -1
}

// TestNotebookSQL checks the extraction of SQL strings from Python code.
func TestNotebookSQL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		code    string
		want    []string
		wantErr bool
	}{
		{name: "double", code: `con.sql("SELECT 1").df()`, want: []string{"SELECT 1"}},
		{name: "triple", code: "x = con.execute(\"\"\"\nSELECT 'a'\n\"\"\")", want: []string{"\nSELECT 'a'\n"}},
		{name: "adjacent", code: `con.sql("SELECT 1 "
    'AS "x"')`, want: []string{`SELECT 1 AS "x"`}},
		{name: "escapes", code: `con.sql("SELECT \"a\"")`, want: []string{`SELECT "a"`}},
		{name: "two calls", code: "con.sql('SELECT 1')\ncon.execute(r'SELECT 2')", want: []string{"SELECT 1", "SELECT 2"}},
		{name: "f-string", code: `con.sql(f"SELECT {x}")`, wantErr: true},
		{name: "variable", code: `con.sql(query)`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := notebookSQL(tc.code)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
