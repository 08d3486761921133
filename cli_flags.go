package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// globalFlags are accepted by every command, before or after the command
// name and its positional arguments.
type globalFlags struct {
	db           string
	dataDir      string
	featureStore string
	configDir    string
	memoryLimit  string
	threads      int
	tempDir      string
}

// register adds the global flags to fs, with defaults taken from the
// environment so that EXOHUNTER_* variables work for every command.
func (g *globalFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&g.db, "db", getenv("EXOHUNTER_DB"), "DuckDB database file (env EXOHUNTER_DB; default DATA-DIR/exohunter.duckdb)")
	fs.StringVar(&g.dataDir, "data-dir", envOr(getenv, "EXOHUNTER_DATA", "data"), "folder for all runtime state (env EXOHUNTER_DATA)")
	fs.StringVar(&g.featureStore, "feature-store", envOr(getenv, "EXOHUNTER_FEATURE_STORE", "feature_store"), "folder of versioned feature sets (env EXOHUNTER_FEATURE_STORE)")
	fs.StringVar(&g.configDir, "config-dir", getenv("EXOHUNTER_CONFIG_DIR"), "folder overriding the embedded configs/ and schemas/ (env EXOHUNTER_CONFIG_DIR)")
	fs.StringVar(&g.memoryLimit, "memory-limit", getenv("EXOHUNTER_MEMORY_LIMIT"), "DuckDB memory limit, e.g. 4GB (env EXOHUNTER_MEMORY_LIMIT; default 1GB)")
	fs.IntVar(&g.threads, "threads", 0, "DuckDB worker threads (default: all cores)")
	fs.StringVar(&g.tempDir, "temp-dir", getenv("EXOHUNTER_TEMP_DIR"), "spill folder for larger-than-memory work (env EXOHUNTER_TEMP_DIR; default DATA-DIR/tmp)")
}

// check refuses global flag values that would otherwise be ignored
// without a word: a --config-dir that is no folder or holds a YAML file of
// no known name (the embedded configs would silently apply) and a negative
// --threads.
func (g *globalFlags) check() error {
	if g.configDir != "" {
		if st, err := os.Stat(g.configDir); err != nil || !st.IsDir() {
			return fmt.Errorf("--config-dir %s is not a folder; it must hold configs/ and schemas/ overrides", g.configDir)
		}
		if _, err := configDirFiles(g.configDir); err != nil {
			return err
		}
	}
	if g.threads < 0 {
		return fmt.Errorf("--threads %d: give a positive number of threads, or 0 for all cores", g.threads)
	}
	return nil
}

// globalValueFlags lists the global flags that take a value, so the command
// name can be found before the command's own flags are known.
var globalValueFlags = map[string]bool{
	"db": true, "data-dir": true, "feature-store": true, "config-dir": true,
	"memory-limit": true, "threads": true, "temp-dir": true,
}

// serveValueFlags are serve's flags that take a value: serve is the default
// command, so "exohunter --addr HOST:PORT" names no command and HOST:PORT
// is the flag's value.
var serveValueFlags = map[string]bool{"addr": true, "sample": true}

// splitCommand finds the command name: the first argument that is neither a
// flag nor the value of a global (or serve's) flag. It returns the command and the other
// arguments in order. An empty command means the default (serve).
func splitCommand(args []string) (string, []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && (globalValueFlags[name] || serveValueFlags[name]) {
				i++
			}
			continue
		}
		rest := append(append([]string{}, args[:i]...), args[i+1:]...)
		return a, rest
	}
	return "", args
}

// parseInterleaved parses flags that may appear before, between or after
// positional arguments (the standard flag package stops at the first
// positional). It returns the positionals in order.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// newFlagSet returns a FlagSet for one command that reports errors instead
// of exiting, and prints its usage to w.
func newFlagSet(name string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		if h, ok := commandHelp[name]; ok {
			fmt.Fprintf(w, "usage: exohunter %s %s\n  %s\n\nflags (before or after the arguments):\n", name, h.args, h.summary)
		} else {
			fmt.Fprintf(w, "usage of %s:\n", name)
		}
		fs.PrintDefaults()
	}
	return fs
}

// commandHelp is the commands table by name, for each command's --help.
// note: filled by init, since commands refers to the run functions that
// build these flag sets (a package-level initializer would be a cycle).
var commandHelp = map[string]struct{ args, summary string }{}

func init() {
	for _, c := range commands {
		commandHelp[c.name] = struct{ args, summary string }{c.args, c.summary}
	}
}

// multiFlag collects a repeatable flag such as --set KEY=VALUE.
type multiFlag []string

// String implements flag.Value.
func (m *multiFlag) String() string { return strings.Join(*m, ",") }

// Set implements flag.Value.
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// keyValues parses KEY=VALUE items into a map, refusing items without '='.
func keyValues(items []string, flagName string) (map[string]string, error) {
	out := make(map[string]string, len(items))
	for _, it := range items {
		k, v, ok := strings.Cut(it, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("--%s %q: expected KEY=VALUE", flagName, it)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("--%s %s is given twice; give it once", flagName, k)
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}

// envOr returns the environment variable key, or def when it is empty.
func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
