package s3

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestWriteErrorDecodedBySDK: the SDK turns WriteError's body into its
// typed error or an APIError with the same code, message and request ID.
func TestWriteErrorDecodedBySDK(t *testing.T) {
	for _, tc := range []struct {
		status        int
		code, message string
		typed         func(error) bool
	}{
		{http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", func(err error) bool { var e *types.NoSuchKey; return errors.As(err, &e) }},
		{http.StatusBadRequest, "EntityTooLarge", "too big", nil},
		{http.StatusForbidden, "SignatureDoesNotMatch", "bad signature", nil},
		{http.StatusBadRequest, "InvalidRequest", "unsigned request", nil},
	} {
		t.Run(tc.code, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				WriteError(w, tc.status, tc.code, tc.message)
			}))
			defer srv.Close()
			c := s3.NewFromConfig(aws.Config{
				Region:       "us-east-1",
				Credentials:  credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
				BaseEndpoint: aws.String(srv.URL),
			}, func(o *s3.Options) { o.UsePathStyle = true; o.RetryMaxAttempts = 1 })
			_, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
			if err == nil {
				t.Fatal("no error")
			}
			if got := apiCode(err); got != tc.code {
				t.Errorf("APIError code %q, want %q (%v)", got, tc.code, err)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q lacks the message %q", err, tc.message)
			}
			if tc.typed != nil && !tc.typed(err) {
				t.Errorf("error %v is not the SDK's typed error", err)
			}
			if !strings.Contains(err.Error(), "RequestID: ") || strings.Contains(err.Error(), "RequestID: ,") {
				t.Errorf("error %q carries no request ID", err)
			}
		})
	}
	rec := httptest.NewRecorder()
	WriteError(rec, 404, "NoSuchBucket", `a <b> & "c"`)
	body := rec.Body.String()
	for _, want := range []string{`<?xml version="1.0" encoding="UTF-8"?>`, "<Error><Code>NoSuchBucket</Code>", "<Message>a &lt;b&gt; &amp; &#34;c&#34;</Message>", "<RequestId>" + rec.Header().Get("x-amz-request-id") + "</RequestId>"} {
		if !strings.Contains(body, want) {
			t.Errorf("WriteError body %q lacks %q", body, want)
		}
	}
	if rec.Code != 404 || rec.Header().Get("Content-Type") != "application/xml" {
		t.Errorf("status %d content type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}

func TestHostBucket(t *testing.T) {
	for _, tc := range []struct {
		host, bucket string
	}{
		{"bkt.localhost:4566", "bkt"},
		{"bkt.localhost", "bkt"},
		{"BKT.LOCALHOST:4566", "bkt"},
		{"bkt.s3.localhost:4566", "bkt"},
		{"bkt.s3.eu-west-1.localhost:4566", "bkt"},
		{"bkt.s3-eu-west-1.localhost", "bkt"},
		{"bkt.s3.us-gov-west-1.localhost", "bkt"},
		{"my.dotted.bucket.localhost:4566", "my.dotted.bucket"},
		{"my.dotted.bucket.s3.localhost:4566", "my.dotted.bucket"},
		{"bkt.s3.localhost.localstack.cloud:4566", "bkt"},
		{"bkt.localhost.localstack.cloud", "bkt"},
		{"bkt.localhost.:4566", "bkt"},
		{"localhost:4566", ""},
		{"localhost", ""},
		{"s3.localhost:4566", ""},
		{"s3.eu-west-1.localhost:4566", ""},
		{"s3-eu-west-1.localhost", ""},
		{"localhost.localstack.cloud:4566", ""},
		{"s3.localhost.localstack.cloud", ""},
		{"127.0.0.1:4566", ""},
		{"[::1]:4566", ""},
		{"bkt.example.com", ""},
		{"", ""},
	} {
		got, ok := HostBucket(tc.host)
		if got != tc.bucket || ok != (tc.bucket != "") {
			t.Errorf("HostBucket(%q) = %q, %v; want %q", tc.host, got, ok, tc.bucket)
		}
	}
}

func TestAWSChunkedReader(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		bad            bool
	}{
		{"signed", "5;chunk-signature=abc\r\nhello\r\n6;chunk-signature=def\r\n world\r\n0;chunk-signature=ghi\r\n\r\n", "hello world", false},
		{"unsigned with trailer", "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n", "hello", false},
		{"trailer without final empty line", "3\r\nabc\r\n0\r\nx-amz-checksum-crc32:xxx\r\n", "abc", false},
		{"empty object", "0\r\n\r\n", "", false},
		{"hex size", "a\r\n0123456789\r\n0\r\n\r\n", "0123456789", false},
		{"bad size", "zz\r\nhello\r\n0\r\n\r\n", "", true},
		{"missing CRLF after data", "5\r\nhelloXX0\r\n\r\n", "", true},
		{"truncated data", "10\r\nhello", "", true},
		{"no terminating chunk", "5\r\nhello\r\n", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := io.ReadAll(iotest.OneByteReader(newAWSChunkedReader(strings.NewReader(tc.in))))
			if tc.bad {
				if err == nil {
					t.Errorf("decoded %q without an error", got)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestSDKStreamingUpload: over HTTPS the SDK sends uploads aws-chunked
// with a trailing checksum (STREAMING-UNSIGNED-PAYLOAD-TRAILER), an
// unseekable body always so; the store keeps the decoded bytes.
func TestSDKStreamingUpload(t *testing.T) {
	ctx := context.Background()
	e, err := NewEmbedded(EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			mu.Lock()
			seen = append(seen, r.Header.Get("X-Amz-Content-Sha256")+" "+r.Header.Get("Content-Encoding")+" "+r.Header.Get("X-Amz-Trailer"))
			mu.Unlock()
		}
		e.ServeHTTP(w, r)
	}))
	srv.StartTLS()
	defer srv.Close()
	tr := srv.Client().Transport.(*http.Transport).Clone()
	addr := srv.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	tr.TLSClientConfig.ServerName = "example.com" // in httptest's certificate
	c := s3.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		BaseEndpoint: aws.String("https://localhost:4566"),
		HTTPClient:   &http.Client{Transport: tr},
	}, func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("stream")}); err != nil {
		t.Fatal(err)
	}
	want := strings.Repeat("-----BEGIN X509 CRL-----\n", 4000)
	for _, tc := range []struct {
		name string
		body io.Reader
	}{
		{"seekable", strings.NewReader(want)},
		{"unseekable", io.NopCloser(strings.NewReader(want))},
	} {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String("stream"), Key: aws.String(tc.name),
			Body: tc.body, ContentLength: aws.Int64(int64(len(want))),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		})
		if err != nil {
			t.Fatalf("%s PutObject over HTTPS: %v", tc.name, err)
		}
		got, err := e.GetObject(ctx, "stream", tc.name, "")
		if err != nil || string(got) != want {
			t.Fatalf("%s: stored %d bytes (%v), want %d", tc.name, len(got), err, len(want))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	streamed := false
	for _, s := range seen {
		streamed = streamed || strings.Contains(s, "aws-chunked")
	}
	if !streamed {
		t.Errorf("the SDK sent no aws-chunked upload (x-amz-content-sha256, content-encoding, x-amz-trailer: %q): the test no longer covers the decoder", seen)
	}
}
