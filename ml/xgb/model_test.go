package xgb

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSaveLoad_roundTrip(t *testing.T) {
	tests := []struct {
		name    string
		classes int
	}{
		{name: "binary", classes: 2},
		{name: "multiclass", classes: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			train, test := blobs(300, 3, tc.classes, 1.5, 20), blobs(100, 3, tc.classes, 1.5, 21)
			p := fastParams()
			if tc.classes > 2 {
				p.Objective, p.NumClass = MultiSoftprob, tc.classes
			}
			b := mustTrain(t, train, nil, p)
			want := mustPredict(t, b, test.X)

			path := filepath.Join(t.TempDir(), "model.json")
			if err := b.SaveModel(path); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Learner json.RawMessage `json:"learner"`
				Version []int           `json:"version"`
			}
			if err := json.Unmarshal(raw, &doc); err != nil || len(doc.Learner) == 0 || len(doc.Version) != 3 {
				t.Fatalf("model.json is not XGBoost JSON (err %v): %.200s", err, raw)
			}

			fromFile, err := LoadModel(path)
			if err != nil {
				t.Fatal(err)
			}
			defer fromFile.Close()
			buf, err := b.ModelJSON()
			if err != nil {
				t.Fatal(err)
			}
			fromBytes, err := LoadModelJSON(buf)
			if err != nil {
				t.Fatal(err)
			}
			defer fromBytes.Close()
			for _, loaded := range []*Booster{fromFile, fromBytes} {
				if loaded.NumClass() != b.NumClass() || loaded.NumFeatures() != 3 || loaded.Objective() != p.Objective {
					t.Errorf("loaded: classes %d features %d objective %s", loaded.NumClass(), loaded.NumFeatures(), loaded.Objective())
				}
				if diff := cmp.Diff(want, mustPredict(t, loaded, test.X)); diff != "" {
					t.Errorf("loaded model predicts differently (-trained +loaded):\n%s", diff)
				}
			}
		})
	}
}

func TestSaveModel_errors(t *testing.T) {
	b := mustTrain(t, blobs(50, 2, 2, 1, 22), nil, fastParams())
	if err := b.SaveModel(filepath.Join(t.TempDir(), "model.bin")); err == nil {
		t.Error("SaveModel to .bin: want an error (JSON only)")
	}
	if _, err := LoadModel(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("LoadModel of a missing file: want an error")
	}
	if _, err := LoadModelJSON([]byte("{not json")); err == nil {
		t.Error("LoadModelJSON of garbage: want an error")
	}
}

func TestFeatureImportance(t *testing.T) {
	// Only feature 1 carries the label; 0 and 2 are noise.
	d := blobs(500, 3, 2, 0, 23)
	for i := range d.X.Rows {
		d.X.Row(i)[1] = d.Y[i]*2 + d.X.Row(i)[1]*0.1
	}
	b := mustTrain(t, d, nil, fastParams())
	gain, err := b.FeatureImportance(ImportanceGain)
	if err != nil {
		t.Fatal(err)
	}
	if len(gain) != 3 {
		t.Fatalf("%d importances, want 3", len(gain))
	}
	if gain[1] <= gain[0] || gain[1] <= gain[2] {
		t.Errorf("gain %v: want feature 1 to dominate", gain)
	}
}
