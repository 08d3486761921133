package api

import (
	"cmp"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/exohunter/exohunter/engine"
)

// checkOrigin refuses what a web page of another site makes the user's
// browser send. Without a token (the default on 127.0.0.1) nothing else
// stops a page the user happens to visit from uploading, running or
// labeling here: a form post or a no-cors fetch leaves without a preflight
// (cross-site request forgery, shown in headless Chromium by a review).
// Browsers name the page's origin on every such request (Origin, and
// Sec-Fetch-Site); programs such as curl and the CLI send neither and are
// not affected. Reads are left alone, but for the two that change
// something (sideEffectReads): a page of another site cannot read the
// answers (no CORS headers for it).
//
// A page whose own name is made to resolve to 127.0.0.1 (DNS rebinding)
// is same-origin to the browser, and may read too; Config.AllowedHosts,
// set for a loopback address, refuses a Host header not naming this
// machine.
func (s *Server) checkOrigin(c *fiber.Ctx) error {
	host := string(c.Request().Host())
	if len(s.cfg.AllowedHosts) > 0 && !hostAllowed(host, s.cfg.AllowedHosts) {
		return engine.Errorf(engine.Forbidden, "This server answers requests for %s only, not for the host %q (a web page's name pointed at this machine could otherwise read and change its data). Behind a proxy that keeps the original Host, list it in EXOHUNTER_ALLOWED_HOSTS.",
			strings.Join(s.cfg.AllowedHosts, ", "), host)
	}
	origin := c.Get(fiber.HeaderOrigin)
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead:
		// note: an <img> of any page sends these without an Origin.
		if slices.Contains(sideEffectReads, c.Path()) && c.Get("Sec-Fetch-Site") == "cross-site" && !slices.Contains(s.cfg.CORSOrigins, origin) {
			return engine.Errorf(engine.Forbidden, "A web page of another site may not call %s: it claims objects or writes an export.", c.Path())
		}
		return c.Next()
	case fiber.MethodOptions:
		return c.Next()
	}
	switch {
	case origin == "" && c.Get("Sec-Fetch-Site") != "cross-site":
		return c.Next()
	case origin != "" && (sameOrigin(origin, host) || slices.Contains(s.cfg.CORSOrigins, origin)):
		return c.Next()
	}
	return engine.Errorf(engine.Forbidden, "A web page of another site (%s) may not change anything here. Writes come from this server's own dashboard, from the origins listed in EXOHUNTER_CORS_ORIGINS, or from programs (curl, scripts, the CLI).",
		cmp.Or(origin, "origin not given"))
}

// sideEffectReads are the GET routes that change something: the queue
// claims objects for its annotator, and an export writes a file.
var sideEffectReads = []string{"/api/labels/queue", "/api/labels/export"}

// sameOrigin reports whether origin (scheme://host[:port]) names the host
// the request was sent to.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && strings.EqualFold(u.Host, host)
}

// hostAllowed reports whether a Host header (name[:port]) names one of
// the allowed hosts, whatever the port. An IP address is always allowed:
// rebinding needs a name the attacker controls, and the server is reached
// at addresses such as 127.0.0.2 or a LAN address too.
func hostAllowed(host string, allowed []string) bool {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(name, "["), "]"), ".")
	if net.ParseIP(name) != nil {
		return true
	}
	return slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, name) })
}

// LoopbackHosts are the names a browser on this machine uses for a server
// listening on a loopback address: the Host headers it accepts by default.
var LoopbackHosts = []string{"localhost", "127.0.0.1", "::1"}
