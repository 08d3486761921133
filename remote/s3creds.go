package remote

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
)

// noCredentials reports whether requests must go out anonymously (enough
// for public buckets) because no credential source is configured: the
// standard chain then ends at the EC2 instance role (IMDS), and that found
// nothing. A source that is configured but fails (a credential_process
// that exits with an error, an expired SSO session, a web identity token
// file that is gone) is a *credentialsError instead: going out anonymously
// would hide the cause behind an "access denied" that blames missing
// credentials. It also fails when the caller's context ends, so that a
// cancelled first request does not pin the Fetcher to anonymous mode.
func noCredentials(ctx context.Context, p aws.CredentialsProvider) (bool, error) {
	if p == nil {
		return true, nil
	}
	pctx, cancel := context.WithTimeout(ctx, credentialProbeTimeout)
	defer cancel()
	_, err := p.Retrieve(pctx)
	switch {
	case err == nil:
		return false, nil
	case ctx.Err() != nil:
		return false, ctx.Err()
	case aws.IsCredentialsProvider(p, (*ec2rolecreds.Provider)(nil)):
		return true, nil
	}
	return false, &credentialsError{sources: providerSources(p), err: err}
}

// credentialsError is a configured credential source that failed.
type credentialsError struct {
	sources []aws.CredentialSource // the chain's breadcrumbs, as the SDK reports them
	profile string                 // the shared config profile in use
	err     error
}

func (e *credentialsError) Error() string { return "AWS credentials: " + e.err.Error() }
func (e *credentialsError) Unwrap() error { return e.err }

// namedCredentials marks its provider's failures as *credentialsError,
// which s3Error finds in a GetObject error.
type namedCredentials struct {
	p       aws.CredentialsProvider
	profile string
}

// Retrieve implements aws.CredentialsProvider.
func (n namedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := n.p.Retrieve(ctx)
	if err != nil && ctx.Err() == nil {
		return c, &credentialsError{sources: providerSources(n.p), profile: n.profile, err: err}
	}
	return c, err
}

// providerSources is the SDK's breadcrumb trail of where p came from.
func providerSources(p aws.CredentialsProvider) []aws.CredentialSource {
	if ps, ok := p.(aws.CredentialProviderSource); ok {
		return ps.ProviderSources()
	}
	return nil
}

// detail says which credentials failed, the provider's own reason
// (shortened, without URLs' secrets or a process's output), and what to do.
func (e *credentialsError) detail() string {
	has := func(want ...aws.CredentialSource) bool {
		return slices.ContainsFunc(e.sources, func(s aws.CredentialSource) bool { return slices.Contains(want, s) })
	}
	who, profile := "the AWS credentials", ""
	if e.profile != "" && has(aws.CredentialSourceProfile, aws.CredentialSourceProfileSourceProfile, aws.CredentialSourceProfileNamedProvider,
		aws.CredentialSourceProfileSTSWebIDToken, aws.CredentialSourceProfileSSO, aws.CredentialSourceProfileSSOLegacy, aws.CredentialSourceSSO,
		aws.CredentialSourceSSOLegacy, aws.CredentialSourceProfileProcess, aws.CredentialSourceProcess, aws.CredentialSourceProfileLogin, aws.CredentialSourceLogin) {
		who, profile = fmt.Sprintf("the AWS credentials of profile %q", e.profile), " --profile "+e.profile
	}
	fix := "Check AWS_PROFILE and the shared config files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE)"
	switch {
	case has(aws.CredentialSourceSSO, aws.CredentialSourceSSOLegacy, aws.CredentialSourceProfileSSO, aws.CredentialSourceProfileSSOLegacy):
		fix = "The SSO session may have expired: run `aws sso login" + profile + "`, then try again"
	case has(aws.CredentialSourceProcess, aws.CredentialSourceProfileProcess):
		fix = "The profile's credential_process command failed: run it by hand to see why"
	case has(aws.CredentialSourceLogin, aws.CredentialSourceProfileLogin):
		fix = "The login session may have expired: run `aws login" + profile + "`, then try again"
	case has(aws.CredentialSourceEnvVarsSTSWebIDToken, aws.CredentialSourceProfileSTSWebIDToken):
		fix = "Check the web identity token file and the role (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, or the profile's)"
	case has(aws.CredentialSourceHTTP):
		fix = "Check the container credentials endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or AWS_CONTAINER_CREDENTIALS_FULL_URI)"
	}
	return fmt.Sprintf("%s could not be loaded (%s), so nothing was requested. %s; or use other credentials, or set EXOHUNTER_S3_ANONYMOUS=true to read a public bucket without credentials",
		who, providerReason(e.err), fix)
}

// processOutput is where the SDK quotes a credential_process's output,
// which may hold the very keys it failed to parse.
var processOutput = regexp.MustCompile(`(?s)process output: .*`)

// providerReason is a credential provider's error as a message may quote
// it: no process output, URLs redacted, at most 300 characters.
func providerReason(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	s = processOutput.ReplaceAllString(s, "process output: (not shown)")
	s = RedactText(s)
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return s
}

// sharedProfile names the shared config profile the SDK read, "" if none.
func sharedProfile(cfg aws.Config) string {
	for _, src := range cfg.ConfigSources {
		if sc, ok := src.(config.SharedConfig); ok {
			return sc.Profile
		}
	}
	return ""
}

// isAWSEndpoint reports whether endpoint is AWS's own (a regional or VPC
// endpoint of S3), where an EC2 instance role's keys are valid.
func isAWSEndpoint(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	return strings.HasSuffix(host, ".amazonaws.com") || strings.HasSuffix(host, ".amazonaws.com.cn")
}
