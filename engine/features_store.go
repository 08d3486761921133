package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	sqltmpl "github.com/exohunter/exohunter/sql"
)

// registerFeatureSet records a version in meta.feature_sets and creates
// its view features."V".
func (e *Engine) registerFeatureSet(ctx context.Context, m *FeatureManifest, dir string) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = e.db.ExecContext(ctx, `INSERT OR REPLACE INTO meta.feature_sets
		(version, spec_hash, content_hash, dataset, run_id, rows, path, manifest, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.Version, m.SpecHash, m.ContentHash, m.Source.Dataset, m.Source.RunID, m.Rows, dir, string(b), m.CreatedAt)
	if err != nil {
		return fmt.Errorf("register feature set %s: %w", m.Version, err)
	}
	v, err := sqltmpl.FeatureView(m.Version, filepath.Join(dir, FeaturesParquet))
	if err != nil {
		return err
	}
	if _, err := e.db.ExecContext(ctx, v); err != nil {
		return fmt.Errorf("create view of feature set %s: %w", m.Version, err)
	}
	q, err := sqltmpl.SnapshotComments([]sqltmpl.RelationComment{e.featureComments(m)})
	if err != nil {
		return err
	}
	if _, err := e.db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("describe the columns of feature set %s: %w", m.Version, err)
	}
	return nil
}

// syncFeatureStore runs at Open: it removes builds a dead process left
// behind, registers every complete version on disk (the store is the
// truth; a process may have died between the rename and the registration)
// and forgets versions whose folder is gone.
func syncFeatureStore(ctx context.Context, e *Engine) error {
	onDisk := map[string]bool{}
	folded := map[string]string{}
	entries, err := os.ReadDir(e.featureStore)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Wrap(BadRequest, err, "Cannot read the feature store %s.", e.featureStore)
	}
	for _, d := range entries {
		dir := filepath.Join(e.featureStore, d.Name())
		switch {
		case !d.IsDir():
			continue
		case strings.HasPrefix(d.Name(), featureBuildPrefix):
			// note: only when no other process uses the store, whose
			// build this may be (engine/dirlock.go).
			if e.aloneInFeatureStore() {
				e.log.Warn("removing an interrupted feature build", "dir", dir)
				os.RemoveAll(dir)
			}
			continue
		case !featureVersionRe.MatchString(d.Name()):
			continue
		}
		m, err := readFeatureManifest(dir)
		if err != nil || m.Version != d.Name() {
			e.log.Warn("a folder of the feature store is not a feature set", "dir", dir, "err", err)
			continue
		}
		if first, ok := folded[strings.ToLower(m.Version)]; ok {
			// note: stores written before versionCaseClash existed may
			// hold such pairs; the view goes to the first in name order,
			// the same one at every start.
			e.log.Warn("two feature sets differ only in letter case and share one console view; rename one folder", "view", "features."+strings.ToLower(m.Version), "kept", first, "skipped", m.Version)
			continue
		}
		folded[strings.ToLower(m.Version)] = m.Version
		if err := e.registerFeatureSet(ctx, m, dir); err != nil {
			return err
		}
		onDisk[m.Version] = true
	}
	return e.forgetMissingFeatureSets(ctx, onDisk)
}

// forgetMissingFeatureSets drops the rows and views of versions whose
// folder is gone. A version recorded in another feature store whose
// folder still exists is kept: the default store is ./feature_store, so a
// command run from another directory opens another store.
func (e *Engine) forgetMissingFeatureSets(ctx context.Context, onDisk map[string]bool) error {
	rows, err := e.db.QueryContext(ctx, `SELECT version, path FROM meta.feature_sets`)
	if err != nil {
		return fmt.Errorf("list feature sets: %w", err)
	}
	var gone []string
	for rows.Next() {
		var v, dir string
		if err := rows.Scan(&v, &dir); err != nil {
			rows.Close()
			return err
		}
		if onDisk[v] {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, FeaturesParquet)); err != nil {
			gone = append(gone, v)
		}
	}
	rows.Close()
	for _, v := range gone {
		e.log.Warn("a feature set's folder is gone; forgetting it", "version", v)
		drop, err := sqltmpl.DropFeatureView(v)
		if err != nil {
			return err
		}
		if _, err := e.db.ExecContext(ctx, drop); err != nil {
			return fmt.Errorf("drop view of feature set %s: %w", v, err)
		}
		if _, err := e.db.ExecContext(ctx, `DELETE FROM meta.feature_sets WHERE version = ?`, v); err != nil {
			return fmt.Errorf("forget feature set %s: %w", v, err)
		}
	}
	return nil
}

func init() { openHooks = append(openHooks, syncFeatureStore) }

// FeatureSetList is the answer of GET /api/features.
type FeatureSetList struct {
	Items []*FeatureManifest `json:"items"`
}

// FeatureSets lists the versions, oldest first.
func (e *Engine) FeatureSets(ctx context.Context) (*FeatureSetList, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT manifest::VARCHAR FROM meta.feature_sets ORDER BY created_at, version`)
	if err != nil {
		return nil, e.queryError(ctx, err, "list feature sets")
	}
	defer rows.Close()
	out := &FeatureSetList{Items: []*FeatureManifest{}}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		var m FeatureManifest
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return nil, fmt.Errorf("decode feature manifest: %w", err)
		}
		out.Items = append(out.Items, &m)
	}
	return out, rows.Err()
}

// FeatureSet returns one version's manifest, or NotFound.
func (e *Engine) FeatureSet(ctx context.Context, version string) (*FeatureManifest, error) {
	m, _, err := e.featureSetRow(ctx, version)
	return m, err
}

// featureSet returns a feature set's manifest and the path of its Parquet
// file, for reading it: NotFound when there is no such version, Conflict
// when serve could not read its file.
func (e *Engine) featureSet(ctx context.Context, version string) (*FeatureManifest, string, error) {
	m, dir, err := e.featureSetRow(ctx, version)
	if err != nil {
		return nil, "", err
	}
	// note: serve lets DuckDB read only its own feature store, so a set
	// built under another --feature-store would fail as an internal
	// "Permission Error" of DuckDB's; say what to do instead.
	if !e.featureDirReadable(dir) {
		return nil, "", Errorf(Conflict, "Feature set %s is stored in %s, outside this server's feature store %s: start the server with --feature-store %s, or build the feature set again under another version.",
			version, dir, e.featureStore, filepath.Dir(e.abs(dir)))
	}
	return m, filepath.Join(dir, FeaturesParquet), nil
}

// featureSetRow returns a feature set's manifest and folder as meta
// records them, readable or not.
func (e *Engine) featureSetRow(ctx context.Context, version string) (*FeatureManifest, string, error) {
	var s, dir string
	err := e.db.QueryRowContext(ctx, `SELECT manifest::VARCHAR, path FROM meta.feature_sets WHERE version = ?`, version).Scan(&s, &dir)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, "", Errorf(NotFound, "There is no feature set %q.", version)
		}
		return nil, "", e.queryError(ctx, err, "read feature set")
	}
	var m FeatureManifest
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, "", fmt.Errorf("decode feature manifest: %w", err)
	}
	return &m, dir, nil
}

// featureDirReadable reports whether this engine's DuckDB may read a
// feature set's folder: anywhere on the command line, the feature store
// only in serve mode.
func (e *Engine) featureDirReadable(dir string) bool {
	return !e.Locked() || inDir(e.abs(dir), e.featureStore)
}
