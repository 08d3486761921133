package engine

import (
	"context"
	"fmt"
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
	known := map[string]bool{}
	rows, err := e.db.QueryContext(ctx, `SELECT path FROM meta.datasets UNION ALL
		SELECT path FROM meta.runs WHERE path IS NOT NULL`)
	if err != nil {
		return fmt.Errorf("list stored files: %w", err)
	}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return err
		}
		known[e.abs(p)] = true
		// note: a dataset's folder is raw/<name>/ (meta.datasets.path is
		// the file in it).
		known[filepath.Dir(e.abs(p))] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, dir := range []string{DirRaw, DirRuns} {
		entries, err := os.ReadDir(e.path(dir))
		if err != nil {
			continue
		}
		for _, d := range entries {
			p := e.path(dir, d.Name())
			switch {
			case strings.HasPrefix(d.Name(), "."), known[p]:
				continue
			case dir == DirRaw && !d.IsDir(),
				dir == DirRuns && (d.IsDir() || !strings.HasSuffix(d.Name(), ".parquet")):
				continue
			}
			e.log.Warn("removing a file no dataset or run refers to (left by an interrupted delete)", "path", p)
			if err := os.RemoveAll(p); err != nil {
				e.log.Warn("cannot remove an unreferenced file", "path", p, "err", err)
			}
		}
	}
	return nil
}

func init() { openHooks = append(openHooks, sweepOrphanFiles) }
