package main

import (
	"errors"
	"strings"
	"testing"
)

// TestUsage: help without a command is the command list (serve being the
// default command, `exohunter --help` used to print serve's flags), and a
// command's own help is its flags.
func TestUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"--data-dir", "x", "--help"}} {
		_, stderr, err := runMain(t, args...)
		if err != nil || !strings.Contains(stderr, "usage: exohunter") || !strings.Contains(stderr, "\n  models ") {
			t.Errorf("%q: err %v, stderr:\n%s", args, err, stderr)
		}
	}
	_, stderr, err := runMain(t, "serve", "--help")
	if err != nil || !strings.Contains(stderr, "-addr") || strings.Contains(stderr, "commands:") {
		t.Errorf("serve --help: err %v, stderr:\n%s", err, stderr)
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
