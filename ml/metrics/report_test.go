package metrics

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBinary(t *testing.T) {
	// Predictions at 0.5: [0 1 1 0] against [0 1 1 1] → confusion
	// [[1 0] [1 2]]; precision [1/2 1], recall [1 2/3]; F1 [2/3 0.8].
	got, err := Binary([]int{0, 1, 1, 1}, []float64{0.2, 0.5, 0.7, 0.4}, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	want := Report{
		Rows: 4, Classes: 2, Threshold: 0.5,
		Accuracy:  0.75,
		MacroF1:   (2.0/3 + 0.8) / 2,
		ROCAUC:    1,
		PRAUC:     1,
		Confusion: Confusion{{1, 0}, {1, 2}},
		Precision: []float64{0.5, 1},
		Recall:    []float64{1, 2.0 / 3},
	}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}

func TestMulticlass(t *testing.T) {
	// Argmax of multiP: 0 1 2 0 0 2 (row 3 ties 0.4/0.4 → class 0).
	got, err := Multiclass(multiY, multiP, 3)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Confusion{{2, 0, 0}, {1, 1, 0}, {0, 0, 2}}, got.Confusion); diff != "" {
		t.Errorf("confusion (-want +got):\n%s", diff)
	}
	// Per-class F1: class 0 P 2/3 R 1 → 0.8; class 1 P 1 R 1/2 → 2/3; class 2 → 1.
	want := []float64{5.0 / 6, (0.8 + 2.0/3 + 1) / 3, 0.875}
	if diff := cmp.Diff(want, []float64{got.Accuracy, got.MacroF1, got.ROCAUC}, approx); diff != "" {
		t.Errorf("[accuracy macro_f1 roc_auc] (-want +got):\n%s", diff)
	}
}

func TestCalibrationBins(t *testing.T) {
	got, err := CalibrationBins([]int{0, 1, 1, 1, 0}, []float64{0.05, 0.15, 0.95, 1.0, 0.9}, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []Bin{
		{Lo: 0, Hi: 0.5, Count: 2, MeanPredicted: 0.1, FractionPositive: 0.5},
		{Lo: 0.5, Hi: 1, Count: 3, MeanPredicted: 0.95, FractionPositive: 2.0 / 3},
	}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("bins (-want +got):\n%s", diff)
	}
	if _, err := CalibrationBins([]int{0}, []float64{1.5}, 2); err == nil {
		t.Error("probability 1.5: want an error")
	}
}

func TestDescribeAndSummarize(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		want   Summary
	}{
		// Sample std of 1..4: sqrt((2.25+0.25+0.25+2.25)/3).
		{name: "four", values: []float64{1, 2, 3, 4}, want: Summary{Mean: 2.5, Std: math.Sqrt(5.0 / 3), Min: 1, Max: 4, Values: []float64{1, 2, 3, 4}}},
		{name: "one", values: []float64{0.9}, want: Summary{Mean: 0.9, Min: 0.9, Max: 0.9, Values: []float64{0.9}}},
		{name: "none", want: Summary{Values: []float64{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Describe(tc.values), approx); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	s := Summarize([]Report{{Accuracy: 0.9, ROCAUC: 0.95}, {Accuracy: 0.8, ROCAUC: 0.97}})
	if diff := cmp.Diff([]float64{0.85, 0.96}, []float64{s.Accuracy.Mean, s.ROCAUC.Mean}, approx); diff != "" {
		t.Errorf("fold means (-want +got):\n%s", diff)
	}
	// Empty summaries must still encode (no NaN reaches metrics.json).
	if _, err := json.Marshal(Summarize(nil)); err != nil {
		t.Errorf("marshal empty summary: %v", err)
	}
}
