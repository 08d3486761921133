package remote

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Sentinel causes. Every error returned by Fetch and NASA wraps exactly one of
// them (or context.Canceled / context.DeadlineExceeded when the caller's
// context ends), so callers classify failures with errors.Is.
var (
	// ErrNotFound means the object, or the bucket that should hold it, does
	// not exist. The message says which of the two is missing.
	ErrNotFound = errors.New("not found")
	// ErrBucketNotFound is the ErrNotFound for a bucket that does not exist.
	ErrBucketNotFound = fmt.Errorf("bucket %w", ErrNotFound)
	// ErrObjectNotFound is the ErrNotFound for a missing object in a bucket
	// that exists, or a missing file at an https:// address.
	ErrObjectNotFound = fmt.Errorf("object %w", ErrNotFound)
	// ErrAccessDenied means the store refused the request: missing, wrong or
	// expired credentials, or an object that is not public.
	ErrAccessDenied = errors.New("access denied")
	// ErrUnsupportedScheme means the URL's scheme is not s3, gs, https or http.
	ErrUnsupportedScheme = errors.New("unsupported URL scheme")
	// ErrTooLarge means the object is larger than Config.MaxBytes.
	ErrTooLarge = errors.New("too large")
	// ErrBadURL means the URL cannot be fetched as written: no bucket, no
	// object key, a malformed host, or a request the server rejects as
	// malformed.
	ErrBadURL = errors.New("bad URL")
	// ErrBadQuery means a NASA TAP query was refused, either by our checks
	// (unknown table, control characters, too long) or by the archive.
	ErrBadQuery = errors.New("bad query")
	// ErrUpstream means the remote service failed: an HTTP 5xx, a rate
	// limit, a network error, a stalled or truncated transfer.
	ErrUpstream = errors.New("remote service unavailable")
)

// Error is a failed fetch. Msg is a complete, user-facing sentence that names
// the URL without credentials; Kind is one of the sentinels above; Err is the
// underlying cause (SDK or network error), kept for logs.
type Error struct {
	URL  string
	Msg  string
	Kind error
	Err  error
}

// Error returns the user-facing message. The cause is left out on purpose:
// SDK errors carry request IDs and wire details that mean nothing to a
// scientist; log Err separately when needed.
func (e *Error) Error() string { return e.Msg }

// Unwrap exposes both the sentinel and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// newError builds an *Error whose message starts with "cannot fetch <url>".
func newError(kind error, display, detail string, cause error) *Error {
	return &Error{
		URL:  display,
		Msg:  "cannot fetch " + display + ": " + detail,
		Kind: kind,
		Err:  cause,
	}
}

// sensitiveKey reports whether a query key or JSON member name looks like
// it carries a secret.
func sensitiveKey(k string) bool {
	lk := strings.ToLower(k)
	for _, s := range sensitiveParams {
		if strings.Contains(lk, s) {
			return true
		}
	}
	return false
}

// urlInText finds URLs in free text; a colon or full stop after one
// belongs to the sentence, and markup around one is not part of it.
var urlInText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>,;)]*[^\s"'<>,;):.]`)

// jsonMember finds "name": "string value" members of JSON text.
var jsonMember = regexp.MustCompile(`("([^"\\]{1,64})"\s*:\s*)"(?:[^"\\]|\\.)*"`)

// RedactText returns free text (an error message, the first bytes of a
// server's answer) with every URL in it redacted and the string values of
// secret-looking JSON members replaced, so it can be quoted in messages.
func RedactText(s string) string {
	s = urlInText.ReplaceAllStringFunc(s, Redact)
	return jsonMember.ReplaceAllStringFunc(s, func(m string) string {
		sub := jsonMember.FindStringSubmatch(m)
		if !sensitiveKey(sub[2]) {
			return m
		}
		return sub[1] + `"REDACTED"`
	})
}

// sensitiveParams are query keys that carry secrets in presigned or
// token-bearing URLs (S3 and GCS signed URLs, SAS tokens, API keys).
var sensitiveParams = []string{"signature", "credential", "token", "key", "sig", "secret", "password", "auth"}

// Redact returns rawURL without user info and with secret-looking query
// values replaced, so it can be shown in messages, logs and dataset metadata.
// Strings that do not parse as URLs are returned as-is when they contain no
// "@" and are replaced by a placeholder otherwise.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		if strings.Contains(rawURL, "@") {
			return "<unparsable URL>"
		}
		return rawURL
	}
	u.User = nil
	if u.RawQuery == "" {
		return u.String()
	}
	q := u.Query()
	for k := range q {
		if sensitiveKey(k) {
			q[k] = []string{"REDACTED"}
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
