package remote

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
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
	lk := strings.ToLower(strings.TrimSpace(k))
	for _, s := range sensitiveParams {
		if strings.Contains(lk, s) {
			return true
		}
	}
	return slices.Contains(sensitiveNames, lk)
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

// sensitiveParams are parts of query keys (and JSON member names) that
// carry secrets: S3 and GCS signed URLs, SAS tokens, API keys, passwords
// (pass, pwd) and session ids (session, PHPSESSID, JSESSIONID).
var sensitiveParams = []string{"signature", "credential", "token", "key", "sig", "secret", "pass", "pwd", "auth", "sess", "cookie", "jwt"}

// sensitiveNames are whole keys that carry secrets but are too short to
// look for inside other keys.
var sensitiveNames = []string{"sid", "code", "pin", "otp"}

// Redact returns rawURL without user info, without a fragment (never
// sent, and where OAuth puts tokens) and with secret-looking query values
// replaced, so it can be shown in messages, logs and dataset metadata.
// s3:// and gs:// URLs keep their keys literally ('#' and '%' are part of
// an object key) and get only the query-like part after a '?' redacted.
// Strings that do not parse as URLs get the same treatment by hand.
func Redact(rawURL string) string {
	lower := strings.ToLower(rawURL)
	if strings.HasPrefix(lower, "s3://") || strings.HasPrefix(lower, "gs://") {
		return redactByHand(rawURL, false)
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Opaque != "" {
		return redactByHand(rawURL, true)
	}
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	u.RawQuery = redactQuery(u.RawQuery)
	return u.String()
}

// redactByHand is Redact for text that url.Parse does not take as written:
// user info before the host is dropped, the fragment too when dropFragment,
// and the query is redacted.
func redactByHand(s string, dropFragment bool) string {
	if i := strings.IndexByte(s, '#'); dropFragment && i >= 0 {
		s = s[:i]
	}
	base, query, hasQuery := strings.Cut(s, "?")
	start := 0
	if i := strings.Index(base, "://"); i >= 0 {
		start = i + 3
	}
	end := len(base)
	if j := strings.IndexByte(base[start:], '/'); j >= 0 {
		end = start + j
	}
	if at := strings.LastIndexByte(base[start:end], '@'); at >= 0 {
		base = base[:start] + base[start+at+1:]
	}
	if !hasQuery {
		return base
	}
	return base + "?" + redactQuery(query)
}

// redactQuery replaces the values of secret-looking keys in a raw query,
// keeping the order and the encoding of everything else as written.
func redactQuery(q string) string {
	if q == "" {
		return q
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if sensitiveKey(name) {
			parts[i] = k + "=REDACTED"
		}
	}
	return strings.Join(parts, "&")
}
