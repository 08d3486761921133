package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Snapshots: a self-contained, consistent .duckdb copy of what the server
// holds, for notebooks (DESIGN.md: another process cannot open the server's
// database file, even read-only). Every view over a server file becomes a
// table; the catalog and COMMENT ON descriptions travel with it.

// SnapshotStorageVersion is the storage version snapshots are written in:
// the oldest DuckDB release that can open them. v1.0.0 (storage format 64)
// is read by every DuckDB client from 0.10 (February 2024) on: Python, R,
// Node and the CLI, the 1.4 LTS line, 1.5 and later. Measured on the KOI
// and TOI runs, the newer formats (v1.2.0 to v1.5.0) save only 4-6% of
// the file size, not worth locking out notebooks on an older duckdb.
const SnapshotStorageVersion = "v1.0.0"

// Optional parts of a snapshot (SnapshotOptions.Include).
const (
	SnapshotRaw      = "raw"      // raw.D: the stored files' own columns (large; off by default)
	SnapshotFeatures = "features" // features.V and meta.feature_sets
	SnapshotLabels   = "labels"   // labels.labels, labels.reviews and the labels views
)

// Run selections (SnapshotOptions.Runs).
const (
	SnapshotLatestRuns = "latest" // the latest complete run of each dataset (default)
	SnapshotAllRuns    = "all"    // every complete run
)

// DefaultSnapshotInclude is the optional parts a snapshot has when
// SnapshotOptions.Include is nil.
var DefaultSnapshotInclude = []string{SnapshotFeatures, SnapshotLabels}

// snapshotTempPrefix names snapshots being written; Open removes leftovers
// of a crashed process.
const snapshotTempPrefix = ".snapshot-"

// SnapshotOptions says what a snapshot holds.
type SnapshotOptions struct {
	// Runs is ["latest"] (also when empty), ["all"], or run ids.
	Runs []string
	// Include lists optional parts (raw, features, labels); nil means
	// DefaultSnapshotInclude, an empty non-nil slice none of them.
	Include []string
	// Progress, when set, is told each step with the share of work done.
	Progress func(done float64, message string)
}

// SnapshotResult describes a written snapshot; exohunter snapshot prints it.
type SnapshotResult struct {
	// Path is where the file is: absolute for Snapshot, relative to the
	// data dir for snapshots written by a job.
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
	// CreatedAt is when its read transaction began: the snapshot holds
	// exactly what was committed then.
	CreatedAt      time.Time       `json:"created_at"`
	StorageVersion string          `json:"storage_version"`
	DuckDBVersion  string          `json:"duckdb_version"`
	Runs           []string        `json:"runs"`
	Include        []string        `json:"include"`
	Tables         []SnapshotTable `json:"tables"`
	ElapsedMS      int64           `json:"elapsed_ms"`
	// Server is the server a CLI snapshot was downloaded from, if any.
	Server string `json:"server,omitempty"`
}

// SnapshotTable is one relation of a snapshot.
type SnapshotTable struct {
	Schema string `json:"schema"`
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Rows   int64  `json:"rows"`
}

// ParseSnapshotOptions reads the comma-separated forms of the CLI and the
// API: runs "latest", "all" or run ids; include a subset of raw, features,
// labels, or "none" ("" keeps the default).
func ParseSnapshotOptions(runs, include string) (SnapshotOptions, error) {
	var o SnapshotOptions
	o.Runs = splitList(runs)
	if len(o.Runs) > 1 && (slices.Contains(o.Runs, SnapshotLatestRuns) || slices.Contains(o.Runs, SnapshotAllRuns)) {
		return o, Errorf(BadRequest, "runs is latest, all, or a list of run ids, not a mix: %q.", runs)
	}
	switch inc := splitList(include); {
	case strings.TrimSpace(include) == "":
	case len(inc) == 1 && inc[0] == "none":
		o.Include = []string{}
	default:
		for _, p := range inc {
			if p == "none" {
				return o, Errorf(BadRequest, "include=none leaves out every optional part, so it cannot be combined with others (%q).", include)
			}
			if p != SnapshotRaw && p != SnapshotFeatures && p != SnapshotLabels {
				return o, Errorf(BadRequest, "Unknown snapshot part %q: include takes raw, features, labels or none.", p)
			}
		}
		o.Include = inc
	}
	return o, nil
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// include returns the optional parts, defaults applied, sorted.
func (o SnapshotOptions) include() []string {
	if o.Include == nil {
		return slices.Clone(DefaultSnapshotInclude)
	}
	out := slices.Clone(o.Include)
	slices.Sort(out)
	return slices.Compact(out)
}

// Snapshot writes a snapshot to dst (replacing it), through a temporary
// file next to it that is renamed into place only when complete. In serve
// mode dst must be inside the data dir's snapshots folder. The snapshot is
// read in one transaction, so concurrent uploads, runs and label writes
// neither tear it nor wait for it.
func (e *Engine) Snapshot(ctx context.Context, dst string, opts SnapshotOptions) (*SnapshotResult, error) {
	t0 := time.Now()
	dst, err := filepath.Abs(dst)
	if err != nil {
		return nil, Wrap(BadRequest, err, "The snapshot path %q cannot be resolved.", dst)
	}
	if snaps := e.path(DirSnapshots) + string(filepath.Separator); e.Locked() && !strings.HasPrefix(dst, snaps) {
		return nil, Errorf(BadRequest, "A server writes snapshots only under %s; %s is outside it.", snaps, dst)
	}
	if ReplacesDatabase(e.dbPath, dst) {
		return nil, Errorf(BadRequest, "The snapshot cannot overwrite the database it copies (%s).", dst)
	}
	if err := CheckSnapshotTarget(dst); err != nil {
		return nil, err
	}
	// note: as process --out does; DuckDB's ATTACH would fail with a raw
	// IO error on a missing folder.
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return nil, Wrap(BadRequest, err, "Cannot create the folder for the snapshot %s.", dst)
	}
	removeDeadWriters(filepath.Dir(dst), snapshotTempPrefix)
	tmp, alias := tempSnapshotPath(filepath.Dir(dst))
	defer removeSnapshotFiles(tmp)
	res, err := e.writeSnapshot(ctx, tmp, alias, opts)
	if err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return nil, Wrap(BadRequest, err, "Cannot place the snapshot at %s.", dst)
	}
	res.Path = dst
	if st, err := os.Stat(dst); err == nil {
		res.Bytes = st.Size()
	}
	res.ElapsedMS = time.Since(t0).Milliseconds()
	e.log.Info("snapshot written", "path", dst, "bytes", res.Bytes, "tables", len(res.Tables), "ms", res.ElapsedMS)
	return res, nil
}

// tempSnapshotPath returns a fresh temporary file name in dir and the
// alias it is attached under.
func tempSnapshotPath(dir string) (path, alias string) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	return filepath.Join(dir, ownedTempPrefix(snapshotTempPrefix)+id+".duckdb"), "exohunter_snapshot_" + id
}

// removeSnapshotFiles removes a snapshot file and DuckDB's companions.
func removeSnapshotFiles(path string) {
	for _, p := range []string{path, path + ".wal", path + ".tmp"} {
		os.RemoveAll(p)
	}
}

// SnapshotFile is a finished snapshot ready to stream, already unlinked so
// it disappears when closed. The caller must Close it.
type SnapshotFile struct {
	io.ReadCloser
	Size   int64
	Name   string // download file name
	Result *SnapshotResult
}

// OpenSnapshot writes a snapshot into the data dir's snapshots folder and
// opens it for streaming (GET /api/snapshot). Errors come before the
// first byte, so the caller can still answer with an error status.
func (e *Engine) OpenSnapshot(ctx context.Context, opts SnapshotOptions) (*SnapshotFile, error) {
	dst, _ := tempSnapshotPath(e.path(DirSnapshots))
	res, err := e.Snapshot(ctx, dst, opts)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(dst)
	os.Remove(dst)
	if err != nil {
		return nil, fmt.Errorf("open snapshot: %w", err)
	}
	name := "exohunter-" + res.CreatedAt.UTC().Format("20060102T150405Z") + ".duckdb"
	return &SnapshotFile{ReadCloser: f, Size: res.Bytes, Name: name, Result: res}, nil
}

// snapshotNameRe is the shape of a named snapshot under DATA/snapshots.
var snapshotNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$`)

// SnapshotPath returns DATA/snapshots/<name>.duckdb for a safe name.
func (e *Engine) SnapshotPath(name string) (string, error) {
	name = strings.TrimSuffix(name, ".duckdb")
	if !snapshotNameRe.MatchString(name) {
		return "", Errorf(BadRequest, "%q cannot be a snapshot name: use letters, digits, _ and -, starting with a letter or digit.", name)
	}
	return e.path(DirSnapshots, name+".duckdb"), nil
}

// SnapshotEntry is a snapshot file under DATA/snapshots.
type SnapshotEntry struct {
	Name       string    `json:"name"`
	Path       string    `json:"path"` // relative to the data dir
	Bytes      int64     `json:"bytes"`
	ModifiedAt time.Time `json:"modified_at"`
}

// Snapshots lists the named snapshots under DATA/snapshots, newest first
// (files being written are not listed).
func (e *Engine) Snapshots(ctx context.Context) ([]SnapshotEntry, error) {
	entries, err := os.ReadDir(e.path(DirSnapshots))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	out := []SnapshotEntry{}
	for _, de := range entries {
		name, ok := strings.CutSuffix(de.Name(), ".duckdb")
		if !ok || !snapshotNameRe.MatchString(name) || !de.Type().IsRegular() {
			continue
		}
		info, err := de.Info()
		if err != nil {
			continue
		}
		out = append(out, SnapshotEntry{Name: name, Path: e.rel(e.path(DirSnapshots, de.Name())), Bytes: info.Size(),
			ModifiedAt: info.ModTime().UTC()})
	}
	slices.SortFunc(out, func(a, b SnapshotEntry) int { return b.ModifiedAt.Compare(a.ModifiedAt) })
	return out, nil
}

// OpenSnapshotFile opens a named snapshot for download, or NotFound.
func (e *Engine) OpenSnapshotFile(name string) (*SnapshotFile, error) {
	p, err := e.SnapshotPath(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, Errorf(NotFound, "There is no snapshot named %q.", name)
	}
	if err != nil {
		return nil, fmt.Errorf("open snapshot: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &SnapshotFile{ReadCloser: f, Size: st.Size(), Name: filepath.Base(p)}, nil
}

// removeStaleSnapshots deletes snapshot files a crashed process left.
func removeStaleSnapshots(_ context.Context, e *Engine) error {
	if !e.aloneInDataDir() {
		return nil
	}
	matches, _ := filepath.Glob(filepath.Join(e.path(DirSnapshots), snapshotTempPrefix+"*"))
	for _, m := range matches {
		os.RemoveAll(m)
	}
	return nil
}

func init() { openHooks = append(openHooks, removeStaleSnapshots) }
