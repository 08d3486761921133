package remote

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
	"unicode"
)

// location is a parsed fetch target.
type location struct {
	scheme  string   // "s3", "gs", "https" or "http"
	bucket  string   // s3 and gs only
	key     string   // s3 and gs only, taken literally (no percent-decoding)
	u       *url.URL // http and https only
	display string   // the URL without credentials, for messages
	// service names a built-in service behind an http(s) location, such
	// as the NASA archive, for messages; "" for an address a caller wrote.
	service string
}

// bucketPattern is lenient on purpose: it accepts AWS, GCS and MinIO names
// (dots, underscores, legacy upper case) and only rules out what would break
// the request path, such as "..", slashes or spaces.
var bucketPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,221}$`)

// IsURL reports whether s is written as a URL ("scheme://..."), as opposed
// to a local path. The engine routes URLs to Fetch, which then rejects
// unsupported schemes with a clear message instead of "file not found".
func IsURL(s string) bool {
	i := strings.Index(s, "://")
	if i <= 0 {
		return false
	}
	for j, r := range s[:i] {
		letter := ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
		other := j > 0 && (('0' <= r && r <= '9') || r == '+' || r == '-' || r == '.')
		if !letter && !other {
			return false
		}
	}
	return true
}

// parseLocation splits rawURL into a location or returns ErrBadURL or
// ErrUnsupportedScheme.
func parseLocation(rawURL string) (location, error) {
	raw := strings.TrimSpace(rawURL)
	if hasControl(raw) {
		return location{}, newError(ErrBadURL, Redact(strings.Map(dropControl, raw)), "the URL contains control characters", nil)
	}
	if !IsURL(raw) {
		return location{}, newError(ErrBadURL, Redact(raw), `this is not a URL; write s3://bucket/key, gs://bucket/key or https://host/path`, nil)
	}
	scheme := strings.ToLower(raw[:strings.Index(raw, "://")])
	switch scheme {
	case "s3", "gs":
		return parseBucketURL(scheme, raw[len(scheme)+3:])
	case "https", "http":
		return parseHTTPURL(raw)
	}
	return location{}, newError(ErrUnsupportedScheme, Redact(raw),
		fmt.Sprintf("the %q scheme is not supported; use s3://, gs://, https:// or http:// (local files are ingested by path)", scheme), nil)
}

// parseBucketURL parses the part of s3:// or gs:// after the scheme. The key
// is kept literally, as the aws CLI and gsutil do, so "a%20b.csv" names an
// object whose key contains a percent sign.
func parseBucketURL(scheme, rest string) (location, error) {
	bucket, key, _ := strings.Cut(rest, "/")
	// note: Redact drops user info and redacts a signed URL's query pasted
	// after the key (gs://b/k?x-goog-signature=…), which S3 and GCS would
	// take as part of the key but a message must not echo.
	loc := location{scheme: scheme, bucket: bucket, key: key, display: Redact(scheme + "://" + rest)}
	if strings.Contains(bucket, "@") {
		// note: credentials never belong in a bucket URL.
		return loc, newError(ErrBadURL, loc.display, "credentials cannot be written into an "+scheme+":// URL; use the AWS environment variables or shared config", nil)
	}
	switch {
	case bucket == "":
		return loc, newError(ErrBadURL, loc.display, "the URL has no bucket name; write "+scheme+"://bucket/path/to/file.csv", nil)
	case !bucketPattern.MatchString(bucket):
		return loc, newError(ErrBadURL, loc.display, fmt.Sprintf("%q is not a valid bucket name", bucket), nil)
	case key == "":
		return loc, newError(ErrBadURL, loc.display, "the URL names a bucket but no object; write "+scheme+"://"+bucket+"/path/to/file.csv", nil)
	case strings.HasSuffix(key, "/"):
		return loc, newError(ErrBadURL, loc.display, "the URL names a folder, not a file; add the file name", nil)
	case scheme == "gs" && hasDotSegment(key):
		// NB: gs:// becomes an HTTPS path, where "." and ".." segments could
		// be normalized into another bucket by a proxy.
		return loc, newError(ErrBadURL, loc.display, `"." and ".." path segments are not supported in gs:// object names`, nil)
	}
	return loc, nil
}

// parseHTTPURL parses an http or https URL.
func parseHTTPURL(raw string) (location, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return location{}, newError(ErrBadURL, Redact(raw), "the URL is malformed", err)
	}
	loc := location{scheme: strings.ToLower(u.Scheme), u: u, display: Redact(raw)}
	if u.Host == "" || u.Hostname() == "" {
		return loc, newError(ErrBadURL, loc.display, "the URL has no host name", nil)
	}
	u.Fragment, u.RawFragment = "", ""
	return loc, nil
}

// fileName derives a display name from an object key or URL path.
func fileName(p string) string {
	name := path.Base(p)
	if name == "." || name == "/" || name == "" {
		return "download"
	}
	return name
}

// hasDotSegment reports whether a slash-separated key has "." or ".." parts.
func hasDotSegment(key string) bool {
	for _, seg := range strings.Split(key, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// hasControl reports whether s contains a Unicode control character.
func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// dropControl is a strings.Map function that deletes control characters.
func dropControl(r rune) rune {
	if unicode.IsControl(r) {
		return -1
	}
	return r
}
