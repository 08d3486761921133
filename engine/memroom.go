package engine

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// memAvailable is the memory this process can still take, in bytes: the
// kernel's MemAvailable, lowered to the room left under the cgroup's
// memory.max when the process runs in a container with a limit. 0 when
// neither can be read (not Linux), which callers take as unknown.
func memAvailable() int64 {
	avail := meminfoAvailable("/proc/meminfo")
	if room := cgroupRoom("/sys/fs/cgroup"); room > 0 && (avail <= 0 || room < avail) {
		avail = room
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

// cgroupRoom is memory.max − memory.current of a cgroup v2 directory, or
// 0 when there is no numeric limit ("max") or the files cannot be read.
func cgroupRoom(dir string) int64 {
	limit, err := readInt(dir + "/memory.max")
	if err != nil {
		return 0
	}
	used, err := readInt(dir + "/memory.current")
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
