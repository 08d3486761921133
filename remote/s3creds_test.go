package remote

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeIMDS stands in for the EC2 instance metadata service: it counts the
// requests it gets and answers none of them usefully, as IMDS off EC2
// (when it answers at all).
type fakeIMDS struct {
	URL  string
	hits atomic.Int64
}

// MustFakeIMDS starts a fake IMDS for the test.
func MustFakeIMDS(tb testing.TB) *fakeIMDS {
	tb.Helper()
	m := &fakeIMDS{}
	srv := MustHTTPServer(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.hits.Add(1)
		http.NotFound(w, r)
	}))
	m.URL = srv.URL
	return m
}

// isolateAWSEnv gives the AWS SDK a process environment of the test's own:
// empty config and credentials files (config is written to the config
// file), no credential variables, and IMDS at imds, so that nothing of the
// machine's own AWS setup is read and nothing leaves it. It uses
// t.Setenv, so its tests cannot run in parallel.
func isolateAWSEnv(t *testing.T, imds, config string, env map[string]string) {
	t.Helper()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config")
	if err := os.WriteFile(cfgFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"AWS_CONFIG_FILE": cfgFile, "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ROLE_ARN": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds,
		"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_S3": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "",
	}
	for k, v := range env {
		vars[k] = v
	}
	for k, v := range vars {
		t.Setenv(k, v)
	}
}

// TestFetcher_S3CredentialChain: a credential source that is configured
// but fails (a credential_process that exits with an error, an SSO session
// whose token is gone) is reported as such, with what to do, and no
// request goes out anonymously; only when nothing is configured do
// requests go out anonymously. Against an explicit endpoint outside AWS,
// IMDS is never asked.
func TestFetcher_S3CredentialChain(t *testing.T) {
	srv := MustFakeS3(t)
	srv.MustPutString(t, "exohunter", "koi.csv", "kepoi_name\nK00001.01\n")
	tests := []struct {
		name       string
		config     string
		env        map[string]string
		wantErr    error
		wantMsg    []string
		notMsg     []string
		wantSentS3 bool // a GetObject reached the store
	}{
		{
			name:    "credential_process_fails",
			config:  "[profile broken]\ncredential_process = /bin/false\n",
			env:     map[string]string{"AWS_PROFILE": "broken"},
			wantErr: ErrAccessDenied,
			wantMsg: []string{`profile "broken"`, "credential_process", "exit status 1", "EXOHUNTER_S3_ANONYMOUS=true"},
			notMsg:  []string{"no AWS credentials were found", "anonymous and the object"},
		},
		{
			name: "sso_session_gone",
			config: "[profile lab]\nsso_start_url = https://lab.awsapps.com/start\nsso_region = us-east-1\n" +
				"sso_account_id = 123456789012\nsso_role_name = Reader\n",
			env:     map[string]string{"AWS_PROFILE": "lab", "HOME": t.TempDir()},
			wantErr: ErrAccessDenied,
			wantMsg: []string{`profile "lab"`, "aws sso login --profile lab"},
			notMsg:  []string{"no AWS credentials were found"},
		},
		{
			// the probe at the first fetch succeeds, the signing of the
			// request (the credentials expired) does not: as an SSO
			// session that ends while the server runs
			name:    "credentials_fail_later",
			config:  "[profile later]\ncredential_process = /bin/sh " + mustOnceScript(t) + "\n",
			env:     map[string]string{"AWS_PROFILE": "later"},
			wantErr: ErrAccessDenied,
			wantMsg: []string{`profile "later"`, "credential_process", "exit status 3"},
			notMsg:  []string{"network error"},
		},
		{
			name:       "nothing_configured",
			wantErr:    ErrAccessDenied,
			wantMsg:    []string{"no AWS credentials were found, so the request was anonymous"},
			wantSentS3: true,
		},
		{
			name:       "keys_in_profile",
			config:     "[profile keys]\naws_access_key_id = " + testAccessKey + "\naws_secret_access_key = " + testSecretKey + "\n",
			env:        map[string]string{"AWS_PROFILE": "keys"},
			wantSentS3: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			imds := MustFakeIMDS(t)
			isolateAWSEnv(t, imds.URL, tc.config, tc.env)
			before := srv.requests.Load()
			f := MustNewFetcher(t, Config{S3Endpoint: srv.URL, S3Region: testRegion})
			_, err := f.Fetch(context.Background(), "s3://exohunter/koi.csv", io.Discard)
			checkErr(t, err, tc.wantErr, testSecretKey)
			for _, want := range tc.wantMsg {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("message %v does not say %q", err, want)
				}
			}
			for _, not := range tc.notMsg {
				if err != nil && strings.Contains(err.Error(), not) {
					t.Errorf("message %q says %q", err, not)
				}
			}
			if sent := srv.requests.Load() > before; sent != tc.wantSentS3 {
				t.Errorf("a request reached the store: %v, want %v", sent, tc.wantSentS3)
			}
			if n := imds.hits.Load(); n != 0 {
				t.Errorf("IMDS got %d requests; with an endpoint outside AWS it must not be asked", n)
			}
		})
	}
}

// mustOnceScript writes a credential_process script that hands out keys
// that have already expired once, then fails with exit status 3.
func mustOnceScript(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	script := filepath.Join(dir, "creds.sh")
	body := "if [ -e " + dir + "/used ]; then exit 3; fi\ntouch " + dir + "/used\n" +
		`echo '{"Version":1,"AccessKeyId":"` + testAccessKey + `","SecretAccessKey":"` + testSecretKey + `","Expiration":"2000-01-01T00:00:00Z"}'` + "\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	return script
}

// TestFetcher_S3IMDS: looking for credentials on AWS itself asks IMDS (an
// EC2 instance role), which is what the fake IMDS proves it sees; an
// anonymous fetcher, AWS_EC2_METADATA_DISABLED=true and an endpoint
// outside AWS keep it out. Only the client set-up runs: nothing is sent
// to S3.
func TestFetcher_S3IMDS(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		env      map[string]string
		wantIMDS bool
	}{
		{name: "aws_chain_asks_imds", cfg: Config{}, wantIMDS: true},
		{name: "aws_endpoint_asks_imds", cfg: Config{S3Endpoint: "https://s3.eu-west-1.amazonaws.com"}, wantIMDS: true},
		{name: "anonymous", cfg: Config{S3Anonymous: true}},
		{name: "metadata_disabled", cfg: Config{}, env: map[string]string{"AWS_EC2_METADATA_DISABLED": "true"}},
		{name: "endpoint_outside_aws", cfg: Config{S3Endpoint: "http://127.0.0.1:9000"}},
		{name: "gcs_interoperability", cfg: Config{S3Endpoint: "https://storage.googleapis.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			imds := MustFakeIMDS(t)
			isolateAWSEnv(t, imds.URL, "", tc.env)
			f := MustNewFetcher(t, tc.cfg)
			_, anon, err := f.s3Client(context.Background())
			if err != nil || !anon {
				t.Fatalf("s3Client: anonymous %v, err %v; want anonymous without an error", anon, err)
			}
			if got := imds.hits.Load() > 0; got != tc.wantIMDS {
				t.Errorf("IMDS asked: %v, want %v", got, tc.wantIMDS)
			}
		})
	}
}
