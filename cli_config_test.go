package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exohunter/exohunter/engine"
)

// configDir writes a --config-dir holding the given files (paths relative
// to the folder) and returns it.
func configDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// replaced returns a repository file with one text replaced.
func replaced(t *testing.T, file, from, to string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), from) {
		t.Fatalf("%s has no %q", file, from)
	}
	return strings.Replace(string(data), from, to, 1)
}

// TestConfigProblems_allPrinted: the CLI prints every problem of a broken
// config. It printed one of two problems of the same text (koi_prad read by
// two rules), and 4 of 18 with a canonical column renamed.
func TestConfigProblems_allPrinted(t *testing.T) {
	t.Parallel()
	dir := configDir(t, map[string]string{
		"schemas/columns.yaml": replaced(t, "schemas/columns.yaml", "  - name: koi_prad\n", "  - name: koi_prad_re\n"),
	})
	_, _, err := runMain(t, "query", "SELECT 1", "--data-dir", t.TempDir(), "--config-dir", dir)
	if engine.ErrorCode(err) != engine.Invalid {
		t.Fatalf("err = %v, want an invalid config", err)
	}
	details := engine.ErrorDetails(err)
	if len(details) < 3 {
		t.Fatalf("%d problems, want several: %v", len(details), details)
	}
	text := describe(err)
	for _, d := range details {
		if line := d.Field + ": " + d.Message; !strings.Contains(text, line) {
			t.Errorf("the message lacks %s", line)
		}
	}
	if got, want := strings.Count(text, "\n"), len(details)-1; got != want {
		t.Errorf("%d detail lines below the summary, want %d (the summary quotes the first):\n%s", got, want, text)
	}
}

// TestConfigDir_misnamedFile: a YAML file in --config-dir that no config
// is read from is refused, naming it and the known names; it was ignored
// and the embedded default applied without a word. A folder with no
// config file at all is valid (every default) and says so in the log.
func TestConfigDir_misnamedFile(t *testing.T) {
	t.Parallel()
	thresholds := replaced(t, "configs/thresholds.yaml", "rocky_max: 2.0", "rocky_max: 2.2")
	for _, tc := range []struct{ file, want string }{
		{"thresholds.yml", "thresholds.yml is no config file ExoHunter reads (name it thresholds.yaml)"},
		{"threshold.yaml", "threshold.yaml is no config file ExoHunter reads (name it thresholds.yaml)"},
		{"configs/Thresholds.yaml", "configs/Thresholds.yaml is no config file ExoHunter reads"},
		{"configs/columns.yaml", "configs/columns.yaml belongs in schemas/"},
	} {
		dir := configDir(t, map[string]string{tc.file: thresholds})
		_, _, err := runMain(t, "query", "SELECT 1", "--data-dir", t.TempDir(), "--config-dir", dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "thresholds.yaml, in that folder or in its configs/") {
			t.Errorf("%s: err = %v, want one saying %q and naming the config files", tc.file, err, tc.want)
		}
	}
	for _, files := range []map[string]string{
		{"thresholds.yaml": thresholds},
		{"configs/thresholds.yaml": thresholds, "README.md": "notes", ".editor.yml": "x: 1", "other/x.yaml": "x: 1"},
		// note: a project folder's own YAML beside the configs.
		{"thresholds.yaml": thresholds, "environment.yml": "name: exo", "docker-compose.yml": "services: {}", "mkdocs.yml": "site_name: x"},
	} {
		dir := configDir(t, files)
		if _, stderr, err := runMain(t, "query", "SELECT 1", "--data-dir", t.TempDir(), "--config-dir", dir); err != nil || strings.Contains(stderr, "holds no config file") {
			t.Errorf("%v: err = %v, stderr %s", files, err, stderr)
		}
	}
	_, stderr, err := runMain(t, "query", "SELECT 1", "--data-dir", t.TempDir(), "--config-dir", t.TempDir())
	if err != nil || !strings.Contains(stderr, "--config-dir holds no config file: every embedded default applies") {
		t.Errorf("empty folder: err = %v, stderr %s", err, stderr)
	}
}
