package remote

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
)

// errorBodyLimit caps how much of an error response is read for its message.
const errorBodyLimit = 16 << 10

// openHTTP sends a GET for target (the URL itself, or the HTTPS form of a
// gs:// location) and returns the body of a 2xx answer.
func (f *Fetcher) openHTTP(ctx context.Context, client *http.Client, loc location, target string) (object, error) {
	resp, err := f.get(ctx, client, loc, target)
	if err != nil {
		return object{}, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return object{}, f.statusError(loc, resp)
	}
	name := dispositionName(resp.Header.Get("Content-Disposition"))
	if name == "" && loc.scheme == "gs" {
		name = fileName(loc.key)
	} else if name == "" {
		name = fileName(loc.u.Path)
	}
	return object{
		body:        resp.Body,
		size:        resp.ContentLength,
		name:        fileName(name),
		contentType: resp.Header.Get("Content-Type"),
		etag:        resp.Header.Get("ETag"),
	}, nil
}

// get sends one GET request with client (f.user for an address a caller
// named, f.http for a configured endpoint); the caller owns the response
// body.
func (f *Fetcher) get(ctx context.Context, client *http.Client, loc location, target string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, newError(ErrBadURL, loc.display, "the URL is malformed", err)
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := client.Do(req)
	var private *privateAddrError
	if errors.As(err, &private) {
		return nil, newError(ErrBadURL, loc.display, "the address "+private.ip.String()+" is on a private or local network, and this server fetches from public addresses only (its operator can allow it with EXOHUNTER_ALLOW_PRIVATE_URLS=true)", err)
	}
	if err != nil {
		return nil, f.networkError(ctx, loc.display, f.service(loc), "", err)
	}
	return resp, nil
}

// privateAddrError is refusePrivate's refusal.
type privateAddrError struct{ ip net.IP }

func (e *privateAddrError) Error() string { return "refused private address " + e.ip.String() }

// sharedNets are the non-public ranges net.IP has no predicate for:
// "this network" and carrier-grade NAT.
var sharedNets = []*net.IPNet{mustCIDR("0.0.0.0/8"), mustCIDR("100.64.0.0/10"),
	// note: benchmarking and reserved space, and IPv6 forms that carry an
	// IPv4 address a NAT64 or 6to4 gateway may turn into a private one.
	mustCIDR("198.18.0.0/15"), mustCIDR("240.0.0.0/4"), mustCIDR("64:ff9b::/96"), mustCIDR("64:ff9b:1::/48"), mustCIDR("2002::/16")}

func mustCIDR(s string) *net.IPNet {
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return n
}

// refusePrivate is a net.Dialer Control function: it runs on the address
// actually dialled, after DNS, so a public name that resolves (or is
// rebound) to an internal address is refused too.
func refusePrivate(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return fmt.Errorf("dial %s: not an IP address", address)
	}
	bad := ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified()
	for _, n := range sharedNets {
		bad = bad || n.Contains(ip)
	}
	if bad {
		return &privateAddrError{ip: ip}
	}
	return nil
}

// statusError turns a non-2xx answer into an *Error. For gs:// it reads the
// XML error code so that a missing bucket and a missing object get different
// messages, as they do for s3://.
func (f *Fetcher) statusError(loc location, resp *http.Response) *Error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit))
	code := xmlErrorCode(body)
	status := resp.StatusCode
	cause := fmt.Errorf("HTTP %d: %s", status, strings.TrimSpace(string(bytes.ToValidUTF8(body, nil))))
	st := statusText(status, code)
	gs := loc.scheme == "gs"
	switch {
	case gs && code == "NoSuchBucket":
		return newError(ErrBucketNotFound, loc.display, fmt.Sprintf("the bucket %q does not exist", loc.bucket), cause)
	case gs && (status == http.StatusNotFound || status == http.StatusGone):
		return newError(ErrObjectNotFound, loc.display, fmt.Sprintf("the bucket %q has no object %q", loc.bucket, loc.key), cause)
	case status == http.StatusNotFound || status == http.StatusGone:
		return newError(ErrObjectNotFound, loc.display, "there is no file at this address ("+st+")", cause)
	case gs && (status == http.StatusUnauthorized || status == http.StatusForbidden):
		return newError(ErrAccessDenied, loc.display, "the object is not public ("+st+"); gs:// reads public objects only, so for a private bucket use s3:// with GCS HMAC keys and EXOHUNTER_S3_ENDPOINT=https://storage.googleapis.com", cause)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return newError(ErrAccessDenied, loc.display, "the server refused access ("+st+")", cause)
	case status >= 500 || status == http.StatusTooManyRequests:
		return newError(ErrUpstream, loc.display, "the server answered "+st+"; try again later", cause)
	case status >= 400:
		return newError(ErrBadURL, loc.display, "the server refused the request ("+st+")", cause)
	}
	return newError(ErrUpstream, loc.display, "unexpected answer from the server ("+st+")", cause)
}

// xmlErrorCode extracts <Error><Code> from an S3- or GCS-style XML error
// body, or returns "".
func xmlErrorCode(body []byte) string {
	var e struct {
		XMLName xml.Name `xml:"Error"`
		Code    string   `xml:"Code"`
	}
	if xml.Unmarshal(body, &e) != nil {
		return ""
	}
	return strings.TrimSpace(e.Code)
}

// escapeKey percent-encodes each segment of an object key for a URL path,
// keeping the slashes, so a key such as "tess/toi 2025#1.csv" reaches the
// server unchanged.
func escapeKey(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
