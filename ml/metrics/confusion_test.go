package metrics

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// approx compares floats computed by hand with a tolerance for rounding.
var approx = cmpopts.EquateApprox(0, 1e-9)

func TestConfusionMatrix(t *testing.T) {
	tests := []struct {
		name         string
		yTrue, yPred []int
		classes      int
		want         Confusion
		wantAcc      float64
	}{
		{
			// scikit-learn's confusion_matrix documentation example.
			name:    "sklearn_docs",
			yTrue:   []int{2, 0, 2, 2, 0, 1},
			yPred:   []int{0, 0, 2, 2, 0, 2},
			classes: 3,
			want:    Confusion{{2, 0, 0}, {0, 0, 1}, {1, 0, 2}},
			wantAcc: 4.0 / 6,
		},
		{
			name:    "binary_all_right",
			yTrue:   []int{0, 1, 1},
			yPred:   []int{0, 1, 1},
			classes: 2,
			want:    Confusion{{1, 0}, {0, 2}},
			wantAcc: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ConfusionMatrix(tc.yTrue, tc.yPred, tc.classes)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("confusion (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantAcc, got.Accuracy(), approx); diff != "" {
				t.Errorf("accuracy (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfusion_perClass(t *testing.T) {
	// scikit-learn's f1_score / precision_score / recall_score documentation
	// example: macro F1 0.2666…, macro precision 0.2222…, macro recall 0.3333….
	// Class 0: tp 2, fp 1 (row 4), fn 0 → P 2/3, R 1, F1 0.8; classes 1 and 2
	// are never predicted correctly → 0.
	cm, err := ConfusionMatrix([]int{0, 1, 2, 0, 1, 2}, []int{0, 2, 1, 0, 0, 1}, 3)
	if err != nil {
		t.Fatal(err)
	}
	var p, r, f []float64
	for k := range cm {
		p, r, f = append(p, cm.Precision(k)), append(r, cm.Recall(k)), append(f, cm.F1(k))
	}
	if diff := cmp.Diff([]float64{2.0 / 3, 0, 0}, p, approx); diff != "" {
		t.Errorf("precision (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]float64{1, 0, 0}, r, approx); diff != "" {
		t.Errorf("recall (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]float64{0.8, 0, 0}, f, approx); diff != "" {
		t.Errorf("f1 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(0.8/3, cm.MacroF1(), approx); diff != "" {
		t.Errorf("macro f1 (-want +got):\n%s", diff)
	}
}

func TestConfusionMatrix_errors(t *testing.T) {
	tests := []struct {
		name         string
		yTrue, yPred []int
		want         error
	}{
		{name: "empty", want: ErrEmpty},
		{name: "length", yTrue: []int{0, 1}, yPred: []int{0}, want: ErrLength},
		{name: "label", yTrue: []int{0, 2}, yPred: []int{0, 1}, want: ErrLabel},
		{name: "negative", yTrue: []int{0, 1}, yPred: []int{-1, 1}, want: ErrLabel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ConfusionMatrix(tc.yTrue, tc.yPred, 2)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestAccuracyThresholdArgmax(t *testing.T) {
	pred := Threshold([]float64{0.2, 0.5, 0.7, 0.4}, 0.5)
	if diff := cmp.Diff([]int{0, 1, 1, 0}, pred); diff != "" {
		t.Errorf("threshold (-want +got):\n%s", diff)
	}
	acc, err := Accuracy([]int{0, 1, 1, 1}, pred)
	if err != nil {
		t.Fatal(err)
	}
	if acc != 0.75 {
		t.Errorf("accuracy = %v, want 0.75", acc)
	}
	// The lowest index wins a tie (row 1), as numpy's argmax does.
	got, err := Argmax([]float64{0.1, 0.9, 0.4, 0.4, 0.3, 0.7}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{1, 0, 1}, got); diff != "" {
		t.Errorf("argmax (-want +got):\n%s", diff)
	}
	if _, err := Argmax([]float64{0.1, 0.9, 0.4}, 2); !errors.Is(err, ErrLength) {
		t.Errorf("argmax ragged: err = %v, want ErrLength", err)
	}
}
