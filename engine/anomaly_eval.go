package engine

import (
	"context"
	"database/sql"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/exohunter/exohunter/ml/anomaly"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// The injected-anomaly evaluation (issue 7): copy a KOI table, append
// objects made physically impossible, run the whole pipeline and both
// detectors on the copy in a throw-away engine, and measure how many of
// the injected objects each detector ranks in its top 50 and top 100,
// beside the share the rule-based anomalous_signal tag catches.

// Default size of the evaluation.
const (
	DefaultInjected = 50
	maxInjected     = 1000
)

// AnomalyEvalInput asks for an evaluation on a KOI run's dataset.
type AnomalyEvalInput struct {
	Run     string
	Dataset string
	// N is the number of injected anomalies (default 50).
	N int
	// Seed picks the donors (default: configs/splits.yaml's seed).
	Seed *uint64
}

// AnomalyEval is the evaluation's report.
type AnomalyEval struct {
	SourceRun string `json:"source_run"`
	Dataset   string `json:"dataset"`
	Seed      uint64 `json:"seed"`
	// Rows is the catalog plus the injected objects; Injected how many.
	Rows     int             `json:"rows"`
	Injected int             `json:"injected"`
	Kinds    []InjectedKind  `json:"kinds"`
	Columns  []string        `json:"columns"`
	Detector []DetectorScore `json:"detectors"`
	// Rules is the rule-based anomalous_signal tag on the same objects.
	Rules   RuleScore `json:"rules"`
	Seconds float64   `json:"seconds"`
}

// InjectedKind is one kind of injected anomaly.
type InjectedKind struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Count       int    `json:"count"`
}

// DetectorScore is one detector's recall of the injected objects among
// its k highest scores, over the whole catalog and over the labeling
// queue's population (objects whose disposition configs/labeling.yaml
// does not exclude: by default the candidates and objects without one).
type DetectorScore struct {
	Name        string             `json:"name"`
	RecallAt50  float64            `json:"recall_at_50"`
	RecallAt100 float64            `json:"recall_at_100"`
	ByKindAt100 map[string]float64 `json:"recall_at_100_by_kind"`
	Queue       QueueRecall        `json:"queue"`
}

// QueueRecall is recall over the labeling queue's population.
type QueueRecall struct {
	Rows        int     `json:"rows"`
	RecallAt50  float64 `json:"recall_at_50"`
	RecallAt100 float64 `json:"recall_at_100"`
}

// RuleScore is the share of injected objects the rules tag
// anomalous_signal, and how many catalog objects carry the tag at all
// (the rule's "k").
type RuleScore struct {
	Name    string             `json:"name"`
	Recall  float64            `json:"recall"`
	Flagged int                `json:"flagged"`
	ByKind  map[string]float64 `json:"recall_by_kind"`
}

// anomalyEvalPrefix names the folder under DATA/tmp that holds an
// evaluation's copy while it runs (removed at Open after a kill).
const anomalyEvalPrefix = ".anomaly-eval-"

// EvaluateAnomalies runs the injected-anomaly evaluation. Nothing is
// written to this engine's database: the copy lives in a temporary data
// dir under DATA/tmp with its own in-memory engine, removed at the end.
func (e *Engine) EvaluateAnomalies(ctx context.Context, in AnomalyEvalInput) (*AnomalyEval, error) {
	start := time.Now()
	if in.N == 0 {
		in.N = DefaultInjected
	}
	if in.N < 3 || in.N > maxInjected {
		return nil, Errorf(BadRequest, "The number of injected anomalies must be between 3 and %d (got %d).", maxInjected, in.N)
	}
	seed := e.bundle.SplitsConfig().Seed
	if in.Seed != nil {
		seed = *in.Seed
	}
	if in.Run == "" && in.Dataset == "" {
		in.Dataset = e.onlyKOIDataset(ctx)
	}
	run, err := e.ResolveRun(ctx, in.Run, in.Dataset)
	if err != nil {
		return nil, err
	}
	ds, err := e.Dataset(ctx, run.Dataset)
	if err != nil {
		return nil, err
	}
	if ds.Mission != "koi" {
		return nil, Errorf(BadRequest, "The injected-anomaly evaluation needs a Kepler KOI table; dataset %s is %s.", ds.Name, ds.Mission)
	}
	dir, err := os.MkdirTemp(e.path(DirTmp), anomalyEvalPrefix)
	if err != nil {
		return nil, Wrap(BadRequest, err, "Cannot write to %s.", e.path(DirTmp))
	}
	defer os.RemoveAll(dir)
	csvPath := filepath.Join(dir, "injected.csv")
	if err := e.writeInjected(ctx, ds, run, in.N, seed, csvPath); err != nil {
		return nil, err
	}
	rep, err := e.evaluateCopy(ctx, csvPath, filepath.Join(dir, "engine"))
	if err != nil {
		return nil, err
	}
	rep.SourceRun, rep.Dataset, rep.Seed = run.RunID, ds.Name, seed
	rep.Seconds = float64(time.Since(start).Milliseconds()) / 1000
	return rep, nil
}

// onlyKOIDataset names the one KOI dataset when there is exactly one (the
// evaluation needs a KOI table, so other missions' datasets do not make
// the choice ambiguous), else "".
func (e *Engine) onlyKOIDataset(ctx context.Context) string {
	all, err := e.Datasets(ctx)
	if err != nil {
		return ""
	}
	name := ""
	for _, ds := range all {
		if ds.Mission == "koi" {
			if name != "" {
				return ""
			}
			name = ds.Name
		}
	}
	return name
}

// writeInjected writes the dataset's raw table plus n injected rows.
func (e *Engine) writeInjected(ctx context.Context, ds *Dataset, run *Run, n int, seed uint64, path string) error {
	raw := sqltmpl.QualifiedIdent{Schema: "raw", Name: sqltmpl.Ident(ds.Name)}
	cols, err := e.describe(ctx, sqltmpl.Expr("SELECT * FROM "+raw.String()))
	if err != nil {
		return err
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	q, err := sqltmpl.AnomalyInject{Raw: raw, RawColumns: names, RunPath: e.abs(run.Path), IDColumn: "kepoi_name",
		StarColumn: "kepid", N: n, Seed: strconv.FormatUint(seed, 10), Path: path}.Render()
	if err != nil {
		return Wrap(BadRequest, err, "Dataset %s cannot take injected anomalies: %v.", ds.Name, err)
	}
	if _, err := e.db.ExecContext(ctx, q); err != nil {
		return e.queryError(ctx, err, "write the injected copy")
	}
	return nil
}

// evaluateCopy ingests, processes and scores the injected table in a
// throw-away engine and measures the detectors and the rules.
func (e *Engine) evaluateCopy(ctx context.Context, csvPath, dir string) (*AnomalyEval, error) {
	te, err := Open(ctx, Options{DBPath: InMemory, DataDir: filepath.Join(dir, "data"), FeatureStore: filepath.Join(dir, "features"),
		Config: e.opts.Config, MemoryLimit: e.opts.MemoryLimit, Threads: e.opts.Threads, Logger: e.log})
	if err != nil {
		return nil, err
	}
	defer te.Close()
	if _, err := te.Ingest(ctx, IngestInput{Path: csvPath, Name: "injected"}); err != nil {
		return nil, err
	}
	run, err := te.Process(ctx, ProcessInput{Dataset: "injected"})
	if err != nil {
		return nil, err
	}
	det, err := te.DetectAnomalies(ctx, AnomalyInput{Run: run.RunID})
	if err != nil {
		return nil, err
	}
	from, err := ScoredRunFrom(run.RunID, te.abs(run.Path))
	if err != nil {
		return nil, err
	}
	rows, err := te.db.QueryContext(ctx, `SELECT object_id, coalesce(list_contains(tags, 'anomalous_signal'), false),
		coalesce(koi_disposition, ''), anomaly_score_iforest, anomaly_score_lof, anomaly_score
		FROM `+from+` WHERE coalesce(is_default, true) ORDER BY object_id, row_id`)
	if err != nil {
		return nil, te.queryError(ctx, err, "read the evaluation scores")
	}
	defer rows.Close()
	var ids []string
	var tagged, queued []bool
	excluded := te.bundle.LabelingConfig().Exclude.NASADispositions
	scores := [3][]float64{}
	for rows.Next() {
		var id, disp string
		var tag bool
		// note: an object without any detector input has NULL scores
		// (anomalyAssessed); it stays in the population and ranks last.
		var s [3]sql.NullFloat64
		if err := rows.Scan(&id, &tag, &disp, &s[0], &s[1], &s[2]); err != nil {
			return nil, err
		}
		ids, tagged, queued = append(ids, id), append(tagged, tag), append(queued, !contains(excluded, disp))
		for k := range s {
			v := math.NaN()
			if s[k].Valid {
				v = s[k].Float64
			}
			scores[k] = append(scores[k], v)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return recallReport(ids, tagged, queued, scores, det.Columns)
}

// recallReport measures the three scores and the rule tag on the
// injected ids.
func recallReport(ids []string, tagged, queued []bool, scores [3][]float64, columns []string) (*AnomalyEval, error) {
	rep := &AnomalyEval{Rows: len(ids), Columns: columns}
	known := make([]bool, len(ids))
	kindOf := make([]string, len(ids))
	count := map[string]int{}
	for i, id := range ids {
		if n, ok := strings.CutPrefix(id, sqltmpl.InjectedPrefix); ok {
			known[i] = true
			k, _ := strconv.Atoi(n)
			kindOf[i] = sqltmpl.InjectionKinds[(k-1)%len(sqltmpl.InjectionKinds)].Name
			count[kindOf[i]]++
			rep.Injected++
		}
		if tagged[i] {
			rep.Rules.Flagged++
		}
	}
	if rep.Injected == 0 {
		return nil, Errorf(Internal, "No injected object was scored.")
	}
	for _, k := range sqltmpl.InjectionKinds {
		rep.Kinds = append(rep.Kinds, InjectedKind{Name: k.Name, Description: k.Description, Count: count[k.Name]})
	}
	// note: anomaly_score is 1 − 1/LOF, ranked exactly as LOF, so it has no
	// row of its own.
	for d, name := range []string{"isolation_forest", "lof"} {
		ds := DetectorScore{Name: name, ByKindAt100: map[string]float64{}}
		var err error
		if ds.RecallAt50, err = anomaly.RecallAtK(scores[d], known, 50); err != nil {
			return nil, err
		}
		if ds.RecallAt100, err = anomaly.RecallAtK(scores[d], known, 100); err != nil {
			return nil, err
		}
		top := map[int]bool{}
		for _, i := range anomaly.RankingAgainst(scores[d], known)[:min(100, len(ids))] {
			top[i] = true
		}
		ds.ByKindAt100 = shareByKind(known, kindOf, count, func(i int) bool { return top[i] })
		if ds.Queue, err = queueRecall(scores[d], known, queued); err != nil {
			return nil, err
		}
		rep.Detector = append(rep.Detector, ds)
	}
	rep.Rules.Name = "anomalous_signal"
	rep.Rules.ByKind = shareByKind(known, kindOf, count, func(i int) bool { return tagged[i] })
	hit := 0
	for i := range ids {
		if known[i] && tagged[i] {
			hit++
		}
	}
	rep.Rules.Recall = float64(hit) / float64(rep.Injected)
	return rep, nil
}

// queueRecall ranks only the rows the labeling queue can show.
func queueRecall(scores []float64, known, queued []bool) (QueueRecall, error) {
	var s []float64
	var k []bool
	for i := range scores {
		if queued[i] {
			s, k = append(s, scores[i]), append(k, known[i])
		}
	}
	q := QueueRecall{Rows: len(s)}
	var err error
	if q.RecallAt50, err = anomaly.RecallAtK(s, k, 50); err != nil {
		return q, err
	}
	q.RecallAt100, err = anomaly.RecallAtK(s, k, 100)
	return q, err
}

// shareByKind is, per kind, the share of injected rows for which hit holds.
func shareByKind(known []bool, kindOf []string, count map[string]int, hit func(int) bool) map[string]float64 {
	n := map[string]int{}
	for i := range known {
		if known[i] && hit(i) {
			n[kindOf[i]]++
		}
	}
	out := map[string]float64{}
	for k, c := range count {
		out[k] = float64(n[k]) / float64(c)
	}
	return out
}
