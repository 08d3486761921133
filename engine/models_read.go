package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ModelInfo is one model version as GET /api/models lists it.
type ModelInfo struct {
	Name           string          `json:"name"`
	Version        string          `json:"version"`
	Kind           string          `json:"kind"`
	Target         string          `json:"target"`
	Leaky          bool            `json:"leaky"`
	FeatureVersion string          `json:"feature_version"`
	Dataset        string          `json:"dataset"`
	RunID          string          `json:"run_id"`
	Path           string          `json:"path"`
	Features       []string        `json:"features"`
	Metrics        json.RawMessage `json:"metrics"`
	CreatedAt      time.Time       `json:"created_at"`
}

// ModelList is the answer of GET /api/models.
type ModelList struct {
	Items []ModelInfo `json:"items"`
}

// ModelDetail is the answer of GET /api/models/{name}/{version}: the
// model, its full metrics.json, model_card.md as card and data_card.md as
// data_card (the names the dashboard reads, ui/README.md).
type ModelDetail struct {
	ModelInfo
	Metrics  *ModelMetrics `json:"metrics"`
	Card     string        `json:"card"`
	DataCard string        `json:"data_card"`
}

// Models lists every model version, newest first.
func (e *Engine) Models(ctx context.Context) (*ModelList, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT name, version, kind, target, leaky, coalesce(feature_version, ''), dataset,
		run_id, path, features::VARCHAR, metrics::VARCHAR, created_at FROM meta.models ORDER BY created_at DESC, name, version DESC`)
	if err != nil {
		return nil, e.queryError(ctx, err, "list models")
	}
	defer rows.Close()
	list := &ModelList{Items: []ModelInfo{}}
	for rows.Next() {
		mi, err := scanModel(rows)
		if err != nil {
			return nil, err
		}
		mi.Path = e.abs(mi.Path)
		list.Items = append(list.Items, *mi)
	}
	return list, rows.Err()
}

// scanModel reads one meta.models row.
func scanModel(rows interface{ Scan(...any) error }) (*ModelInfo, error) {
	var mi ModelInfo
	var feats, met string
	if err := rows.Scan(&mi.Name, &mi.Version, &mi.Kind, &mi.Target, &mi.Leaky, &mi.FeatureVersion, &mi.Dataset,
		&mi.RunID, &mi.Path, &feats, &met, &mi.CreatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(feats), &mi.Features); err != nil {
		return nil, fmt.Errorf("decode model features: %w", err)
	}
	mi.Metrics = json.RawMessage(met)
	return &mi, nil
}

// ResolveModel finds a model version from NAME or NAME/VERSION; without a
// version it takes the newest.
func (e *Engine) ResolveModel(ctx context.Context, ref string) (*ModelInfo, error) {
	versions, err := e.modelVersions(ctx, ref)
	if err != nil {
		return nil, err
	}
	return versions[0], nil
}

// modelVersions lists the versions ref names, newest first: one for
// NAME/VERSION, every version of NAME. It is never empty.
func (e *Engine) modelVersions(ctx context.Context, ref string) ([]*ModelInfo, error) {
	name, version, _ := strings.Cut(strings.TrimSpace(ref), "/")
	if !modelNameRe.MatchString(name) || (version != "" && !modelNameRe.MatchString(version)) {
		return nil, Errorf(BadRequest, "%q is not a model: write NAME or NAME/VERSION (exohunter models or GET /api/models lists them).", ref)
	}
	q := `SELECT name, version, kind, target, leaky, coalesce(feature_version, ''), dataset, run_id, path,
		features::VARCHAR, metrics::VARCHAR, created_at FROM meta.models WHERE name = ?`
	args := []any{name}
	if version != "" {
		q += ` AND version = ?`
		args = append(args, version)
	}
	rows, err := e.db.QueryContext(ctx, q+` ORDER BY created_at DESC, version DESC`, args...)
	if err != nil {
		return nil, e.queryError(ctx, err, "look up a model")
	}
	defer rows.Close()
	var out []*ModelInfo
	for rows.Next() {
		mi, err := scanModel(rows)
		if err != nil {
			return nil, err
		}
		mi.Path = e.abs(mi.Path)
		out = append(out, mi)
	}
	if err := rows.Err(); err != nil {
		return nil, e.queryError(ctx, err, "look up a model")
	}
	switch {
	case len(out) > 0:
		return out, nil
	case version != "":
		return nil, Errorf(NotFound, "There is no model %s version %s.", name, version)
	}
	return nil, Errorf(NotFound, "There is no model %s; train one with exohunter train.", name)
}

// Model returns one model version with its metrics and cards.
func (e *Engine) Model(ctx context.Context, name, version string) (*ModelDetail, error) {
	if version == "" {
		return nil, Errorf(BadRequest, "A model version is required.")
	}
	mi, err := e.ResolveModel(ctx, name+"/"+version)
	if err != nil {
		return nil, err
	}
	d := &ModelDetail{ModelInfo: *mi}
	if d.Metrics, err = readModelMetrics(mi.Path); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{ModelCardFile, &d.Card}, {ModelDataCardFile, &d.DataCard}} {
		b, err := os.ReadFile(filepath.Join(mi.Path, f.name))
		if err != nil {
			return nil, Wrap(NotFound, err, "Model %s/%s has no %s; its artifacts are incomplete.", name, version, f.name)
		}
		*f.dst = string(b)
	}
	return d, nil
}

// readModelMetrics reads metrics.json of an artifact folder.
func readModelMetrics(dir string) (*ModelMetrics, error) {
	b, err := os.ReadFile(filepath.Join(dir, ModelMetricsFile))
	if err != nil {
		return nil, Wrap(NotFound, err, "The artifacts of the model in %s are missing (%s).", dir, ModelMetricsFile)
	}
	var m ModelMetrics
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode %s: %w", filepath.Join(dir, ModelMetricsFile), err)
	}
	return &m, nil
}

// syncModels registers artifact folders that meta.models does not know
// (a database re-created next to an existing data dir) and forgets rows
// whose folder is gone, at Open.
func syncModels(ctx context.Context, e *Engine) error {
	if e.aloneInDataDir() {
		// A training killed before its rename leaves .train-* behind.
		stale, _ := filepath.Glob(filepath.Join(e.path(DirModels), "*", ".train-*"))
		for _, d := range stale {
			e.log.Warn("removing an interrupted training's artifacts", "dir", d)
			_ = os.RemoveAll(d)
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(e.path(DirModels), "*", "*", ModelMetricsFile))
	known := map[string]bool{}
	for _, p := range dirs {
		dir := filepath.Dir(p)
		if strings.HasPrefix(filepath.Base(dir), ".") || strings.HasPrefix(filepath.Base(filepath.Dir(dir)), ".") {
			continue // a training's folder until it is complete (.train-*)
		}
		m, err := readModelMetrics(dir)
		if err != nil || m.Model == "" || m.Version == "" {
			e.log.Warn("skipping unreadable model artifacts", "dir", dir, "err", err)
			continue
		}
		known[e.rel(dir)] = true
		var n int
		if err := e.db.QueryRowContext(ctx, `SELECT count(*) FROM meta.models WHERE name = ? AND version = ?`, m.Model, m.Version).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			if err := e.registerModel(ctx, m, dir); err != nil {
				return err
			}
		}
	}
	rows, err := e.db.QueryContext(ctx, `SELECT name, version, path FROM meta.models`)
	if err != nil {
		return err
	}
	var gone [][2]string
	for rows.Next() {
		var n, v, p string
		if err := rows.Scan(&n, &v, &p); err != nil {
			rows.Close()
			return err
		}
		if !known[p] {
			gone = append(gone, [2]string{n, v})
		}
	}
	rows.Close()
	for _, g := range gone {
		if _, err := e.db.ExecContext(ctx, `DELETE FROM meta.models WHERE name = ? AND version = ?`, g[0], g[1]); err != nil {
			return err
		}
	}
	return rows.Err()
}

func init() { openHooks = append(openHooks, syncModels) }
