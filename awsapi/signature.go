package awsapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// verifySignature checks r's SigV4 signature against secret by signing the
// same request again with the AWS SDK's own signer (a well-kept
// implementation of the canonical request, rather than a second one of
// ours) and comparing the signatures. Only the headers the client signed
// take part. The body is read and put back.
func verifySignature(r *http.Request, cred credential, secret string, maxBody int64) *authError {
	if cred.Presigned {
		return &authError{"SignatureDoesNotMatch", "presigned URLs are not accepted when aws_api.access_keys is set; sign the request in the Authorization header"}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	at, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return &authError{"IncompleteSignature", "the request has no valid X-Amz-Date header (YYYYMMDDTHHMMSSZ)"}
	}
	hash := r.Header.Get("X-Amz-Content-Sha256")
	if hash == "" {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			return &authError{"IncompleteSignature", "reading the request body: " + err.Error()}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(body)
		hash = hex.EncodeToString(sum[:])
	}
	clone := r.Clone(context.Background())
	clone.Header = http.Header{}
	for _, h := range cred.SignedHeaders {
		if h == "host" {
			continue
		}
		if v, ok := r.Header[http.CanonicalHeaderKey(h)]; ok {
			clone.Header[http.CanonicalHeaderKey(h)] = v
		}
	}
	if !slices.Contains(cred.SignedHeaders, "content-length") {
		clone.ContentLength = 0
	}
	if clone.URL.Host == "" {
		clone.URL.Host = r.Host
	}
	if clone.URL.Scheme == "" {
		clone.URL.Scheme = "http"
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) {
		// S3 signs the path as sent; the other services escape it again.
		o.DisableURIPathEscaping = cred.Service == serviceS3
	})
	creds := aws.Credentials{AccessKeyID: cred.AccessKeyID, SecretAccessKey: secret, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := signer.SignHTTP(context.Background(), creds, clone, hash, cred.Service, cred.Region, at); err != nil {
		return &authError{"IncompleteSignature", "the request cannot be signed again to check it: " + err.Error()}
	}
	_, want, _ := strings.Cut(clone.Header.Get("Authorization"), "Signature=")
	if subtle.ConstantTimeCompare([]byte(want), []byte(cred.Signature)) != 1 {
		return &authError{"SignatureDoesNotMatch", "the request signature we calculated does not match the signature you provided; check the secret access key of " + cred.AccessKeyID + " in aws_api.access_keys"}
	}
	return nil
}
