package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestFetcher_FetchS3(t *testing.T) {
	t.Parallel()
	koi := MustDataFile(t, "koi_cumulative_2025.csv")
	koiInfo, err := os.Stat(koi)
	if err != nil {
		t.Fatal(err)
	}
	srv := MustFakeS3(t)
	srv.MustPutFile(t, "exohunter", "kepler/koi_cumulative_2025.csv", koi, "text/csv")
	srv.MustPutString(t, "exohunter", "tess/toi 2025#1.csv", "toi,tid\n1000.01,50365310\n")
	srv.MustPutString(t, "exohunter", "broken.csv", "never served")
	srv.failKeys["exohunter/broken.csv"] = true

	good := credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, "")
	tests := []struct {
		name     string
		url      string
		creds    aws.CredentialsProvider
		anon     bool
		endpoint string // default: the fake server
		maxBytes int64
		wantInfo Info
		wantSHA  string // of the whole file at path, when set
		wantErr  error
		wantMsg  string // a fragment of the message; {endpoint} is the endpoint
	}{
		{
			name:     "success",
			url:      "s3://exohunter/kepler/koi_cumulative_2025.csv",
			creds:    good,
			wantInfo: Info{Name: "koi_cumulative_2025.csv", Size: koiInfo.Size(), ContentType: "text/csv"},
			wantSHA:  MustSHA256File(t, koi),
		},
		{
			name:     "key_with_space_and_hash",
			url:      "s3://exohunter/tess/toi 2025#1.csv",
			creds:    good,
			wantInfo: Info{Name: "toi 2025#1.csv", Size: 25, ContentType: "text/csv"},
		},
		{name: "ErrObjectNotFound", url: "s3://exohunter/kepler/missing.csv", creds: good, wantErr: ErrObjectNotFound},
		{name: "ErrBucketNotFound", url: "s3://no-such-bucket/kepler/koi.csv", creds: good, wantErr: ErrBucketNotFound},
		{
			name:    "ErrAccessDenied/wrong_secret",
			url:     "s3://exohunter/kepler/koi_cumulative_2025.csv",
			creds:   credentials.NewStaticCredentialsProvider(testAccessKey, "not-the-secret", ""),
			wantErr: ErrAccessDenied,
		},
		{
			name:    "ErrAccessDenied/unknown_key",
			url:     "s3://exohunter/kepler/koi_cumulative_2025.csv",
			creds:   credentials.NewStaticCredentialsProvider("AKIDUNKNOWN", testSecretKey, ""),
			wantErr: ErrAccessDenied,
		},
		{name: "ErrAccessDenied/anonymous", url: "s3://exohunter/kepler/koi_cumulative_2025.csv", anon: true, wantErr: ErrAccessDenied},
		{name: "ErrTooLarge", url: "s3://exohunter/kepler/koi_cumulative_2025.csv", creds: good, maxBytes: 1000, wantErr: ErrTooLarge},
		{name: "ErrUpstream/500", url: "s3://exohunter/broken.csv", creds: good, wantErr: ErrUpstream},
		{name: "ErrUpstream/connection_refused", url: "s3://exohunter/kepler/koi_cumulative_2025.csv", creds: good, endpoint: closedURL(t), wantErr: ErrUpstream,
			wantMsg: "cannot fetch s3://exohunter/kepler/koi_cumulative_2025.csv: the S3 endpoint {endpoint} cannot be reached from this server: connection refused"},
		{name: "ErrUnsupportedScheme", url: "ftp://exohunter/kepler/koi.csv", creds: good, wantErr: ErrUnsupportedScheme},
		{name: "ErrBadURL/no_key", url: "s3://exohunter/", creds: good, wantErr: ErrBadURL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			endpoint := tc.endpoint
			if endpoint == "" {
				endpoint = srv.URL
			}
			f := MustNewFetcher(t, Config{
				S3Endpoint: endpoint, S3Region: testRegion, S3Credentials: tc.creds, S3Anonymous: tc.anon,
				MaxBytes: tc.maxBytes,
			})
			w := newHashWriter()
			info, err := f.Fetch(context.Background(), tc.url, w)
			checkErr(t, err, tc.wantErr, testSecretKey, "not-the-secret")
			if want := strings.ReplaceAll(tc.wantMsg, "{endpoint}", endpoint); err != nil && !strings.Contains(err.Error(), want) {
				t.Errorf("message %q does not contain %q", err, want)
			}
			if tc.anon && (err == nil || !strings.Contains(err.Error(), "EXOHUNTER_S3_ANONYMOUS=true")) {
				t.Errorf("an anonymous request asked for on purpose: %v, want the message to name EXOHUNTER_S3_ANONYMOUS", err)
			}
			if tc.maxBytes > 0 && w.n > tc.maxBytes {
				t.Errorf("wrote %d bytes, over the %d limit", w.n, tc.maxBytes)
			}
			if tc.wantErr != nil {
				return
			}
			if diff := cmp.Diff(tc.wantInfo, info, cmpopts.IgnoreFields(Info{}, "ETag")); diff != "" {
				t.Errorf("Info (-want +got):\n%s", diff)
			}
			if info.ETag == "" {
				t.Error("ETag is empty")
			}
			if w.n != info.Size {
				t.Errorf("wrote %d bytes, Info.Size %d", w.n, info.Size)
			}
			if tc.wantSHA != "" && w.sum() != tc.wantSHA {
				t.Errorf("sha256 = %s, want %s", w.sum(), tc.wantSHA)
			}
		})
	}
}

// TestFetcher_FetchS3HeaderTimeout: the SDK retries a store that does
// not answer, so the time spent is several header timeouts; the message
// says how many attempts there were.
func TestFetcher_FetchS3HeaderTimeout(t *testing.T) {
	t.Parallel()
	srv := MustFakeS3(t)
	srv.MustPutString(t, "exohunter", "slow.csv", "kepoi_name\nK00001.01\n")
	srv.stallKeys["exohunter/slow.csv"] = true
	f := MustNewFetcher(t, Config{S3Endpoint: srv.URL, S3Region: testRegion, HeaderTimeout: 50 * time.Millisecond,
		S3Credentials: credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, "")})
	_, err := f.Fetch(context.Background(), "s3://exohunter/slow.csv", io.Discard)
	checkErr(t, err, ErrUpstream)
	attempts := srv.requests.Load()
	if want := fmt.Sprintf("answer 50ms, %d attempts", attempts); attempts < 2 || !strings.Contains(err.Error(), want) {
		t.Errorf("message %q does not say %q (the store got %d requests)", err, want, attempts)
	}
}

// TestFetcher_FetchS3/GCSCompat proves the GCS signing workaround: the
// request still carries Accept-Encoding, the signature no longer covers it,
// and a real SigV4 check accepts it.
func TestFetcher_FetchS3GCSCompat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		compat     bool
		wantSigned bool
	}{
		{name: "default_signs_accept_encoding", compat: false, wantSigned: true},
		{name: "gcs_leaves_accept_encoding_unsigned", compat: true, wantSigned: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := MustFakeS3(t)
			srv.MustPutString(t, "exohunter", "a.csv", "kepoi_name\nK00001.01\n")
			f := MustNewFetcher(t, Config{
				S3Endpoint: srv.URL, S3Region: testRegion,
				S3Credentials: credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""),
			})
			f.gcsCompat = tc.compat
			var buf bytes.Buffer
			if _, err := f.Fetch(context.Background(), "s3://exohunter/a.csv", &buf); err != nil {
				t.Fatal(err)
			}
			signed, ae := srv.check.signed()
			if ae == "" {
				t.Error("request carried no Accept-Encoding header")
			}
			got := strings.Contains(";"+signed+";", ";accept-encoding;")
			if got != tc.wantSigned {
				t.Errorf("accept-encoding signed = %v, want %v (SignedHeaders=%s)", got, tc.wantSigned, signed)
			}
		})
	}
}

func TestIsGCSEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		endpoint string
		want     bool
	}{
		{name: "global", endpoint: "https://storage.googleapis.com", want: true},
		{name: "regional", endpoint: "https://storage.us-east1.rep.googleapis.com", want: true},
		{name: "minio", endpoint: "http://127.0.0.1:9000", want: false},
		{name: "other_google_api", endpoint: "https://bigquery.googleapis.com", want: false},
		{name: "lookalike", endpoint: "https://storage.googleapis.com.evil.example", want: false},
		{name: "empty", endpoint: "", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := isGCSEndpoint(tc.endpoint); got != tc.want {
				t.Errorf("isGCSEndpoint(%q) = %v, want %v", tc.endpoint, got, tc.want)
			}
		})
	}
}

func TestNoCredentials(t *testing.T) {
	t.Parallel()
	// note: the chain's last step, an EC2 instance role, with IMDS off as
	// AWS_EC2_METADATA_DISABLED=true makes it: it finds nothing at once.
	imdsOnly := aws.NewCredentialsCache(ec2rolecreds.New(func(o *ec2rolecreds.Options) {
		o.Client = imds.New(imds.Options{ClientEnableState: imds.ClientDisabled})
	}))
	failing := aws.NewCredentialsCache(processcreds.NewProvider("/bin/false"))
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name     string
		ctx      context.Context
		p        aws.CredentialsProvider
		wantAnon bool
		wantErr  bool
	}{
		{name: "chain_finds_keys", ctx: context.Background(), p: credentials.NewStaticCredentialsProvider("a", "b", "")},
		{name: "chain_finds_nothing", ctx: context.Background(), p: imdsOnly, wantAnon: true},
		{name: "no_provider", ctx: context.Background(), wantAnon: true},
		{name: "configured_source_fails", ctx: context.Background(), p: failing, wantErr: true},
		{name: "caller_cancelled", ctx: cancelled, p: imdsOnly, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			anon, err := noCredentials(tc.ctx, tc.p)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want an error %v", err, tc.wantErr)
			}
			var ce *credentialsError
			if tc.name == "configured_source_fails" && !errors.As(err, &ce) {
				t.Errorf("err = %T %v, want a *credentialsError", err, err)
			}
			if tc.name == "caller_cancelled" && !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			if anon != tc.wantAnon {
				t.Errorf("anonymous = %v, want %v", anon, tc.wantAnon)
			}
		})
	}
}

func TestProviderReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "process_output_hidden", err: errors.New(`parse failed of process output: {"AccessKeyId":"AKID","SecretAccessKey":"s3cr3t", error: bad`),
			want: "parse failed of process output: (not shown)"},
		{name: "url_redacted", err: errors.New("failed to load credentials, https://creds.local/v1?token=t0k&x=1: connection refused"),
			want: "failed to load credentials, https://creds.local/v1?token=REDACTED&x=1: connection refused"},
		{name: "long_cut", err: errors.New(strings.Repeat("x", 400)), want: strings.Repeat("x", 300) + "…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := providerReason(tc.err); got != tc.want {
				t.Errorf("providerReason = %q, want %q", got, tc.want)
			}
		})
	}
}
