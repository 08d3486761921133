package engine

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestJobs_pendingLimit: at most maxPendingJobs of one kind run or wait;
// the next is refused as Busy (429) until one ends, other kinds go on, and
// a refused run leaves no run record.
func TestJobs_pendingLimit(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	j := NewJobs(e)
	ctx := context.Background()
	t.Cleanup(func() { _ = j.Close(ctx) })
	release := make(chan struct{})
	block := func(context.Context, func(float64, string)) (any, error) { <-release; return "done", nil }
	var first string
	for i := range maxPendingJobs {
		job, err := j.Start(ctx, JobKindRun, block)
		if err != nil {
			t.Fatalf("job %d: %v", i+1, err)
		}
		if i == 0 {
			first = job.ID
		}
	}
	if _, err := j.Start(ctx, JobKindRun, block); ErrorCode(err) != Busy || !strings.Contains(ErrorMessage(err), "16 run jobs") {
		t.Errorf("job %d: %v, want Busy", maxPendingJobs+1, err)
	}
	mustKOISmallRun(t, e)
	runs, err := e.Runs(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.StartRun(ctx, ProcessInput{Dataset: "koi"}, 0); ErrorCode(err) != Busy {
		t.Errorf("StartRun at the limit: %v, want Busy", err)
	}
	if after, _ := e.Runs(ctx, ""); len(after) != len(runs) {
		t.Errorf("a refused run left a record: %d runs, were %d", len(after), len(runs))
	}
	if _, err := j.Start(ctx, JobKindTrain, func(context.Context, func(float64, string)) (any, error) { return "ok", nil }); err != nil {
		t.Errorf("another kind at the run limit: %v", err)
	}
	close(release)
	if _, err := j.Wait(ctx, first); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, err := j.Start(ctx, JobKindRun, block); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("after the jobs ended: %v", err)
		}
	}
}

// TestJobs_lastPlace: requests racing for the last place leave no failed
// run behind: a place is held before a run's record is written, so the
// losers are refused before they write one. Before, each passed the room
// check, wrote its record, and all but one then failed at Start.
func TestJobs_lastPlace(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	j := NewJobs(e)
	ctx := context.Background()
	t.Cleanup(func() { _ = j.Close(ctx) })
	mustKOISmallRun(t, e)
	release := make(chan struct{})
	defer close(release)
	block := func(context.Context, func(float64, string)) (any, error) { <-release; return "done", nil }
	for i := range maxPendingJobs - 1 {
		if _, err := j.Start(ctx, JobKindRun, block); err != nil {
			t.Fatalf("job %d: %v", i+1, err)
		}
	}
	before, err := e.Runs(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	// A held place counts: with it, the server is full.
	p, err := j.hold(JobKindRun)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.StartRun(ctx, ProcessInput{Dataset: "koi"}, 0); ErrorCode(err) != Busy {
		t.Errorf("StartRun beside a held place: %v, want Busy", err)
	}
	j.letGo(p)
	j.letGo(p) // a second let-go gives nothing back
	const racers = 8
	errs := make(chan error, racers)
	var wg sync.WaitGroup
	for range racers {
		wg.Go(func() {
			_, err := j.StartRun(ctx, ProcessInput{Dataset: "koi"}, 0)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	started := 0
	for err := range errs {
		switch {
		case err == nil:
			started++
		case ErrorCode(err) != Busy:
			t.Errorf("a racer: %v, want Busy", err)
		}
	}
	if started != 1 {
		t.Errorf("%d racers started a run, want 1 (the last place)", started)
	}
	after, err := e.Runs(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before)+1 {
		t.Errorf("%d runs after the race, want %d: a refused request left a record", len(after), len(before)+1)
	}
	for _, r := range after {
		if r.Status == RunFailed {
			t.Errorf("run %s failed: %s", r.RunID, r.Error)
		}
	}
}

// TestJobs_closedRun: a run asked for while the registry closes is
// refused before its record is written (it was written, then failed).
func TestJobs_closedRun(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	j := NewJobs(e)
	ctx := context.Background()
	mustKOISmallRun(t, e)
	before, err := e.Runs(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := j.StartRun(ctx, ProcessInput{Dataset: "koi"}, 0); ErrorCode(err) != Conflict {
		t.Errorf("StartRun after Close: %v, want Conflict", err)
	}
	if after, _ := e.Runs(ctx, ""); len(after) != len(before) {
		t.Errorf("%d runs after a refused run, want %d", len(after), len(before))
	}
}

// TestJobs_Slots: jobs of one kind beyond jobSlots wait, queued and saying
// so, and start as earlier ones end; every job completes.
func TestJobs_Slots(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	j := NewJobs(e)
	ctx := context.Background()
	t.Cleanup(func() { _ = j.Close(ctx) })
	slots := jobSlots[JobKindTrain]
	started := make(chan struct{}, slots+2)
	release := make(chan struct{})
	var ids []string
	for range slots + 2 {
		job, err := j.Start(ctx, JobKindTrain, func(context.Context, func(float64, string)) (any, error) {
			started <- struct{}{}
			<-release
			return "done", nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, job.ID)
	}
	for range slots {
		select {
		case <-started:
		case <-time.After(time.Minute):
			t.Fatal("the first jobs did not start")
		}
	}
	select {
	case <-started:
		t.Fatalf("a job started beyond the %d slot(s)", slots)
	case <-time.After(300 * time.Millisecond):
	}
	queued := 0
	for _, id := range ids {
		job, err := j.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if job.Status == JobQueued {
			queued++
			if !strings.Contains(job.Message, "waiting") {
				t.Errorf("queued job %s says %q, want why it waits", id, job.Message)
			}
		}
	}
	if queued != 2 {
		t.Errorf("%d jobs queued, want 2", queued)
	}
	close(release)
	for _, id := range ids {
		job, err := j.Wait(ctx, id)
		if err != nil || job.Status != JobComplete {
			t.Errorf("job %s: %+v, %v", id, job, err)
		}
	}
}

// TestJobs_reserveVersion: a model version being trained is refused to a
// second request at once, and free again once the first job ends.
func TestJobs_reserveVersion(t *testing.T) {
	t.Parallel()
	j := NewJobs(MustOpenEngine(t))
	release, err := j.reserveVersion("xgb_planet_vs_fp", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.reserveVersion("xgb_planet_vs_fp", "v1"); ErrorCode(err) != Conflict || !strings.Contains(ErrorMessage(err), "already being trained") {
		t.Errorf("second reservation: %s %v, want a Conflict", ErrorCode(err), err)
	}
	if r, err := j.reserveVersion("xgb_confirmed_vs_fp", "v1"); err != nil {
		t.Errorf("another model's v1: %v", err)
	} else {
		r()
	}
	release()
	if r, err := j.reserveVersion("xgb_planet_vs_fp", "v1"); err != nil {
		t.Errorf("after the release: %v", err)
	} else {
		r()
	}
}

// TestJobs_finalStateNotSaved: when the final state cannot be written (a
// full disk), the ended job reads as ended, not "running", and the write
// is retried until it lands.
func TestJobs_finalStateNotSaved(t *testing.T) {
	e := MustOpenEngine(t)
	j := NewJobs(e)
	ctx := context.Background()
	t.Cleanup(func() { _ = j.Close(ctx) })
	old := jobSaveRetry
	jobSaveRetry = 20 * time.Millisecond
	t.Cleanup(func() { jobSaveRetry = old })
	release := make(chan struct{})
	job, err := j.Start(ctx, JobKindTrain, func(context.Context, func(float64, string)) (any, error) {
		<-release
		return "done", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// note: with meta.jobs renamed away every write of the job fails, as
	// on a full disk.
	if _, err := e.db.ExecContext(ctx, `ALTER TABLE meta.jobs RENAME TO jobs_away`); err != nil {
		t.Fatal(err)
	}
	close(release)
	got, err := j.Wait(ctx, job.ID)
	if err != nil || got.Status != JobComplete {
		t.Fatalf("Wait = %+v, %v", got, err)
	}
	time.Sleep(100 * time.Millisecond)
	if got, err := j.Get(ctx, job.ID); err != nil || got.Status != JobComplete {
		t.Errorf("Get while its state cannot be written = %+v, %v; want complete", got, err)
	}
	if _, err := e.db.ExecContext(ctx, `ALTER TABLE meta.jobs_away RENAME TO jobs`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var status string
		err := e.db.QueryRowContext(ctx, `SELECT status FROM meta.jobs WHERE id = ?`, job.ID).Scan(&status)
		if err == nil && status == JobComplete {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("meta.jobs says %q (%v) 10 s after the table came back; want complete", status, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitCancelled is a job that reports progress 0.4 and then works until
// its context ends, failing as the engine's work does when cancelled.
func waitCancelled(ctx context.Context, report func(float64, string)) (any, error) {
	report(0.4, "working")
	<-ctx.Done()
	return nil, Wrap(Timeout, ctx.Err(), "The work was cancelled before it finished.")
}

// TestJobs_Cancel: a running job and a queued one are cancelled on
// request (DELETE /api/jobs/{id}): each fails with the code cancelled
// and says who cancelled it, the running one keeps its progress; an ended
// job is a Conflict and an unknown one NotFound.
func TestJobs_Cancel(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	j := NewJobs(e)
	ctx := context.Background()
	t.Cleanup(func() { _ = j.Close(ctx) })
	running, err := j.Start(ctx, JobKindTrain, waitCancelled)
	if err != nil {
		t.Fatal(err)
	}
	// note: training takes one slot, so this one waits, queued.
	queued, err := j.Start(ctx, JobKindTrain, waitCancelled)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{queued.ID, running.ID} {
		job, err := j.Cancel(ctx, id, time.Minute)
		if err != nil {
			t.Fatalf("Cancel %s: %v", id, err)
		}
		want := "Cancelled by DELETE /api/jobs/" + id + ". The work was cancelled before it finished."
		if job.Status != JobFailed || job.Error == nil || job.Error.Code != JobCancelled || job.Error.Message != want || job.Message != want {
			t.Errorf("cancelled job %s: %+v (error %+v), want failed, code cancelled, %q", id, job, job.Error, want)
		}
		if rec, err := j.load(ctx, id); err != nil || rec.Status != JobFailed || rec.Error == nil || rec.Error.Code != JobCancelled {
			t.Errorf("recorded job %s: %+v, %v", id, rec, err)
		}
	}
	if job, _ := j.Get(ctx, running.ID); job.Progress != 0.4 {
		t.Errorf("the cancelled job's progress: %v, want the last reported 0.4", job.Progress)
	}
	if _, err := j.Cancel(ctx, running.ID, time.Minute); ErrorCode(err) != Conflict || !strings.Contains(ErrorMessage(err), "has already ended (failed)") {
		t.Errorf("Cancel of an ended job: %v, want Conflict", err)
	}
	if _, err := j.Cancel(ctx, "job-nope", time.Minute); ErrorCode(err) != NotFound {
		t.Errorf("Cancel of an unknown job: %v, want NotFound", err)
	}
}

// TestJobs_List: jobs that have not ended come first, newest first, then
// the recorded ones; status filters, limit bounds, a bad status is a 400.
func TestJobs_List(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	j := NewJobs(e)
	ctx := context.Background()
	t.Cleanup(func() { _ = j.Close(ctx) })
	var ended []string
	for range 2 {
		job, err := j.Start(ctx, JobKindSnapshot, func(context.Context, func(float64, string)) (any, error) { return "ok", nil })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := j.Wait(ctx, job.ID); err != nil {
			t.Fatal(err)
		}
		ended = append(ended, job.ID)
	}
	running, err := j.Start(ctx, JobKindTrain, waitCancelled)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(list []Job) []string {
		var out []string
		for _, job := range list {
			out = append(out, job.ID)
		}
		return out
	}
	list, err := j.List(ctx, "", 100)
	if want := []string{running.ID, ended[1], ended[0]}; err != nil || !slices.Equal(ids(list), want) {
		t.Errorf("List = %v, %v; want %v", ids(list), err, want)
	}
	if list, err := j.List(ctx, JobComplete, 1); err != nil || !slices.Equal(ids(list), []string{ended[1]}) {
		t.Errorf("List(complete, 1) = %v, %v; want the newest complete job", ids(list), err)
	}
	if list, err := j.List(ctx, JobFailed, 100); err != nil || len(list) != 0 {
		t.Errorf("List(failed) = %v, %v; want none", ids(list), err)
	}
	if _, err := j.List(ctx, "done", 100); ErrorCode(err) != BadRequest {
		t.Errorf("List(done): %v, want BadRequest", err)
	}
}

// TestJobs_CloseGrace: at shutdown a job that stops when cancelled fails
// with the code cancelled, saying the server shut down; one that does not
// stop within the grace is recorded as failed (interrupted) with its last
// progress, Close names it, and its late end changes nothing. Before,
// Close only said "jobs still running at shutdown" and meta.jobs kept
// "running" until the next start.
func TestJobs_CloseGrace(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	j := NewJobs(e)
	ctx := context.Background()
	politeStarted, stubbornStarted, release := make(chan struct{}), make(chan struct{}), make(chan struct{})
	polite, err := j.Start(ctx, JobKindRun, func(ctx context.Context, report func(float64, string)) (any, error) {
		close(politeStarted)
		return waitCancelled(ctx, report)
	})
	if err != nil {
		t.Fatal(err)
	}
	stubborn, err := j.Start(ctx, JobKindTrain, func(_ context.Context, report func(float64, string)) (any, error) {
		report(0.3, "ignoring the context")
		close(stubbornStarted)
		<-release
		return "late", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	<-politeStarted
	<-stubbornStarted
	// note: the grace ends once the polite job has ended, the stubborn
	// one still running.
	grace, endGrace := context.WithCancel(ctx)
	closed := make(chan error, 1)
	go func() { closed <- j.Close(grace) }()
	job, err := j.Wait(ctx, polite.ID)
	if err != nil || job.Error == nil || job.Error.Code != JobCancelled ||
		!strings.HasPrefix(job.Error.Message, "Cancelled: the server shut down before the job finished") {
		t.Errorf("the job that stopped: %+v (error %+v), %v; want code cancelled, the server shut down", job, job.Error, err)
	}
	endGrace()
	err = <-closed
	if err == nil || !strings.Contains(err.Error(), "1 job(s) did not stop within the shutdown grace and were recorded as interrupted: "+stubborn.ID+" (train)") {
		t.Errorf("Close = %v, want the job that did not stop named", err)
	}
	check := func(when string) {
		t.Helper()
		rec, err := j.load(ctx, stubborn.ID)
		if err != nil || rec.Status != JobFailed || rec.Error == nil || rec.Error.Code != JobInterrupted || rec.Progress != 0.3 {
			t.Errorf("%s: the job that did not stop is recorded as %+v (error %+v), %v; want failed, interrupted, progress 0.3", when, rec, rec.Error, err)
		}
	}
	check("after Close")
	if got, err := j.Get(ctx, stubborn.ID); err != nil || got.Status != JobFailed {
		t.Errorf("Get after Close: %+v, %v", got, err)
	}
	close(release)
	j.wg.Wait()
	check("after its late end")
}

// TestJobs_progressRecorded: a change that the write throttle skipped is
// recorded shortly after all the same, so the table (what a restart and
// an interrupted job show) does not keep an older progress while the job
// works on. Before, it stayed at 0 until the next report.
func TestJobs_progressRecorded(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	j := NewJobs(e)
	ctx := context.Background()
	t.Cleanup(func() { _ = j.Close(ctx) })
	job, err := j.Start(ctx, JobKindTrain, func(ctx context.Context, report func(float64, string)) (any, error) {
		report(0.1, "fold 1 of 5")
		report(0.5, "fold 3 of 5")
		<-ctx.Done()
		return nil, ctx.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		rec, err := j.load(ctx, job.ID)
		if err == nil && rec.Progress == 0.5 && rec.Message == "fold 3 of 5" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("meta.jobs still says %+v (%v), want progress 0.5", rec, err)
		}
	}
}

// TestJobs_completeMessage: a completed job says so, not its last step.
func TestJobs_completeMessage(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	j := NewJobs(e)
	ctx := context.Background()
	t.Cleanup(func() { _ = j.Close(ctx) })
	job, err := j.Start(ctx, JobKindScore, func(_ context.Context, report func(float64, string)) (any, error) {
		report(0.9, "writing p_model")
		return "ok", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := j.Wait(ctx, job.ID); err != nil || got.Status != JobComplete || got.Message != "complete" {
		t.Errorf("Wait = %+v, %v; want complete, saying so", got, err)
	}
	if rec, err := j.load(ctx, job.ID); err != nil || rec.Message != "complete" {
		t.Errorf("recorded: %+v, %v", rec, err)
	}
}

// TestJobs_recoverInterrupted: a job a dead process left running fails at
// the next Open with an error, as every failed job does, and keeps its
// progress. Before, it had no error at all.
func TestJobs_recoverInterrupted(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	j := NewJobs(e)
	ctx := context.Background()
	now := time.Now().UTC()
	left := Job{ID: "job-left", Kind: JobKindTrain, Status: JobRunning, Progress: 0.3, Message: "fold 2 of 5", Result: json.RawMessage("null"), CreatedAt: now, UpdatedAt: now}
	if err := j.insert(ctx, &left); err != nil {
		t.Fatal(err)
	}
	if err := recoverJobs(ctx, e); err != nil {
		t.Fatal(err)
	}
	rec, err := j.load(ctx, left.ID)
	if err != nil || rec.Status != JobFailed || rec.Progress != 0.3 || rec.Error == nil || rec.Error.Code != JobInterrupted ||
		rec.Error.Message != rec.Message || !strings.HasPrefix(rec.Message, "interrupted") {
		t.Errorf("recovered job: %+v (error %+v), %v", rec, rec.Error, err)
	}
}
