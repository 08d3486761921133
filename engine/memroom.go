package engine

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// memAvailable is the memory this process can still take, in bytes: the
// kernel's MemAvailable, lowered to the room left under the cgroup's limit
// when the process runs in a container with one (cgroup v2's memory.max,
// or v1's memory.limit_in_bytes). 0 when none can be read (not Linux),
// which callers take as unknown.
func memAvailable() int64 {
	avail := meminfoAvailable("/proc/meminfo")
	for _, room := range []int64{
		cgroupRoom("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
		cgroupRoom("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
	} {
		if room > 0 && (avail <= 0 || room < avail) {
			avail = room
		}
	}
	return avail
}

// meminfoAvailable reads MemAvailable (kB) from a meminfo file.
func meminfoAvailable(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0
		}
		return kb * 1024
	}
	return 0
}

// cgroupRoom is a cgroup's memory limit minus its usage, read from the two
// files, or 0 when there is no numeric limit (v2 writes "max"; v1's
// unlimited value is a huge number, which MemAvailable then undercuts) or
// the files cannot be read.
func cgroupRoom(limitFile, usageFile string) int64 {
	limit, err := readInt(limitFile)
	if err != nil {
		return 0
	}
	used, err := readInt(usageFile)
	if err != nil {
		return 0
	}
	return max(limit-used, 1)
}

func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
}
