package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DirBackups (under the data dir) holds the copies of the database file
// taken before a schema upgrade.
const DirBackups = "backups"

// backupBeforeUpgrade copies the database file to
// DATA/backups/<name>.schema<N>.<UTC time>.duckdb when migrations are about
// to change an existing ExoHunter database: an older ExoHunter cannot open
// the upgraded file, and a failed upgrade must not be the end of the data.
// A new database, an up-to-date one and an in-memory one get no copy. If
// the copy cannot be written the upgrade does not start.
func (e *Engine) backupBeforeUpgrade(ctx context.Context, st schemaState) error {
	if e.dbPath == InMemory || st.applied < 0 || (st.applied >= st.last && !st.dirty) {
		return nil
	}
	// DuckDB's file lock keeps other processes out and Open serves nothing
	// yet, so after the checkpoint the file is the whole database (the WAL
	// is empty) and nothing writes to it while it is copied.
	if _, err := e.db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint before the backup: %w", err)
	}
	name := strings.TrimSuffix(filepath.Base(e.dbPath), filepath.Ext(e.dbPath))
	dst := e.path(DirBackups, fmt.Sprintf("%s.schema%d.%s.duckdb", name, st.applied, time.Now().UTC().Format("20060102T150405Z")))
	err := os.MkdirAll(filepath.Dir(dst), 0o755)
	if err == nil {
		err = copyFile(e.dbPath, dst)
	}
	if err != nil {
		// note: the file system's own words (open …: permission denied,
		// mkdir …: not a directory), not copyFile's sentence around them.
		cause := error(err)
		var pe *fs.PathError
		if errors.As(err, &pe) {
			cause = pe
		}
		return Wrap(Storage, err, "Before upgrading the database schema from version %d, ExoHunter copies %s to %s, and that failed (%v). Nothing was changed; make %s a folder ExoHunter can write to, with free space, then start again",
			st.applied, e.dbPath, dst, cause, filepath.Dir(dst))
	}
	e.log.Info("database backed up before the schema upgrade", "from_version", st.applied, "backup", dst)
	return nil
}
