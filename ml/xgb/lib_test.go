package xgb

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestAvailable(t *testing.T) {
	// Fails (never skips) without the library: CI installs it.
	if err := Available(); err != nil {
		t.Fatal(err)
	}
	v, path, err := Version()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v, "1.") && !strings.HasPrefix(v, "2.") && !strings.HasPrefix(v, "3.") {
		t.Errorf("version %q from %s: want 1.x or later", v, path)
	}
	t.Logf("XGBoost %s from %s", v, path)
}

func TestLoad_missingLibrary(t *testing.T) {
	_, err := load([]string{"/nonexistent/libxgboost.so.0", "libxgboost-not-here.so"})
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("err = %v, want ErrNotInstalled", err)
	}
	for _, want := range []string{InstallHint, "/nonexistent/libxgboost.so.0", "libxgboost-not-here.so"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestLoad_wrongLibrary(t *testing.T) {
	// A real library without XGBoost's symbols must give an error, not a
	// panic from purego.
	_, err := load([]string{"libc.so.6"})
	if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "XGBoostVersion") {
		t.Fatalf("err = %v, want ErrNotInstalled naming the missing symbol", err)
	}
}

// TestLazyLoad re-runs this test binary with the library path pointed at
// nothing. The process must start (the package does not touch the library
// at init) and Train must return the install message.
func TestLazyLoad(t *testing.T) {
	if os.Getenv("XGB_LAZY_CHILD") == "1" {
		_, err := Train(blobs(10, 2, 2, 1, 1), nil, fastParams())
		if !errors.Is(err, ErrNotInstalled) {
			t.Fatalf("Train err = %v, want ErrNotInstalled", err)
		}
		os.Stdout.WriteString("child-error: " + err.Error() + "\n")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLazyLoad$", "-test.v")
	cmd.Env = append(os.Environ(), "XGB_LAZY_CHILD=1", LibraryEnv+"=/nonexistent/libxgboost.so.0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "child-error: ") || !strings.Contains(string(out), InstallHint) {
		t.Errorf("child output lacks the install message:\n%s", out)
	}
}
