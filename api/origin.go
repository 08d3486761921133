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
// not affected. Reads are left alone: a page of another site cannot read
// the answers (no CORS headers for it).
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
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	origin := c.Get(fiber.HeaderOrigin)
	switch {
	case origin == "" && c.Get("Sec-Fetch-Site") != "cross-site":
		return c.Next()
	case origin != "" && (sameOrigin(origin, host) || slices.Contains(s.cfg.CORSOrigins, origin)):
		return c.Next()
	}
	return engine.Errorf(engine.Forbidden, "A web page of another site (%s) may not change anything here. Writes come from this server's own dashboard, from the origins listed in EXOHUNTER_CORS_ORIGINS, or from programs (curl, scripts, the CLI).",
		cmp.Or(origin, "origin not given"))
}

// sameOrigin reports whether origin (scheme://host[:port]) names the host
// the request was sent to.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && strings.EqualFold(u.Host, host)
}

// hostAllowed reports whether a Host header (name[:port]) names one of
// the allowed hosts, whatever the port.
func hostAllowed(host string, allowed []string) bool {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
	return slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, name) })
}

// LoopbackHosts are the names a browser on this machine uses for a server
// listening on a loopback address: the Host headers it accepts by default.
var LoopbackHosts = []string{"localhost", "127.0.0.1", "::1"}
