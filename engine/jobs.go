package engine

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
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

// Job error codes of work that was stopped rather than failed. They only
// appear in a job's error, never as a request's answer.
const (
	// JobCancelled: DELETE /api/jobs/{id}, or the server's shutdown,
	// cancelled the job, and it stopped.
	JobCancelled Code = "cancelled"
	// JobInterrupted: the process stopped before the job ended (it was
	// killed, or the job did not stop within the shutdown's grace).
	JobInterrupted Code = "interrupted"
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
// job is cancelled (Cancel) or the registry closes, reports progress (a
// fraction in [0, 1]) and a short message through report, and returns a
// JSON-encodable result.
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
	job Job
	// ctx is the job's own context, a child of the registry's; cancel
	// ends it with errJobCancelled (Cancel) as its cause.
	ctx       context.Context
	cancel    context.CancelCauseFunc
	subs      map[chan Job]struct{}
	done      chan struct{} // closed when the job ends
	persisted time.Time     // last progress write to meta.jobs
	// seq numbers the job's changes; flushing is set while a throttled
	// change waits for its write (flush).
	seq      uint64
	flushing bool

	// saveMu orders the writes of the job's state; savedSeq is the change
	// last written, so that an older state never overwrites a newer one.
	saveMu   sync.Mutex
	savedSeq uint64
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
	lj.ctx, lj.cancel = context.WithCancelCause(j.ctx)
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
		lj.cancel(nil)
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
		return Errorf(Busy, "%d %s jobs are already running or waiting, as many as this server takes; try again when some have ended (GET /api/jobs lists them; DELETE /api/jobs/{id} cancels one).", n, kind)
	}
	return nil
}

// run executes one job, after waiting for a slot of its kind, and records
// its end. A job whose wait a cancel or the registry's close ends still
// runs fn, on the cancelled context, so that it fails the way it cleans up.
func (j *Jobs) run(lj *liveJob, fn JobFunc) {
	defer j.wg.Done()
	defer lj.cancel(nil)
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
			case <-lj.ctx.Done():
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
	res, err := j.call(lj.ctx, fn, report)
	stopped := j.stopped(lj, err)
	j.update(lj.job.ID, func(job *Job) {
		if stopped != nil {
			job.Status, job.Message, job.Error = JobFailed, stopped.Message, stopped
			return
		}
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
		// note: the last step's message ("artifacts", "writing p_model")
		// read as if the job were still at it.
		job.Status, job.Progress, job.Result, job.Message = JobComplete, 1, b, "complete"
	})
	if err != nil && stopped == nil && ErrorCode(err) == Internal {
		j.e.log.Error("job failed", "job", lj.job.ID, "kind", lj.job.Kind, "err", err)
	}
}

// call runs fn, turning a panic into an Internal error so that one bad job
// cannot take the server down.
func (j *Jobs) call(ctx context.Context, fn JobFunc, report func(float64, string)) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("job panicked: %v", r)
		}
	}()
	return fn(ctx, report)
}

// errJobCancelled is the cause of a job's context that Cancel ended.
var errJobCancelled = errors.New("cancelled by DELETE /api/jobs/{id}")

// stopped is the error of a job that failed with err because it was
// cancelled (by Cancel or by the registry's close), saying which, or nil
// when it was not cancelled.
func (j *Jobs) stopped(lj *liveJob, err error) *JobError {
	if err == nil || lj.ctx.Err() == nil {
		return nil
	}
	msg := "Cancelled: the server shut down before the job finished; start it again once the server is back."
	if errors.Is(context.Cause(lj.ctx), errJobCancelled) {
		msg = fmt.Sprintf("Cancelled by DELETE /api/jobs/%s.", lj.job.ID)
	}
	if ErrorCode(err) != Internal {
		msg += " " + ErrorMessage(err)
	}
	return &JobError{Code: JobCancelled, Message: msg}
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
	lj.seq++
	snap, seq := lj.job, lj.seq
	persist := snap.Status != before || snap.Done() || time.Since(lj.persisted) >= jobPersistEvery
	if persist {
		lj.persisted = time.Now()
	} else if !lj.flushing {
		// note: a throttled change is written a little later all the
		// same; a training reports its folds seconds apart, so its
		// recorded progress stayed at 0 until the next one (and for good
		// when the process was killed meanwhile).
		lj.flushing = true
		time.AfterFunc(jobPersistEvery, func() { j.flush(lj) })
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
		if err := j.persist(lj, &snap, seq); err != nil {
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

// flush writes a live job's latest state when a throttled change left it
// unwritten.
func (j *Jobs) flush(lj *liveJob) {
	j.mu.Lock()
	lj.flushing = false
	if j.live[lj.job.ID] != lj || lj.job.Done() {
		// note: an ended job's final state is written by update.
		j.mu.Unlock()
		return
	}
	snap, seq := lj.job, lj.seq
	lj.persisted = time.Now()
	j.mu.Unlock()
	if err := j.persist(lj, &snap, seq); err != nil {
		j.e.log.Error("cannot record job state", "job", snap.ID, "err", err)
	}
}

// persist writes snap, the job's state after its change seq, unless a
// later change is already written (flush and update write from two
// goroutines).
func (j *Jobs) persist(lj *liveJob, snap *Job, seq uint64) error {
	lj.saveMu.Lock()
	defer lj.saveMu.Unlock()
	if seq <= lj.savedSeq {
		return nil
	}
	// note: a fresh context, so that the final state is written even
	// when the registry is closing.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := j.save(ctx, snap); err != nil {
		return err
	}
	lj.savedSeq = seq
	return nil
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
		return nil, nil, j.endedError(ctx, id, "its final state is at /api/jobs/"+id+".")
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

// endedError is the Conflict for a job that is not live (its recorded
// status, then what follows), or the NotFound of an unknown id.
func (j *Jobs) endedError(ctx context.Context, id, then string) error {
	job, err := j.Get(ctx, id)
	if err != nil {
		return err
	}
	return Errorf(Conflict, "Job %s has already ended (%s); %s", id, job.Status, then)
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

// Cancel cancels a queued or running job: its context ends, and the job
// fails with the error code JobCancelled once its work stops (a training
// between two boosting rounds, a query at once). It waits up to wait for
// that and returns the job's state then, ended or still stopping. A job
// that has already ended is a Conflict; an unknown id NotFound.
func (j *Jobs) Cancel(ctx context.Context, id string, wait time.Duration) (*Job, error) {
	j.mu.Lock()
	lj := j.live[id]
	if lj == nil || lj.job.Done() {
		j.mu.Unlock()
		return nil, j.endedError(ctx, id, "there is nothing to cancel.")
	}
	kind := lj.job.Kind
	j.mu.Unlock()
	lj.cancel(errJobCancelled)
	j.e.log.Info("job cancelled on request", "job", id, "kind", kind)
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	return j.Wait(wctx, id)
}

// MaxJobsList bounds GET /api/jobs?limit=.
const MaxJobsList = 1000

// List returns the jobs that have not ended, newest first, then the most
// recent ended ones, up to limit in all; status, when set, keeps the jobs
// in that status only.
func (j *Jobs) List(ctx context.Context, status string, limit int) ([]Job, error) {
	if status != "" && !slices.Contains([]string{JobQueued, JobRunning, JobComplete, JobFailed}, status) {
		return nil, Errorf(BadRequest, "Unknown job status %q: use queued, running, complete or failed.", status)
	}
	if limit <= 0 || limit > MaxJobsList {
		return nil, Errorf(BadRequest, "The limit must be between 1 and %d, not %d.", MaxJobsList, limit)
	}
	j.mu.Lock()
	out := make([]Job, 0, len(j.live))
	live := make(map[string]bool, len(j.live))
	for id, lj := range j.live {
		live[id] = true
		if status == "" || lj.job.Status == status {
			out = append(out, lj.job)
		}
	}
	j.mu.Unlock()
	slices.SortFunc(out, func(a, b Job) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if len(out) >= limit {
		return out[:limit], nil
	}
	// note: a live job is also in the table (its state there may be
	// older); it is listed once, from memory.
	rows, err := j.e.db.QueryContext(ctx, `SELECT `+jobColumns+` FROM meta.jobs
		WHERE ? = '' OR status = ? ORDER BY created_at DESC, id LIMIT ?`, status, status, limit+len(live))
	if err != nil {
		return nil, j.e.queryError(ctx, err, "list jobs")
	}
	defer rows.Close()
	for rows.Next() && len(out) < limit {
		job, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("list jobs: %w", err)
		}
		if !live[job.ID] {
			out = append(out, *job)
		}
	}
	return out, rows.Err()
}

// Running reports how many jobs have not ended.
func (j *Jobs) Running() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.live)
}

// Close stops accepting jobs, cancels the running ones (they end as
// failed, error code JobCancelled) and waits for them until ctx ends.
// Those still running then are recorded as failed (JobInterrupted), so
// that the jobs table does not call them running until the next start,
// and the error names them.
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
		return j.abandon()
	}
}

// abandon records the jobs that have not ended as interrupted, ends them
// for Get, Wait and their subscribers, and returns an error naming them.
// Their goroutines may still run; their later changes are ignored.
func (j *Jobs) abandon() error {
	const msg = "Interrupted: the server shut down and the job did not stop within the shutdown's grace; start it again once the server is back."
	type left struct {
		lj   *liveJob
		snap Job
		seq  uint64
	}
	var all []left
	j.mu.Lock()
	for id, lj := range j.live {
		if lj.job.Done() {
			continue // note: its final state is being written
		}
		lj.job.Status, lj.job.Message = JobFailed, msg
		lj.job.Error = &JobError{Code: JobInterrupted, Message: msg}
		lj.job.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
		lj.seq++
		for ch := range lj.subs {
			sendLatest(ch, lj.job)
			close(ch)
		}
		lj.subs = nil
		delete(j.live, id)
		close(lj.done)
		all = append(all, left{lj, lj.job, lj.seq})
	}
	j.mu.Unlock()
	if len(all) == 0 {
		return nil
	}
	names := make([]string, len(all))
	for i, l := range all {
		names[i] = fmt.Sprintf("%s (%s)", l.snap.ID, l.snap.Kind)
		if err := j.persist(l.lj, &l.snap, l.seq); err != nil {
			j.e.log.Error("cannot record job state", "job", l.snap.ID, "err", err)
		}
	}
	slices.Sort(names)
	return fmt.Errorf("%d job(s) did not stop within the shutdown grace and were recorded as interrupted: %s", len(all), strings.Join(names, ", "))
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
	job, err := scanJob(j.e.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM meta.jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(NotFound, "There is no job %q.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load job %s: %w", id, err)
	}
	return job, nil
}

// jobColumns are the columns scanJob reads.
const jobColumns = `id, kind, status, progress, message, result::VARCHAR, created_at, updated_at`

// scanJob reads one meta.jobs row of jobColumns.
func scanJob(row interface{ Scan(...any) error }) (*Job, error) {
	var job Job
	var msg, rec sql.NullString
	if err := row.Scan(&job.ID, &job.Kind, &job.Status, &job.Progress, &msg, &rec, &job.CreatedAt, &job.UpdatedAt); err != nil {
		return nil, err
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
// process that died. It fails with an error, as every failed job does,
// and keeps its last recorded progress.
func recoverJobs(ctx context.Context, e *Engine) error {
	const msg = "interrupted: the process stopped before the job finished"
	rec, err := json.Marshal(jobRecord{Result: json.RawMessage("null"), Error: &JobError{Code: JobInterrupted, Message: msg}})
	if err != nil {
		return err
	}
	_, err = e.db.ExecContext(ctx, `UPDATE meta.jobs SET status = 'failed', message = ?, result = ?::JSON,
		updated_at = now() AT TIME ZONE 'UTC'
		WHERE status IN ('queued', 'running')`, msg, string(rec))
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
