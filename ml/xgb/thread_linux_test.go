//go:build linux

package xgb

import (
	"runtime"
	"syscall"
	"testing"
)

// TestCall_oneThread checks the invariant the package relies on: every C
// call, from any goroutine, runs on the same OS thread (XGBoost 1.7 keeps
// per-learner state in thread-local storage; see the package comment).
func TestCall_oneThread(t *testing.T) {
	a, err := lib()
	if err != nil {
		t.Fatal(err)
	}
	tids := make(chan [2]int, 8)
	for range 8 {
		go func() {
			// Pin the caller so that its own thread differs from the others'.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var tid int
			_ = a.call("gettid", func() int32 { tid = syscall.Gettid(); return 0 })
			tids <- [2]int{syscall.Gettid(), tid}
		}()
	}
	first := -1
	for range 8 {
		got := <-tids
		if got[0] == got[1] {
			t.Errorf("call ran on the caller's thread %d", got[0])
		}
		if first < 0 {
			first = got[1]
		}
		if got[1] != first {
			t.Errorf("calls ran on threads %d and %d", first, got[1])
		}
	}
}
