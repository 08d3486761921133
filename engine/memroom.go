package engine

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// memAvailable is the memory this process can still take, in bytes: the
// kernel's MemAvailable, lowered to the room left under the limit of the
// process's own cgroup when it has one (a container, a systemd
// MemoryMax=). 0 when nothing can be read (not Linux), which callers take
// as unknown.
func memAvailable() int64 {
	avail := meminfoAvailable("/proc/meminfo")
	for _, cg := range ownCgroups("/proc/self/cgroup", "/sys/fs/cgroup") {
		if room := cg.room(); room > 0 && (avail <= 0 || room < avail) {
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

// cgroupFiles names the files of one cgroup's memory controller.
type cgroupFiles struct {
	limit, usage, stat string
	// inactive is the memory.stat key of reclaimable page cache.
	inactive string
}

// ownCgroups returns the memory controller files of the process's cgroup
// (v2 and v1, from the self file under root), then of the root, for a
// container whose cgroup namespace shows its own cgroup as "/".
func ownCgroups(self, root string) []cgroupFiles {
	v2 := func(dir string) cgroupFiles {
		return cgroupFiles{limit: dir + "/memory.max", usage: dir + "/memory.current", stat: dir + "/memory.stat", inactive: "inactive_file"}
	}
	v1 := func(dir string) cgroupFiles {
		return cgroupFiles{limit: dir + "/memory.limit_in_bytes", usage: dir + "/memory.usage_in_bytes", stat: dir + "/memory.stat", inactive: "total_inactive_file"}
	}
	var out []cgroupFiles
	if b, err := os.ReadFile(self); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			// hierarchy-ID:controllers:path; v2 is "0::path".
			parts := strings.SplitN(line, ":", 3)
			if len(parts) != 3 || parts[2] == "/" {
				continue
			}
			switch {
			case parts[0] == "0" && parts[1] == "":
				out = append(out, v2(filepath.Join(root, parts[2])))
			case strings.Contains(","+parts[1]+",", ",memory,"):
				out = append(out, v1(filepath.Join(root, "memory", parts[2])))
			}
		}
	}
	return append(out, v2(root), v1(filepath.Join(root, "memory")))
}

// room is the cgroup's limit minus its usage, not counting reclaimable
// page cache (usage includes it, and a large read fills it), or 0 when
// there is no numeric limit (v2 writes "max"; v1's unlimited value is a
// huge number, which MemAvailable then undercuts) or the files cannot be
// read.
func (c cgroupFiles) room() int64 {
	limit, err := readInt(c.limit)
	if err != nil {
		return 0
	}
	used, err := readInt(c.usage)
	if err != nil {
		return 0
	}
	return max(limit-(used-statValue(c.stat, c.inactive)), 1)
}

// statValue reads one key of a memory.stat file, 0 when absent.
func statValue(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+" "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
}
