package main

import (
	"errors"
	"log/slog"
	"net"
	"syscall"
	"time"
)

// retryListener keeps accepting when the process is out of file
// descriptors. fasthttp's Serve returns on such an accept error, and the
// server then shut down: about 20,000 idle connections from one client
// stopped it (a review, with this machine's limit of 20,000). net/http
// sleeps and retries instead, and so does this, up to a second between
// tries; the waiting connections are taken as descriptors free up.
type retryListener struct {
	net.Listener
	log *slog.Logger
}

// Accept implements net.Listener.
func (l retryListener) Accept() (net.Conn, error) {
	delay := 5 * time.Millisecond
	for {
		c, err := l.Listener.Accept()
		if err == nil || !(errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)) {
			return c, err
		}
		if delay == 5*time.Millisecond {
			l.log.Warn("out of file descriptors: new connections wait", "err", err)
		}
		time.Sleep(delay)
		delay = min(2*delay, time.Second)
	}
}
