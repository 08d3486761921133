package api

import (
	"context"
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
)

// errClientGone is the cause of a request context cancelled because the
// client closed its connection.
var errClientGone = errors.New("the client closed the connection")

// hangupPoll is how often a running request looks at its connection.
const hangupPoll = 250 * time.Millisecond

// cancelOnHangup cancels the request's context when the client closes its
// connection while the handler still runs, as net/http does and fasthttp
// does not: an export or console download abandoned by its client would
// otherwise go on writing its spool file (minutes and gigabytes at 10M
// rows) and hold one of the few export slots. It looks without reading:
// a peek that finds the end of the stream (or a reset) means the client
// is gone; pending bytes (a body being uploaded, a pipelined request) do
// not.
func cancelOnHangup(c *fiber.Ctx) error {
	rc := rawConn(c.Context().Conn())
	if rc == nil {
		return c.Next()
	}
	ctx, cancel := context.WithCancelCause(c.UserContext())
	defer cancel(nil)
	c.SetUserContext(ctx)
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(hangupPoll)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if peerClosed(rc) {
					cancel(errClientGone)
					return
				}
			}
		}
	}()
	return c.Next()
}

// rawConn is the socket under a connection, nil when there is none to
// look at (an in-memory listener, TLS).
func rawConn(conn net.Conn) syscall.RawConn {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// peerClosed peeks one byte without waiting: 0 bytes is the peer's end of
// stream, ECONNRESET its reset; data or EAGAIN mean it is still there.
func peerClosed(rc syscall.RawConn) bool {
	closed := false
	var b [1]byte
	_ = rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = (n == 0 && err == nil) || errors.Is(err, syscall.ECONNRESET)
		return true
	})
	return closed
}
