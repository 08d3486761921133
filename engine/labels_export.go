package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	sqltmpl "github.com/exohunter/exohunter/sql"
)

// LabelExportInput selects what a labeled-set export holds: the current
// labels (latest per dataset, object and source) that were not rejected.
type LabelExportInput struct {
	// Format is parquet (default), csv, json or ndjson.
	Format ExportFormat
	// Dataset and Sources filter when not empty.
	Dataset string
	Sources []string
}

// LabelExportManifest describes one labeled-set export. It is written next
// to the export under DATA/labeled/ as <name>.manifest.json.
type LabelExportManifest struct {
	// File is the export's name under DATA/labeled/; Path is absolute.
	File     string       `json:"file"`
	Path     string       `json:"path"`
	Manifest string       `json:"manifest"`
	Format   ExportFormat `json:"format"`
	// Rows counts labels, Objects distinct (dataset, object) pairs.
	Rows    int64 `json:"rows"`
	Objects int64 `json:"objects"`
	// Sources counts the exported labels per source.
	Sources  map[string]int64 `json:"sources"`
	Datasets []string         `json:"datasets"`
	// Filter repeats the request's dataset and sources.
	Filter LabelExportFilter `json:"filter"`
	// ExcludedRejected counts current labels left out because a reviewer
	// rejected them.
	ExcludedRejected int64     `json:"excluded_rejected"`
	Columns          []string  `json:"columns"`
	CreatedAt        time.Time `json:"created_at"`
	// SHA256 is the export file's hash: an export whose bytes an earlier
	// one already holds returns that one instead of a copy.
	SHA256 string `json:"sha256,omitempty"`
}

// LabelExportFilter is the selection an export was made with.
type LabelExportFilter struct {
	Dataset string   `json:"dataset,omitempty"`
	Sources []string `json:"sources,omitempty"`
}

// labelExportColumns are the columns of a labeled-set export.
var labelExportColumns = []string{"dataset", "object_id", "run_id", "source", "label", "label_class",
	"annotator", "note", "created_at", "label_id", "review_status"}

// ExportLabels writes a labeled-set export and its manifest under
// DATA/labeled/. The labels are first copied once to Parquet (one
// consistent snapshot, even while labels are being written), the manifest
// counts that file, and other formats are converted from it.
func (e *Engine) ExportLabels(ctx context.Context, in LabelExportInput) (*LabelExportManifest, error) {
	m, err := e.newLabelExport(in)
	if err != nil {
		return nil, err
	}
	if err := e.checkLabelDataset(ctx, in.Dataset); err != nil {
		return nil, err
	}
	src, err := sqltmpl.LabelExportSource(in.Dataset, m.Filter.Sources)
	if err != nil {
		return nil, err
	}
	snap := m.Path + ".snapshot.parquet"
	defer os.Remove(snap)
	order := "dataset, object_id, source"
	if err := e.exportTo(ctx, exportSource{From: src, OrderBy: order}, Parquet, snap); err != nil {
		return nil, err
	}
	if err := e.countLabelExport(ctx, snap, in, m); err != nil {
		return nil, err
	}
	tmp := m.Path + ".tmp"
	defer os.Remove(tmp)
	if m.Format == Parquet {
		err = copyFile(snap, tmp)
	} else {
		err = e.exportTo(ctx, exportSource{From: readParquet(snap), OrderBy: order}, m.Format, tmp)
	}
	if err != nil {
		return nil, err
	}
	if m.SHA256, err = fileSHA256(tmp); err != nil {
		return nil, fmt.Errorf("hash label export: %w", err)
	}
	if same := e.sameLabelExport(m); same != nil {
		return same, nil
	}
	if err := os.Rename(tmp, m.Path); err != nil {
		return nil, fmt.Errorf("place label export: %w", err)
	}
	return m, writeJSONFile(m.Manifest, m)
}

// sameLabelExport returns an earlier export of the same bytes, format and
// filter whose file is still there, or nil. Labels change rarely and a GET
// (the dashboard's download, or any web page's <img>) writes an export:
// without this, 40 requests left 65 MB of identical files (a review).
func (e *Engine) sameLabelExport(m *LabelExportManifest) *LabelExportManifest {
	paths, _ := filepath.Glob(e.path(DirLabeled, "labels-*.manifest.json"))
	for _, p := range paths {
		var old LabelExportManifest
		b, err := os.ReadFile(p)
		if err != nil || json.Unmarshal(b, &old) != nil {
			continue
		}
		// note: the rejected count too, which the bytes do not show.
		if old.SHA256 != m.SHA256 || old.Format != m.Format || !slices.Equal(old.Filter.Sources, m.Filter.Sources) ||
			old.Filter.Dataset != m.Filter.Dataset || old.ExcludedRejected != m.ExcludedRejected {
			continue
		}
		old.Path, old.Manifest = e.path(DirLabeled, old.File), p
		if _, err := os.Stat(old.Path); err == nil {
			return &old
		}
	}
	return nil
}

// fileSHA256 is the hex sha256 of a file's bytes.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// newLabelExport validates the request and names the files.
func (e *Engine) newLabelExport(in LabelExportInput) (*LabelExportManifest, error) {
	if in.Format == "" {
		in.Format = Parquet
	}
	f, err := ParseExportFormat(string(in.Format))
	if err != nil {
		return nil, err
	}
	var sources []string
	for _, s := range in.Sources {
		src, ok := matchFold(LabelSources, strings.TrimSpace(s))
		if !ok {
			return nil, Errorf(BadRequest, "Unknown label source %q: use human, heuristic, nasa or model.", s)
		}
		sources = append(sources, src)
	}
	// note: a set; sorted so that the same sources in another order are
	// the same export.
	slices.Sort(sources)
	sources = slices.Compact(sources)
	var b [3]byte
	_, _ = rand.Read(b[:])
	now := time.Now().UTC()
	stem := "labels-" + now.Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
	return &LabelExportManifest{
		File: stem + "." + string(f), Path: e.path(DirLabeled, stem+"."+string(f)),
		Manifest: e.path(DirLabeled, stem+".manifest.json"), Format: f,
		Sources: map[string]int64{}, Datasets: []string{}, Columns: labelExportColumns, CreatedAt: now,
		Filter: LabelExportFilter{Dataset: in.Dataset, Sources: sources},
	}, nil
}

// countLabelExport fills the manifest's counts from the snapshot file.
func (e *Engine) countLabelExport(ctx context.Context, snap string, in LabelExportInput, m *LabelExportManifest) error {
	from := "read_parquet(" + sqltmpl.Lit(snap).String() + ")"
	rows, err := e.db.QueryContext(ctx, `SELECT source, count(*) FROM `+from+` GROUP BY source ORDER BY source`)
	if err != nil {
		return fmt.Errorf("count label export: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return err
		}
		m.Sources[s] = n
		m.Rows += n
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var datasets []any
	err = e.db.QueryRowContext(ctx, `SELECT count(DISTINCT (dataset, object_id)), coalesce(list(DISTINCT dataset ORDER BY dataset), [])
		FROM `+from).Scan(&m.Objects, &datasets)
	if err != nil {
		return fmt.Errorf("count label export objects: %w", err)
	}
	for _, d := range datasets {
		if s, ok := d.(string); ok {
			m.Datasets = append(m.Datasets, s)
		}
	}
	q := `SELECT count(*) FROM labels.current WHERE review_status = 'rejected' AND (? = '' OR dataset = ?)`
	args := []any{in.Dataset, in.Dataset}
	if len(m.Filter.Sources) > 0 {
		q += ` AND source IN (?` + strings.Repeat(`, ?`, len(m.Filter.Sources)-1) + `)`
		for _, s := range m.Filter.Sources {
			args = append(args, s)
		}
	}
	return e.db.QueryRowContext(ctx, q, args...).Scan(&m.ExcludedRejected)
}

// OpenLabelExport writes a labeled-set export (see ExportLabels) and opens
// it for streaming; the file and its manifest stay under DATA/labeled/.
func (e *Engine) OpenLabelExport(ctx context.Context, in LabelExportInput) (*ExportFile, *LabelExportManifest, error) {
	m, err := e.ExportLabels(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	x, err := openExportFile(m.Path, m.File, m.Format, false)
	return x, m, err
}

// writeJSONFile writes v as indented JSON through a temporary file and a
// rename, synced, so a reader never sees half a file.
func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}
