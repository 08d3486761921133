package sqltmpl

import (
	"fmt"
	"time"

	"github.com/exohunter/exohunter/engine/spec"
)

// ScoresRelation is the optional join point for model outputs: a relation
// with run_id and object_id and at least one of p_model (a probability in
// [0, 1]) and anomaly_score (in [0, 1], higher is more anomalous). When it
// holds several rows per object of a run, the latest by created_at (when
// that column exists) wins.
type ScoresRelation struct {
	Name      QualifiedIdent
	PModel    bool
	Anomaly   bool
	CreatedAt bool
}

// QueueInput is one labeling-queue request over a run.
type QueueInput struct {
	Dataset string
	RunID   string
	RunPath string
	// RunPModel and RunAnomaly say whether the run file itself carries
	// p_model and anomaly_score columns (scores written into the run).
	RunPModel  bool
	RunAnomaly bool
	// Scores is the model-output relation to LEFT JOIN, nil when absent.
	Scores *ScoresRelation
	// Config holds the weights, priority list and exclusions.
	Config *spec.Labeling
	// Strategy is one of spec.Strategies; Seed orders the random strategy.
	Strategy string
	Seed     string
	Limit    int
	// Annotator, when set, keeps the items this annotator already claimed
	// and skips only other annotators' live claims; empty (a peek) skips
	// every live claim.
	Annotator string
	// Now decides which claims are live.
	Now time.Time
}

// LabelQueue renders the queue query: one row per candidate object with
// priority, its parts (category_weight, flag_weight, uncertainty, anomaly),
// the interesting flags, p_model and anomaly_score, in strategy order.
func LabelQueue(in QueueInput) (string, error) {
	c := in.Config
	if c == nil {
		return "", fmt.Errorf("label queue: no config")
	}
	if in.Limit < 1 {
		return "", fmt.Errorf("label queue: limit %d", in.Limit)
	}
	order, err := queueOrder(in.Strategy, in.Seed)
	if err != nil {
		return "", err
	}
	data := map[string]any{
		"Dataset": Lit(in.Dataset), "RunID": Lit(in.RunID), "RunPath": Lit(in.RunPath),
		"RunPModel": nullOr("r.p_model", in.RunPModel), "RunAnomaly": nullOr("r.anomaly_score", in.RunAnomaly),
		"Scores": "", "Flags": queueFlags(c), "Weights": queueWeights(c), "Priority": litList(c.Priority),
		"Factor": Num(c.Uncertainty.Factor), "AnomalyWeight": Num(c.Anomaly.Weight),
		"Exclude": litList(c.Exclude.NASADispositions), "Now": timestampLit(in.Now),
		"Annotator": optLit(in.Annotator), "OrderBy": order, "Limit": Num(in.Limit),
	}
	if s := in.Scores; s != nil && (s.PModel || s.Anomaly) {
		data["Scores"] = s.Name
		data["ScoresPModel"] = nullOr("s.p_model", s.PModel)
		data["ScoresAnomaly"] = nullOr("s.anomaly_score", s.Anomaly)
		data["ScoresOrder"] = rawCode("s.object_id")
		if s.CreatedAt {
			data["ScoresOrder"] = rawCode("s.created_at DESC NULLS LAST")
		}
	}
	return exec("label_queue", data)
}

// queueOrder is the ORDER BY list of a strategy.
func queueOrder(strategy, seed string) (rawCode, error) {
	switch strategy {
	case spec.StrategyPriority:
		return "priority DESC, tie_rank, object_id", nil
	case spec.StrategyUncertainty:
		return "uncertainty DESC, priority DESC, tie_rank, object_id", nil
	case spec.StrategyRandom:
		return rawCode("hash(object_id || " + Lit(seed).String() + "), object_id"), nil
	}
	return "", fmt.Errorf("label queue: unknown strategy %q", strategy)
}

// nullOr prints a column reference, or a typed NULL when it is absent.
func nullOr(col string, present bool) rawCode {
	if present {
		return rawCode("CAST(" + col + " AS DOUBLE)")
	}
	return "NULL::DOUBLE"
}

// queueFlags lists the interesting flags with their weights, sorted.
func queueFlags(c *spec.Labeling) []map[string]any {
	out := []map[string]any{}
	for _, f := range c.FlagNames() {
		out = append(out, map[string]any{"Name": Lit(f), "Weight": Num(c.InterestingFlags[f])})
	}
	return out
}

// queueWeights lists the category weights, in precedence order.
func queueWeights(c *spec.Labeling) []map[string]any {
	out := []map[string]any{}
	for _, cat := range spec.Categories {
		if w, ok := c.CategoryWeights[cat]; ok {
			out = append(out, map[string]any{"Category": Lit(cat), "Weight": Num(w)})
		}
	}
	return out
}

// litList quotes each string.
func litList(xs []string) []Lit {
	out := make([]Lit, len(xs))
	for i, x := range xs {
		out[i] = Lit(x)
	}
	return out
}
