package engine

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"
)

// JobKindSnapshot is a snapshot written by Jobs.StartSnapshot.
const JobKindSnapshot = "snapshot"

// snapshotsWriting holds the destination paths of snapshot jobs in
// flight, so that two jobs never write the same name.
var snapshotsWriting sync.Map

// StartSnapshot writes DATA/snapshots/<name>.duckdb as a background job
// (POST /api/snapshots) and returns the queued job; its progress names the
// table being copied, and its result is the SnapshotResult with Path
// relative to the data dir. An empty name becomes snapshot-<UTC time>. A
// bad name is a BadRequest, an existing one a Conflict, both before any job
// starts.
func (j *Jobs) StartSnapshot(ctx context.Context, name string, opts SnapshotOptions) (*Job, error) {
	if name == "" {
		name = "snapshot-" + time.Now().UTC().Format("20060102T150405Z")
	}
	dst, err := j.e.SnapshotPath(name)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(dst); err == nil {
		return nil, Errorf(Conflict, "A snapshot named %q already exists; choose another name.", name)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	// note: run ids are checked now, so that a typo is a 404 at once
	// rather than a failed job found later.
	for _, id := range opts.Runs {
		if id != SnapshotLatestRuns && id != SnapshotAllRuns {
			if _, err := j.e.completeRun(ctx, id); err != nil {
				return nil, err
			}
		}
	}
	if _, busy := snapshotsWriting.LoadOrStore(dst, true); busy {
		return nil, Errorf(Conflict, "A snapshot named %q is being written; choose another name.", name)
	}
	job, err := j.Start(ctx, JobKindSnapshot, func(ctx context.Context, report func(float64, string)) (any, error) {
		defer snapshotsWriting.Delete(dst)
		opts.Progress = report
		res, err := j.e.Snapshot(ctx, dst, opts)
		if err != nil {
			return nil, err
		}
		res.Path = j.e.rel(res.Path)
		return res, nil
	})
	if err != nil {
		snapshotsWriting.Delete(dst)
	}
	return job, err
}
