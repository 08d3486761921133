package remote

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Defaults applied by New to zero-valued Config fields.
const (
	DefaultRegion         = "us-east-1"
	DefaultGCSBaseURL     = "https://storage.googleapis.com"
	DefaultNASABaseURL    = "https://exoplanetarchive.ipac.caltech.edu"
	DefaultConnectTimeout = 10 * time.Second
	// DefaultHeaderTimeout is generous because a TAP sync query runs on the
	// archive before the first header comes back.
	DefaultHeaderTimeout = 2 * time.Minute
	DefaultIdleTimeout   = time.Minute
	// DefaultMaxBytes matches the API's default upload limit (2 GiB).
	DefaultMaxBytes int64 = 2 << 30
)

// Addressing selects how the bucket name is placed in S3 request URLs.
type Addressing int

// Addressing modes. AddressingAuto uses path style when Config.S3Endpoint is
// set (MinIO, GCS interoperability and most S3-compatible stores need it) and
// virtual-hosted style against AWS itself.
const (
	AddressingAuto Addressing = iota
	AddressingPath
	AddressingVirtual
)

// Config configures a Fetcher. The zero value is usable: New fills in the
// defaults above.
type Config struct {
	// S3Endpoint is the base URL of an S3-compatible store, for example
	// http://127.0.0.1:9000 (MinIO) or https://storage.googleapis.com (GCS
	// interoperability with HMAC keys). Empty means AWS S3.
	S3Endpoint string
	// S3Region is the signing region. Empty means the SDK's own chain
	// (AWS_REGION, shared config), then DefaultRegion.
	S3Region string
	// S3Addressing chooses path-style or virtual-hosted bucket addressing.
	S3Addressing Addressing
	// S3Credentials overrides the standard AWS chain (environment, shared
	// config and credentials files, SSO, IMDS). Nil means: use the chain;
	// when nothing is configured (the chain ends at IMDS and that finds
	// nothing) requests go out anonymously, and when a configured source
	// fails (credential_process, SSO) the fetch fails and says why. IMDS
	// is not asked when S3Endpoint is outside AWS.
	S3Credentials aws.CredentialsProvider
	// S3Anonymous skips the credential chain and sends unsigned requests,
	// which is enough for public buckets.
	S3Anonymous bool

	// GCSBaseURL is where gs://bucket/key is fetched from, as
	// <GCSBaseURL>/bucket/key. Tests point it at a local server.
	GCSBaseURL string
	// NASABaseURL is the NASA Exoplanet Archive; the TAP sync endpoint is
	// <NASABaseURL>/TAP/sync.
	NASABaseURL string

	// ConnectTimeout bounds the TCP connect and the TLS handshake.
	ConnectTimeout time.Duration
	// HeaderTimeout bounds the wait for response headers after the request
	// is sent.
	HeaderTimeout time.Duration
	// IdleTimeout aborts a download that receives no bytes for this long.
	// There is no overall deadline on purpose: a large object may take a
	// long time on a slow link; callers bound the total with their context.
	IdleTimeout time.Duration
	// MaxBytes is the largest object Fetch or NASA accepts.
	MaxBytes int64

	// BlockPrivate refuses http:// and https:// URLs whose host is, or
	// resolves to, a loopback, private, link-local, shared or unspecified
	// address, at every connection (redirects and DNS answers included).
	// A server sets it so that a client cannot make it fetch from the
	// server's own network (SSRF). The endpoints configured above are the
	// operator's and stay trusted. Such fetches connect directly, without
	// HTTP(S)_PROXY, whose own address would be private.
	BlockPrivate bool
}

// ConfigFromEnv reads a Config from the environment:
//
//	EXOHUNTER_S3_ENDPOINT            S3-compatible endpoint (falls back to AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL)
//	AWS_REGION                       signing region (falls back to AWS_DEFAULT_REGION, then the SDK chain, then us-east-1)
//	EXOHUNTER_S3_PATH_STYLE          true|false (default: true when an endpoint is set)
//	EXOHUNTER_S3_ANONYMOUS           true|false (default false)
//	EXOHUNTER_GCS_URL                base URL for gs:// (default https://storage.googleapis.com)
//	EXOHUNTER_NASA_TAP_URL           NASA Exoplanet Archive base URL
//	EXOHUNTER_FETCH_MAX_BYTES        largest accepted object in bytes (default 2 GiB)
//	EXOHUNTER_FETCH_CONNECT_TIMEOUT  Go duration such as 10s
//	EXOHUNTER_FETCH_HEADER_TIMEOUT   Go duration such as 2m
//	EXOHUNTER_FETCH_IDLE_TIMEOUT     Go duration such as 1m
//
// AWS credentials are not read here: the SDK's standard chain reads
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE
// and the shared files when the first s3:// URL is fetched.
func ConfigFromEnv() (Config, error) {
	return configFrom(os.LookupEnv)
}

// configFrom is ConfigFromEnv over any lookup function, so tests need not
// mutate the process environment.
func configFrom(lookup func(string) (string, bool)) (Config, error) {
	get := func(names ...string) string {
		for _, n := range names {
			if v, ok := lookup(n); ok && strings.TrimSpace(v) != "" {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	c := Config{
		S3Endpoint:  get("EXOHUNTER_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
		S3Region:    get("AWS_REGION", "AWS_DEFAULT_REGION"),
		GCSBaseURL:  get("EXOHUNTER_GCS_URL"),
		NASABaseURL: get("EXOHUNTER_NASA_TAP_URL"),
	}
	var errs []string
	if v := get("EXOHUNTER_S3_PATH_STYLE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("EXOHUNTER_S3_PATH_STYLE=%q is not true or false", v))
		}
		c.S3Addressing = map[bool]Addressing{true: AddressingPath, false: AddressingVirtual}[b]
	}
	if v := get("EXOHUNTER_S3_ANONYMOUS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("EXOHUNTER_S3_ANONYMOUS=%q is not true or false", v))
		}
		c.S3Anonymous = b
	}
	if v := get("EXOHUNTER_FETCH_MAX_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Sprintf("EXOHUNTER_FETCH_MAX_BYTES=%q is not a positive number of bytes", v))
		}
		c.MaxBytes = n
	}
	for name, dst := range map[string]*time.Duration{
		"EXOHUNTER_FETCH_CONNECT_TIMEOUT": &c.ConnectTimeout,
		"EXOHUNTER_FETCH_HEADER_TIMEOUT":  &c.HeaderTimeout,
		"EXOHUNTER_FETCH_IDLE_TIMEOUT":    &c.IdleTimeout,
	} {
		if v := get(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				errs = append(errs, fmt.Sprintf("%s=%q is not a positive duration such as 30s", name, v))
			}
			*dst = d
		}
	}
	if len(errs) > 0 {
		// note: sorted so the message is stable despite map iteration order.
		slices.Sort(errs)
		return Config{}, fmt.Errorf("remote: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.GCSBaseURL == "" {
		c.GCSBaseURL = DefaultGCSBaseURL
	}
	if c.NASABaseURL == "" {
		c.NASABaseURL = DefaultNASABaseURL
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.HeaderTimeout <= 0 {
		c.HeaderTimeout = DefaultHeaderTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	c.GCSBaseURL = strings.TrimRight(c.GCSBaseURL, "/")
	c.NASABaseURL = strings.TrimRight(c.NASABaseURL, "/")
	c.S3Endpoint = strings.TrimRight(c.S3Endpoint, "/")
	return c
}

// pathStyle resolves AddressingAuto against the endpoint.
func (c Config) pathStyle() bool {
	switch c.S3Addressing {
	case AddressingPath:
		return true
	case AddressingVirtual:
		return false
	}
	return c.S3Endpoint != ""
}
