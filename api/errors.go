package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/exohunter/exohunter/engine"
)

// statusByCode is the one mapping from engine error codes to HTTP statuses
// (STYLE rule 24, DESIGN.md Contracts: JSON shapes).
var statusByCode = map[engine.Code]int{
	engine.Invalid:      http.StatusUnprocessableEntity,
	engine.BadRequest:   http.StatusBadRequest,
	engine.Unauthorized: http.StatusUnauthorized,
	engine.Forbidden:    http.StatusForbidden,
	engine.NotFound:     http.StatusNotFound,
	engine.Conflict:     http.StatusConflict,
	engine.TooLarge:     http.StatusRequestEntityTooLarge,
	engine.Timeout:      http.StatusGatewayTimeout,
	engine.Internal:     http.StatusInternalServerError,
	engine.Storage:      http.StatusInsufficientStorage,
	engine.Upstream:     http.StatusBadGateway,
	engine.Busy:         http.StatusTooManyRequests,
}

// codeByStatus names the envelope code of a *fiber.Error (an unknown route,
// a method not allowed, a body too large, a client over its limit), which
// keeps its own status.
var codeByStatus = map[int]string{
	http.StatusBadRequest:            string(engine.BadRequest),
	http.StatusUnauthorized:          string(engine.Unauthorized),
	http.StatusForbidden:             string(engine.Forbidden),
	http.StatusNotFound:              string(engine.NotFound),
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusConflict:              string(engine.Conflict),
	http.StatusRequestEntityTooLarge: string(engine.TooLarge),
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusUnprocessableEntity:   string(engine.Invalid),
	http.StatusTooManyRequests:       "too_many_requests",
	http.StatusBadGateway:            string(engine.Upstream),
	http.StatusServiceUnavailable:    "unavailable",
	http.StatusGatewayTimeout:        string(engine.Timeout),
}

// errorBody is the one error envelope: {"error":{"code","message","details"}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

// errorDetail is the inside of the envelope. RequestID lets a user quote
// the request to whoever reads the server log.
type errorDetail struct {
	Code      string          `json:"code"`
	Message   string          `json:"message"`
	Details   []engine.Detail `json:"details"`
	RequestID string          `json:"request_id,omitempty"`
}

// handleError is fiber's ErrorHandler: every error a handler returns is
// rendered here, once. Internal errors reach the client as "internal
// error" plus the request id; their cause is logged once.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	status, body := s.envelope(c, err)
	switch {
	case context.Cause(c.UserContext()) == errClientGone:
		// note: nobody reads this answer; an abandoned download is not a
		// server failure.
		s.log.Info("request abandoned by the client", "request_id", body.RequestID, "method", c.Method(),
			"path", c.Path(), "status", status)
	case status >= 500:
		s.log.Error("request failed", "request_id", body.RequestID, "method", c.Method(),
			"path", c.Path(), "status", status, "err", err)
	default:
		s.log.Debug("request refused", "request_id", body.RequestID, "method", c.Method(),
			"path", c.Path(), "status", status, "err", err)
	}
	// note: a stream writer set before the error (an export that failed
	// to start) must not run.
	c.Response().ResetBody()
	c.Set(fiber.HeaderCacheControl, "no-store")
	if status == http.StatusTooManyRequests && len(c.Response().Header.Peek(fiber.HeaderRetryAfter)) == 0 {
		c.Set(fiber.HeaderRetryAfter, "5")
	}
	return c.Status(status).JSON(errorBody{Error: body})
}

// envelope classifies err into a status and the envelope's contents.
func (s *Server) envelope(c *fiber.Ctx, err error) (int, errorDetail) {
	rid := requestID(c)
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code, ok := codeByStatus[fe.Code]
		if !ok {
			// note: snake_case like every other code ("Request Header
			// Fields Too Large" -> request_header_fields_too_large).
			code = strings.ReplaceAll(strings.ToLower(http.StatusText(fe.Code)), " ", "_")
		}
		msg := fe.Message
		switch fe.Code {
		case http.StatusInternalServerError:
			msg = "internal error"
		case http.StatusRequestHeaderFieldsTooLarge:
			msg = "The request's URL or headers are too large for this server (a very long filter or column list?); shorten them, or send a long SQL query in the body of POST /api/query instead of GET."
		case http.StatusBadRequest:
			if strings.Contains(msg, "error when reading request") {
				// note: fasthttp's text quotes the raw request, its
				// Authorization header included.
				msg = "The request could not be read as HTTP (malformed request line, headers or Content-Length)."
			}
		}
		return fe.Code, errorDetail{Code: code, Message: msg, Details: []engine.Detail{}, RequestID: rid}
	}
	code := engine.ErrorCode(err)
	if code == engine.Internal && errors.Is(err, context.DeadlineExceeded) {
		// note: a route deadline hit outside the engine's own mapping.
		return http.StatusGatewayTimeout, errorDetail{Code: string(engine.Timeout),
			Message: "The request took too long and was stopped.", Details: []engine.Detail{}, RequestID: rid}
	}
	status, ok := statusByCode[code]
	if !ok {
		status, code = http.StatusInternalServerError, engine.Internal
	}
	return status, errorDetail{Code: string(code), Message: engine.ErrorMessage(err),
		Details: capDetails(engine.ErrorDetails(err)), RequestID: rid}
}

// maxDetails bounds an error's details list: a body of 90,000 unknown
// threshold keys was answered with 6.4 MB of them (a review).
const maxDetails = 100

// capDetails keeps the first maxDetails details and says how many more
// there were.
func capDetails(d []engine.Detail) []engine.Detail {
	if len(d) <= maxDetails {
		return d
	}
	return append(d[:maxDetails:maxDetails], engine.Detail{Message: fmt.Sprintf("and %d more problems like these", len(d)-maxDetails)})
}

// newLogger returns l, or a logger that discards everything when l is nil.
func newLogger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
