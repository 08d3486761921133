package main

import (
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
