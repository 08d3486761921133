package metrics

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestROCAUCAndAveragePrecision(t *testing.T) {
	tests := []struct {
		name    string
		y       []int
		s       []float64
		wantAUC float64
		wantAP  float64
	}{
		{
			// scikit-learn's roc_auc_score / average_precision_score docs.
			// AUC: of the 4 positive/negative pairs, only (0.35, 0.4) is
			// misordered → 3/4. AP: thresholds 0.8 (R .5, P 1), 0.4 (R .5),
			// 0.35 (R 1, P 2/3) → 0.5·1 + 0.5·2/3 = 0.8333….
			name:    "sklearn_docs",
			y:       []int{0, 0, 1, 1},
			s:       []float64{0.1, 0.4, 0.35, 0.8},
			wantAUC: 0.75,
			wantAP:  0.5 + 0.5*2.0/3,
		},
		{
			// The positive and negative tied at 0.5 count one half:
			// (1 + 0.5 + 2) / 4. AP: 0.9 (R .5, P 1), the tie (R 1, P 2/3).
			name:    "tie_across_classes",
			y:       []int{0, 0, 1, 1},
			s:       []float64{0.1, 0.5, 0.5, 0.9},
			wantAUC: 3.5 / 4,
			wantAP:  0.5 + 0.5*2.0/3,
		},
		{
			name:    "all_tied",
			y:       []int{0, 1, 0, 1},
			s:       []float64{0.5, 0.5, 0.5, 0.5},
			wantAUC: 0.5,
			wantAP:  0.5,
		},
		{
			name:    "perfect",
			y:       []int{0, 0, 1, 1, 1},
			s:       []float64{0.1, 0.2, 0.3, 0.8, 0.9},
			wantAUC: 1,
			wantAP:  1,
		},
		{
			// Reversed: the one positive is found last, at precision 1/2.
			name:    "reversed",
			y:       []int{1, 0},
			s:       []float64{0.1, 0.9},
			wantAUC: 0,
			wantAP:  0.5,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			auc, err := ROCAUC(tc.y, tc.s)
			if err != nil {
				t.Fatal(err)
			}
			ap, err := AveragePrecision(tc.y, tc.s)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]float64{tc.wantAUC, tc.wantAP}, []float64{auc, ap}, approx); diff != "" {
				t.Errorf("[auc ap] (-want +got):\n%s", diff)
			}
		})
	}
}

func TestROCAUC_errors(t *testing.T) {
	tests := []struct {
		name string
		y    []int
		s    []float64
		want error
	}{
		{name: "one_class", y: []int{1, 1}, s: []float64{0.2, 0.3}, want: ErrOneClass},
		{name: "length", y: []int{0, 1}, s: []float64{0.2}, want: ErrLength},
		{name: "label", y: []int{0, 2}, s: []float64{0.2, 0.3}, want: ErrLabel},
		{name: "empty", want: ErrEmpty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ROCAUC(tc.y, tc.s); !errors.Is(err, tc.want) {
				t.Errorf("ROCAUC err = %v, want %v", err, tc.want)
			}
			if _, err := AveragePrecision(tc.y, tc.s); !errors.Is(err, tc.want) {
				t.Errorf("AveragePrecision err = %v, want %v", err, tc.want)
			}
		})
	}
}

// multiY and multiP are a 3-class example worked by hand in
// TestOneVsRest and TestMulticlass.
var (
	multiY = []int{0, 1, 2, 0, 1, 2}
	multiP = []float64{
		0.7, 0.2, 0.1,
		0.2, 0.5, 0.3,
		0.1, 0.3, 0.6,
		0.4, 0.4, 0.2,
		0.5, 0.3, 0.2,
		0.3, 0.3, 0.4,
	}
)

func TestOneVsRest(t *testing.T) {
	// Class 0: positives 0.7, 0.4 against 0.2, 0.1, 0.5, 0.3 → 7/8.
	// Class 1: positives 0.5, 0.3 against 0.2, 0.3, 0.4, 0.3 → (4 + 1 + .5 + .5)/8.
	// Class 2: positives 0.6, 0.4 against 0.1, 0.3, 0.2, 0.2 → 8/8.
	macro, per, err := OneVsRest(ROCAUC, multiY, multiP, 3)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]float64{0.875, 0.75, 1}, per, approx); diff != "" {
		t.Errorf("per class (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(0.875, macro, approx); diff != "" {
		t.Errorf("macro (-want +got):\n%s", diff)
	}
	if _, _, err := OneVsRest(ROCAUC, []int{0, 1, 0}, make([]float64, 9), 3); !errors.Is(err, ErrOneClass) {
		t.Errorf("absent class: err = %v, want ErrOneClass", err)
	}
}
