package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
)

// sweepOrphanFiles runs at Open, when no other process uses the data dir:
// it removes run files and dataset folders that no meta row refers to.
// DeleteDataset removes files after its commit, so a crash in between
// leaves them behind (hundreds of MB for a large dataset), and nothing
// else would ever collect them. Only the data dir's own database decides:
// with --db elsewhere (or in memory) the data dir may belong to another.
func sweepOrphanFiles(ctx context.Context, e *Engine) error {
	if !e.aloneInDataDir() || e.dbPath != filepath.Join(e.dataDir, DefaultDBName) {
		return nil
	}
	// note: by name, not by full path: a row written with an absolute
	// path before the data dir was moved still protects its folder.
	rawDirs, runFiles := map[string]bool{}, map[string]bool{}
	rows, err := e.db.QueryContext(ctx, `SELECT coalesce(path, ''), true FROM meta.datasets UNION ALL
		SELECT path, false FROM meta.runs WHERE path IS NOT NULL`)
	if err != nil {
		// note: a sweep that cannot run must not keep the data dir shut.
		e.log.Warn("cannot look for unreferenced files", "err", err)
		return nil
	}
	for rows.Next() {
		var p string
		var dataset bool
		if err := rows.Scan(&p, &dataset); err != nil {
			rows.Close()
			e.log.Warn("cannot look for unreferenced files", "err", err)
			return nil
		}
		if dataset {
			rawDirs[filepath.Base(filepath.Dir(p))] = true // raw/<name>/<file>
		} else {
			runFiles[filepath.Base(p)] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		e.log.Warn("cannot look for unreferenced files", "err", err)
		return nil
	}
	for _, dir := range []string{DirRaw, DirRuns} {
		entries, err := os.ReadDir(e.path(dir))
		if err != nil {
			continue
		}
		for _, d := range entries {
			name := d.Name()
			switch {
			case strings.HasPrefix(name, "."),
				dir == DirRaw && (!d.IsDir() || rawDirs[name]),
				dir == DirRuns && (d.IsDir() || !strings.HasSuffix(name, ".parquet") || runFiles[name]):
				continue
			}
			p := e.path(dir, name)
			e.log.Warn("removing a file no dataset or run refers to (left by an interrupted delete)", "path", p)
			if err := os.RemoveAll(p); err != nil {
				e.log.Warn("cannot remove an unreferenced file", "path", p, "err", err)
			}
		}
	}
	return nil
}

func init() { openHooks = append(openHooks, sweepOrphanFiles) }
