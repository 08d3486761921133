package engine

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/exohunter/exohunter/engine/spec"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// claimMu serializes queue requests that claim items, so that two
// annotators asking at the same time get different items. One process
// holds the database, so a process-wide lock is enough.
var claimMu sync.Mutex

// ScoresTable is the join point for model outputs (issue 7): when a
// relation meta.scores with run_id, object_id and p_model and/or
// anomaly_score exists, the queue LEFT JOINs it for the run (the latest row
// per object by created_at when that column exists). p_model replaces the
// run's score in the uncertainty term; anomaly_score adds
// anomaly.weight · anomaly_score. Columns p_model or anomaly_score written
// into the run file itself are used the same way.
var ScoresTable = sqltmpl.QualifiedIdent{Schema: "meta", Name: "scores"}

// QueueRequest asks for the next items to label.
type QueueRequest struct {
	// Run is the run to draw from; empty picks the latest run of Dataset,
	// or of the only dataset (ResolveRun).
	Run     string
	Dataset string
	// Strategy is priority, random or uncertainty (default from
	// configs/labeling.yaml).
	Strategy string
	// Limit is the number of items (default batch.size, at most 1000).
	Limit int
	// Annotator, when set, claims the items for claims.expire_after;
	// without it the request only peeks.
	Annotator string
	// Seed orders the random strategy (default: a fresh random seed).
	Seed string
}

// Queue is the answer of GET /api/labels/queue.
type Queue struct {
	Items    []QueueItem `json:"items"`
	RunID    string      `json:"run_id"`
	Strategy string      `json:"strategy"`
}

// QueueItem is one object to label (Contracts: queue item shape), with the
// reason for its place.
type QueueItem struct {
	ObjectID string      `json:"object_id"`
	Dataset  string      `json:"dataset"`
	RunID    string      `json:"run_id"`
	Category string      `json:"category"`
	Priority float64     `json:"priority"`
	Reason   QueueReason `json:"reason"`
	// ClaimedUntil is set when the request claimed the item.
	ClaimedUntil *time.Time `json:"claimed_until,omitempty"`
}

// QueueReason breaks an item's priority into its terms.
type QueueReason struct {
	CategoryWeight float64 `json:"category_weight"`
	FlagWeight     float64 `json:"flag_weight"`
	Uncertainty    float64 `json:"uncertainty"`
	// Flags are the item's interesting flags (those that weigh).
	Flags []string `json:"flags"`
	// Anomaly is anomaly.weight · anomaly_score, present when a detector
	// scored the object; PModel is the model probability the uncertainty
	// used instead of the run's score.
	Anomaly *float64 `json:"anomaly,omitempty"`
	PModel  *float64 `json:"p_model,omitempty"`
}

// LabelQueue returns the next objects to label from a run, in the order
// configs/labeling.yaml and the strategy give. Objects with a (not
// rejected) human label, objects whose NASA disposition is excluded, and
// objects claimed by another annotator are left out. With an annotator,
// the items are claimed.
func (e *Engine) LabelQueue(ctx context.Context, req QueueRequest) (*Queue, error) {
	cfg := e.bundle.LabelingConfig()
	if err := checkQueueRequest(&req, cfg); err != nil {
		return nil, err
	}
	run, err := e.ResolveRun(ctx, req.Run, req.Dataset)
	if err != nil {
		return nil, err
	}
	in, err := e.queueInput(ctx, run, req, cfg)
	if err != nil {
		return nil, err
	}
	if req.Annotator != "" {
		claimMu.Lock()
		defer claimMu.Unlock()
	}
	in.Now = time.Now().UTC()
	q, err := sqltmpl.LabelQueue(in)
	if err != nil {
		return nil, err
	}
	items, err := e.queueItems(ctx, q, run)
	if err != nil {
		return nil, err
	}
	if req.Annotator != "" {
		if err := e.claim(ctx, run, req.Annotator, items, in.Now, cfg.Claims.Expiry); err != nil {
			return nil, err
		}
	}
	return &Queue{Items: items, RunID: run.RunID, Strategy: req.Strategy}, nil
}

// checkQueueRequest applies the defaults and validates the request.
func checkQueueRequest(req *QueueRequest, cfg *spec.Labeling) error {
	req.Strategy = strings.ToLower(strings.TrimSpace(req.Strategy))
	req.Annotator = strings.TrimSpace(req.Annotator)
	if req.Strategy == "" {
		req.Strategy = cfg.Batch.Strategy
	}
	if !slices.Contains(spec.Strategies, req.Strategy) {
		return Errorf(BadRequest, "Unknown queue strategy %q: use priority, random or uncertainty.", req.Strategy)
	}
	if req.Limit == 0 {
		req.Limit = cfg.Batch.Size
	}
	if req.Limit < 1 || req.Limit > spec.MaxBatchSize {
		return Errorf(BadRequest, "limit must be between 1 and %d (got %d).", spec.MaxBatchSize, req.Limit)
	}
	if len(req.Annotator) > maxLabelText {
		return Errorf(BadRequest, "annotator is limited to %d bytes.", maxLabelText)
	}
	if req.Strategy == spec.StrategyRandom && req.Seed == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		req.Seed = hex.EncodeToString(b[:])
	}
	return nil
}

// queueInput gathers what the query needs: the run's file and columns and
// the optional scores relation.
func (e *Engine) queueInput(ctx context.Context, run *Run, req QueueRequest, cfg *spec.Labeling) (sqltmpl.QueueInput, error) {
	path := e.abs(run.Path)
	cols, err := e.describe(ctx, readParquet(path))
	if err != nil {
		return sqltmpl.QueueInput{}, err
	}
	has := func(name string) bool {
		return slices.ContainsFunc(cols, func(c Column) bool { return c.Name == name })
	}
	scores, err := e.scoresRelation(ctx)
	if err != nil {
		return sqltmpl.QueueInput{}, err
	}
	return sqltmpl.QueueInput{
		Dataset: run.Dataset, RunID: run.RunID, RunPath: path,
		RunPModel: has("p_model"), RunAnomaly: has("anomaly_score"), Scores: scores,
		Config: cfg, Strategy: req.Strategy, Seed: req.Seed, Limit: req.Limit, Annotator: req.Annotator,
	}, nil
}

// scoresRelation looks up the model-output join point (ScoresTable).
func (e *Engine) scoresRelation(ctx context.Context) (*sqltmpl.ScoresRelation, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT column_name FROM duckdb_columns()
		WHERE schema_name = ? AND table_name = ?`, string(ScoresTable.Schema), string(ScoresTable.Name))
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", ScoresTable, err)
	}
	defer rows.Close()
	cols := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cols[c] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !cols["run_id"] || !cols["object_id"] || !(cols["p_model"] || cols["anomaly_score"]) {
		return nil, nil
	}
	return &sqltmpl.ScoresRelation{Name: ScoresTable, PModel: cols["p_model"], Anomaly: cols["anomaly_score"],
		CreatedAt: cols["created_at"]}, nil
}

// queueItems runs the queue query.
func (e *Engine) queueItems(ctx context.Context, q string, run *Run) ([]QueueItem, error) {
	rows, err := e.db.QueryContext(ctx, q)
	if err != nil {
		return nil, e.queryError(ctx, err, "build the labeling queue")
	}
	defer rows.Close()
	items := []QueueItem{}
	for rows.Next() {
		it := QueueItem{Dataset: run.Dataset, RunID: run.RunID}
		var cat sql.NullString
		var flags []any
		var anomaly, pModel, anomalyScore sql.NullFloat64
		if err := rows.Scan(&it.ObjectID, &cat, &it.Priority, &it.Reason.CategoryWeight, &it.Reason.FlagWeight,
			&it.Reason.Uncertainty, &anomaly, &flags, &pModel, &anomalyScore); err != nil {
			return nil, err
		}
		it.Category = cat.String
		it.Reason.Flags = []string{}
		for _, f := range flags {
			if s, ok := f.(string); ok {
				it.Reason.Flags = append(it.Reason.Flags, s)
			}
		}
		if anomalyScore.Valid {
			a := round6(anomaly.Float64)
			it.Reason.Anomaly = &a
		}
		if pModel.Valid {
			p := pModel.Float64
			it.Reason.PModel = &p
		}
		it.Priority = round6(it.Priority)
		it.Reason.CategoryWeight = round6(it.Reason.CategoryWeight)
		it.Reason.FlagWeight = round6(it.Reason.FlagWeight)
		it.Reason.Uncertainty = round6(it.Reason.Uncertainty)
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, e.queryError(ctx, err, "build the labeling queue")
	}
	return items, nil
}

// round6 rounds to 6 decimals, so that 5 + 0.5 + 1.2 reads 6.7.
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// claim records the items as claimed by annotator until now+expiry, in one
// transaction, and drops claims that expired over a day ago.
func (e *Engine) claim(ctx context.Context, run *Run, annotator string, items []QueueItem, now time.Time, expiry time.Duration) error {
	until := now.Add(expiry)
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("claim queue items: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM labels.claims WHERE expires_at < ?`, now.Add(-24*time.Hour)); err != nil {
		return fmt.Errorf("drop old claims: %w", err)
	}
	for start := 0; start < len(items); start += 200 {
		batch := items[start:min(start+200, len(items))]
		args := make([]any, 0, 6*len(batch))
		for _, it := range batch {
			args = append(args, run.Dataset, it.ObjectID, run.RunID, annotator, now, until)
		}
		q := `INSERT INTO labels.claims (dataset, object_id, run_id, annotator, claimed_at, expires_at) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", len(batch)), ", ")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("claim queue items: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("claim queue items: %w", err)
	}
	for i := range items {
		items[i].ClaimedUntil = &until
	}
	return nil
}
