package engine

import (
	"os"
	"path/filepath"
	"syscall"
)

// Open removes what a killed process left behind in the data dir and the
// feature store (.part uploads, half-built feature sets, spooled exports).
// The database lock does not make that safe: another process may share
// the folder with a different --db (the feature store defaults to
// ./feature_store, so two processes started in one directory share it),
// and its work in progress looks the same as a dead process's leftovers.
// So every engine holds a shared flock on a lock file in each folder for
// its lifetime, and clears leftovers only when it could take that lock
// exclusively at Open, that is, when no other engine uses the folder.

// dirLockFile is the lock file in the data dir and the feature store.
const dirLockFile = ".exohunter.lock"

// dirLock is an engine's hold on a shared folder.
type dirLock struct {
	f *os.File
	// alone: no other process had the folder when this one opened it,
	// so leftovers in it are a dead process's and may be removed.
	alone bool
}

// lockDir opens dir's lock file and tries to take it exclusively; the
// lock stays exclusive until share is called at the end of Open, so that
// a process opening meanwhile waits instead of writing into a folder
// being cleared. A folder that cannot hold the lock (read-only, no flock)
// gets a dirLock that is not alone: nothing is removed from it.
func lockDir(dir string) *dirLock {
	f, err := os.OpenFile(filepath.Join(dir, dirLockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return &dirLock{}
	}
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
		return &dirLock{f: f, alone: true}
	}
	// note: blocks while another process is inside its own Open.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		f.Close()
		return &dirLock{}
	}
	return &dirLock{f: f}
}

// share turns an exclusive hold into a shared one: other processes may
// now open the folder.
func (l *dirLock) share() {
	if l != nil && l.f != nil && l.alone {
		_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_SH)
	}
}

// release drops the hold.
func (l *dirLock) release() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// holdFeatureStore takes a shared hold on the feature store once it
// exists, if Open found none: another process opening then sees this
// one's builds as work in progress.
func (e *Engine) holdFeatureStore() {
	e.storeMu.Lock()
	defer e.storeMu.Unlock()
	if e.storeLock != nil && e.storeLock.f != nil {
		return
	}
	l := lockDir(e.featureStore)
	l.share()
	l.alone = false
	e.storeLock = l
}

// aloneInDataDir reports whether leftovers in the data dir may be removed.
func (e *Engine) aloneInDataDir() bool { return e.dataLock != nil && e.dataLock.alone }

// aloneInFeatureStore reports whether leftovers in the feature store may
// be removed.
func (e *Engine) aloneInFeatureStore() bool { return e.storeLock != nil && e.storeLock.alone }
