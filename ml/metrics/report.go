package metrics

import "fmt"

// Report holds the metrics the issue asks for, for one set of predictions
// (one fold, the out-of-fold set, or the held-out test split).
type Report struct {
	Rows    int `json:"rows"`
	Classes int `json:"classes"`
	// Threshold is the positive-class cut used for Accuracy, MacroF1, the
	// confusion matrix and per-class precision and recall; 0 for multi-class
	// reports, which predict the most probable class.
	Threshold float64 `json:"threshold,omitempty"`
	Accuracy  float64 `json:"accuracy"`
	MacroF1   float64 `json:"macro_f1"`
	// ROCAUC is the binary ROC AUC, or the macro one-vs-rest AUC for
	// multi-class reports.
	ROCAUC float64 `json:"roc_auc"`
	// PRAUC is the average precision of the positive class, or the macro
	// one-vs-rest average precision for multi-class reports.
	PRAUC     float64   `json:"pr_auc"`
	Confusion Confusion `json:"confusion"`
	Precision []float64 `json:"precision"`
	Recall    []float64 `json:"recall"`
	// ClassROCAUC holds the one-vs-rest AUC per class (multi-class only).
	ClassROCAUC []float64 `json:"class_roc_auc,omitempty"`
}

// Binary evaluates positive-class probabilities p against 0/1 labels, with
// hard predictions at p >= threshold.
func Binary(yTrue []int, p []float64, threshold float64) (Report, error) {
	auc, err := ROCAUC(yTrue, p)
	if err != nil {
		return Report{}, fmt.Errorf("roc auc: %w", err)
	}
	ap, err := AveragePrecision(yTrue, p)
	if err != nil {
		return Report{}, fmt.Errorf("average precision: %w", err)
	}
	cm, err := ConfusionMatrix(yTrue, Threshold(p, threshold), 2)
	if err != nil {
		return Report{}, err
	}
	r := fromConfusion(cm)
	r.Threshold, r.ROCAUC, r.PRAUC = threshold, auc, ap
	return r, nil
}

// Multiclass evaluates row-major class probabilities (len(proba) ==
// len(yTrue)*nClasses) with the most probable class as the prediction.
func Multiclass(yTrue []int, proba []float64, nClasses int) (Report, error) {
	auc, perClass, err := OneVsRest(ROCAUC, yTrue, proba, nClasses)
	if err != nil {
		return Report{}, fmt.Errorf("roc auc: %w", err)
	}
	ap, _, err := OneVsRest(AveragePrecision, yTrue, proba, nClasses)
	if err != nil {
		return Report{}, fmt.Errorf("average precision: %w", err)
	}
	pred, err := Argmax(proba, nClasses)
	if err != nil {
		return Report{}, err
	}
	cm, err := ConfusionMatrix(yTrue, pred, nClasses)
	if err != nil {
		return Report{}, err
	}
	r := fromConfusion(cm)
	r.ROCAUC, r.PRAUC, r.ClassROCAUC = auc, ap, perClass
	return r, nil
}

func fromConfusion(cm Confusion) Report {
	r := Report{
		Rows:      cm.Total(),
		Classes:   len(cm),
		Accuracy:  cm.Accuracy(),
		MacroF1:   cm.MacroF1(),
		Confusion: cm,
		Precision: make([]float64, len(cm)),
		Recall:    make([]float64, len(cm)),
	}
	for k := range cm {
		r.Precision[k] = cm.Precision(k)
		r.Recall[k] = cm.Recall(k)
	}
	return r
}
