package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// RemoteOptions names an S3-compatible store albmtls reads objects from.
type RemoteOptions struct {
	Endpoint  string // e.g. http://127.0.0.1:9000 (MinIO); "" = AWS's own S3 endpoint for Region
	Region    string // "" = the default chain's region, else us-east-1
	PathStyle bool   // path-style URLs (MinIO and most non-AWS stores need them)
}

// Remote reads objects from an S3-compatible store through the AWS SDK for
// Go v2, with the SDK's default credential chain (AWS_ACCESS_KEY_ID…,
// AWS_PROFILE, SSO, IMDS).
type Remote struct {
	client   *s3.Client
	endpoint string
}

var _ Objects = (*Remote)(nil)

// NewRemote loads the default AWS configuration and builds the S3 client.
func NewRemote(ctx context.Context, opts RemoteOptions) (*Remote, error) {
	if opts.Endpoint != "" {
		u, err := url.Parse(opts.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("s3: the S3 endpoint %q is not an http:// or https:// URL with a host (e.g. http://127.0.0.1:9000)", opts.Endpoint)
		}
	}
	var loadOpts []func(*config.LoadOptions) error
	if opts.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(opts.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("s3: loading the AWS configuration for the S3 endpoint %q: %w (check AWS_PROFILE and ~/.aws/config)", opts.Endpoint, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		o.UsePathStyle = opts.PathStyle
		// Most S3-compatible stores (gofakes3, older MinIO) send no response
		// checksum; the SDK would print a line to stderr for each read, and
		// a library does not print.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	endpoint := opts.Endpoint
	if endpoint == "" {
		endpoint = "AWS S3 in " + cfg.Region
	}
	return &Remote{client: client, endpoint: endpoint}, nil
}

// GetObject reads an object (version "" is the latest), at most
// DefaultMaxObjectSize bytes.
func (r *Remote) GetObject(ctx context.Context, bucket, key, version string) ([]byte, error) {
	name := "s3://" + bucket + "/" + key
	if version != "" {
		name += " version " + version
	}
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if version != "" {
		in.VersionId = aws.String(version)
	}
	out, err := r.client.GetObject(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: %w", name, r.endpoint, remoteError(err))
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, DefaultMaxObjectSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s at %s: reading the object: %w", name, r.endpoint, err)
	}
	if int64(len(data)) > DefaultMaxObjectSize {
		return nil, fmt.Errorf("%s at %s: the object is larger than %d bytes, more than a trust store takes", name, r.endpoint, DefaultMaxObjectSize)
	}
	return data, nil
}

// remoteError adds the sentinel matching the SDK's error, keeping the SDK's
// error in the chain (errors.As still finds *types.NoSuchKey and the rest).
func remoteError(err error) error {
	var (
		nsb *types.NoSuchBucket
		nsk *types.NoSuchKey
		api smithy.APIError
	)
	code := ""
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	switch {
	case errors.As(err, &nsb) || code == "NoSuchBucket":
		return fmt.Errorf("%w: %w", ErrNoSuchBucket, err)
	case errors.As(err, &nsk) || code == "NoSuchKey":
		return fmt.Errorf("%w: %w", ErrNoSuchKey, err)
	case code == "NoSuchVersion":
		return fmt.Errorf("%w: %w", ErrNoSuchVersion, err)
	}
	return err
}
