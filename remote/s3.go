package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
)

// credentialProbeTimeout bounds the one-time search of the AWS credential
// chain; on a machine outside AWS the IMDS step can otherwise hang
// (AWS_EC2_METADATA_DISABLED=true, EXOHUNTER_S3_ANONYMOUS=true or an
// endpoint outside AWS skip it).
const credentialProbeTimeout = 5 * time.Second

// openS3 starts a GetObject and returns its body.
func (f *Fetcher) openS3(ctx context.Context, loc location) (object, error) {
	client, anon, err := f.s3Client(ctx)
	var ce *credentialsError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return object{}, f.networkError(ctx, loc.display, f.service(loc), "", err)
	case errors.As(err, &ce):
		return object{}, newError(ErrAccessDenied, loc.display, ce.detail(), err)
	default:
		return object{}, newError(ErrAccessDenied, loc.display, "the AWS configuration could not be loaded: "+err.Error(), err)
	}
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(loc.bucket), Key: aws.String(loc.key)})
	if err != nil {
		return object{}, f.s3Error(ctx, loc, anon, err)
	}
	size := int64(-1)
	if out.ContentLength != nil {
		size = *out.ContentLength
	}
	return object{
		body:        out.Body,
		size:        size,
		name:        fileName(loc.key),
		contentType: aws.ToString(out.ContentType),
		etag:        aws.ToString(out.ETag),
	}, nil
}

// s3Client builds the S3 client once, on first use, because loading the
// AWS configuration reads files and may probe the network.
func (f *Fetcher) s3Client(ctx context.Context) (*s3.Client, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.s3 != nil {
		return f.s3, f.s3Anon, nil
	}
	c := f.cfg
	// NB: a BuildableClient, not f.http, because the SDK can only apply
	// AWS_CA_BUNDLE (custom root CAs, common behind corporate proxies) to it.
	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = c.ConnectTimeout }).
		WithTransportOptions(func(tr *http.Transport) {
			tr.TLSHandshakeTimeout = c.ConnectTimeout
			tr.ResponseHeaderTimeout = c.HeaderTimeout
		})
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		config.WithDefaultRegion(DefaultRegion),
		// note: the SDK otherwise prints warnings such as "falling back to
		// IMDSv1" on stderr outside EC2, which is noise next to the CLI's
		// own messages; failures still come back as errors.
		config.WithLogger(logging.Nop{}),
	}
	if c.S3Region != "" {
		opts = append(opts, config.WithRegion(c.S3Region))
	}
	anon := c.S3Anonymous && c.S3Credentials == nil
	switch {
	case c.S3Credentials != nil:
		opts = append(opts, config.WithCredentialsProvider(c.S3Credentials))
	case anon:
		opts = append(opts, config.WithCredentialsProvider(aws.AnonymousCredentials{}))
	}
	if c.S3Endpoint != "" && !isAWSEndpoint(c.S3Endpoint) {
		// note: IMDS (169.254.169.254) only hands out an EC2 instance
		// role's keys, which a store outside AWS does not accept, and off
		// EC2 asking it costs up to credentialProbeTimeout. With IMDS off
		// the chain's last step fails at once and, with nothing else
		// configured, requests go out anonymously.
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	if c.S3Endpoint != "" {
		// NB: S3-compatible stores (GCS, older MinIO) reject or mis-sign the
		// default integrity checksums that newer SDKs add to every request.
		opts = append(opts,
			config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
			config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, false, err
	}
	if c.S3Credentials == nil && !anon {
		anon, err = noCredentials(ctx, awsCfg.Credentials)
		var ce *credentialsError
		if errors.As(err, &ce) {
			ce.profile = sharedProfile(awsCfg)
		}
		if err != nil {
			// note: nothing is cached, so that the next fetch sees a
			// fixed profile or a fresh `aws sso login` without a restart.
			return nil, false, err
		}
		if anon {
			awsCfg.Credentials = aws.AnonymousCredentials{}
		}
	}
	if !anon {
		// note: credentials that fail later (an SSO session that expires
		// while the server runs) then say so, not "network error".
		awsCfg.Credentials = namedCredentials{awsCfg.Credentials, sharedProfile(awsCfg)}
	}
	f.s3 = s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.UsePathStyle = c.pathStyle()
		if c.S3Endpoint != "" {
			o.BaseEndpoint = aws.String(c.S3Endpoint)
		}
		if f.gcsCompat || isGCSEndpoint(c.S3Endpoint) {
			o.HTTPSignerV4 = gcsSigner{o.HTTPSignerV4}
		}
	})
	f.s3Anon = anon
	return f.s3, anon, nil
}

// s3Error turns a GetObject failure into an *Error with a message that says
// what to do about it.
func (f *Fetcher) s3Error(ctx context.Context, loc location, anon bool, err error) *Error {
	code, status := "", 0
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	where := ""
	if f.cfg.S3Endpoint != "" {
		where = " at " + Redact(f.cfg.S3Endpoint)
	}
	var se *v4.SigningError
	var ce *credentialsError
	switch {
	case errors.As(err, &ce):
		return newError(ErrAccessDenied, loc.display, ce.detail(), err)
	case code == "NoSuchBucket":
		return newError(ErrBucketNotFound, loc.display, fmt.Sprintf("the bucket %q does not exist%s", loc.bucket, where), err)
	case code == "NoSuchKey" || code == "NotFound" || status == http.StatusNotFound:
		return newError(ErrObjectNotFound, loc.display, fmt.Sprintf("the bucket %q has no object %q", loc.bucket, loc.key), err)
	case isCredentialCode(code):
		return newError(ErrAccessDenied, loc.display, fmt.Sprintf("the store rejected the credentials (%s); check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE", code), err)
	case code == "AccessDenied" || code == "AllAccessDisabled" || status == http.StatusForbidden || status == http.StatusUnauthorized:
		if anon && f.cfg.S3Anonymous {
			return newError(ErrAccessDenied, loc.display, "access denied: the request was anonymous (EXOHUNTER_S3_ANONYMOUS=true) and the object is not public; unset it and set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE", err)
		}
		if anon {
			return newError(ErrAccessDenied, loc.display, "access denied: no AWS credentials were found, so the request was anonymous and the object is not public; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE", err)
		}
		return newError(ErrAccessDenied, loc.display, "access denied: these credentials may not read this object (S3 also answers this way when the object is missing and the credentials may not list the bucket)", err)
	case code == "AuthorizationHeaderMalformed" || code == "PermanentRedirect" || status == http.StatusMovedPermanently:
		return newError(ErrBadURL, loc.display, "the bucket is in another region; set AWS_REGION to the bucket's region", err)
	case code == "InvalidBucketName":
		return newError(ErrBadURL, loc.display, fmt.Sprintf("%q is not a valid bucket name", loc.bucket), err)
	case status >= 500 || status == http.StatusTooManyRequests || code == "SlowDown":
		return newError(ErrUpstream, loc.display, fmt.Sprintf("the storage service%s answered %s; try again later", where, statusText(status, code)), err)
	case status >= 400:
		return newError(ErrBadURL, loc.display, fmt.Sprintf("the storage service%s refused the request (%s)", where, statusText(status, code)), err)
	case errors.As(err, &se):
		return newError(ErrAccessDenied, loc.display, "the AWS credentials could not be loaded; check AWS_PROFILE and the shared config files", err)
	}
	return f.networkError(ctx, loc.display, f.service(loc), "", err)
}

// isCredentialCode reports S3 error codes that mean the key itself is wrong,
// as opposed to a valid key without permission.
func isCredentialCode(code string) bool {
	switch code {
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired", "InvalidClientTokenId":
		return true
	}
	return false
}

// statusText renders "HTTP 503 Service Unavailable, SlowDown" as far as the
// parts are known.
func statusText(status int, code string) string {
	s := "an error"
	if status > 0 {
		s = fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
	}
	if code != "" {
		s += ", " + code
	}
	return s
}

// isGCSEndpoint reports whether endpoint is Google Cloud Storage's XML API
// (storage.googleapis.com and its regional storage.*.googleapis.com forms).
func isGCSEndpoint(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	return strings.HasPrefix(host, "storage.") && strings.HasSuffix(host, ".googleapis.com")
}

// gcsSigner leaves Accept-Encoding out of the SigV4 signature. Google's
// front end rewrites that header in transit, so a signature covering it
// never verifies (aws/aws-sdk-go-v2#1816). The header is still sent.
type gcsSigner struct{ inner s3.HTTPSignerV4 }

// SignHTTP implements s3.HTTPSignerV4.
func (s gcsSigner) SignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, t time.Time, optFns ...func(*v4.SignerOptions)) error {
	ae := r.Header.Values("Accept-Encoding")
	r.Header.Del("Accept-Encoding")
	err := s.inner.SignHTTP(ctx, creds, r, payloadHash, service, region, t, optFns...)
	if len(ae) > 0 {
		r.Header["Accept-Encoding"] = ae
	}
	return err
}
