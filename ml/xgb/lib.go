// Package xgb trains and applies XGBoost gradient-boosted trees through
// XGBoost's C API (version 1.7, as Debian bookworm ships it).
//
// Debian packages only the shared library (libxgboost0), so the library is
// opened at run time with dlopen (through github.com/ebitengine/purego) on the
// first call that needs it, never at program start: the binary builds and
// starts on a machine without XGBoost, and training or scoring there returns
// an error wrapping ErrNotInstalled that says what to install.
//
// Every C call runs on one dedicated OS thread. XGBoost 1.7 is thread-affine
// in ways its C API does not advertise: XGBGetLastError is thread-local, and a
// learner keeps its prediction cache (from which it infers the feature count
// on the first round) in thread-local storage keyed by the learner, so a
// booster created on one thread and updated on another fails with "0 feature
// is supplied", and one freed on another thread leaves stale cache entries
// behind. One thread also gives libgomp a single thread pool to reuse.
// Training parallelism is XGBoost's own (nthread); calls from concurrent
// goroutines queue. A Booster also serialises its own calls, because
// XGBoost's result buffers belong to the booster.
package xgb

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// InstallHint is the sentence every "library missing" error carries.
const InstallHint = "install libxgboost0 (Debian: apt-get install libxgboost0 libgomp1)"

// LibraryEnv names an environment variable that, when set, is the only path
// tried for the XGBoost shared library (for non-Debian layouts).
const LibraryEnv = "EXOHUNTER_XGBOOST_LIB"

// ErrNotInstalled is wrapped by the error returned when the XGBoost shared
// library cannot be opened or lacks a function this package needs.
var ErrNotInstalled = errors.New("XGBoost library not available")

// defaultCandidates are tried in order. Bare names go through the dynamic
// linker's search path; Debian's libxgboost0 provides libxgboost.so.0 (a link
// to libxgboost.so.1.6.0 even for 1.7.4), libxgboost-dev adds libxgboost.so.
var defaultCandidates = []string{
	"libxgboost.so.0",
	"libxgboost.so",
	"/usr/lib/x86_64-linux-gnu/libxgboost.so.0",
	"/usr/lib/aarch64-linux-gnu/libxgboost.so.0",
	"/usr/local/lib/libxgboost.so",
	"libxgboost.dylib",
}

// api holds the C functions, bound once by load. Argument types follow
// c_api.h: handles are void* (uintptr), bst_ulong is uint64, C int is int32,
// out-pointers to C memory are *unsafe.Pointer so no uintptr→pointer
// conversion is needed to read them.
type api struct {
	path string
	// jobs feeds the goroutine that owns the XGBoost thread; see call.
	jobs chan func()

	version      func(major, minor, patch *int32)
	getLastError func() string

	dmatrixCreateFromMat func(data []float32, nrow, ncol uint64, missing float32, out *uintptr) int32
	dmatrixSetFloatInfo  func(h uintptr, field string, data []float32, n uint64) int32
	dmatrixFree          func(h uintptr) int32

	boosterCreate          func(dmats []uintptr, n uint64, out *uintptr) int32
	boosterFree            func(h uintptr) int32
	boosterSetParam        func(h uintptr, name, value string) int32
	boosterUpdateOneIter   func(h uintptr, iter int32, dtrain uintptr) int32
	boosterSlice           func(h uintptr, begin, end, step int32, out *uintptr) int32
	boosterBoostedRounds   func(h uintptr, out *int32) int32
	boosterPredictFromDMat func(h, dmat uintptr, config string, outShape *unsafe.Pointer, outDim *uint64, outResult *unsafe.Pointer) int32
	boosterSaveModel       func(h uintptr, fname string) int32
	boosterSaveToBuffer    func(h uintptr, config string, outLen *uint64, out *unsafe.Pointer) int32
	boosterLoadFromBuffer  func(h uintptr, buf []byte, n uint64) int32
	boosterSaveJSONConfig  func(h uintptr, outLen *uint64, out *unsafe.Pointer) int32
	boosterSetAttr         func(h uintptr, key, value string) int32
	boosterFeatureScore    func(h uintptr, config string, nFeatures *uint64, features *unsafe.Pointer, dim *uint64, shape *unsafe.Pointer, scores *unsafe.Pointer) int32
}

// lib returns the bound library, opening it on first use. The outcome,
// success or failure, is cached for the life of the process: dlopen results
// do not change without a restart that would re-run it anyway.
var lib = sync.OnceValues(func() (*api, error) {
	candidates := defaultCandidates
	if p := os.Getenv(LibraryEnv); p != "" {
		candidates = []string{p}
	}
	// libgomp reads OMP_WAIT_POLICY once, when dlopen loads it. Its default
	// spin-waiting starves DuckDB and the HTTP server sharing the cores and
	// crawls when the machine is busy (measured: a 0.1 s training took 3 s
	// on two loaded cores); PASSIVE sleeps instead. A value the user set wins.
	if _, ok := os.LookupEnv("OMP_WAIT_POLICY"); !ok {
		_ = os.Setenv("OMP_WAIT_POLICY", "PASSIVE")
	}
	return load(candidates)
})

// Available reports whether the XGBoost library can be used, loading it if
// needed. The error wraps ErrNotInstalled and carries InstallHint.
func Available() error {
	_, err := lib()
	return err
}

// Version returns the version of the loaded XGBoost library and its path.
func Version() (version, path string, err error) {
	a, err := lib()
	if err != nil {
		return "", "", err
	}
	var major, minor, patch int32
	_ = a.call("version", func() int32 { a.version(&major, &minor, &patch); return 0 })
	return fmt.Sprintf("%d.%d.%d", major, minor, patch), a.path, nil
}

// load opens the first candidate that dlopen accepts and binds every symbol.
func load(candidates []string) (*api, error) {
	// Only the first dlopen error is kept: the others repeat "cannot open
	// shared object file" and would bury the install hint.
	var first error
	for _, path := range candidates {
		h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_LOCAL)
		if err != nil {
			first = cmp.Or(first, err)
			continue
		}
		a := &api{path: path, jobs: make(chan func())}
		if err := a.bind(h); err != nil {
			// NB: the handle stays open; closing a library XGBoost may have
			// started OpenMP threads from is not worth the risk for an error path.
			return nil, fmt.Errorf("%w: %s lacks %v (need XGBoost 1.7 or newer); %s", ErrNotInstalled, path, err, InstallHint)
		}
		go a.serve()
		return a, nil
	}
	return nil, fmt.Errorf("%w: %s (tried %s: %v)", ErrNotInstalled, InstallHint, strings.Join(candidates, ", "), first)
}

// bind resolves every symbol with Dlsym first, because RegisterLibFunc panics
// on a missing one and an old or foreign library must give an error instead.
func (a *api) bind(h uintptr) error {
	syms := []struct {
		name string
		fn   any
	}{
		{"XGBoostVersion", &a.version},
		{"XGBGetLastError", &a.getLastError},
		{"XGDMatrixCreateFromMat", &a.dmatrixCreateFromMat},
		{"XGDMatrixSetFloatInfo", &a.dmatrixSetFloatInfo},
		{"XGDMatrixFree", &a.dmatrixFree},
		{"XGBoosterCreate", &a.boosterCreate},
		{"XGBoosterFree", &a.boosterFree},
		{"XGBoosterSetParam", &a.boosterSetParam},
		{"XGBoosterUpdateOneIter", &a.boosterUpdateOneIter},
		{"XGBoosterSlice", &a.boosterSlice},
		{"XGBoosterBoostedRounds", &a.boosterBoostedRounds},
		{"XGBoosterPredictFromDMatrix", &a.boosterPredictFromDMat},
		{"XGBoosterSaveModel", &a.boosterSaveModel},
		{"XGBoosterSaveModelToBuffer", &a.boosterSaveToBuffer},
		{"XGBoosterLoadModelFromBuffer", &a.boosterLoadFromBuffer},
		{"XGBoosterSaveJsonConfig", &a.boosterSaveJSONConfig},
		{"XGBoosterSetAttr", &a.boosterSetAttr},
		{"XGBoosterFeatureScore", &a.boosterFeatureScore},
	}
	for _, s := range syms {
		sym, err := purego.Dlsym(h, s.name)
		if err != nil {
			return fmt.Errorf("symbol %s", s.name)
		}
		purego.RegisterFunc(s.fn, sym)
	}
	return nil
}

// serve runs jobs on one locked OS thread for the life of the process: the
// goroutine never returns, so the thread is never handed back to Go.
func (a *api) serve() {
	runtime.LockOSThread()
	for job := range a.jobs {
		job()
	}
}

// call runs one C API call on the XGBoost thread and turns a non-zero return
// into an error carrying XGBoost's message, read on that same thread. f must
// not itself use call: it would wait for its own thread.
func (a *api) call(what string, f func() int32) error {
	var err error
	done := make(chan struct{})
	a.jobs <- func() {
		if f() != 0 {
			err = fmt.Errorf("xgboost: %s: %s", what, strings.TrimSpace(a.getLastError()))
		}
		close(done)
	}
	<-done
	return err
}

// goString copies a NUL-terminated C string.
func goString(p unsafe.Pointer) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(p, n)) != 0 {
		n++
	}
	return string(unsafe.Slice((*byte)(p), n))
}
