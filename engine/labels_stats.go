package engine

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/exohunter/exohunter/engine/spec"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// statsPairs are the confusion tables GET /api/labels/stats reports.
var statsPairs = []sqltmpl.SourcePair{
	{A: SourceHuman, B: SourceNASA},
	{A: SourceHuman, B: SourceHeuristic},
	{A: SourceHeuristic, B: SourceNASA},
}

// LabelStats is the agreement between label sources over current labels.
type LabelStats struct {
	// Dataset is the dataset the stats cover, empty for all.
	Dataset string `json:"dataset,omitempty"`
	// Sources counts the objects with a current label per source.
	Sources map[string]int64 `json:"sources"`
	// Tables holds human vs nasa, human vs heuristic and heuristic vs nasa.
	Tables []*ConfusionTable `json:"tables"`
}

// ConfusionTable compares the current labels of two sources on the
// objects both labeled. Labels are compared by disposition class, the way
// disposition_compare does: CONFIRMED ~ confirmed_planet, FALSE POSITIVE ~
// likely_false_positive, CANDIDATE ~ the candidate kinds; anomalous_signal
// and no_result agree with no disposition.
type ConfusionTable struct {
	A string `json:"a"`
	B string `json:"b"`
	// Objects labeled by both sources; Agree of them in the same class.
	Objects int64 `json:"objects"`
	Agree   int64 `json:"agree"`
	// Agreement is Agree/Objects, null without objects.
	Agreement *float64 `json:"agreement"`
	// Classes orders Matrix's rows (A) and columns (B).
	Classes []string  `json:"classes"`
	Matrix  [][]int64 `json:"matrix"`
	// Labels are the raw label pairs behind the matrix (e.g.
	// rocky_candidate against CANDIDATE), most frequent first.
	Labels []ConfusionCell `json:"labels"`
}

// ConfusionCell counts the objects labeled A by one source and B by the
// other.
type ConfusionCell struct {
	A string `json:"a"`
	B string `json:"b"`
	N int64  `json:"n"`
}

// LabelStats computes the confusion tables of human vs NASA, human vs
// heuristic and heuristic vs NASA labels, optionally for one dataset.
func (e *Engine) LabelStats(ctx context.Context, dataset string) (*LabelStats, error) {
	if err := e.checkLabelDataset(ctx, dataset); err != nil {
		return nil, err
	}
	q, err := sqltmpl.LabelPairs(dataset, statsPairs)
	if err != nil {
		return nil, err
	}
	classes := e.labelClasses()
	order := classOrder(classes)
	st := &LabelStats{Dataset: dataset, Sources: map[string]int64{}}
	byPair := map[sqltmpl.SourcePair]*ConfusionTable{}
	for _, p := range statsPairs {
		t := newConfusionTable(p, order)
		byPair[p] = t
		st.Tables = append(st.Tables, t)
	}
	rows, err := e.db.QueryContext(ctx, q)
	if err != nil {
		return nil, e.queryError(ctx, err, "compare label sources")
	}
	defer rows.Close()
	for rows.Next() {
		var p sqltmpl.SourcePair
		var c ConfusionCell
		if err := rows.Scan(&p.A, &p.B, &c.A, &c.B, &c.N); err != nil {
			return nil, err
		}
		byPair[p].add(c, labelClassOf(classes, c.A), labelClassOf(classes, c.B))
	}
	if err := rows.Err(); err != nil {
		return nil, e.queryError(ctx, err, "compare label sources")
	}
	for _, t := range st.Tables {
		t.finish()
	}
	return st, e.countSources(ctx, dataset, st.Sources)
}

// countSources fills the objects with a current label per source. A
// label rejected in review does not count, as training and the queue do
// not use it.
func (e *Engine) countSources(ctx context.Context, dataset string, out map[string]int64) error {
	rows, err := e.db.QueryContext(ctx, `SELECT source, count(*) FROM labels.current
		WHERE (? = '' OR dataset = ?) AND review_status <> 'rejected' GROUP BY source`, dataset, dataset)
	if err != nil {
		return e.queryError(ctx, err, "count labels")
	}
	defer rows.Close()
	for _, s := range LabelSources {
		out[s] = 0
	}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return err
		}
		out[s] = n
	}
	return rows.Err()
}

// classOrder lists the classes: the three dispositions, then every label
// that maps to no disposition, in precedence order.
func classOrder(classes []sqltmpl.LabelClass) []string {
	out := []string{spec.Confirmed, spec.Candidate, spec.FalsePositive}
	for _, v := range LabelValues() {
		if c := labelClassOf(classes, v); !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// newConfusionTable returns an empty table over the classes.
func newConfusionTable(p sqltmpl.SourcePair, classes []string) *ConfusionTable {
	m := make([][]int64, len(classes))
	for i := range m {
		m[i] = make([]int64, len(classes))
	}
	return &ConfusionTable{A: p.A, B: p.B, Classes: classes, Matrix: m, Labels: []ConfusionCell{}}
}

// add counts one raw label pair.
func (t *ConfusionTable) add(c ConfusionCell, classA, classB string) {
	i, j := slices.Index(t.Classes, classA), slices.Index(t.Classes, classB)
	if i >= 0 && j >= 0 {
		t.Matrix[i][j] += c.N
	}
	t.Objects += c.N
	if classA == classB {
		t.Agree += c.N
	}
	t.Labels = append(t.Labels, c)
}

// finish computes the agreement and sorts the raw pairs.
func (t *ConfusionTable) finish() {
	if t.Objects > 0 {
		a := float64(t.Agree) / float64(t.Objects)
		t.Agreement = &a
	}
	slices.SortStableFunc(t.Labels, func(x, y ConfusionCell) int {
		switch {
		case x.N != y.N:
			if x.N > y.N {
				return -1
			}
			return 1
		case x.A != y.A:
			if x.A < y.A {
				return -1
			}
			return 1
		case x.B < y.B:
			return -1
		case x.B > y.B:
			return 1
		}
		return 0
	})
}

// ReviewQueue is the reviewers' work list: labels waiting for a review,
// and objects whose human, NASA and heuristic labels disagree.
type ReviewQueue struct {
	// Pending are current human and model labels without a review, oldest
	// first.
	Pending      []*Label `json:"pending"`
	PendingTotal int64    `json:"pending_total"`
	// Disagreements are objects whose current labels fall in different
	// disposition classes, those with a human label first.
	Disagreements      []Disagreement `json:"disagreements"`
	DisagreementsTotal int64          `json:"disagreements_total"`
}

// Disagreement shows an object's current label of each source (null when
// the source has none).
type Disagreement struct {
	Dataset   string  `json:"dataset"`
	ObjectID  string  `json:"object_id"`
	Human     *string `json:"human"`
	NASA      *string `json:"nasa"`
	Heuristic *string `json:"heuristic"`
}

// ReviewQueue lists up to limit pending labels and limit disagreements,
// optionally of one dataset.
func (e *Engine) ReviewQueue(ctx context.Context, dataset string, limit int) (*ReviewQueue, error) {
	if limit == 0 {
		limit = defaultLabelsLimit
	}
	if limit < 1 || limit > MaxLabelsLimit {
		return nil, Errorf(BadRequest, "limit must be between 1 and %d (got %d).", MaxLabelsLimit, limit)
	}
	cond := `review_status = 'pending' AND source IN ('human', 'model') AND (? = '' OR dataset = ?)`
	pending, err := e.queryLabels(ctx, `SELECT `+labelColumns+` FROM labels.current WHERE `+cond+
		fmt.Sprintf(` ORDER BY id LIMIT %d`, limit), dataset, dataset)
	if err != nil {
		return nil, err
	}
	rq := &ReviewQueue{Pending: pending, Disagreements: []Disagreement{}}
	if err := e.db.QueryRowContext(ctx, `SELECT count(*) FROM labels.current WHERE `+cond, dataset, dataset).Scan(&rq.PendingTotal); err != nil {
		return nil, e.queryError(ctx, err, "count pending labels")
	}
	q, err := sqltmpl.LabelDisagreements(dataset, limit)
	if err != nil {
		return nil, err
	}
	rows, err := e.db.QueryContext(ctx, q)
	if err != nil {
		return nil, e.queryError(ctx, err, "find disagreements")
	}
	defer rows.Close()
	for rows.Next() {
		var d Disagreement
		var h, n, r sql.NullString
		if err := rows.Scan(&d.Dataset, &d.ObjectID, &h, &n, &r, &rq.DisagreementsTotal); err != nil {
			return nil, err
		}
		d.Human, d.NASA, d.Heuristic = nullString(h), nullString(n), nullString(r)
		rq.Disagreements = append(rq.Disagreements, d)
	}
	return rq, rows.Err()
}

// nullString maps SQL NULL to nil.
func nullString(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}
