package api

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// generatedUpload streams a multipart upload of a generated KOI-like CSV of
// about size bytes, without ever holding it: the body is written into a
// pipe as the client sends it.
func generatedUpload(size int64) (io.Reader, string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			if err := mw.WriteField("name", "big"); err != nil {
				return err
			}
			part, err := mw.CreateFormFile("file", "big_koi.csv")
			if err != nil {
				return err
			}
			w := bufio.NewWriterSize(part, 64<<10)
			fmt.Fprintln(w, "kepid,kepoi_name,koi_disposition,koi_period,koi_duration,koi_depth,koi_prad,koi_teq,koi_insol,koi_steff,koi_slogg,koi_srad")
			var n int64
			for i := 0; n < size; i++ {
				k, err := fmt.Fprintf(w, "%d,K%07d.01,CANDIDATE,%d.5,3.1,%d,2.%d,300,1.2,5700,4.4,1.0\n", 1000000+i, i, 1+i%400, 100+i%900, i%10)
				if err != nil {
					return err
				}
				n += int64(k)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	return pr, mw.FormDataContentType()
}

// heapSampler records the peak Go heap while it runs.
type heapSampler struct {
	peak atomic.Uint64
	stop chan struct{}
	done sync.WaitGroup
}

// startHeapSampler samples HeapInuse every 10 ms.
func startHeapSampler() *heapSampler {
	s := &heapSampler{stop: make(chan struct{})}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > s.peak.Load() {
				s.peak.Store(ms.HeapInuse)
			}
			select {
			case <-s.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return s
}

// finish stops sampling and returns the peak.
func (s *heapSampler) finish() uint64 {
	close(s.stop)
	s.done.Wait()
	return s.peak.Load()
}

// TestUpload_StreamsToDisk uploads 200 MB through a real connection
// (chunked, no Content-Length) and checks that the Go heap stays bounded:
// the file goes to disk as it arrives.
func TestUpload_StreamsToDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 200 MB")
	}
	const size = 200 << 20
	env := MustEnv(t)
	base := env.MustListen(t)
	body, ct := generatedUpload(size)

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	sampler := startHeapSampler()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/datasets", body)
	req.Header.Set("Content-Type", ct)
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	peak := sampler.finish()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("status %d: %.500s", res.StatusCode, out)
	}
	var ds struct {
		Bytes int64 `json:"bytes"`
		Rows  int64 `json:"rows"`
	}
	mustJSON(t, string(out), &ds)
	if ds.Bytes < size || ds.Rows < 3_000_000 {
		t.Errorf("stored %d bytes, %d rows; want all of the 200 MB", ds.Bytes, ds.Rows)
	}
	growth := int64(peak) - int64(before.HeapInuse)
	t.Logf("200 MB upload in %v: heap in use %d MiB before, peak %d MiB (growth %d MiB)",
		time.Since(start).Round(time.Millisecond), before.HeapInuse>>20, peak>>20, growth>>20)
	if growth > 64<<20 {
		t.Errorf("the heap grew by %d MiB during a 200 MB upload; the upload is being buffered", growth>>20)
	}
}

// TestUpload_SlowStart: an upload whose body trickles in, with gaps longer
// than the read timeout but within the stream idle timeout, is stored.
// fasthttp reads the first min(Content-Length, 8 KiB) bytes of a body
// before the handler runs, under the read timeout: this upload answered
// 408 after 300 ms, before uploads got the idle timeout for that read
// (HeaderReceived).
func TestUpload_SlowStart(t *testing.T) {
	t.Parallel()
	env := MustEnv(t, withConfig(func(c *Config) {
		c.ReadTimeout = 300 * time.Millisecond
		c.StreamIdleTimeout = 5 * time.Second
	}))
	base := env.MustListen(t)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	part, err := mw.CreateFormFile("file", "slow_koi.csv")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(part, "kepid,kepoi_name,koi_disposition,koi_period,koi_duration,koi_depth,koi_prad")
	for i := 0; buf.Len() < 6<<10; i++ {
		fmt.Fprintf(part, "%d,K%07d.01,CANDIDATE,%d.5,3.1,%d,2.%d\n", 1000000+i, i, 1+i%400, 100+i%900, i%10)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	body := buf.Bytes()
	pr, pw := io.Pipe()
	go func() {
		// 1 KiB every 400 ms: 2.4 s in all, each gap over the read timeout.
		for len(body) > 0 {
			n := min(len(body), 1<<10)
			if _, err := pw.Write(body[:n]); err != nil {
				return
			}
			body = body[n:]
			time.Sleep(400 * time.Millisecond)
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", base+"/api/datasets", pr)
	req.ContentLength = int64(buf.Len())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("after %v: %v", time.Since(start), err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("status %d after %v: %.300s", res.StatusCode, time.Since(start), out)
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("the upload took %v; the test needs it to outlast the 300 ms read timeout", took)
	}
}

// TestUpload_TakenNameEarly: with the name field before the file (curl
// -F name=tiny -F file=@big.csv), an upload under a taken name whose bytes
// differ from every stored dataset is answered 409 while the client is
// still sending, not after the whole body (111 MB were read before the
// 409).
func TestUpload_TakenNameEarly(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	env.MustIngest(t, tinyKOI, "tiny")
	base := env.MustListen(t)
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	answered := make(chan struct{})
	var sentAll atomic.Bool
	go func() {
		err := func() error {
			if err := mw.WriteField("name", "tiny"); err != nil {
				return err
			}
			part, err := mw.CreateFormFile("file", "big_koi.csv")
			if err != nil {
				return err
			}
			row := []byte("1000000,K0000001.01,CANDIDATE,1.5,3.1,100,2.1\n")
			if _, err := part.Write(append([]byte("kepid,kepoi_name,koi_disposition,koi_period,koi_duration,koi_depth,koi_prad\n"), bytes.Repeat(row, 1<<10)...)); err != nil {
				return err
			}
			// note: the rest only once answered; 30 s breaks the wait for
			// a server that reads it all first.
			select {
			case <-answered:
				return nil
			case <-time.After(30 * time.Second):
			}
			for range 100 {
				if _, err := part.Write(bytes.Repeat(row, 1<<10)); err != nil {
					return err
				}
			}
			sentAll.Store(true)
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest("POST", base+"/api/datasets", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	early := !sentAll.Load()
	close(answered)
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusConflict || !strings.Contains(string(out), "Nothing was stored") {
		t.Errorf("status %d: %s, want 409 saying nothing was stored", res.StatusCode, out)
	}
	if !early {
		t.Error("the answer came only after the whole upload was sent")
	}
	assertServes(t, base)
}

// TestUpload_TooLargeStreamed sends a chunked upload (no Content-Length)
// beyond a small limit: the limit is enforced on the stream, with a 413,
// and nothing is stored. A limit below the 1 MiB the engine reads ahead
// is met while it sniffs the first bytes; that used to answer 400.
func TestUpload_TooLargeStreamed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		limit int64
		text  string
	}{{1 << 20, "upload limit of 1 MiB"}, {1000, "upload limit of 1000 bytes"}} {
		t.Run(tc.text, func(t *testing.T) {
			t.Parallel()
			env := MustEnv(t, withConfig(func(c *Config) { c.UploadLimit = tc.limit }))
			base := env.MustListen(t)
			body, ct := generatedUpload(8 << 20)
			req, _ := http.NewRequest("POST", base+"/api/datasets", body)
			req.Header.Set("Content-Type", ct)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			out, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(out), tc.text) {
				t.Fatalf("status %d: %s", res.StatusCode, out)
			}
			env.run(t, []scenario{{name: "nothing stored", method: "GET", url: "/api/datasets", wantStatus: 200, wantContains: []string{`"items":[]`}}})
			assertServes(t, base)
		})
	}
}
