package engine

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// TestWriteFileAtomically_deadWriters: the temporary file of a writer that
// was killed (its PID gone) is removed by the next write of the same file;
// a live writer's, another file's and an unrelated one stay.
func TestWriteFileAtomically_deadWriters(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead, alive := strconv.Itoa(cmd.Process.Pid), strconv.Itoa(os.Getpid())
	dir := t.TempDir()
	files := map[string]bool{ // name: removed
		".out.csv." + dead + "-123.tmp":      true,
		".out.csv." + alive + "-456.tmp":     false,
		".other.csv." + dead + "-789.tmp":    false,
		".out.csv.2644663433.tmp":            false, // before PIDs were in the name
		".snapshot-" + dead + "-abcd.duckdb": false, // another kind of writer
		"out.csv." + dead + "-1.tmp":         false,
	}
	for name := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "out.csv")
	if err := writeFileAtomically(context.Background(), out, func(tmp string) error { return os.WriteFile(tmp, []byte("new"), 0o644) }); err != nil {
		t.Fatal(err)
	}
	for name, removed := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		if gone := os.IsNotExist(err); gone != removed {
			t.Errorf("%s: removed = %v, want %v", name, gone, removed)
		}
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != "new" {
		t.Errorf("out = %q, %v", b, err)
	}
	// A snapshot written next to a dead snapshot writer's file removes it.
	removeDeadWriters(dir, snapshotTempPrefix)
	if _, err := os.Stat(filepath.Join(dir, ".snapshot-"+dead+"-abcd.duckdb")); !os.IsNotExist(err) {
		t.Errorf("a dead snapshot writer's file survived: %v", err)
	}
}
