package main

import (
	"slices"
	"testing"
)

// TestSplitCommand: the command is the first word that is no flag value,
// and serve, the default command, may be left out before its own flags.
func TestSplitCommand(t *testing.T) {
	tests := []struct {
		args     []string
		wantCmd  string
		wantRest []string
	}{
		{[]string{"ingest", "x.csv", "--name", "k"}, "ingest", []string{"x.csv", "--name", "k"}},
		{[]string{"--data-dir", "d", "process", "koi"}, "process", []string{"--data-dir", "d", "koi"}},
		{[]string{"--addr", "127.0.0.1:9090"}, "", []string{"--addr", "127.0.0.1:9090"}},
		{[]string{"--data-dir", "d", "--addr", "127.0.0.1:9090", "--sample", "koi.csv"}, "", []string{"--data-dir", "d", "--addr", "127.0.0.1:9090", "--sample", "koi.csv"}},
		{[]string{"--addr=127.0.0.1:9090"}, "", []string{"--addr=127.0.0.1:9090"}},
		{[]string{"serve", "--addr", "127.0.0.1:9090"}, "serve", []string{"--addr", "127.0.0.1:9090"}},
		{[]string{"--threads", "2", "query", "SELECT 1"}, "query", []string{"--threads", "2", "SELECT 1"}},
	}
	for _, tc := range tests {
		cmd, rest := splitCommand(tc.args)
		if cmd != tc.wantCmd || !slices.Equal(rest, tc.wantRest) {
			t.Errorf("splitCommand(%q) = %q, %q; want %q, %q", tc.args, cmd, rest, tc.wantCmd, tc.wantRest)
		}
	}
}
