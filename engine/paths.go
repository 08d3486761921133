package engine

import (
	"path/filepath"
	"strings"
)

// Runtime subfolders of the data dir (Contracts: Locations). Open creates
// them all; in serve mode they, plus the feature store, are DuckDB's only
// allowed directories.
const (
	DirRaw       = "raw"       // raw/<dataset>/<file>: stored input bytes, never modified
	DirRuns      = "runs"      // run results, one Parquet file per run
	DirOutputs   = "outputs"   // written exports
	DirLabeled   = "labeled"   // labeled-set exports
	DirSnapshots = "snapshots" // self-contained .duckdb copies
	DirModels    = "models"    // models/<name>/<version>/
	DirTmp       = "tmp"       // DuckDB spill files and other scratch

	// dirIncoming (under raw) holds uploads in flight as <random>.part.
	dirIncoming = ".incoming"
	// ServerInfoFile in the data dir names the serving process.
	ServerInfoFile = "server.json"
)

// runtimeSubdirs lists the folders Open creates under the data dir.
var runtimeSubdirs = []string{DirRaw, DirRuns, DirOutputs, DirLabeled, DirSnapshots, DirModels, DirTmp}

// runtimeDirs returns the absolute runtime folders under dataDir.
func runtimeDirs(dataDir string) []string {
	out := make([]string, len(runtimeSubdirs))
	for i, d := range runtimeSubdirs {
		out[i] = filepath.Join(dataDir, d)
	}
	return out
}

// path joins elements under the data dir: e.path(DirRuns, id+".parquet").
// The caller guarantees that the elements are safe names (never raw client
// input).
func (e *Engine) path(elem ...string) string {
	return filepath.Join(append([]string{e.dataDir}, elem...)...)
}

// rel returns p relative to the data dir with forward slashes, for storing
// in meta tables (the data dir may move between runs).
func (e *Engine) rel(p string) string {
	r, err := filepath.Rel(e.dataDir, p)
	if err != nil {
		return filepath.ToSlash(p)
	}
	return filepath.ToSlash(r)
}

// abs resolves a path stored by rel against the current data dir.
func (e *Engine) abs(rel string) string {
	if filepath.IsAbs(rel) {
		return rel
	}
	return filepath.Join(e.dataDir, filepath.FromSlash(rel))
}

// inDir reports whether path is dir or lies inside it (both absolute).
func inDir(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// allowedDirs is DuckDB's allowed_directories in serve mode: the runtime
// subfolders, the feature store and a custom temp dir, each with a trailing
// separator so that a sibling such as raw2/ does not match raw/.
func (e *Engine) allowedDirs() []string {
	dirs := append(runtimeDirs(e.dataDir), e.featureStore)
	if !inDir(e.tempDir, e.path(DirTmp)) {
		dirs = append(dirs, e.tempDir)
	}
	for i, d := range dirs {
		dirs[i] = strings.TrimRight(d, string(filepath.Separator)) + string(filepath.Separator)
	}
	return dirs
}
