package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/exohunter/exohunter/ml/supervised"
)

// writeArtifacts writes every artifact of a model version into dir.
func writeArtifacts(dir string, m *ModelMetrics, mx *matrix, res *supervised.Result, fm *FeatureManifest) error {
	if err := res.Model.SaveModel(filepath.Join(dir, ModelFile)); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	if err := writeJSONFile(filepath.Join(dir, ModelMetricsFile), m); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	if err := writeOOF(filepath.Join(dir, ModelOOFFile), m, mx, res); err != nil {
		return fmt.Errorf("write out-of-fold predictions: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ModelCardFile), []byte(modelCard(m)), 0o644); err != nil {
		return err
	}
	// note: the feature set's manifest travels with the model, so that a
	// run can be scored with the same imputation and scaling even after
	// the version is deleted from the feature store.
	if err := writeJSONFile(filepath.Join(dir, ModelFeatureSetFile), fm); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ModelDataCardFile), []byte(dataCard(m, mx, fm)), 0o644)
}

// writeOOF writes oof_predictions.csv: object_id, star_id, fold, y_true
// (class index) and p_positive (the positive class; for the 3-class target
// the probability of not being a false positive), then for more than two
// classes one p_<class> column each.
func writeOOF(path string, m *ModelMetrics, mx *matrix, res *supervised.Result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	w.WriteString("object_id,star_id,fold,y_true,p_positive")
	width := mx.data.Width()
	if width > 1 {
		for _, c := range m.Classes {
			w.WriteString(",p_" + strings.ToLower(strings.ReplaceAll(c, " ", "_")))
		}
	}
	w.WriteString("\n")
	t, _ := targetOf(m.Target)
	for i, id := range mx.objectIDs {
		p := res.Proba[i*width : (i+1)*width]
		fmt.Fprintf(w, "%s,%s,%d,%d,%s", csvQuote(id), csvQuote(mx.data.Groups[i]), res.FoldOf[i], mx.data.Y[i],
			formatProbability(t.planetProbability(p)))
		if width > 1 {
			for _, v := range p {
				w.WriteString("," + formatProbability(v))
			}
		}
		w.WriteString("\n")
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// formatProbability prints a probability exactly (the shortest text that
// reads back as the same float64): metrics recomputed from the file then
// match metrics.json, and `exohunter score` hands out the same values.
func formatProbability(p float64) string { return strconv.FormatFloat(p, 'g', -1, 64) }

// csvQuote quotes a value when it needs it.
func csvQuote(s string) string {
	if strings.ContainsAny(s, ",\"\n\r") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// registerModel records a version in meta.models.
func (e *Engine) registerModel(ctx context.Context, m *ModelMetrics, dir string) error {
	feats, err := json.Marshal(m.Features)
	if err != nil {
		return err
	}
	met, err := json.Marshal(m.Summary())
	if err != nil {
		return err
	}
	_, err = e.db.ExecContext(ctx, `INSERT OR REPLACE INTO meta.models
		(name, version, kind, target, leaky, feature_version, dataset, run_id, path, features, metrics, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.Model, m.Version, m.Kind, m.Target, m.Leaky, m.FeatureSet.Version, m.Source.Dataset, m.Source.RunID,
		e.rel(dir), string(feats), string(met), m.CreatedAt)
	if err != nil {
		return fmt.Errorf("register model %s/%s: %w", m.Model, m.Version, err)
	}
	return nil
}

// mdPct prints a share as a percentage with one decimal.
func mdPct(x float64) string { return strconv.FormatFloat(100*x, 'f', 1, 64) + "%" }

// mdF4 prints a metric with 4 decimals (NaN as n/a).
func mdF4(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "n/a"
	}
	return strconv.FormatFloat(x, 'f', 4, 64)
}
