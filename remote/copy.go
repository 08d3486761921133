package remote

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
)

// Internal copy outcomes, turned into *Error by the caller, which knows the
// URL and the limit.
var (
	errOverLimit = errors.New("over the byte limit")
	errStalled   = errors.New("no data received within the idle timeout")
)

// writeError marks a failure of the destination writer (for example a full
// disk), which must reach the caller unchanged rather than be blamed on the
// remote service.
type writeError struct{ err error }

func (e writeError) Error() string { return e.err.Error() }
func (e writeError) Unwrap() error { return e.err }

// copyBounded copies r to w and fails with errOverLimit as soon as more than
// max bytes arrive. The chunk that crosses the limit is not written, so w
// never receives more than max bytes. Read errors are returned as-is; write
// errors are wrapped in writeError.
func copyBounded(w io.Writer, r io.Reader, max int64) (int64, error) {
	buf := make([]byte, 64<<10)
	var n int64
	for {
		nr, rerr := r.Read(buf)
		if nr > 0 {
			if n+int64(nr) > max {
				return n, errOverLimit
			}
			nw, werr := w.Write(buf[:nr])
			n += int64(nw)
			if werr == nil && nw < nr {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				return n, writeError{werr}
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// idleReader cancels its request's context when no Read returns data for
// d. Resetting a timer on every Read costs little next to a network read and
// catches a peer that keeps the connection open but stops sending.
type idleReader struct {
	r     io.Reader
	d     time.Duration
	timer *time.Timer
	once  sync.Once
}

// newIdleReader starts the idle clock; cancel is the request's
// context.CancelCauseFunc. Call stop when done reading.
func newIdleReader(r io.Reader, d time.Duration, cancel context.CancelCauseFunc) *idleReader {
	ir := &idleReader{r: r, d: d}
	ir.timer = time.AfterFunc(d, func() { cancel(errStalled) })
	return ir
}

// Read implements io.Reader and restarts the idle clock after progress.
func (ir *idleReader) Read(p []byte) (int, error) {
	n, err := ir.r.Read(p)
	if n > 0 {
		ir.timer.Reset(ir.d)
	}
	return n, err
}

// stop disarms the idle clock.
func (ir *idleReader) stop() { ir.once.Do(func() { ir.timer.Stop() }) }
