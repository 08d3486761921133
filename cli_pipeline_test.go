package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/exohunter/exohunter/engine"
)

// TestProcessCommand_albedo: an empty --albedo is a mistake, not "the
// default", and an albedo outside the configured [0, 0.99] is refused
// with the range; a good one is used and reported.
func TestProcessCommand_albedo(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	if _, stderr, err := runMain(t, "ingest", smallKOI, "--name", "koi", "--data-dir", data); err != nil {
		t.Fatalf("ingest: %v\n%s", err, stderr)
	}
	for _, tc := range []struct{ arg, want string }{
		{"--albedo=", `--albedo "" is not a number`},
		{"--albedo=1", "The albedo must be below 1"},
		{"--albedo=0.995", "albedo: out of range 0.995 (allowed 0 to 0.99)"},
	} {
		_, _, err := runMain(t, "--data-dir", data, "process", "koi", tc.arg)
		if engine.ErrorCode(err) != engine.BadRequest || !strings.Contains(engine.ErrorMessage(err), tc.want) {
			t.Errorf("process %s: %v, want a bad request saying %q", tc.arg, err, tc.want)
		}
	}
	var run struct {
		Albedo float64 `json:"albedo"`
	}
	out, stderr, err := runMain(t, "--data-dir", data, "process", "koi", "--albedo", "0.5")
	if err != nil {
		t.Fatalf("process --albedo 0.5: %v\n%s", err, stderr)
	}
	oneJSONLine(t, out, &run)
	if run.Albedo != 0.5 {
		t.Errorf("albedo = %v, want 0.5", run.Albedo)
	}
}

// TestIngestCommand_duplicate: the same bytes under another name make no
// new dataset; the JSON line says so for scripts and stderr for people.
func TestIngestCommand_duplicate(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	if _, stderr, err := runMain(t, "ingest", smallKOI, "--name", "koi", "--data-dir", data); err != nil {
		t.Fatalf("ingest: %v\n%s", err, stderr)
	}
	out, stderr, err := runMain(t, "ingest", smallKOI, "--name", "another", "--data-dir", data)
	if err != nil {
		t.Fatalf("second ingest: %v\n%s", err, stderr)
	}
	var ds struct {
		Name        string `json:"name"`
		DuplicateOf string `json:"duplicate_of"`
	}
	oneJSONLine(t, out, &ds)
	if ds.Name != "koi" || ds.DuplicateOf != "koi" {
		t.Errorf("second ingest printed %+v, want the koi dataset as a duplicate", ds)
	}
	if !strings.Contains(stderr, `no dataset "another" was created; use "koi"`) {
		t.Errorf("stderr does not say that no dataset was made: %q", stderr)
	}
}
