package engine

import "syscall"

// diskFree is the space an unprivileged writer can still use on dir's
// filesystem, and the filesystem's device, to tell whether two dirs share
// it.
func diskFree(dir string) (free int64, dev uint64, err error) {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		return 0, 0, err
	}
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return 0, 0, err
	}
	return int64(fs.Bavail) * int64(fs.Bsize), uint64(st.Dev), nil
}

// diskNeed is space wanted in a dir.
type diskNeed struct {
	dir   string
	bytes int64
}

// diskShortfall adds up the needs by filesystem and returns the first
// that does not fit, with what is free there (ok when all fit).
func diskShortfall(needs ...diskNeed) (need, free int64, ok bool, err error) {
	type fsNeed struct{ need, free int64 }
	byDev := map[uint64]*fsNeed{}
	var order []uint64
	for _, n := range needs {
		f, dev, err := diskFree(n.dir)
		if err != nil {
			return 0, 0, false, err
		}
		if byDev[dev] == nil {
			byDev[dev] = &fsNeed{free: f}
			order = append(order, dev)
		}
		byDev[dev].need += n.bytes
	}
	for _, dev := range order {
		if d := byDev[dev]; d.need > d.free {
			return d.need, d.free, false, nil
		}
	}
	return 0, 0, true, nil
}
