package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"github.com/exohunter/exohunter/engine"
)

// access is who may call a route when a token is configured.
type access int

const (
	// read routes are open unless Config.ProtectReads.
	read access = iota
	// console routes are open unless Config.ProtectConsole.
	console
	// write routes always need the token when one is set.
	write
	// public routes never need it: liveness and readiness probes, which
	// container orchestrators call without credentials.
	public
)

// mount installs the middleware, the route table and the dashboard, in
// that order: the dashboard comes after /api so API 404s stay JSON.
func (s *Server) mount() {
	app := s.app
	app.Use(recoverPanics)
	// note: before anything that can refuse a request (the Origin and
	// Host checks, CORS, the client limit): a refused body left on a
	// keep-alive connection would be read as the next request.
	app.Use(drainBody)
	app.Use(s.assignRequestID)
	app.Use(s.securityHeaders)
	app.Use(s.checkOrigin)
	if len(s.cfg.CORSOrigins) > 0 {
		app.Use(cors.New(cors.Config{
			AllowOrigins:  strings.Join(s.cfg.CORSOrigins, ","),
			AllowMethods:  "GET,POST,DELETE",
			AllowHeaders:  "Authorization,Content-Type,X-Request-ID",
			ExposeHeaders: "X-Request-ID,Content-Disposition",
			MaxAge:        600,
		}))
	}
	app.Use("/api", s.clients.limit)
	for _, r := range s.table {
		handlers := []fiber.Handler{s.authorize(r.access)}
		// note: requests without a body, and the console's (read before
		// it runs): cancelOnHangup's peek never waits behind a body read.
		if r.method == fiber.MethodGet || r.path == "/api/query" {
			handlers = append(handlers, cancelOnHangup)
		}
		if r.timeout >= 0 {
			handlers = append(handlers, withTimeout(s.timeoutOf(r)))
		}
		app.Add(r.method, r.path, append(handlers, r.handler)...)
	}
	if s.cfg.UI != nil {
		app.Use(uiCacheControl, filesystem.New(filesystem.Config{
			Root:         http.FS(s.cfg.UI),
			Index:        "index.html",
			NotFoundFile: "index.html",
			Next:         isAPIPath,
		}))
	}
}

// recoverPanics turns a panic in a handler into an Internal error, with
// the stack in its cause: the error handler logs it once and answers 500.
func recoverPanics(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return c.Next()
}

// timeoutOf is a route's deadline: its own, or the default.
func (s *Server) timeoutOf(r route) time.Duration {
	if r.timeout > 0 {
		return r.timeout
	}
	return s.cfg.RequestTimeout
}

// isAPIPath reports whether a request is for the API (or the legacy health
// probe) rather than the dashboard.
func isAPIPath(c *fiber.Ctx) bool {
	p := c.Path()
	return p == "/api" || strings.HasPrefix(p, "/api/") || p == "/healthz"
}

// localRequestID is the fiber Locals key of the request id.
const localRequestID = "request_id"

// requestIDRe is what a client-supplied X-Request-ID must look like to be
// reused; anything else is replaced (it reaches the logs).
var requestIDRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// assignRequestID gives every request an id, echoed in X-Request-ID and in
// error bodies.
func (s *Server) assignRequestID(c *fiber.Ctx) error {
	id := c.Get(fiber.HeaderXRequestID)
	if !requestIDRe.MatchString(id) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Locals(localRequestID, id)
	c.Set(fiber.HeaderXRequestID, id)
	return c.Next()
}

// requestID returns the request's id.
func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

// Content-Security-Policies. The dashboard loads nothing from another
// origin; inline styles are allowed because the charts set element styles.
const (
	uiCSP  = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
	apiCSP = "default-src 'none'; frame-ancestors 'none'"
)

// securityHeaders sets the headers every response carries.
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	if isAPIPath(c) {
		c.Set(fiber.HeaderContentSecurityPolicy, apiCSP)
	} else {
		c.Set(fiber.HeaderContentSecurityPolicy, uiCSP)
	}
	return c.Next()
}

// uiCacheControl gives hashed assets a long cache life and everything else
// (index.html, the SPA fallback) no-cache.
func uiCacheControl(c *fiber.Ctx) error {
	if isAPIPath(c) {
		return c.Next()
	}
	if strings.HasPrefix(c.Path(), "/assets/") {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	err := c.Next()
	// note: the filesystem middleware types index.html as bare text/html;
	// the page is UTF-8 (units such as R⊕), so say so.
	if string(c.Response().Header.ContentType()) == fiber.MIMETextHTML {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	}
	return err
}

// authorize enforces the token for a route's access level. Tokens are
// compared in constant time (over their hashes, so the length does not leak
// either).
func (s *Server) authorize(a access) fiber.Handler {
	need := s.cfg.Token != "" && (a == write || (a == read && s.cfg.ProtectReads) || (a == console && s.cfg.ProtectConsole))
	want := sha256.Sum256([]byte(s.cfg.Token))
	return func(c *fiber.Ctx) error {
		if !need {
			return c.Next()
		}
		h := c.Get(fiber.HeaderAuthorization)
		scheme, tok, ok := strings.Cut(h, " ")
		if h == "" || !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="exohunter"`)
			return engine.Errorf(engine.Unauthorized, "This endpoint needs an API token: send the header \"Authorization: Bearer <token>\".")
		}
		got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			return engine.Errorf(engine.Forbidden, "The API token is not valid.")
		}
		return c.Next()
	}
}

// withTimeout bounds the engine work of a request: handlers take their
// context from c.UserContext().
func withTimeout(d time.Duration) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx, cancel := context.WithTimeout(c.UserContext(), d)
		defer cancel()
		c.SetUserContext(ctx)
		return c.Next()
	}
}

// An unread request body (an upload refused early: 401, 413) is read and
// discarded before the answer, up to maxDrain bytes or drainTime, so that a
// client still sending can read the answer instead of a connection reset
// (nginx's lingering close). Beyond that the connection closes.
const (
	maxDrain  = 32 << 20
	drainTime = 2 * time.Second
)

// drainBody skips what a handler left unread of a streamed request body,
// or closes the connection when too much is left: the next request on it
// would start in the middle of a body.
func drainBody(c *fiber.Ctx) error {
	err := c.Next()
	st := c.Context().RequestBodyStream()
	if st == nil {
		return err
	}
	if conn := c.Context().Conn(); conn != nil {
		// note: fasthttp sets a fresh read deadline for the next request.
		_ = conn.SetReadDeadline(time.Now().Add(drainTime))
	}
	if _, derr := io.CopyN(io.Discard, st, maxDrain); derr != io.EOF {
		c.Context().SetConnectionClose()
	}
	return err
}

// clientLimiter caps concurrent requests per client address, so that one
// client cannot hold every worker (STYLE: per-client concurrency limit).
// A stream that lives on after its handler returns (a job's events,
// holdStream) counts in a budget of its own, maxStreams: not counted at
// all, one client held 400 event streams open under a limit of 32; counted
// with the requests, 32 dashboard tabs behind one address (a proxy, an SSH
// tunnel) refused every other request from it, label writes included.
type clientLimiter struct {
	max, maxStreams int
	mu              sync.Mutex
	n, streams      map[string]int
}

// newClientLimiter returns a limiter allowing max requests and maxStreams
// open streams per client.
func newClientLimiter(max, maxStreams int) *clientLimiter {
	return &clientLimiter{max: max, maxStreams: maxStreams, n: map[string]int{}, streams: map[string]int{}}
}

// limit is the middleware: 429 when the client is at its limit.
func (l *clientLimiter) limit(c *fiber.Ctx) error {
	ip := c.IP()
	if !l.take(l.n, ip, l.max) {
		c.Set(fiber.HeaderRetryAfter, "1")
		return fiber.NewError(fiber.StatusTooManyRequests, "Too many concurrent requests from this client; wait for some to finish.")
	}
	c.Locals(localLimiter, l)
	// note: deferred, so that a handler's panic (recovered further out)
	// still gives the slot back; 32 panics used to lock a client out.
	defer l.give(l.n, ip)
	return c.Next()
}

// take counts one more in the client's entry of counts, unless it is at
// max.
func (l *clientLimiter) take(counts map[string]int, ip string, max int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if counts[ip] >= max {
		return false
	}
	counts[ip]++
	return true
}

// give counts one less.
func (l *clientLimiter) give(counts map[string]int, ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if counts[ip]--; counts[ip] <= 0 {
		delete(counts, ip)
	}
}

// localLimiter is the fiber Locals key of the limiter that let a request in.
const localLimiter = "client_limiter"

// holdStream takes one of the client's stream slots for a response
// streamed after its handler returns; the stream calls the returned func
// when it ends. The request's own slot is given back when the handler
// returns, as for any request, so open streams never refuse the client's
// other requests. At the client's stream limit it returns a 429. Without a
// limiter it returns a no-op.
func holdStream(c *fiber.Ctx) (func(), error) {
	l, ok := c.Locals(localLimiter).(*clientLimiter)
	if !ok {
		return func() {}, nil
	}
	ip := c.IP()
	if !l.take(l.streams, ip, l.maxStreams) {
		c.Set(fiber.HeaderRetryAfter, "5")
		return nil, fiber.NewError(fiber.StatusTooManyRequests, fmt.Sprintf("This client already has %d job event streams open, as many as the server allows per client; close some (dashboard tabs following a job), or poll GET /api/jobs/{id} instead.", l.maxStreams))
	}
	return sync.OnceFunc(func() { l.give(l.streams, ip) }), nil
}
