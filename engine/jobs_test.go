package engine

import (
	"context"
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
