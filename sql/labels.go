package sqltmpl

import (
	"fmt"
	"time"
)

// LabelClass maps one label value to its disposition class (CONFIRMED,
// CANDIDATE or FALSE POSITIVE), the way disposition_compare does; labels
// without a class (anomalous_signal, no_result) keep their own name.
type LabelClass struct {
	Label string
	Class string
}

// classLits quotes a class table for the templates.
func classLits(classes []LabelClass) []map[string]Lit {
	out := make([]map[string]Lit, len(classes))
	for i, c := range classes {
		out[i] = map[string]Lit{"Label": Lit(c.Label), "Class": Lit(c.Class)}
	}
	return out
}

// LabelViews renders labels.history (every label with label_class and its
// review status) and labels.current (the latest label per dataset, object
// and source), in that order.
func LabelViews(classes []LabelClass) ([]string, error) {
	data := map[string]any{"Classes": classLits(classes)}
	var out []string
	for _, name := range []string{"labels_history_view", "labels_current_view"} {
		s, err := exec(name, data)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// LabelImport is one bulk import of labels.
type LabelImport struct {
	// Dataset is the dataset the labels belong to.
	Dataset string
	// From is the relation holding object_id, koi_disposition, is_default
	// and row_id (NASA import), e.g. normalized."D".
	From QualifiedIdent
	// RunID and RunPath are the run whose categories are imported
	// (heuristic import).
	RunID   string
	RunPath string
	// Annotator and Note are stored on every imported label.
	Annotator string
	Note      string
	// Now is the created_at of every imported label.
	Now time.Time
}

// timestampLit prints t as a TIMESTAMP literal text in UTC.
func timestampLit(t time.Time) Lit {
	return Lit(t.UTC().Format("2006-01-02 15:04:05.999999"))
}

// data returns the template data shared by both imports.
func (in LabelImport) data() map[string]any {
	return map[string]any{
		"Dataset": Lit(in.Dataset), "From": in.From, "RunID": Lit(in.RunID), "RunPath": Lit(in.RunPath),
		"Annotator": Lit(in.Annotator), "Note": Lit(in.Note), "Now": timestampLit(in.Now),
	}
}

// ImportNASALabels renders one INSERT ... SELECT that records the catalog
// disposition of every object of a dataset as a `nasa` label, skipping
// objects whose current nasa label already says the same.
func ImportNASALabels(in LabelImport) (string, error) {
	if in.From.Name == "" {
		return "", fmt.Errorf("import nasa labels: no source relation")
	}
	return exec("labels_import_nasa", in.data())
}

// ImportRunLabels renders one INSERT ... SELECT that records the category
// of every object of a run as a `heuristic` label, skipping objects already
// imported from the same run (so importing a run twice changes nothing).
func ImportRunLabels(in LabelImport) (string, error) {
	if in.RunID == "" || in.RunPath == "" {
		return "", fmt.Errorf("import run labels: no run")
	}
	return exec("labels_import_run", in.data())
}

// SourcePair is one confusion table: labels of source A against labels of
// source B for the same objects.
type SourcePair struct{ A, B string }

// LabelPairs renders the counts of (A label, B label) per pair of sources,
// over current labels, optionally of one dataset.
func LabelPairs(dataset string, pairs []SourcePair) (string, error) {
	if len(pairs) == 0 {
		return "", fmt.Errorf("label pairs: no pair")
	}
	ps := make([]map[string]Lit, len(pairs))
	for i, p := range pairs {
		ps[i] = map[string]Lit{"A": Lit(p.A), "B": Lit(p.B)}
	}
	return exec("labels_pairs", map[string]any{"Dataset": optLit(dataset), "Pairs": ps})
}

// LabelDisagreements renders the objects whose current human, nasa and
// heuristic labels fall in different disposition classes, those with a
// human label first, with the total count on every row.
func LabelDisagreements(dataset string, limit int) (string, error) {
	return exec("labels_disagreements", map[string]any{"Dataset": optLit(dataset), "Limit": Num(limit)})
}

// LabelExportSource renders the relation a labeled-set export reads: the
// current labels that were not rejected, optionally of one dataset and of
// some sources.
func LabelExportSource(dataset string, sources []string) (Expr, error) {
	lits := make([]Lit, len(sources))
	for i, s := range sources {
		lits[i] = Lit(s)
	}
	s, err := exec("labels_export_source", map[string]any{"Dataset": optLit(dataset), "Sources": lits})
	return Expr(s), err
}

// optLit is a literal, or "" (which templates test as false) for an empty
// string.
func optLit(s string) any {
	if s == "" {
		return ""
	}
	return Lit(s)
}
