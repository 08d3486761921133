package engine

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Job statuses (Contracts: Jobs). They are the run statuses.
const (
	JobQueued   = RunQueued
	JobRunning  = RunRunning
	JobComplete = RunComplete
	JobFailed   = RunFailed
)

// Job kinds.
const (
	// JobKindRun is a pipeline run started by Jobs.StartRun.
	JobKindRun = "run"
)

// jobSlots bounds how many jobs of a kind run at once; the others wait,
// queued. Each run, training, scoring, anomaly detection or snapshot is a
// large DuckDB or XGBoost workload: eight KOI runs started together
// exhausted the 1 GB memory limit, failed half of them and made one-row
// label writes fail with them; two at a time use the two cores and stay
// well inside it.
//
// Scoring and anomaly detection get two: the bulk turn (bulk.go) already
// makes the large ones take turns, and a KOI-sized job should not queue
// behind a ten-million-row one.
var jobSlots = map[string]int{JobKindRun: 2, JobKindTrain: 1, JobKindSnapshot: 1, JobKindAnomalies: 2, JobKindScore: 2, JobKindFeatures: 1}

// jobPersistEvery throttles progress writes to meta.jobs; status changes
// are always written at once.
const jobPersistEvery = 250 * time.Millisecond

// jobSubscriberBuffer is how many updates a slow SSE client may lag behind
// before intermediate ones are dropped (the final state is never dropped).
const jobSubscriberBuffer = 16

// Job is one background task as GET /api/jobs/{id} shows it (Contracts:
// Jobs). Progress is a fraction in [0, 1]; Message says what the job is
// doing, or why it failed; Result is the job's output once complete.
type Job struct {
	ID       string          `json:"id"`
	Kind     string          `json:"kind"`
	Status   string          `json:"status"`
	Progress float64         `json:"progress"`
	Message  string          `json:"message"`
	Result   json.RawMessage `json:"result"`
	// Error is set when the job failed: the same code and message an API
	// call would have answered.
	Error     *JobError `json:"error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// JobError is why a job failed.
type JobError struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// orNoProgress returns report, or a report that ignores its calls when
// there is none (a call from the CLI or a synchronous API request).
func orNoProgress(report func(float64, string)) func(float64, string) {
	if report == nil {
		return func(float64, string) {}
	}
	return report
}

// Done reports whether the job has ended (complete or failed).
func (j *Job) Done() bool { return j.Status == JobComplete || j.Status == JobFailed }

// JobFunc is the work of a job. It runs on a context that ends when the
// registry closes, reports progress (a fraction in [0, 1]) and a short
// message through report, and returns a JSON-encodable result.
type JobFunc func(ctx context.Context, report func(progress float64, message string)) (any, error)

// Jobs is the registry of background jobs: it runs them, keeps their state
// in meta.jobs (so GET /api/jobs/{id} answers after they end, and after a
// restart), and fans their updates out to subscribers (the SSE stream).
// It is safe for concurrent use.
type Jobs struct {
	e      *Engine
	ctx    context.Context // parent of every job; cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// slots holds one semaphore per kind in jobSlots.
	slots map[string]chan struct{}

	mu     sync.Mutex
	live   map[string]*liveJob // jobs that have not ended
	closed bool
	// training holds the model versions being trained (reserveVersion).
	training map[string]bool
	// held counts, per kind, the places taken by hold for jobs about to
	// start: room counts them with the live jobs.
	held map[string]int
}

// liveJob is a running job's in-memory state and its subscribers.
type liveJob struct {
	job       Job
	subs      map[chan Job]struct{}
	done      chan struct{} // closed when the job ends
	persisted time.Time     // last progress write to meta.jobs
}

// NewJobs returns the job registry of e. One registry per engine: serve
// creates it once and closes it before the engine.
func NewJobs(e *Engine) *Jobs {
	ctx, cancel := context.WithCancel(context.Background())
	slots := make(map[string]chan struct{}, len(jobSlots))
	for kind, n := range jobSlots {
		slots[kind] = make(chan struct{}, n)
	}
	return &Jobs{e: e, ctx: ctx, cancel: cancel, slots: slots, live: map[string]*liveJob{}, held: map[string]int{}}
}

// newJobID returns a fresh job id, safe in URLs.
func newJobID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "job-" + hex.EncodeToString(b[:])
}

// Start records a queued job and runs fn in the background. The job's
// context is the registry's, not the caller's: it outlives the request that
// started it.
func (j *Jobs) Start(ctx context.Context, kind string, fn JobFunc) (*Job, error) {
	return j.start(ctx, kind, fn, nil)
}

// start is Start; a job with a place p (hold) takes that place instead of
// asking for room.
func (j *Jobs) start(ctx context.Context, kind string, fn JobFunc, p *place) (*Job, error) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	lj := &liveJob{
		job:  Job{ID: newJobID(), Kind: kind, Status: JobQueued, Result: json.RawMessage("null"), CreatedAt: now, UpdatedAt: now},
		subs: map[chan Job]struct{}{}, done: make(chan struct{}),
	}
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil, errShuttingDown()
	}
	if p != nil && p.held {
		j.held[kind]--
		p.held = false
	} else if err := j.roomLocked(kind); err != nil {
		j.mu.Unlock()
		return nil, err
	}
	j.live[lj.job.ID] = lj
	j.wg.Add(1)
	j.mu.Unlock()
	if err := j.insert(ctx, &lj.job); err != nil {
		j.mu.Lock()
		delete(j.live, lj.job.ID)
		j.mu.Unlock()
		j.wg.Done()
		return nil, err
	}
	snap := lj.job
	go j.run(lj, fn)
	return &snap, nil
}

// maxPendingJobs bounds the jobs of one kind that run or wait at once.
// jobSlots bounds the running ones only, and 60 run requests in 3 s left
// 22 waiting, each to write its own file (a review); more work than this
// is refused (Busy, 429) until some ends.
const maxPendingJobs = 16

// errShuttingDown refuses jobs once Close has begun.
func errShuttingDown() error {
	return Errorf(Conflict, "The server is shutting down and does not start new jobs.")
}

// place is one of a kind's maxPendingJobs places, held before its job
// exists.
type place struct {
	kind string
	held bool
}

// hold takes a place for a job of kind that will start after work that
// must not be done for a refused job (StartRun writes the run's record
// first), so that concurrent requests cannot all pass a check of room
// and then all but one be refused. Start with the place, or let it go.
func (j *Jobs) hold(kind string) (*place, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil, errShuttingDown()
	}
	if err := j.roomLocked(kind); err != nil {
		return nil, err
	}
	j.held[kind]++
	return &place{kind: kind, held: true}, nil
}

// letGo gives back a place its job did not take.
func (j *Jobs) letGo(p *place) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if p.held {
		j.held[p.kind]--
		p.held = false
	}
}

// roomLocked refuses a job of kind when maxPendingJobs of it have not
// ended or hold their place; j.mu is held.
func (j *Jobs) roomLocked(kind string) error {
	n := j.held[kind]
	for _, lj := range j.live {
		select {
		case <-lj.done:
		default:
			if lj.job.Kind == kind {
				n++
			}
		}
	}
	if n >= maxPendingJobs {
		return Errorf(Busy, "%d %s jobs are already running or waiting, as many as this server takes; try again when some have ended (GET /api/jobs).", n, kind)
	}
	return nil
}

// run executes one job, after waiting for a slot of its kind, and records
// its end. A job whose wait the registry's close ends still runs fn, on
// the cancelled context, so that it fails the way it cleans up.
func (j *Jobs) run(lj *liveJob, fn JobFunc) {
	defer j.wg.Done()
	if slot := j.slots[lj.job.Kind]; slot != nil {
		held := true
		select {
		case slot <- struct{}{}:
		default:
			j.update(lj.job.ID, func(job *Job) {
				job.Message = fmt.Sprintf("waiting: %d %s job(s) at a time, the others queue", cap(slot), lj.job.Kind)
			})
			select {
			case slot <- struct{}{}:
			case <-j.ctx.Done():
				held = false
			}
		}
		if held {
			defer func() { <-slot }()
		}
	}
	j.update(lj.job.ID, func(job *Job) { job.Status, job.Message = JobRunning, "" })
	report := func(p float64, msg string) {
		j.update(lj.job.ID, func(job *Job) {
			job.Progress = min(max(p, job.Progress), 1)
			job.Message = msg
		})
	}
	res, err := j.call(fn, report)
	j.update(lj.job.ID, func(job *Job) {
		if err != nil {
			job.Status, job.Message = JobFailed, ErrorMessage(err)
			job.Error = &JobError{Code: ErrorCode(err), Message: ErrorMessage(err)}
			return
		}
		b, merr := json.Marshal(res)
		if merr != nil {
			// note: the waiting call would have answered 500; so does the job.
			job.Status, job.Message = JobFailed, "internal error"
			job.Error = &JobError{Code: Internal, Message: "internal error"}
			j.e.log.Error("job result not encodable", "job", job.ID, "err", merr)
			return
		}
		job.Status, job.Progress, job.Result = JobComplete, 1, b
		if job.Message == "" {
			job.Message = "complete"
		}
	})
	if err != nil && ErrorCode(err) == Internal {
		j.e.log.Error("job failed", "job", lj.job.ID, "kind", lj.job.Kind, "err", err)
	}
}

// call runs fn, turning a panic into an Internal error so that one bad job
// cannot take the server down.
func (j *Jobs) call(fn JobFunc, report func(float64, string)) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("job panicked: %v", r)
		}
	}()
	return fn(j.ctx, report)
}

// update changes a live job, persists it (progress writes throttled) and
// tells its subscribers. A job that ends leaves the live set.
func (j *Jobs) update(id string, change func(*Job)) {
	j.mu.Lock()
	lj := j.live[id]
	if lj == nil {
		j.mu.Unlock()
		return
	}
	before := lj.job.Status
	change(&lj.job)
	lj.job.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	snap := lj.job
	persist := snap.Status != before || snap.Done() || time.Since(lj.persisted) >= jobPersistEvery
	if persist {
		lj.persisted = time.Now()
	}
	for ch := range lj.subs {
		sendLatest(ch, snap)
	}
	if snap.Done() {
		for ch := range lj.subs {
			close(ch)
		}
		lj.subs = nil
	}
	j.mu.Unlock()
	saved := true
	if persist {
		// note: a fresh context, so that the final state is written even
		// when the registry is closing.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := j.save(ctx, &snap); err != nil {
			saved = false
			j.e.log.Error("cannot record job state", "job", id, "err", err)
		}
	}
	if snap.Done() {
		// note: the job leaves the live set only once its final state is
		// recorded, so that Get never reads an older state from the table.
		// When that write fails (a full disk), the job stays in memory,
		// ended, and the write is retried: it used to read "running" until
		// a restart, which then called it interrupted.
		if saved {
			j.mu.Lock()
			delete(j.live, id)
			j.mu.Unlock()
		} else {
			j.wg.Add(1)
			go j.saveFinalLater(id, snap)
		}
		close(lj.done)
	}
}

// jobSaveRetry is how often saveFinalLater tries again.
var jobSaveRetry = 5 * time.Second

// saveFinalLater retries recording an ended job's final state until it is
// written, then lets the job leave the live set; at Close it gives up (the
// next Open marks the job interrupted, as before).
func (j *Jobs) saveFinalLater(id string, snap Job) {
	defer j.wg.Done()
	t := time.NewTicker(jobSaveRetry)
	defer t.Stop()
	for {
		select {
		case <-j.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(j.ctx, 10*time.Second)
		err := j.save(ctx, &snap)
		cancel()
		if err == nil {
			j.mu.Lock()
			delete(j.live, id)
			j.mu.Unlock()
			j.e.log.Info("recorded a job's final state on a later try", "job", id)
			return
		}
	}
}

// sendLatest delivers job to ch without blocking: when the subscriber lags,
// the oldest pending update is dropped to make room for the newest.
func sendLatest(ch chan Job, job Job) {
	for {
		select {
		case ch <- job:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}

// Get returns a job: its live state while it runs, its recorded state
// after. Unknown ids are NotFound.
func (j *Jobs) Get(ctx context.Context, id string) (*Job, error) {
	j.mu.Lock()
	if lj := j.live[id]; lj != nil {
		snap := lj.job
		j.mu.Unlock()
		return &snap, nil
	}
	j.mu.Unlock()
	return j.load(ctx, id)
}

// Subscribe follows a running job. The channel first receives the job's
// current state, then every update, and is closed after the final one.
// stop releases the subscription early. A job that has already ended is a
// Conflict (its state is at GET /api/jobs/{id}); an unknown id NotFound.
func (j *Jobs) Subscribe(ctx context.Context, id string) (updates <-chan Job, stop func(), err error) {
	j.mu.Lock()
	lj := j.live[id]
	if lj == nil || lj.job.Done() {
		j.mu.Unlock()
		job, err := j.Get(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		return nil, nil, Errorf(Conflict, "Job %s has already ended (%s); its final state is at /api/jobs/%s.", id, job.Status, id)
	}
	ch := make(chan Job, jobSubscriberBuffer)
	ch <- lj.job
	lj.subs[ch] = struct{}{}
	j.mu.Unlock()
	stop = func() {
		j.mu.Lock()
		defer j.mu.Unlock()
		if lj.subs == nil {
			return
		}
		if _, ok := lj.subs[ch]; ok {
			delete(lj.subs, ch)
			close(ch)
		}
	}
	return ch, stop, nil
}

// Wait blocks until the job ends or ctx does, and returns its state at
// that moment (a running job when ctx ended first).
func (j *Jobs) Wait(ctx context.Context, id string) (*Job, error) {
	j.mu.Lock()
	lj := j.live[id]
	j.mu.Unlock()
	if lj == nil {
		return j.Get(ctx, id)
	}
	select {
	case <-lj.done:
		// note: done is closed after the last change, so the final state
		// is visible here without the lock.
		snap := lj.job
		return &snap, nil
	case <-ctx.Done():
		return j.Get(context.WithoutCancel(ctx), id)
	}
}

// Running reports how many jobs have not ended.
func (j *Jobs) Running() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.live)
}

// Close stops accepting jobs, cancels the running ones (they end as
// failed) and waits for them until ctx ends.
func (j *Jobs) Close(ctx context.Context) error {
	j.mu.Lock()
	j.closed = true
	n := len(j.live)
	j.mu.Unlock()
	if n > 0 {
		j.e.log.Warn("cancelling running jobs", "jobs", n)
	}
	j.cancel()
	done := make(chan struct{})
	go func() { j.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("jobs still running at shutdown: %w", ctx.Err())
	}
}

// insert records a new job.
func (j *Jobs) insert(ctx context.Context, job *Job) error {
	_, err := j.e.db.ExecContext(ctx, `INSERT INTO meta.jobs (id, kind, status, progress, message, result, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?::JSON, ?, ?)`, job.ID, job.Kind, job.Status, job.Progress, job.Message, string(job.Result), job.CreatedAt, job.UpdatedAt)
	if err != nil {
		return fmt.Errorf("record job: %w", err)
	}
	return nil
}

// jobRecord is what meta.jobs stores in its result column: the result and,
// for a failed job, the error.
type jobRecord struct {
	Result json.RawMessage `json:"result"`
	Error  *JobError       `json:"error,omitempty"`
}

// save writes a job's current state.
func (j *Jobs) save(ctx context.Context, job *Job) error {
	rec, err := json.Marshal(jobRecord{Result: job.Result, Error: job.Error})
	if err != nil {
		return err
	}
	_, err = j.e.db.ExecContext(ctx, `UPDATE meta.jobs SET status = ?, progress = ?, message = ?, result = ?::JSON, updated_at = ?
		WHERE id = ?`, job.Status, job.Progress, job.Message, string(rec), job.UpdatedAt, job.ID)
	return err
}

// load reads a recorded job, or NotFound.
func (j *Jobs) load(ctx context.Context, id string) (*Job, error) {
	var job Job
	var msg, rec sql.NullString
	err := j.e.db.QueryRowContext(ctx, `SELECT id, kind, status, progress, message, result::VARCHAR, created_at, updated_at
		FROM meta.jobs WHERE id = ?`, id).Scan(&job.ID, &job.Kind, &job.Status, &job.Progress, &msg, &rec, &job.CreatedAt, &job.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(NotFound, "There is no job %q.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load job %s: %w", id, err)
	}
	job.Message = msg.String
	job.Result = json.RawMessage("null")
	var r jobRecord
	if rec.Valid && json.Unmarshal([]byte(rec.String), &r) == nil {
		if len(r.Result) > 0 {
			job.Result = r.Result
		}
		job.Error = r.Error
	}
	job.CreatedAt, job.UpdatedAt = job.CreatedAt.UTC(), job.UpdatedAt.UTC()
	return &job, nil
}

// recoverJobs runs at Open: a job still queued or running belongs to a
// process that died.
func recoverJobs(ctx context.Context, e *Engine) error {
	_, err := e.db.ExecContext(ctx, `UPDATE meta.jobs SET status = 'failed',
		message = 'interrupted: the process stopped before the job finished', updated_at = now() AT TIME ZONE 'UTC'
		WHERE status IN ('queued', 'running')`)
	if err != nil {
		return fmt.Errorf("recover jobs: %w", err)
	}
	return nil
}

func init() { openHooks = append(openHooks, recoverJobs) }

// RunStart is the answer to POST /api/datasets/{name}/runs (Contracts).
type RunStart struct {
	RunID  string `json:"run_id"`
	JobID  string `json:"job_id"`
	Status string `json:"status"`
	// Error says why the run failed, when it already has.
	Error *JobError `json:"error,omitempty"`
}

// StartRun validates a run request at once (unknown dataset, refused
// overrides, bad albedo answer here, before any job exists), records the
// run as running, and materializes it as a background job with progress.
// It waits up to wait for the job, so that small inputs answer already
// complete. It follows Process step by step, so the run row exists (and
// GET /api/runs/{id} answers) before the job starts.
func (j *Jobs) StartRun(ctx context.Context, in ProcessInput, wait time.Duration) (*RunStart, error) {
	if in.Out != "" {
		return nil, Errorf(BadRequest, "A background run cannot write an extra output file.")
	}
	// note: the place is held before the run's record is written, which a
	// refused job would leave behind as a failed run.
	p, err := j.hold(JobKindRun)
	if err != nil {
		return nil, err
	}
	defer j.letGo(p)
	prep, err := j.e.prepareRun(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := j.e.insertRun(ctx, prep.run); err != nil {
		return nil, err
	}
	id := prep.run.RunID
	job, err := j.start(ctx, JobKindRun, func(ctx context.Context, report func(float64, string)) (any, error) {
		in.Progress = func(stage string, done float64) { report(done, stage) }
		if err := j.e.materialize(ctx, prep, in); err != nil {
			j.e.failRun(prep.run, err)
			return nil, err
		}
		return j.e.Run(ctx, id)
	}, p)
	if err != nil {
		j.e.failRun(prep.run, err)
		return nil, err
	}
	if wait > 0 {
		wctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		if job, err = j.Wait(wctx, job.ID); err != nil {
			return nil, err
		}
	}
	return &RunStart{RunID: id, JobID: job.ID, Status: job.Status, Error: job.Error}, nil
}
