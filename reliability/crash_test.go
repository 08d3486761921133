package reliability

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Kill during labels: cli_labels_test.go (TestLabels_SIGKILL, the labels
// owner's) kills a real server while 8 writers post labels and checks
// every acknowledged one after the restart; the soak (cmd/soak) checks
// every acknowledged label at its end. It is not repeated here.

// errKilled ends a client stream whose server was killed on purpose.
var errKilled = errors.New("server killed by the test")

// TestCrash_Upload kills the server (SIGKILL) at three points of a
// streamed multipart upload: in the middle of the byte stream, right
// after the last byte (the server is scanning, sniffing or registering),
// and right after the 201. After each restart: no half-registered dataset
// (listed and usable, or absent with no files left), no partial file in
// DATA/raw/.incoming, the existing data answers as before, and the same
// upload then succeeds.
func TestCrash_Upload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.useFixture()
	e.start()
	before := readState(t, e.c, stateOf("small", f.smallRun)...)
	const rows = 120_000
	table := []byte(KOIString(rows, 3))
	sum := sha256.Sum256(table)
	wantSHA := hex.EncodeToString(sum[:])
	raw := filepath.Join(e.opts.DataDir, "raw")

	// upload streams the table at about 8 MB/s, calling at(sent) before
	// every chunk; it returns the answer or the transport error.
	upload := func(at func(sent int64) error) (*Response, error) {
		ctx := ctxFor(t, 5*time.Minute)
		return e.c.Upload(ctx, "crashy", "koi_crashy.csv", &SlowReader{R: bytes.NewReader(table), Chunk: 64 << 10, Every: 8 * time.Millisecond, Tick: at})
	}

	t.Run("mid-stream", func(t *testing.T) {
		var once sync.Once
		var parts []string
		res, err := upload(func(sent int64) error {
			if sent < int64(len(table))/3 {
				return nil
			}
			once.Do(func() {
				parts = glob(t, raw, ".incoming/*.part")
				e.kill()
			})
			return errKilled
		})
		if err == nil {
			t.Fatalf("upload answered after a kill in the middle: %s", res)
		}
		if len(parts) != 1 {
			t.Errorf("in the middle of the stream DATA/raw/.incoming held %v, want one .part file", parts)
		}
		e.start()
		assertNoUploadLeftovers(t, e, raw, "crashy")
		assertSameState(t, e.c, before)
	})

	t.Run("after the last byte", func(t *testing.T) {
		var once sync.Once
		var seen []string
		killed := make(chan struct{})
		res, err := upload(func(sent int64) error {
			if sent < int64(len(table)) {
				return nil
			}
			once.Do(func() {
				// note: kill as soon as registration shows on disk, or
				// within 300 ms of the last byte, whichever comes first.
				go func() {
					deadline := time.Now().Add(300 * time.Millisecond)
					for time.Now().Before(deadline) {
						if seen = glob(t, raw, "*/.pending"); len(seen) > 0 {
							break
						}
						time.Sleep(time.Millisecond)
					}
					e.kill()
					close(killed)
				}()
			})
			return io.EOF
		})
		<-killed
		t.Logf("killed after the last byte: answer %v %v, pending markers seen %v", res, err, seen)
		e.start()
		list, err := e.c.Datasets(ctxFor(t, time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if ds := findDataset(list, "crashy"); ds != nil {
			// note: the kill came after the commit: the dataset must then
			// be whole.
			assertDatasetWhole(t, e, *ds, rows, wantSHA)
			deleteDataset(t, e.c, "crashy")
		}
		assertNoUploadLeftovers(t, e, raw, "crashy")
		assertSameState(t, e.c, before)
	})

	t.Run("the same upload succeeds", func(t *testing.T) {
		res, err := e.c.Upload(ctxFor(t, 5*time.Minute), "crashy", "koi_crashy.csv", bytes.NewReader(table))
		if err != nil || res.Status != 201 {
			t.Fatalf("upload after the kills: %v %v", res, err)
		}
		var ds Dataset
		if err := res.Decode(&ds); err != nil {
			t.Fatal(err)
		}
		assertDatasetWhole(t, e, ds, rows, wantSHA)
	})

	t.Run("after the 201", func(t *testing.T) {
		// note: an acknowledged upload survives a kill right after its
		// answer (the commit came first).
		table2 := []byte(KOIString(1000, 4))
		res, err := e.c.Upload(ctxFor(t, time.Minute), "acked", "koi_acked.csv", bytes.NewReader(table2))
		if err != nil || res.Status != 201 {
			t.Fatalf("upload: %v %v", res, err)
		}
		e.kill()
		e.start()
		list, err := e.c.Datasets(ctxFor(t, time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		ds := findDataset(list, "acked")
		if ds == nil {
			t.Fatalf("a dataset acknowledged with 201 is gone after SIGKILL: %+v", list)
		}
		sum := sha256.Sum256(table2)
		assertDatasetWhole(t, e, *ds, 1000, hex.EncodeToString(sum[:]))
		assertSameState(t, e.c, before)
	})
}

// findDataset returns the named dataset of list, or nil.
func findDataset(list []Dataset, name string) *Dataset {
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
}

// deleteDataset deletes a dataset through the API.
func deleteDataset(t *testing.T, c *Client, name string) {
	t.Helper()
	res, err := c.Do(ctxFor(t, time.Minute), "DELETE", "/api/datasets/"+name, nil, nil)
	if err != nil || res.Status != 204 {
		t.Fatalf("DELETE %s: %v %v", name, res, err)
	}
}

// assertNoUploadLeftovers checks that an interrupted upload left nothing:
// no .part file, no dataset folder with the pending marker, and no
// dataset or folder under the name.
func assertNoUploadLeftovers(t *testing.T, e *env, raw, name string) {
	t.Helper()
	if p := glob(t, raw, ".incoming/*"); len(p) > 0 {
		t.Errorf("after the restart DATA/raw/.incoming still holds %v", p)
	}
	if p := glob(t, raw, "*/.pending"); len(p) > 0 {
		t.Errorf("after the restart a dataset folder is still pending: %v", p)
	}
	list, err := e.c.Datasets(ctxFor(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if findDataset(list, name) != nil {
		t.Errorf("the interrupted upload %q is listed after the restart", name)
	}
	if _, err := os.Stat(filepath.Join(raw, name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("DATA/raw/%s exists after the interrupted upload (%v)", name, err)
	}
	res, err := e.c.Get(ctxFor(t, time.Minute), "/api/datasets/"+name)
	if err != nil || res.Status != 404 {
		t.Errorf("GET the interrupted dataset: %v %v, want 404", res, err)
	}
}

// assertDatasetWhole checks a dataset's record against the bytes sent
// and that its stored file holds exactly them.
func assertDatasetWhole(t *testing.T, e *env, ds Dataset, rows int64, sha string) {
	t.Helper()
	if ds.Rows != rows || ds.SHA256 != sha {
		t.Errorf("dataset %s: rows %d sha %s, want %d %s", ds.Name, ds.Rows, ds.SHA256, rows, sha)
	}
	res, err := e.c.Get(ctxFor(t, time.Minute), "/api/datasets/"+ds.Name)
	if err != nil || res.Status != 200 {
		t.Fatalf("GET dataset %s: %v %v", ds.Name, res, err)
	}
	var full Dataset
	if err := res.Decode(&full); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(e.opts.DataDir, filepath.FromSlash(full.Path)))
	if err != nil {
		t.Fatalf("stored file of %s: %v", ds.Name, err)
	}
	got := sha256.Sum256(b)
	if hex.EncodeToString(got[:]) != sha {
		t.Errorf("stored file %s has other bytes than the upload", full.Path)
	}
	if _, err := os.Stat(filepath.Join(e.opts.DataDir, "raw", ds.Name, ".pending")); err == nil {
		t.Errorf("dataset %s is listed but still pending", ds.Name)
	}
}

// TestCrash_Run kills the server while a run of 300,000 rows is in
// flight, at two points: right after the run was accepted, and while
// DuckDB writes its Parquet file. After each restart: the run is failed
// (never complete), runs.results holds none of its rows, its results
// answer 404, no run file or temporary file is left, the other runs
// answer as before, and the dataset can be processed again (all rows).
func TestCrash_Run(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.useFixture()
	e.start()
	before := readState(t, e.c, append(stateOf("small", f.smallRun), stateOf("big", f.bigRun)...)...)
	runs := filepath.Join(e.opts.DataDir, "runs")

	for _, point := range []string{"accepted", "writing"} {
		t.Run(point, func(t *testing.T) {
			ctx := ctxFor(t, 10*time.Minute)
			run, err := e.c.StartRun(ctx, "big")
			if err != nil {
				t.Fatal(err)
			}
			if run.Status == "complete" {
				t.Fatalf("a run of %d rows completed within the API's wait; the test needs a bigger input", f.bigRows)
			}
			if point == "writing" {
				tmp := filepath.Join(runs, run.RunID+".parquet.tmp")
				for {
					if st, err := os.Stat(tmp); err == nil && st.Size() > 0 {
						break
					}
					r, _, err := e.c.Run(ctx, run.RunID)
					if err != nil {
						t.Fatal(err)
					}
					if r != nil && r.Status != "running" && r.Status != "queued" {
						t.Fatalf("the run ended (%s) before its file was seen being written; the test needs a bigger input", r.Status)
					}
					time.Sleep(2 * time.Millisecond)
				}
			}
			e.kill()
			e.start()
			r, res, err := e.c.Run(ctx, run.RunID)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case r == nil && res.Status == 404:
				// note: absent is allowed too.
			case r == nil:
				t.Errorf("GET the killed run: %s", res)
			case r.Status != "failed":
				t.Errorf("the killed run is %q after the restart, want failed: %+v", r.Status, r)
			case !strings.Contains(string(r.Error), "interrupted"):
				t.Errorf("the killed run's error %q does not say it was interrupted", r.Error)
			}
			if n := countRunRows(t, e.c, run.RunID); n != 0 {
				t.Errorf("runs.results holds %d rows of the killed run", n)
			}
			if res, err := e.c.Get(ctx, "/api/runs/"+run.RunID+"/results?limit=5"); err != nil || res.Status != 404 {
				t.Errorf("results of the killed run: %v %v, want 404", res, err)
			}
			if left := glob(t, runs, run.RunID+"*"); len(left) > 0 {
				t.Errorf("files of the killed run left in DATA/runs: %v", left)
			}
			assertSameState(t, e.c, before)
		})
	}

	t.Run("processed again", func(t *testing.T) {
		ctx := ctxFor(t, 10*time.Minute)
		run, err := e.c.StartRun(ctx, "big")
		if err != nil {
			t.Fatal(err)
		}
		done, err := e.c.WaitRun(ctx, run.RunID)
		if err != nil {
			t.Fatal(err)
		}
		if done.Status != "complete" || done.Rows != f.bigRows {
			t.Fatalf("run after the kills: %+v, want complete with %d rows", done, f.bigRows)
		}
		if n := countRunRows(t, e.c, run.RunID); n != f.bigRows {
			t.Errorf("runs.results holds %d rows of the new run, want %d", n, f.bigRows)
		}
	})
}

// TestCrash_FeatureBuild kills the server while POST /api/features builds a
// version from the 300,000-row run, at two points: once its hidden build
// folder exists (statistics), and once the Parquet file is being written
// in it. After each restart no version is listed, nothing of it (hidden
// or not) is in the feature store, the console has no view for it; then
// the same build succeeds, and again with the same content hash.
func TestCrash_FeatureBuild(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.useFixture()
	e.start()
	store := e.opts.FeatureStore
	body := fmt.Sprintf(`{"version":"v1","run_id":%q}`, f.bigRun)

	for _, point := range []struct{ name, glob string }{{"build folder made", ".build-*"}, {"parquet being written", ".build-*/*.parquet"}} {
		t.Run(point.name, func(t *testing.T) {
			errc := make(chan error, 1)
			go func() {
				res, err := e.c.Post(ctxFor(t, 20*time.Minute), "/api/features", body)
				if err == nil {
					err = fmt.Errorf("the build answered before the kill (the test needs a bigger input): %s", res)
				}
				errc <- err
			}()
			deadline := time.Now().Add(10 * time.Minute)
			for len(glob(t, store, point.glob)) == 0 {
				if time.Now().After(deadline) {
					t.Fatalf("%s never appeared", point.glob)
				}
				select {
				case err := <-errc:
					t.Fatalf("%v (before %s was seen)", err, point.glob)
				case <-time.After(time.Millisecond):
				}
			}
			inside := glob(t, store, ".build-*/*")
			e.kill()
			t.Logf("killed with the build folder holding %v; client: %v", inside, <-errc)
			e.start()
			ctx := ctxFor(t, 5*time.Minute)
			if left := glob(t, store, "*"); len(left) > 0 {
				t.Errorf("feature store after the restart holds %v, want nothing", left)
			}
			if left := glob(t, store, ".*"); len(left) > 0 {
				t.Errorf("hidden folders left in the feature store: %v", left)
			}
			res, err := e.c.Get(ctx, "/api/features")
			if err != nil || res.Status != 200 || strings.Contains(string(res.Body), `"v1"`) {
				t.Errorf("GET /api/features after the kill: %v %v", res, err)
			}
			if res, err := e.c.Get(ctx, "/api/features/v1"); err != nil || res.Status != 404 {
				t.Errorf("GET /api/features/v1 after the kill: %v %v, want 404", res, err)
			}
			if _, res, _ := e.c.Query(ctx, `SELECT count(*) FROM features.v1`); res == nil || res.Status == 200 {
				t.Errorf("the console still sees features.v1: %v", res)
			}
		})
	}

	t.Run("built again", func(t *testing.T) {
		ctx := ctxFor(t, 20*time.Minute)
		var hashes []string
		for i, want := range []int{201, 200} {
			res, err := e.c.Post(ctx, "/api/features", body)
			if err != nil || res.Status != want {
				t.Fatalf("build %d after the kills: %v %v, want %d", i+1, res, err, want)
			}
			var m struct {
				ContentHash string `json:"content_hash"`
				Rows        int64  `json:"rows"`
			}
			if err := res.Decode(&m); err != nil {
				t.Fatal(err)
			}
			if m.Rows != f.bigRows {
				t.Errorf("build rows %d, want %d", m.Rows, f.bigRows)
			}
			hashes = append(hashes, m.ContentHash)
		}
		if hashes[0] != hashes[1] || hashes[0] == "" {
			t.Errorf("content hashes %v, want the same twice", hashes)
		}
	})
}
