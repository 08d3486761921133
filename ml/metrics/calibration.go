package metrics

import (
	"fmt"
	"math"
)

// Bin is one bar of a reliability diagram: the rows whose predicted
// probability falls in [Lo, Hi), with their mean prediction and the share of
// them that are truly positive. A well calibrated model has
// MeanPredicted ≈ FractionPositive in every bin.
type Bin struct {
	Lo               float64 `json:"lo"`
	Hi               float64 `json:"hi"`
	Count            int     `json:"count"`
	MeanPredicted    float64 `json:"mean_predicted"`
	FractionPositive float64 `json:"fraction_positive"`
}

// CalibrationBins splits [0, 1] into nBins equal-width bins and summarises the
// positive-class probabilities p against binary labels in each. The last bin
// is closed so that p = 1 is counted. Every bin is returned, empty ones with
// Count 0 and zero means, so that plots of different models line up; a plot
// should skip bins with Count 0 (scikit-learn's calibration_curve drops them).
func CalibrationBins(yTrue []int, p []float64, nBins int) ([]Bin, error) {
	if err := checkPair(len(yTrue), len(p)); err != nil {
		return nil, err
	}
	if nBins < 1 {
		return nil, fmt.Errorf("metrics: %d calibration bins: need at least 1", nBins)
	}
	bins := make([]Bin, nBins)
	sumP := make([]float64, nBins)
	pos := make([]int, nBins)
	for b := range bins {
		bins[b].Lo = float64(b) / float64(nBins)
		bins[b].Hi = float64(b+1) / float64(nBins)
	}
	for i, v := range p {
		if math.IsNaN(v) || v < 0 || v > 1 {
			return nil, fmt.Errorf("metrics: row %d has probability %v outside [0, 1]", i, v)
		}
		if yTrue[i] != 0 && yTrue[i] != 1 {
			return nil, fmt.Errorf("%w: row %d has label %d, want 0 or 1", ErrLabel, i, yTrue[i])
		}
		b := min(int(v*float64(nBins)), nBins-1)
		bins[b].Count++
		sumP[b] += v
		pos[b] += yTrue[i]
	}
	for b := range bins {
		if n := bins[b].Count; n > 0 {
			bins[b].MeanPredicted = sumP[b] / float64(n)
			bins[b].FractionPositive = float64(pos[b]) / float64(n)
		}
	}
	return bins, nil
}
