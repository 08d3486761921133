package remote

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseLocation(t *testing.T) {
	t.Parallel()
	type want struct{ Scheme, Bucket, Key, Display string }
	tests := []struct {
		name    string
		raw     string
		want    want
		wantErr error
	}{
		{name: "s3", raw: "s3://exo/kepler/koi.csv", want: want{"s3", "exo", "kepler/koi.csv", "s3://exo/kepler/koi.csv"}},
		{name: "s3_upper_scheme_and_space", raw: " S3://exo/a b%20c.csv ", want: want{"s3", "exo", "a b%20c.csv", "s3://exo/a b%20c.csv"}},
		{name: "gs", raw: "gs://exo.bucket_1/k2/k2pandc.csv", want: want{"gs", "exo.bucket_1", "k2/k2pandc.csv", "gs://exo.bucket_1/k2/k2pandc.csv"}},
		{name: "https", raw: "https://host/a.csv?x=1", want: want{Scheme: "https", Display: "https://host/a.csv?x=1"}},
		{name: "http", raw: "HTTP://host:8080/a.csv", want: want{Scheme: "http", Display: "http://host:8080/a.csv"}},
		{name: "https_with_session", raw: "https://host/a.csv?sessionid=secret#frag", want: want{Scheme: "https", Display: "https://host/a.csv?sessionid=REDACTED"}},
		{name: "gs_signed_URL", raw: "gs://cat/k?x-goog-signature=secret", want: want{"gs", "cat", "k?x-goog-signature=secret", "gs://cat/k?x-goog-signature=REDACTED"}},
		{name: "ErrUnsupportedScheme/ftp", raw: "ftp://host/a.csv", wantErr: ErrUnsupportedScheme},
		{name: "ErrUnsupportedScheme/file", raw: "file:///tmp/a.csv", wantErr: ErrUnsupportedScheme},
		{name: "ErrUnsupportedScheme/azure", raw: "az://container/a.csv", wantErr: ErrUnsupportedScheme},
		{name: "ErrBadURL/local_path", raw: "/tmp/koi.csv", wantErr: ErrBadURL},
		{name: "ErrBadURL/no_bucket", raw: "s3:///koi.csv", wantErr: ErrBadURL},
		{name: "ErrBadURL/no_key", raw: "s3://exo", wantErr: ErrBadURL},
		{name: "ErrBadURL/folder", raw: "gs://exo/kepler/", wantErr: ErrBadURL},
		{name: "ErrBadURL/bucket_dots", raw: "s3://../etc/passwd", wantErr: ErrBadURL},
		{name: "ErrBadURL/credentials_in_bucket_URL", raw: "s3://AKID:secret@exo/a.csv", wantErr: ErrBadURL},
		{name: "ErrBadURL/control_character", raw: "https://host/a\x7f.csv", wantErr: ErrBadURL},
		{name: "ErrBadURL/no_host", raw: "http://:80/a.csv", wantErr: ErrBadURL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loc, err := parseLocation(tc.raw)
			checkErr(t, err, tc.wantErr, "secret")
			if tc.wantErr != nil {
				return
			}
			got := want{loc.scheme, loc.bucket, loc.key, loc.display}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("location (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{name: "s3", in: "s3://b/k", want: true},
		{name: "unsupported_still_a_URL", in: "ftp://h/p", want: true},
		{name: "scheme_with_plus", in: "git+ssh://h/p", want: true},
		{name: "relative_path", in: "data/koi.csv", want: false},
		{name: "absolute_path", in: "/data/koi.csv", want: false},
		{name: "windows_path", in: `C:\data\koi.csv`, want: false},
		{name: "path_containing_scheme", in: "dir/x://y", want: false},
		{name: "digit_first", in: "3s://b/k", want: false},
		{name: "empty_scheme", in: "://b/k", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsURL(tc.in); got != tc.want {
				t.Errorf("IsURL(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "plain", in: "https://host/a.csv", want: "https://host/a.csv"},
		{name: "user_info", in: "https://me:pw@host/a.csv", want: "https://host/a.csv"},
		{name: "presigned_S3", in: "https://b.s3.amazonaws.com/a.csv?X-Amz-Credential=AKID%2F1&X-Amz-Signature=ff&X-Amz-Expires=60",
			want: "https://b.s3.amazonaws.com/a.csv?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Expires=60"},
		{name: "token_param", in: "https://host/a.csv?access_token=t0k", want: "https://host/a.csv?access_token=REDACTED"},
		{name: "passwords_and_sessions", in: "https://host/a.csv?user=ann&pass=p1&pwd=p2&password=p3&passwd=p4&session=s1&sessionid=s2&PHPSESSID=s3&sid=s4&code=c1&release=2025",
			want: "https://host/a.csv?user=ann&pass=REDACTED&pwd=REDACTED&password=REDACTED&passwd=REDACTED&session=REDACTED&sessionid=REDACTED&PHPSESSID=REDACTED&sid=REDACTED&code=REDACTED&release=2025"},
		{name: "fragment_dropped", in: "https://host/a.csv#access_token=t0k", want: "https://host/a.csv"},
		{name: "unparsable_with_at", in: "https://me:p%zz@host/", want: "https://host/"},
		{name: "unparsable_with_password", in: "https://host/a%zz.csv?password=p5", want: "https://host/a%zz.csv?password=REDACTED"},
		{name: "gs_signed", in: "gs://cat/k?x-goog-signature=SIGZZ2&x-goog-date=1", want: "gs://cat/k?x-goog-signature=REDACTED&x-goog-date=1"},
		{name: "s3_key_kept_literally", in: "s3://exo/tess/toi 2025#1%zz.csv", want: "s3://exo/tess/toi 2025#1%zz.csv"},
		{name: "s3_user_info", in: "s3://AKID:secret@exo/a.csv", want: "s3://exo/a.csv"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Redact(tc.in)); diff != "" {
				t.Errorf("Redact (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRedactText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "url_in_sentence", in: `Get "https://h/a.csv?sig=abc": EOF`, want: `Get "https://h/a.csv?sig=REDACTED": EOF`},
		{name: "url_in_markup", in: `<Endpoint>https://u:pw@h/x</Endpoint>`, want: `<Endpoint>https://h/x</Endpoint>`},
		{name: "json_secret_member", in: `{"error":"denied","access_token": "t0k","n":"1"}`, want: `{"error":"denied","access_token": "REDACTED","n":"1"}`},
		{name: "plain", in: `{"error":"rate limited"}`, want: `{"error":"rate limited"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, RedactText(tc.in)); diff != "" {
				t.Errorf("RedactText (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr bool
	}{
		{name: "empty", env: map[string]string{}, want: Config{}},
		{
			name: "everything",
			env: map[string]string{
				"EXOHUNTER_S3_ENDPOINT": "http://127.0.0.1:9000", "AWS_REGION": "eu-west-1",
				"EXOHUNTER_S3_PATH_STYLE": "false", "EXOHUNTER_S3_ANONYMOUS": "true",
				"EXOHUNTER_GCS_URL": "http://gcs.local", "EXOHUNTER_NASA_TAP_URL": "http://tap.local",
				"EXOHUNTER_FETCH_MAX_BYTES": "1048576", "EXOHUNTER_FETCH_CONNECT_TIMEOUT": "3s",
				"EXOHUNTER_FETCH_HEADER_TIMEOUT": "5m", "EXOHUNTER_FETCH_IDLE_TIMEOUT": "90s",
			},
			want: Config{
				S3Endpoint: "http://127.0.0.1:9000", S3Region: "eu-west-1", S3Addressing: AddressingVirtual, S3Anonymous: true,
				GCSBaseURL: "http://gcs.local", NASABaseURL: "http://tap.local", MaxBytes: 1 << 20,
				ConnectTimeout: 3 * time.Second, HeaderTimeout: 5 * time.Minute, IdleTimeout: 90 * time.Second,
			},
		},
		{
			name: "aws_fallbacks",
			env:  map[string]string{"AWS_ENDPOINT_URL_S3": "https://storage.googleapis.com", "AWS_DEFAULT_REGION": "auto", "EXOHUNTER_S3_PATH_STYLE": "1"},
			want: Config{S3Endpoint: "https://storage.googleapis.com", S3Region: "auto", S3Addressing: AddressingPath},
		},
		{name: "bad_bool", env: map[string]string{"EXOHUNTER_S3_PATH_STYLE": "yes please"}, wantErr: true},
		{name: "bad_size", env: map[string]string{"EXOHUNTER_FETCH_MAX_BYTES": "2GB"}, wantErr: true},
		{name: "bad_duration", env: map[string]string{"EXOHUNTER_FETCH_IDLE_TIMEOUT": "-1s"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := configFrom(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfig_pathStyle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want bool
	}{
		{name: "aws_default_virtual", cfg: Config{}, want: false},
		{name: "endpoint_defaults_to_path", cfg: Config{S3Endpoint: "http://minio:9000"}, want: true},
		{name: "endpoint_forced_virtual", cfg: Config{S3Endpoint: "http://minio:9000", S3Addressing: AddressingVirtual}, want: false},
		{name: "aws_forced_path", cfg: Config{S3Addressing: AddressingPath}, want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cfg.pathStyle(); got != tc.want {
				t.Errorf("pathStyle() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{name: "zero_value", cfg: Config{}},
		{name: "relative_endpoint", cfg: Config{S3Endpoint: "minio:9000"}, wantErr: true},
		{name: "ftp_gcs", cfg: Config{GCSBaseURL: "ftp://x"}, wantErr: true},
		{name: "nasa_without_host", cfg: Config{NASABaseURL: "https://"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := New(tc.cfg)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil && f.Config().MaxBytes != DefaultMaxBytes {
				t.Errorf("MaxBytes = %d, want the default %d", f.Config().MaxBytes, DefaultMaxBytes)
			}
		})
	}
}
