package remote

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// userAgent identifies ExoHunter to archives and stores, as the NASA
// Exoplanet Archive asks of scripted clients.
const userAgent = "ExoHunter (github.com/exohunter/exohunter)"

// Info describes a fetched object.
type Info struct {
	// Name is the file name taken from the object key, the URL path or the
	// server's Content-Disposition. It is for display only and must never
	// be used as a path.
	Name string
	// Size is the number of bytes written to w.
	Size int64
	// ContentType is the type the server reported, if any.
	ContentType string
	// ETag is the entity tag the server reported, if any, as sent.
	ETag string
}

// Fetcher downloads remote objects. It is safe for concurrent use; create
// one per process with New.
type Fetcher struct {
	cfg  Config
	http *http.Client
	// user fetches the http(s) URLs a caller names; with
	// Config.BlockPrivate it refuses private addresses.
	user *http.Client

	mu     sync.Mutex // guards s3 and s3Anon, built on the first s3:// fetch
	s3     *s3.Client
	s3Anon bool
	// gcsCompat forces the GCS signing workaround; tests set it to prove
	// that requests without a signed Accept-Encoding still verify.
	gcsCompat bool
}

// New returns a Fetcher for cfg, with defaults applied to zero fields. It
// fails when a configured base URL is not an absolute http(s) URL.
func New(cfg Config) (*Fetcher, error) {
	cfg = cfg.withDefaults()
	for name, v := range map[string]string{"S3 endpoint": cfg.S3Endpoint, "GCS base URL": cfg.GCSBaseURL, "NASA base URL": cfg.NASABaseURL} {
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("remote: the %s %q is not an absolute http:// or https:// URL", name, Redact(v))
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = cfg.ConnectTimeout
	tr.ResponseHeaderTimeout = cfg.HeaderTimeout
	// note: no http.Client.Timeout; it would cut off large downloads on slow
	// links. The idle timeout and the caller's context bound them instead.
	f := &Fetcher{cfg: cfg, http: &http.Client{Transport: tr, CheckRedirect: checkRedirect}}
	f.user = f.http
	if cfg.BlockPrivate {
		utr := tr.Clone()
		utr.Proxy = nil
		utr.DialContext = (&net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second, Control: refusePrivate}).DialContext
		f.user = &http.Client{Transport: utr, CheckRedirect: checkRedirect}
	}
	return f, nil
}

// Config returns the configuration in effect, defaults included.
func (f *Fetcher) Config() Config { return f.cfg }

// object is an opened remote body with its metadata.
type object struct {
	body        io.ReadCloser
	size        int64 // -1 when unknown
	name        string
	contentType string
	etag        string
}

// Fetch streams the object at rawURL into w and describes it. Supported
// URLs are s3://bucket/key, gs://bucket/key (public objects), https:// and
// http://; plain http is accepted for local stores and test servers and
// offers no integrity or privacy. No more than Config.MaxBytes bytes are ever
// written to w; on any error w may hold a partial object, which the caller
// must discard. An https:// answer sent with Content-Encoding: gzip is
// decoded in transit, and the limit counts decoded bytes, so a compressed
// response cannot expand past it.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string, w io.Writer) (Info, error) {
	loc, err := parseLocation(rawURL)
	if err != nil {
		return Info{}, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var obj object
	switch loc.scheme {
	case "s3":
		obj, err = f.openS3(ctx, loc)
	case "gs":
		obj, err = f.openHTTP(ctx, f.http, loc, f.cfg.GCSBaseURL+"/"+loc.bucket+"/"+escapeKey(loc.key))
	default:
		obj, err = f.openHTTP(ctx, f.user, loc, loc.u.String())
	}
	if err != nil {
		return Info{}, err
	}
	return f.transfer(ctx, cancel, loc.display, obj, w)
}

// transfer copies an opened object into w under the byte limit and the idle
// timeout, and closes its body.
func (f *Fetcher) transfer(ctx context.Context, cancel context.CancelCauseFunc, display string, obj object, w io.Writer) (Info, error) {
	defer obj.body.Close()
	if obj.size > f.cfg.MaxBytes {
		return Info{}, f.tooLarge(display, obj.size)
	}
	ir := newIdleReader(obj.body, f.cfg.IdleTimeout, cancel)
	defer ir.stop()
	n, err := copyBounded(w, ir, f.cfg.MaxBytes)
	var we writeError
	switch {
	case errors.Is(err, errOverLimit):
		return Info{}, f.tooLarge(display, -1)
	case errors.As(err, &we):
		return Info{}, fmt.Errorf("remote: writing %s: %w", display, we.err)
	case err != nil:
		return Info{}, f.networkError(ctx, display, "", fmt.Sprintf("the transfer broke off after %s", humanBytes(n)), err)
	case obj.size >= 0 && n != obj.size:
		return Info{}, newError(ErrUpstream, display, fmt.Sprintf("the transfer ended after %s of %s", humanBytes(n), humanBytes(obj.size)), nil)
	}
	return Info{Name: obj.name, Size: n, ContentType: obj.contentType, ETag: obj.etag}, nil
}

// tooLarge reports an object over the limit; size is -1 when the server did
// not announce it.
func (f *Fetcher) tooLarge(display string, size int64) *Error {
	detail := fmt.Sprintf("the file is larger than the %s limit", humanBytes(f.cfg.MaxBytes))
	if size >= 0 {
		detail = fmt.Sprintf("the file is %s, larger than the %s limit", humanBytes(size), humanBytes(f.cfg.MaxBytes))
	}
	return newError(ErrTooLarge, display, detail, nil)
}

// networkError classifies a failure without a usable HTTP answer: the
// caller's context ending, the idle timeout, a header timeout, or a network
// error. service names the configured service the request went to (see
// Fetcher.service), "" for an address the caller wrote; what says what was
// happening, such as "the transfer broke off".
func (f *Fetcher) networkError(ctx context.Context, display, service, what string, err error) *Error {
	prefix := ""
	if what != "" {
		prefix = what + ": "
	}
	cause := context.Cause(ctx)
	var ne net.Error
	switch {
	case errors.Is(cause, errStalled):
		return newError(ErrUpstream, display, fmt.Sprintf("%sno data arrived for %s", prefix, f.cfg.IdleTimeout), err)
	case errors.Is(cause, context.DeadlineExceeded):
		return newError(context.DeadlineExceeded, display, prefix+"the time allowed for the download ran out", err)
	case ctx.Err() != nil:
		return newError(context.Canceled, display, prefix+"the download was cancelled", err)
	case errors.As(err, &ne) && ne.Timeout():
		return newError(ErrUpstream, display, fmt.Sprintf("%sthe server did not answer in time (connect %s, answer %s%s)", prefix, f.cfg.ConnectTimeout, f.cfg.HeaderTimeout, attempts(err)), err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return newError(ErrUpstream, display, prefix+"the connection closed before the end of the file", err)
	}
	if reason := permanentFailure(err, strings.HasPrefix(display, "s3://")); reason != "" {
		// note: trying again will not mend these, so for an address the
		// caller wrote they are the request's (400); for a configured
		// service they are its operator's, and the request was fine.
		kind := ErrBadURL
		if service != "" {
			kind = ErrUpstream
		}
		return newError(kind, display, prefix+reason, err)
	}
	if reason := dialFailure(err); reason != "" && service != "" {
		// note: the caller did not write this address (the operator or
		// ExoHunter did), so a name that does not resolve is an outage
		// or a server offline, not a typo to fix in the request.
		return newError(ErrUpstream, display, prefix+service+" cannot be reached from this server: "+reason, err)
	}
	// note: a name that does not resolve is most often a typo in the
	// address, which trying again later will not mend.
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return newError(ErrBadURL, display, prefix+"there is no host named "+dns.Name+"; check the address", err)
	}
	return newError(ErrUpstream, display, prefix+"network error: "+shortCause(err), err)
}

// maxRedirects is as many redirects as net/http's default policy follows.
const maxRedirects = 10

// errRedirectLoop is checkRedirect's refusal of an eleventh redirect.
var errRedirectLoop = errors.New("too many redirects")

// redirectSchemeError is checkRedirect's refusal of a redirect to an
// address that is not http(s).
type redirectSchemeError struct{ target *url.URL }

func (e *redirectSchemeError) Error() string {
	return "refused a redirect to a " + e.target.Scheme + ":// address"
}

// checkRedirect is the clients' redirect policy: net/http's own (at most
// maxRedirects), and only to http and https, with errors of our own types
// so that networkError can name both refusals (the default policy's
// "stopped after 10 redirects" and the transport's "unsupported protocol
// scheme" read as network trouble).
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return errRedirectLoop
	}
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return &redirectSchemeError{target: req.URL}
	}
	return nil
}

// permanentFailure returns why a request failed for good, in a sentence
// with what to do, or "" for a failure that may pass: a redirect loop, a
// redirect to another scheme, or a certificate this machine does not
// accept. s3 says the request went to an S3 store, whose client also
// reads AWS_CA_BUNDLE.
func permanentFailure(err error, s3 bool) string {
	var rs *redirectSchemeError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var unknown x509.UnknownAuthorityError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.Is(err, errRedirectLoop):
		return fmt.Sprintf("the server redirected %d times without reaching a file (a redirect loop); open the address in a browser to see where it leads", maxRedirects)
	case errors.As(err, &rs) && (rs.target.Scheme == "s3" || rs.target.Scheme == "gs"):
		return "the server redirected to " + Redact(rs.target.String()) + ", which a web address cannot lead to; ingest that address itself"
	case errors.As(err, &rs):
		return "the server redirected to a " + rs.target.Scheme + ":// address, which ExoHunter does not follow; ask for the file's http(s) address"
	case errors.As(err, &host):
		return "the server's HTTPS certificate is for another host name (" + host.Error() + "); check the address"
	case errors.As(err, &invalid):
		return "the server's HTTPS certificate is not valid (" + invalid.Error() + "); its operator must renew or replace it"
	case errors.As(err, &verify) || errors.As(err, &unknown):
		bundle := "SSL_CERT_FILE"
		if s3 {
			bundle = "AWS_CA_BUNDLE (or SSL_CERT_FILE)"
		}
		why := unknown.Error()
		if verify != nil {
			why = verify.Err.Error()
		}
		return "the server's HTTPS certificate is not signed by an authority this machine trusts (" + why + "); if the server uses an authority of its own (self-signed, or a company's), start ExoHunter with " + bundle + " naming a PEM file that holds that authority's certificate"
	}
	return ""
}

// attempts says how many requests the AWS SDK made before giving up, as
// ", 3 attempts", or "" when it made one or the error is not the SDK's.
func attempts(err error) string {
	var max *retry.MaxAttemptsError
	if errors.As(err, &max) && max.Attempt > 1 {
		return fmt.Sprintf(", %d attempts", max.Attempt)
	}
	return ""
}

// service names the configured service behind loc for messages: the S3
// endpoint (or AWS S3), the GCS base URL, or the location's own service
// (the NASA archive); "" for an http(s) address the caller wrote.
func (f *Fetcher) service(loc location) string {
	switch {
	case loc.scheme == "s3" && f.cfg.S3Endpoint != "":
		return "the S3 endpoint " + Redact(f.cfg.S3Endpoint)
	case loc.scheme == "s3":
		return "AWS S3"
	case loc.scheme == "gs":
		return "Google Cloud Storage (" + Redact(f.cfg.GCSBaseURL) + ")"
	}
	return loc.service
}

// dialFailure returns why a connection could not be opened ("connection
// refused", "there is no host named …"), or "" when err is not a failure
// to connect.
func dialFailure(err error) string {
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return "there is no host named " + dns.Name + " (is this server offline, or its DNS misconfigured?)"
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" || op.Err == nil {
		return ""
	}
	var sc *os.SyscallError
	if errors.As(op.Err, &sc) {
		return sc.Err.Error()
	}
	return op.Err.Error()
}

// shortCause drops the request URL that *url.Error repeats (it may carry
// a signature in its query) and keeps the network reason.
func shortCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// dispositionName returns the file name from a Content-Disposition header.
func dispositionName(h string) string {
	if h == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(h)
	if err != nil {
		return ""
	}
	return params["filename"]
}

// humanBytes formats n with binary units for messages.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
