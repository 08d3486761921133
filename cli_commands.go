package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/exohunter/exohunter/engine"
)

// command is one entry of the command table.
type command struct {
	name    string
	args    string
	summary string
	run     func(m *Main, ctx context.Context, args []string) error
}

// commands is the whole command line, in the order usage lists it.
var commands = []command{
	{"serve", "[--addr HOST:PORT] [--sample FILE]", "run the web dashboard and REST API (default command)", (*Main).runServe},
	{"ingest", "PATH|URL [--name N] [--unit COL=percent|fraction|ppm] [--mission M]", "store a catalog file and register its views", (*Main).runIngest},
	{"process", "DATASET [--set KEY=VALUE]... [--albedo A] [--out FILE]", "derive metrics, classify and materialize a run", (*Main).runProcess},
	{"query", "SQL | --stored NAME [--param KEY=VALUE]... [--format table|csv|json] [--limit N] [--timeout-ms MS] [--server URL]", "run a read-only SQL query (or a stored one) through the console guard", (*Main).runQuery},
	{"snapshot", "OUT.duckdb [--runs latest|all|ID,...] [--include raw,features,labels|none] [--server URL]", "write a self-contained .duckdb copy for notebooks", (*Main).runSnapshot},
	{"features", "build --version V [--run RUN | --dataset D]", "build a versioned feature set (Parquet + manifest) from a run", (*Main).runFeatures},
	{"labels", "export [--format parquet|csv|json|ndjson] [--dataset D] [--source S,...] | import-nasa DATASET | import-run RUN | queue [--run RUN | --dataset D] [--strategy S] [--limit N] [--table] | stats [--table]", "export (under DATA/labeled/), import and inspect labels", (*Main).runLabels},
	{"train", "[--run RUN | --dataset D] [--features V] [--target confirmed_vs_fp|planet_vs_fp|disposition] [--leaky] [--name N] [--version V]", "train and evaluate the XGBoost classifier; writes DATA/models/<name>/<version>/", (*Main).runTrain},
	{"models", "[NAME[/VERSION]]", "list the trained models, or print one version's metrics and cards", (*Main).runModels},
	{"score", "[RUN | --run RUN | --dataset D] --model NAME[/VERSION] [--out FILE]", "write a model's probabilities (p_model) for a run's rows into DuckDB", (*Main).runScore},
	{"anomalies", "[RUN | --run RUN | --dataset D] [--features V] [--out FILE] | eval [--run RUN | --dataset D] [--n 50] [--seed S]", "score a run with Isolation Forest and LOF (anomaly_score), or run the injected-anomaly evaluation", (*Main).runAnomalies},
	{"migrate", "up|version", "apply or report the service's schema migrations", (*Main).runMigrate},
}

// usage prints the command table on stderr.
func (m *Main) usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("usage: exohunter [global flags] COMMAND [args] [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-9s %s\n            %s\n", c.name, c.args, c.summary)
	}
	b.WriteString("\nglobal flags (before or after the command): --db --data-dir --feature-store\n" +
		"  --config-dir --memory-limit --threads --temp-dir\n")
	fmt.Fprint(w, b.String())
}

// flags returns a FlagSet for command name with the global flags registered.
func (m *Main) flags(name string, g *globalFlags) *newFlags {
	out := m.Stderr
	if m.helpAsked {
		out = m.Stdout
	}
	fs := newFlagSet(name, out)
	g.register(fs, m.Getenv)
	return &newFlags{FlagSet: fs, g: g}
}

// flagGiven reports whether the flag name was on the command line, even
// with an empty value (--albedo= must not mean "the default").
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// newFlags wraps a FlagSet to parse interleaved arguments and turn flag
// errors into usage errors.
type newFlags struct {
	*flag.FlagSet
	g *globalFlags
}

// parse parses args and returns the positionals, requiring between min and
// max of them (max < 0 means unbounded).
func (f *newFlags) parse(args []string, min, max int, what string) ([]string, error) {
	pos, err := parseInterleaved(f.FlagSet, args)
	if err != nil {
		return nil, usageErr(err)
	}
	if err := f.g.check(); err != nil {
		return nil, usageErr(err)
	}
	if len(pos) < min || (max >= 0 && len(pos) > max) {
		got := ""
		if len(pos) > 0 {
			// note: say what was given: an unquoted SQL text or a shell
			// glob arrives as several arguments.
			var q []string
			for i, a := range pos {
				if i == 3 {
					q = append(q, "…")
					break
				}
				q = append(q, strconv.Quote(a))
			}
			got = fmt.Sprintf(" (got %d: %s)", len(pos), strings.Join(q, " "))
		}
		return nil, fmt.Errorf("%w: %s %s%s", errUsage, f.Name(), what, got)
	}
	return pos, nil
}

// usageErr marks a flag parsing error as a usage mistake, but lets -h
// through so help exits 0.
func usageErr(err error) error {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return fmt.Errorf("%w: %v", errUsage, err)
}

// open opens the engine for a CLI command. CLI commands never lock the
// configuration, so --out may point anywhere.
func (m *Main) open(ctx context.Context, g *globalFlags) (*engine.Engine, error) {
	e, err := engine.Open(ctx, m.engineOptions(g, false))
	if err != nil {
		return nil, err
	}
	m.engine = e
	return e, nil
}

// engineOptions maps the global flags to engine options.
func (m *Main) engineOptions(g *globalFlags, lock bool) engine.Options {
	if g.configDir != "" {
		// note: valid (it means "all defaults"), but more likely the
		// wrong folder than a wish.
		if found, err := configDirFiles(g.configDir); err == nil && len(found) == 0 {
			m.Logger.Warn("--config-dir holds no config file: every embedded default applies", "dir", g.configDir)
		}
	}
	return engine.Options{
		DBPath:       g.db,
		DataDir:      g.dataDir,
		FeatureStore: g.featureStore,
		Config:       configFS(g.configDir),
		MemoryLimit:  g.memoryLimit,
		Threads:      g.threads,
		TempDir:      g.tempDir,
		Lock:         lock,
		ResultsIndex: lock,
		IndexMinRows: engine.DefaultIndexMinRows,
		Logger:       m.Logger,
	}
}

// printJSON writes v as one compact JSON line on stdout: the contract of
// every machine-facing command.
func (m *Main) printJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(m.Stdout, "%s\n", b)
	return err
}
