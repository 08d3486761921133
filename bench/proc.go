package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// measured is one whole-process run: wall time, peak RSS and stdout.
type measured struct {
	seconds float64
	rssKB   int64 // peak resident set (ru_maxrss of the child)
	stdout  string
}

// runProc runs a command to completion and measures it. stderr goes to
// the bench's log file so failures can be read afterwards.
func runProc(ctx context.Context, log *os.File, name string, args ...string) (measured, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = log
	fmt.Fprintf(log, "\n$ %s %s\n", name, strings.Join(args, " "))
	t0 := time.Now()
	err := cmd.Run()
	m := measured{seconds: time.Since(t0).Seconds(), stdout: out.String()}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			m.rssKB = ru.Maxrss // note: kilobytes on Linux
		}
	}
	if err != nil {
		return m, fmt.Errorf("%s %s: %w (see the log)", name, strings.Join(args, " "), err)
	}
	return m, nil
}

// vmHWM reads a running process's peak resident set in kB from /proc.
func vmHWM(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// stats are the median and maximum of repeated measurements.
type stats struct {
	median, max float64
	n           int
}

func summarize(xs []float64) stats {
	if len(xs) == 0 {
		return stats{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	mid := s[len(s)/2]
	if len(s)%2 == 0 {
		mid = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stats{median: mid, max: s[len(s)-1], n: len(s)}
}

// percentile of sorted durations (nearest rank).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

func maxInt64(xs []int64) int64 {
	var m int64
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
