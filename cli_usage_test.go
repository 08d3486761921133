package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestUsage: help without a command is the command list (serve being the
// default command, `exohunter --help` used to print serve's flags), and a
// command's own help is its flags.
func TestUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"--data-dir", "x", "--help"}} {
		stdout, _, err := runMain(t, args...)
		if err != nil || !strings.Contains(stdout, "usage: exohunter") || !strings.Contains(stdout, "\n  models ") {
			t.Errorf("%q: err %v, stdout (asked-for help goes there, for | less):\n%s", args, err, stdout)
		}
	}
	// A mistake's usage is an error message: stderr, exit 2.
	stdout, stderr, err := runMain(t, "frobnicate")
	if !errors.Is(err, errUsage) || stdout != "" || !strings.Contains(stderr, "usage: exohunter") {
		t.Errorf("unknown command: err %v, stdout %q, stderr:\n%s", err, stdout, stderr)
	}
	stdout, _, err = runMain(t, "serve", "--help")
	if err != nil || !strings.Contains(stdout, "-addr") || strings.Contains(stdout, "commands:") {
		t.Errorf("serve --help: err %v, stdout:\n%s", err, stdout)
	}
	// A command's help starts with its synopsis and summary, and the
	// global flags name their environment variables.
	stdout, _, err = runMain(t, "process", "--help")
	if err != nil || !strings.HasPrefix(stdout, "usage: exohunter process DATASET [--set KEY=VALUE]") ||
		!strings.Contains(stdout, "derive metrics, classify") || !strings.Contains(stdout, "(env EXOHUNTER_DATA)") {
		t.Errorf("process --help: err %v, stdout:\n%s", err, stdout)
	}
	// A wrong count of arguments says what was given.
	if _, _, err := runMain(t, "migrate", "up", "extra", "--data-dir", t.TempDir()); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), `needs up or version (got 2: "up" "extra")`) {
		t.Errorf("migrate up extra: err %v", err)
	}
	// A flag mistake's usage stays on stderr.
	stdout, stderr, err = runMain(t, "score", "--bogus")
	if !errors.Is(err, errUsage) || stdout != "" || !strings.Contains(stderr, "-model") {
		t.Errorf("score --bogus: err %v, stdout %q, stderr:\n%s", err, stdout, stderr)
	}
}

// TestCommandFlagFirst: a command's flag given before the command goes to
// the command, as after it ("exohunter --name toi ingest FILE" said
// unknown command "toi").
func TestCommandFlagFirst(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	csv := filepath.Join(t.TempDir(), "k.csv")
	if err := os.WriteFile(csv, []byte("kepid,kepoi_name,koi_disposition,koi_period,koi_prad\n1,K1.01,CANDIDATE,10,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runMain(t, "--data-dir", data, "--name", "early", "ingest", csv)
	if err != nil || !strings.HasPrefix(stdout, `{"name":"early"`) {
		t.Fatalf("--name before ingest: err %v, stdout %.80q, stderr:\n%s", err, stdout, stderr)
	}
	stdout, stderr, err = runMain(t, "--set", "planet_radius.rocky_max=2.2", "--albedo", "0.4", "process", "early", "--data-dir", data)
	if err != nil || !strings.Contains(stdout, `"planet_radius.rocky_max":2.2`) {
		t.Errorf("--set and --albedo before process: err %v, stdout %.300q, stderr:\n%s", err, stdout, stderr)
	}
	// An unknown word after a flag, with no command after it, is still
	// an unknown command.
	if _, _, err := runMain(t, "--data-dir", data, "--name", "nosuch"); !errors.Is(err, errUsage) {
		t.Errorf("no command at all: err %v, want a usage error", err)
	}
}

// TestGlobalFlags_Refused: global flags that would be ignored without a
// word are usage mistakes.
func TestGlobalFlags_Refused(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	for _, args := range [][]string{
		{"--config-dir", "/no/such/dir", "query", "SELECT 1"},
		{"query", "SELECT 1", "--threads", "-3"},
	} {
		_, _, err := runMain(t, append(args, "--data-dir", data)...)
		if !errors.Is(err, errUsage) {
			t.Errorf("%q: err = %v, want a usage error", args, err)
		}
	}
}

// TestExitCode_brokenPipe: output cut short by its reader (| head) ends
// quietly with SIGPIPE's status, not an "internal error" log.
func TestExitCode_brokenPipe(t *testing.T) {
	var stderr strings.Builder
	m := &Main{Stderr: &stderr}
	m.Logger = slog.New(slog.NewTextHandler(&stderr, nil))
	if got := m.exitCode(context.Background(), fmt.Errorf("write stdout: %w", syscall.EPIPE)); got != 141 || stderr.Len() != 0 {
		t.Errorf("exit %d, stderr %q; want 141 and nothing", got, stderr.String())
	}
}

// TestExitCode_interrupted: a command cancelled by Ctrl-C says so and exits
// with 130, whatever unclassified error the cancellation caused, rather
// than reporting an internal error.
func TestExitCode_interrupted(t *testing.T) {
	var stderr strings.Builder
	m := &Main{Stderr: &stderr}
	m.Logger = slog.New(slog.NewTextHandler(&stderr, nil))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got := m.exitCode(ctx, fmt.Errorf("list datasets: %w", context.Canceled))
	if got != 130 || stderr.String() != "exohunter: interrupted before the command finished\n" {
		t.Errorf("exit %d, stderr %q; want 130 and one line", got, stderr.String())
	}
	// SIGTERM's status is 143; an error the cancellation did not cause is
	// printed as well.
	stderr.Reset()
	m.signal = syscall.SIGTERM
	if got := m.exitCode(ctx, errors.New("disk on fire")); got != 143 || !strings.Contains(stderr.String(), "interrupted") || !strings.Contains(stderr.String(), "disk on fire") {
		t.Errorf("SIGTERM: exit %d, stderr %q; want 143, interrupted and the error", got, stderr.String())
	}
	stderr.Reset()
	if got := m.exitCode(context.Background(), fmt.Errorf("list datasets: %w", context.Canceled)); got != 1 {
		t.Errorf("not interrupted: exit %d, want 1", got)
	}
}

// TestLabels_usage: a missing argument names itself, and an explicit
// --limit 0 is refused as the API refuses limit=0 (it used to mean the
// default batch).
func TestLabels_usage(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"labels", "import-nasa"}, "labels import-nasa needs DATASET"},
		{[]string{"labels", "import-run"}, "labels import-run needs RUN"},
		{[]string{"labels", "stats", "koi"}, "labels stats takes no argument (koi)"},
		{[]string{"labels", "queue", "--limit", "0"}, "--limit must be at least 1 (got 0)"},
	} {
		_, _, err := runMain(t, append(tc.args, "--data-dir", data)...)
		if !errors.Is(err, errUsage) || !strings.Contains(fmt.Sprint(err), tc.want) {
			t.Errorf("%q: err %v; want a usage error saying %q", tc.args, err, tc.want)
		}
	}
}
