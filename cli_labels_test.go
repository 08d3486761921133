package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/exohunter/exohunter/engine"
)

// mustBuildBinary builds bin/exohunter into a temporary dir (a real
// process, so that it can be killed with SIGKILL).
func mustBuildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "exohunter")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

// runBinary runs one CLI command and returns its stdout.
func runBinary(t *testing.T, bin string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("exohunter %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

// startBinaryServe starts `exohunter serve` as a child process and waits
// until it answers; it returns the process and the base URL.
func startBinaryServe(t *testing.T, bin, data string, logs io.Writer) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--data-dir", data, "--feature-store", filepath.Join(data, "..", "fs"),
		"--addr", "127.0.0.1:0", "--memory-limit", "512MB", "--threads", "2")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		// note: a killed server leaves its server.json behind; wait for
		// this process's own.
		if info, err := engine.ReadServerInfo(data); err == nil && info.PID == cmd.Process.Pid {
			base := "http://" + info.Addr
			if res, err := http.Get(base + "/api/health"); err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					return cmd, base
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("serve did not come up")
	return nil, ""
}

// ackedLabel is a label the server acknowledged with 2xx.
type ackedLabel struct {
	ID       int64  `json:"id"`
	ObjectID string `json:"object_id"`
	Label    string `json:"label"`
	Note     string `json:"note"`
}

// TestLabels_SIGKILL writes labels concurrently to a real server, kills
// it with SIGKILL in the middle, restarts it, and checks that every label
// acknowledged with 2xx is there, unchanged.
func TestLabels_SIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills a server")
	}
	t.Parallel()
	bin := mustBuildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	runBinary(t, bin, "ingest", "engine/testdata/koi_small_commented.csv", "--name", "koi", "--data-dir", data)
	runBinary(t, bin, "process", "koi", "--data-dir", data)
	objects := []string{"K00752.01", "K00752.02", "K00753.01", "K00754.01", "K00755.01", "K00756.01",
		"K00756.02", "K00756.03", "K00114.01", "K00757.01", "K00001.01", "K00002.01"}
	labels := []string{"candidate", "rocky_candidate", "FALSE POSITIVE", "CONFIRMED", "anomalous_signal"}

	logs := &lockedBuffer{}
	srv, base := startBinaryServe(t, bin, data, logs)
	var (
		mu       sync.Mutex
		acked    []ackedLabel
		attempts atomic.Int64
		wg       sync.WaitGroup
		stop     atomic.Bool
	)
	client := &http.Client{Timeout: 10 * time.Second}
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !stop.Load(); n++ {
				attempts.Add(1)
				note := fmt.Sprintf("writer %d, label %d", w, n)
				body, _ := json.Marshal(map[string]string{"object_id": objects[(w+n)%len(objects)], "dataset": "koi",
					"label": labels[n%len(labels)], "annotator": fmt.Sprintf("w%d", w), "note": note})
				res, err := client.Post(base+"/api/labels", "application/json", bytes.NewReader(body))
				if err != nil {
					continue // note: the server is gone; only acknowledged labels count
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode/100 != 2 {
					continue
				}
				var l ackedLabel
				if err := json.Unmarshal(b, &l); err != nil || l.Note != note {
					t.Errorf("acknowledged with a body that is not the label: %s", b)
					continue
				}
				mu.Lock()
				acked = append(acked, l)
				mu.Unlock()
			}
		}()
	}
	// Kill once a good number of labels are in, while writers keep writing.
	deadline := time.Now().Add(time.Minute)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 150 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := srv.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	srv.Wait()
	time.Sleep(200 * time.Millisecond) // note: requests in flight at the kill fail now
	stop.Store(true)
	wg.Wait()
	if len(acked) < 50 {
		t.Fatalf("only %d labels acknowledged before the kill (of %d attempts); logs:\n%s", len(acked), attempts.Load(), logs.String())
	}

	_, base = startBinaryServe(t, bin, data, logs)
	res, err := http.Get(base + "/api/labels?limit=100000")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var page struct {
		Items []ackedLabel `json:"items"`
	}
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	stored := map[int64]ackedLabel{}
	for _, l := range page.Items {
		stored[l.ID] = l
	}
	lost := 0
	for _, a := range acked {
		got, ok := stored[a.ID]
		if !ok || got != a {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged label %+v: after restart %+v (present %v)", a, got, ok)
			}
		}
	}
	t.Logf("%d attempts, %d acknowledged before SIGKILL, %d stored after restart, %d lost", attempts.Load(), len(acked), len(page.Items), lost)
	if lost > 0 {
		t.Errorf("%d acknowledged labels lost", lost)
	}
	if !strings.Contains(logs.String(), "serving ExoHunter") {
		t.Errorf("server logs:\n%s", logs.String())
	}
}

// The queue table shows every term of the priority, so that its columns add
// up, and says which items' uncertainty came from a model.
func TestWriteQueueTable_terms(t *testing.T) {
	p, a := 0.42, 0.9
	q := &engine.Queue{RunID: "r1", Strategy: "priority", Items: []engine.QueueItem{
		{ObjectID: "K00001.01", Category: "candidate", Priority: 3.9,
			Reason: engine.QueueReason{CategoryWeight: 1, FlagWeight: 0.5, Uncertainty: 1.5, PModel: &p, Anomaly: &a, Flags: []string{"FLAG_A"}}},
		{ObjectID: "K00002.01", Category: "candidate", Priority: 2.6,
			Reason: engine.QueueReason{CategoryWeight: 1, Uncertainty: 1.6, Flags: []string{}}},
	}}
	var b bytes.Buffer
	if err := writeQueueTable(&b, q); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if got := strings.Fields(lines[0]); !slices.Equal(got, []string{"#", "object_id", "category", "priority",
		"category_weight", "flag_weight", "uncertainty", "p_model", "anomaly", "flags"}) {
		t.Fatalf("header %q", got)
	}
	if got := strings.Fields(lines[1]); !slices.Equal(got, []string{"1", "K00001.01", "candidate", "3.9", "1", "0.5", "1.5", "0.42", "0.9", "FLAG_A"}) {
		t.Errorf("scored item %q", got)
	}
	if got := strings.Fields(lines[2]); !slices.Equal(got, []string{"2", "K00002.01", "candidate", "2.6", "1", "0", "1.6", "-", "-"}) {
		t.Errorf("unscored item %q", got)
	}
}
