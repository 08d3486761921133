package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ErrLocked is the cause of the Conflict that Open returns when another
// process holds the database file.
var ErrLocked = errors.New("database is locked by another process")

// ServerInfo describes the process serving a data dir. serve writes it to
// DATA/server.json after it listens and removes it on shutdown; CLI commands
// read it to name the server when the database is locked.
type ServerInfo struct {
	PID       int       `json:"pid"`
	Addr      string    `json:"addr"`
	StartedAt time.Time `json:"started_at"`
}

// WriteServerInfo atomically writes info to DATA/server.json. A zero PID is
// replaced by the current process id, a zero StartedAt by now.
func WriteServerInfo(dataDir string, info ServerInfo) error {
	if info.PID == 0 {
		info.PID = os.Getpid()
	}
	if info.StartedAt.IsZero() {
		info.StartedAt = time.Now().UTC()
	}
	b, err := json.Marshal(info)
	if err != nil {
		return err
	}
	dst := filepath.Join(dataDir, ServerInfoFile)
	tmp := dst + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write server info: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write server info: %w", err)
	}
	return nil
}

// ReadServerInfo reads DATA/server.json. A missing file returns an error
// that satisfies errors.Is(err, fs.ErrNotExist).
func ReadServerInfo(dataDir string) (ServerInfo, error) {
	var info ServerInfo
	b, err := os.ReadFile(filepath.Join(dataDir, ServerInfoFile))
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("read server info: %w", err)
	}
	return info, nil
}

// RemoveServerInfo deletes DATA/server.json if it still names this process,
// so a server that shuts down never removes a newer server's file.
func RemoveServerInfo(dataDir string) error {
	info, err := ReadServerInfo(dataDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil && info.PID != os.Getpid() {
		return nil
	}
	err = os.Remove(filepath.Join(dataDir, ServerInfoFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// lockHolderRe matches DuckDB's "Conflicting lock is held in <exe> (PID n)".
var lockHolderRe = regexp.MustCompile(`Conflicting lock is held in (.*?) \(PID (\d+)\)`)

// openError turns a failure to open the database file into a sentence. A
// lock held by another process becomes a Conflict naming the holder and,
// when DATA/server.json names the same process, its address.
func openError(dbPath, dataDir string, err error) error {
	msg := err.Error()
	if m := lockHolderRe.FindStringSubmatch(msg); m != nil {
		pid, _ := strconv.Atoi(m[2])
		return &Error{Code: Conflict, Err: fmt.Errorf("%w: %s", ErrLocked, msg), Msg: lockedMessage(dbPath, dataDir, m[1], pid)}
	}
	if strings.Contains(msg, "Could not set lock") {
		return &Error{Code: Conflict, Err: fmt.Errorf("%w: %s", ErrLocked, msg), Msg: lockedMessage(dbPath, dataDir, "", 0)}
	}
	if strings.Contains(msg, "not a valid DuckDB database file") || strings.Contains(msg, "database file with version") {
		return Wrap(BadRequest, err, "%s is not a DuckDB database this version of ExoHunter can open", dbPath)
	}
	if strings.Contains(msg, "Permission denied") || strings.Contains(msg, "Read-only file system") {
		return Wrap(BadRequest, err, "Cannot open %s for writing; check the permissions of the data dir", dbPath)
	}
	return fmt.Errorf("open %s: %w", dbPath, err)
}

// lockedMessage is the sentence for a database held by another process.
func lockedMessage(dbPath, dataDir, exe string, pid int) string {
	if info, ok := lockServer(dbPath, dataDir, pid); ok {
		return fmt.Sprintf("The database %s is in use by the ExoHunter server at %s (PID %d). While it runs, use its API at %s, or pass --server URL to commands that offer it.",
			dbPath, serverURL(info.Addr), info.PID, serverURL(info.Addr))
	}
	holder := "another process"
	if pid > 0 {
		holder = fmt.Sprintf("another process (PID %d, %s)", pid, exe)
		if cmd := commandLine(pid); cmd != "" {
			// note: not a server (DATA/server.json does not name it): most
			// often another CLI command, which ends by itself.
			holder = fmt.Sprintf("another process (PID %d: %s)", pid, cmd)
		}
	}
	return fmt.Sprintf("The database %s is in use by %s. Wait for it to finish (or stop it) and try again; while a server runs, use its API or pass --server URL to commands that offer it.", dbPath, holder)
}

// lockServer finds the server holding the database from the server.json
// it wrote in its data dir: this command's data dir, or the database's
// folder, where the default --db puts it (a command given another
// --data-dir than the server's named no server). Beside the database the
// file must name the lock's holder.
func lockServer(dbPath, dataDir string, pid int) (ServerInfo, bool) {
	if info, err := ReadServerInfo(dataDir); err == nil && info.Addr != "" && (pid == 0 || info.PID == pid) {
		return info, true
	}
	if dir := filepath.Dir(dbPath); pid > 0 && dir != filepath.Clean(dataDir) {
		if info, err := ReadServerInfo(dir); err == nil && info.Addr != "" && info.PID == pid {
			return info, true
		}
	}
	return ServerInfo{}, false
}

// commandLine is a process's command line as a shell would show it,
// shortened to 200 bytes, or "" when it cannot be read.
func commandLine(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(b) == 0 {
		return ""
	}
	cmd := strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
	if len(cmd) > 200 {
		cmd = cmd[:200] + "…"
	}
	return cmd
}

// serverURL turns a listen address into a URL a user can paste.
func serverURL(addr string) string {
	if strings.Contains(addr, "://") {
		return addr
	}
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	return "http://" + addr
}
