package reliability

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The storage tests put the data dir on a filesystem they control: a
// small tmpfs that they fill (disk full), and a bind mount they remount
// read-only while the server runs. Both need mount(8) and CAP_SYS_ADMIN
// (root on a plain Debian machine or CI runner). Where the capability is
// missing (a rootless container), the tests skip and say so loudly;
// EXOHUNTER_TEST_REQUIRE_MOUNT=1 turns that skip into a failure. Where the
// capability exists and mount still fails, they fail.
//
// A full disk or read-only data dir is the server's condition, not the
// request's: the API answers 507 Insufficient Storage with a sentence
// (engine.Storage), a run fails with that sentence, and nothing already
// stored is lost.

// requireMountEnv turns a missing mount capability into a failure.
const requireMountEnv = "EXOHUNTER_TEST_REQUIRE_MOUNT"

// capSysAdmin reports whether this process has CAP_SYS_ADMIN (bit 21 of
// CapEff in /proc/self/status).
func capSysAdmin() bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && caps&(1<<21) != 0
		}
	}
	return false
}

// mustMount runs mount(8) with args, or skips/fails as described above.
func mustMount(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("mount", args...).CombinedOutput()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("mount %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	switch {
	case capSysAdmin():
		t.Fatalf("%s (this process has CAP_SYS_ADMIN, so mounting must work here)", msg)
	case os.Getenv(requireMountEnv) == "1":
		t.Fatalf("%s (%s=1)", msg, requireMountEnv)
	default:
		t.Skipf("NOT TESTED: %s. This test needs CAP_SYS_ADMIN (root on a plain machine); set %s=1 to make this a failure.", msg, requireMountEnv)
	}
}

// umount unmounts dir (lazily, so that a test failing with open files
// does not leave the mount behind).
func umount(t *testing.T, dir string) {
	if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
		t.Errorf("umount %s: %v %s", dir, err, out)
	}
}

// smallDiskEnv mounts a 48 MiB tmpfs (removed after the test) and makes
// an env whose data dir and feature store are on it.
func smallDiskEnv(t *testing.T) (*env, string) {
	t.Helper()
	mnt := filepath.Join(testDir(t), "mnt")
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	mustMount(t, "-t", "tmpfs", "-o", "size=48m", "tmpfs", mnt)
	t.Cleanup(func() { umount(t, mnt) })
	e := newEnv(t, func(o *Options) {
		o.DataDir, o.FeatureStore = filepath.Join(mnt, "data"), filepath.Join(mnt, "fs")
	})
	return e, mnt
}

// fillDisk writes a file under dir until the filesystem is full, and
// returns its path. Called again, it fills up what was freed since.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, size := range []int{1 << 20, 4 << 10, 512} {
		chunk := make([]byte, size)
		for {
			if _, err := f.Write(chunk); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				break
			}
		}
	}
	return p
}

// storageEnv seeds a data dir with the CLI (the small table, processed,
// and feature set v0), starts a server and posts some labels. It returns
// the acknowledged labels and the read answers that must not change.
func storageEnv(t *testing.T, e *env) ([]Label, snapshotState) {
	t.Helper()
	f, err := theFixture()
	if err != nil {
		t.Fatal(err)
	}
	e.cli("ingest", f.smallFile, "--name", "small")
	out := e.cli("process", "small")
	run := jsonField(t, out, "run_id")
	e.cli("features", "build", "--version", "v0", "--run", run)
	e.start()
	acked := postLabels(t, e.c, "seed", 20, 0)
	before := readState(t, e.c, append(stateOf("small", run), "/api/features/v0?page_size=20", "/api/runs/"+run)...)
	return acked, before
}

// jsonField reads one string field of a JSON object.
func jsonField(t *testing.T, s, field string) string {
	t.Helper()
	var m map[string]any
	r := &Response{Status: 200, Body: []byte(s)}
	if err := r.Decode(&m); err != nil {
		t.Fatal(err)
	}
	v, _ := m[field].(string)
	if v == "" {
		t.Fatalf("no %s in %s", field, s)
	}
	return v
}

// postLabels posts n labels on the small table's objects, stopping at the
// first refusal when stopOnError; it returns the acknowledged ones.
func postLabels(t *testing.T, c *Client, annotator string, n int, noteBytes int) []Label {
	t.Helper()
	var acked []Label
	for i := range n {
		l, res := postLabel(t, c, annotator, i, noteBytes)
		if l == nil {
			t.Fatalf("label %d: %s", i, res)
		}
		acked = append(acked, *l)
	}
	return acked
}

// postLabel posts one label; it returns the label when acknowledged.
func postLabel(t *testing.T, c *Client, annotator string, i, noteBytes int) (*Label, *Response) {
	t.Helper()
	labels := []string{"candidate", "CONFIRMED", "FALSE POSITIVE", "rocky_candidate"}
	body := map[string]string{"object_id": fmt.Sprintf("K2%08d.01", i%smallRows), "dataset": "small",
		"label": labels[i%len(labels)], "annotator": annotator, "note": fmt.Sprintf("%s %d %s", annotator, i, strings.Repeat("n", noteBytes))}
	res, err := c.Post(ctxFor(t, time.Minute), "/api/labels", body)
	if err != nil {
		t.Fatalf("POST /api/labels: %v", err)
	}
	if res.Status/100 != 2 {
		return nil, res
	}
	var l Label
	if err := res.Decode(&l); err != nil {
		t.Fatal(err)
	}
	return &l, res
}

// assertLabels checks that every acknowledged label is stored unchanged,
// and that no label was stored that was not acknowledged (a refused write
// leaves nothing).
func assertLabels(t *testing.T, c *Client, acked []Label) {
	t.Helper()
	all, err := c.Labels(ctxFor(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int64]Label{}
	for _, l := range all {
		stored[l.ID] = l
	}
	if len(all) != len(acked) {
		t.Errorf("%d labels stored, %d acknowledged", len(all), len(acked))
	}
	lost := 0
	for _, a := range acked {
		if got, ok := stored[a.ID]; !ok || got != a {
			lost++
			if lost <= 3 {
				t.Errorf("acknowledged label %+v: stored %+v (%v)", a, got, ok)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged labels lost", lost, len(acked))
	}
}

// wantStorage checks a 507 answer whose sentence says about.
func wantStorage(t *testing.T, what string, res *Response, err error, about string) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if res.Status != 507 || res.ErrorCode() != "insufficient_storage" || !strings.Contains(res.ErrorMessage(), about) {
		t.Errorf("%s: %s, want 507 insufficient_storage saying %q", what, res, about)
		return
	}
	t.Logf("%s: %d %s", what, res.Status, res.ErrorMessage())
}

// wantRunRefused starts a run of dataset on a bad disk: it is refused
// with 507 at once (its record cannot be written), or it fails with a
// sentence saying about. It returns the id of a run that wrongly stayed
// "running" (an error is reported), or "".
func wantRunRefused(t *testing.T, c *Client, dataset, about string) string {
	t.Helper()
	ctx := ctxFor(t, 5*time.Minute)
	res, err := c.Post(ctx, "/api/datasets/"+dataset+"/runs", "{}")
	if err != nil {
		t.Fatal(err)
	}
	if res.Status == 507 {
		wantStorage(t, "run", res, nil, about)
		t.Logf("run refused at once: %s", res.ErrorMessage())
		return ""
	}
	var run Run
	if err := res.Decode(&run); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	done, err := c.WaitRun(wctx, run.RunID)
	if err != nil && done != nil && done.Status == "running" {
		// The run's record was written (the WAL had room) but its failure
		// cannot be while the disk is full: the engine must still answer it
		// failed (engine/runs.go withUnrecorded), not running until a restart.
		t.Errorf("run %s still answers running %v after its write failed on the full disk", run.RunID, 45*time.Second)
		return run.RunID
	}
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != "failed" || !strings.Contains(string(done.Error), about) {
		t.Errorf("run: %+v, want 507 or a failed run saying %q", done, about)
	}
	t.Logf("run failed: %s", done.Error)
	return ""
}

// assertNoStorageLeftovers checks that failed writes left no partial files.
func assertNoStorageLeftovers(t *testing.T, e *env) {
	t.Helper()
	for _, p := range []string{"raw/.incoming/*", "runs/*.tmp", "outputs/*.tmp"} {
		if left := glob(t, e.opts.DataDir, p); len(left) > 0 {
			t.Errorf("partial files left: %v", left)
		}
	}
	if left := glob(t, e.opts.FeatureStore, ".build-*"); len(left) > 0 {
		t.Errorf("build folders left: %v", left)
	}
}

// knownSizeFull is the 507 of an upload whose size was known.
var knownSizeFull = regexp.MustCompile(`needs [0-9.]+ MiB of disk space and the data dir's disk has [0-9.]+ (B|KiB|MiB) free`)

// filledAfter is the 507 of a streamed upload that filled 2.5 MiB.
var filledAfter = regexp.MustCompile(`the disk filled after 2(\.[0-9]+)? MiB of it had been written`)

// TestStorage_DiskFull fills the tmpfs that holds the data dir and the
// feature store while the server runs, then tries every kind of write: an
// upload, a run, a feature build, labels, and reads and exports. Each
// write is refused with 507 and a sentence (a run fails with it), nothing
// is left half-written, reads answer as before; once space is freed the
// same writes succeed without a restart, and after a SIGKILL and restart
// every acknowledged label and all earlier data are there.
func TestStorage_DiskFull(t *testing.T) {
	t.Parallel()
	e, mnt := smallDiskEnv(t)
	acked, before := storageEnv(t, e)
	upload := []byte(KOIString(20_000, 5))
	filler := fillDisk(t, mnt)
	ctx := ctxFor(t, 5*time.Minute)

	res, err := e.c.Upload(ctx, "late", "koi_late.csv", bytes.NewReader(upload))
	wantStorage(t, "upload on a full disk", res, err, "disk space")
	// note: with a Content-Length the upload is refused before it is
	// read, and the answer says how much it needs and how much is free.
	body, ct := MultipartStream("late", "koi_late.csv", bytes.NewReader(upload))
	whole, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	res, err = e.c.Do(ctx, "POST", "/api/datasets", bytes.NewReader(whole), map[string]string{"Content-Type": ct})
	wantStorage(t, "upload of a known size on a full disk", res, err, `"koi_late.csv" needs `)
	if res != nil && !knownSizeFull.MatchString(res.ErrorMessage()) {
		t.Errorf("upload of a known size on a full disk: %q does not give both sizes", res.ErrorMessage())
	}
	// With 2.5 MiB free the streamed upload stops after 2 to 2.5 MiB,
	// and the answer says how much had been written.
	if fi, err := os.Stat(filler); err != nil || os.Truncate(filler, fi.Size()-5<<19) != nil {
		t.Fatalf("free 2.5 MiB: %v", err)
	}
	res, err = e.c.Upload(ctx, "late", "koi_late.csv", bytes.NewReader(upload))
	wantStorage(t, "upload that fills the disk", res, err, "the disk filled after ")
	if res != nil && !filledAfter.MatchString(res.ErrorMessage()) {
		t.Errorf("upload that fills the disk: %q does not say that 2 to 2.5 MiB were written", res.ErrorMessage())
	}
	fillDisk(t, mnt)

	stuck := wantRunRefused(t, e.c, "small", "disk is full")

	res, err = e.c.Post(ctx, "/api/features", `{"version":"v1","dataset":"small"}`)
	wantStorage(t, "feature build on a full disk", res, err, "disk is full")

	// note: tmpfs may still have room in the pages already given to the
	// WAL, so the first labels can be stored; acknowledged ones must stay.
	refused := false
	for i := range 500 {
		l, res := postLabel(t, e.c, "full", i, 1000)
		if l != nil {
			acked = append(acked, *l)
			continue
		}
		wantStorage(t, "label on a full disk", res, nil, "disk is full")
		refused = true
		break
	}
	if !refused {
		t.Errorf("500 labels of 1 KB acknowledged on a full disk")
	}
	assertReadsOnBadDisk(t, e, before)
	assertNoStorageLeftovers(t, e)
	list, err := e.c.Datasets(ctx)
	if err != nil || len(list) != 1 {
		t.Errorf("datasets on a full disk: %+v %v, want only small", list, err)
	}

	// Space comes back: the same writes succeed without a restart.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	acked = append(acked, postLabels(t, e.c, "freed", 10, 0)...)
	res, err = e.c.Upload(ctx, "late", "koi_late.csv", bytes.NewReader(upload))
	if err != nil || res.Status != 201 {
		t.Errorf("upload after freeing space: %v %v", res, err)
	}
	run, err := e.c.StartRun(ctx, "small")
	if err != nil {
		t.Fatal(err)
	}
	if done, err := e.c.WaitRun(ctx, run.RunID); err != nil || done.Status != "complete" || done.Rows != smallRows {
		t.Errorf("run after freeing space: %+v %v", done, err)
	}

	e.kill()
	e.start()
	assertLabels(t, e.c, acked)
	assertSameState(t, e.c, before)
	assertNoStorageLeftovers(t, e)
	if stuck != "" {
		if r, res, err := e.c.Run(ctx, stuck); err != nil || r == nil || r.Status != "failed" {
			t.Errorf("the run left running on the full disk, after the restart: %+v %v %v, want failed", r, res, err)
		}
	}
}

// assertReadsOnBadDisk checks that reads, the console and a CSV export
// still work (or, for the export, refuse with 507) and answer as before.
func assertReadsOnBadDisk(t *testing.T, e *env, before snapshotState) {
	t.Helper()
	assertSameState(t, e.c, before)
	ctx := ctxFor(t, 2*time.Minute)
	if _, res, err := e.c.Query(ctx, "SELECT count(*) FROM runs.results"); err != nil || res.Status != 200 {
		t.Errorf("console query: %v %v", res, err)
	}
	var run string
	for p := range before {
		if r, ok := strings.CutPrefix(p, "/api/runs/"); ok && !strings.Contains(r, "/") {
			run = r
		}
	}
	res, err := e.c.Get(ctx, "/api/runs/"+run+"/export?format=csv")
	if err == nil {
		t.Logf("CSV export of the existing run: %d %s", res.Status, res.ErrorMessage())
	}
	switch {
	case err != nil:
		t.Errorf("export: %v", err)
	case res.Status == 200:
		if n := bytes.Count(res.Body, []byte("\n")); n != smallRows+1 {
			t.Errorf("export: %d lines, want %d", n, smallRows+1)
		}
	case res.Status != 507 || res.ErrorCode() != "insufficient_storage":
		t.Errorf("export: %s, want 200 or 507", res)
	}
}

// TestStorage_ReadOnly remounts the data dir and the feature store
// read-only while the server runs (a bind mount of the test's folder onto
// itself, remounted ro; files the server already holds open stay
// writable, as after an operator's remount). Uploads, runs and feature
// builds are refused with 507 and a sentence; reads answer as before.
// Made writable again, the same writes succeed, and after a SIGKILL and
// restart nothing is lost.
func TestStorage_ReadOnly(t *testing.T) {
	t.Parallel()
	dir := testDir(t)
	rw := filepath.Join(dir, "rw")
	if err := os.MkdirAll(rw, 0o755); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *Options) {
		o.DataDir, o.FeatureStore = filepath.Join(rw, "data"), filepath.Join(rw, "fs")
	})
	acked, before := storageEnv(t, e)
	mustMount(t, "--bind", rw, rw)
	mounted := true
	t.Cleanup(func() {
		if mounted {
			umount(t, rw)
		}
	})
	mustMount(t, "-o", "remount,bind,ro", rw, rw)
	if err := os.WriteFile(filepath.Join(e.opts.DataDir, "probe"), nil, 0o644); !errors.Is(err, syscall.EROFS) {
		t.Fatalf("the remount did not make the data dir read-only: %v", err)
	}
	ctx := ctxFor(t, 5*time.Minute)
	upload := []byte(KOIString(2000, 6))

	res, err := e.c.Upload(ctx, "late", "koi_late.csv", bytes.NewReader(upload))
	wantStorage(t, "upload to a read-only data dir", res, err, "read-only")
	if stuck := wantRunRefused(t, e.c, "small", "read-only"); stuck != "" {
		t.Errorf("a run on a read-only data dir stayed running")
	}
	res, err = e.c.Post(ctx, "/api/features", `{"version":"v1","dataset":"small"}`)
	wantStorage(t, "feature build on a read-only feature store", res, err, "feature store")
	// note: the database file and its WAL were open before the remount,
	// so labels may still be stored; acknowledged ones must stay.
	for i := range 5 {
		if l, res := postLabel(t, e.c, "ro", i, 0); l != nil {
			acked = append(acked, *l)
		} else {
			wantStorage(t, "label on a read-only data dir", res, nil, "read-only")
		}
	}
	assertReadsOnBadDisk(t, e, before)
	assertNoStorageLeftovers(t, e)

	umount(t, rw)
	mounted = false
	acked = append(acked, postLabels(t, e.c, "rw", 5, 0)...)
	res, err = e.c.Upload(ctx, "late", "koi_late.csv", bytes.NewReader(upload))
	if err != nil || res.Status != 201 {
		t.Errorf("upload once writable: %v %v", res, err)
	}
	run, err := e.c.StartRun(ctx, "small")
	if err != nil {
		t.Fatal(err)
	}
	if done, err := e.c.WaitRun(ctx, run.RunID); err != nil || done.Status != "complete" {
		t.Errorf("run once writable: %+v %v", done, err)
	}
	e.kill()
	e.start()
	assertLabels(t, e.c, acked)
	assertSameState(t, e.c, before)
}

// TestStorage_ReadOnlyAtStart starts the server on a data dir that is
// read-only from the start: it exits at once, non-zero, with a sentence
// that says so on stderr.
func TestStorage_ReadOnlyAtStart(t *testing.T) {
	t.Parallel()
	dir := testDir(t)
	rw := filepath.Join(dir, "rw")
	e := newEnv(t, func(o *Options) {
		o.DataDir, o.FeatureStore = filepath.Join(rw, "data"), filepath.Join(rw, "fs")
	})
	f, err := theFixture()
	if err != nil {
		t.Fatal(err)
	}
	e.cli("ingest", f.smallFile, "--name", "small")
	mustMount(t, "--bind", rw, rw)
	t.Cleanup(func() { umount(t, rw) })
	mustMount(t, "-o", "remount,bind,ro", rw, rw)
	e.opts.StartTimeout = 2 * time.Minute
	s, err := Start(e.opts)
	if err == nil {
		s.Kill()
		t.Fatal("serve started on a read-only data dir")
	}
	t.Logf("%v", err)
	// note: the engine cannot tell a read-only mount from missing
	// permissions when DuckDB opens the file; it names the file and the
	// data dir.
	if !strings.Contains(err.Error(), "exohunter.duckdb for writing") || !strings.Contains(err.Error(), "data dir") {
		t.Errorf("serve on a read-only data dir: want a sentence naming the database file and the data dir, got %v", err)
	}
}

// TestStorage_DeleteOnFullDisk: deleting a dataset is how a user frees
// space from the dashboard, so it must work when the disk is completely
// full, the first time (engine/reserve.go); afterwards an upload fits
// again and the other dataset, its run and labels are intact, also after
// a restart.
func TestStorage_DeleteOnFullDisk(t *testing.T) {
	t.Parallel()
	e, mnt := smallDiskEnv(t)
	dir := testDir(t)
	spare := filepath.Join(dir, "spare.csv")
	if err := os.WriteFile(spare, []byte(KOIString(20_000, 7)), 0o644); err != nil {
		t.Fatal(err)
	}
	e.cli("ingest", spare, "--name", "spare")
	e.cli("process", "spare")
	acked, before := storageEnv(t, e)
	filler := fillDisk(t, mnt)
	defer os.Remove(filler)
	ctx := ctxFor(t, 5*time.Minute)
	// note: labels until one is refused, so that the WAL's last pages
	// (tmpfs gives them out a page at a time) have no room left either.
	for i := range 500 {
		l, res := postLabel(t, e.c, "full", i, 1000)
		if l == nil {
			wantStorage(t, "label on a full disk", res, nil, "disk is full")
			break
		}
		acked = append(acked, *l)
	}

	res, err := e.c.Do(ctx, "DELETE", "/api/datasets/spare", nil, nil)
	if err != nil || res.Status/100 != 2 {
		t.Fatalf("delete on a full disk: %v %v, want 2xx", res, err)
	}
	if list, err := e.c.Datasets(ctx); err != nil || len(list) != 1 || list[0].Name != "small" {
		t.Errorf("datasets after the delete: %+v %v, want only small", list, err)
	}
	if fi, err := os.Stat(filepath.Join(mnt, "data", ".reserve")); err != nil || fi.Size() < 1<<20 {
		t.Errorf("the disk reserve was not taken again after the delete freed space: %v", err)
	}
	res, err = e.c.Upload(ctx, "late", "koi_late.csv", bytes.NewReader([]byte(KOIString(2_000, 5))))
	if err != nil || res.Status != 201 {
		t.Errorf("upload after the delete freed space: %v %v", res, err)
	}
	// The disk fills again: the reserve taken back lets a second delete
	// free space too.
	fillDisk(t, mnt)
	for i := range 500 {
		if l, _ := postLabel(t, e.c, "full-again", i, 1000); l == nil {
			break
		} else {
			acked = append(acked, *l)
		}
	}
	if res, err := e.c.Do(ctx, "DELETE", "/api/datasets/late", nil, nil); err != nil || res.Status/100 != 2 {
		t.Errorf("second delete on a full disk: %v %v, want 2xx", res, err)
	}
	e.kill()
	e.start()
	assertLabels(t, e.c, acked)
	assertSameState(t, e.c, before)
}
