// Package s3 is albmtls's S3: the embedded store that the AWS API endpoint
// serves (path-style and virtual-host style, object versions, optional
// persistence under a directory), and the reader of objects in any
// S3-compatible store (MinIO, LocalStack, real S3) through the AWS SDK for Go
// v2. Other services read objects through the Objects interface: ELBv2 takes
// its trust store CA bundles and CRLs from it.
//
// The S3 protocol itself (routing, XML bodies, errors, ListObjectsV2,
// multipart uploads, conditional requests, aws-chunked bodies) is
// github.com/johannesboyne/gofakes3; this package adds the storage (versions
// that survive a restart), the virtual-host names albmtls answers to, the
// object size limit, and the reading API for the other services.
package s3

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
)

// Objects is what other services read from S3 (trust store bundles and CRLs).
type Objects interface {
	// GetObject returns an object's bytes; version "" means the latest.
	// Errors wrap ErrNoSuchBucket, ErrNoSuchKey or ErrNoSuchVersion when that is the cause.
	GetObject(ctx context.Context, bucket, key, version string) ([]byte, error)
}

// The causes an Objects.GetObject error wraps (errors.Is).
var (
	ErrNoSuchBucket  = errors.New("the bucket does not exist")
	ErrNoSuchKey     = errors.New("the object does not exist")
	ErrNoSuchVersion = errors.New("the object version does not exist")
)

// DefaultMaxObjectSize is the object size limit when none is given: 64 MiB,
// above the largest CRL a trust store takes (alb.MaxRevocationFileSize,
// "Revocation list file size: 50 MB"), and the bound on what Remote reads.
const DefaultMaxObjectSize int64 = 64 << 20

// xmlError is S3's REST error body:
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#RESTErrorResponses
type xmlError struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId"`
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// WriteError writes an S3 error response: status, the x-amz-request-id
// header and the XML <Error> body with Code, Message and RequestId, the shape
// every AWS SDK decodes into its typed errors (types.NoSuchKey, …) or an
// APIError with that code.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	id := newRequestID()
	body, err := xml.Marshal(xmlError{Code: code, Message: message, RequestID: id, HostID: id})
	if err != nil { // cannot happen for strings; keep the status anyway
		body = nil
	}
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("x-amz-request-id", id)
	h.Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
}
