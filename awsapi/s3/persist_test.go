package s3

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestPersistence: buckets, versioning status, objects and their version
// IDs survive closing the store and opening it again on the same Dir; a
// version deleted for good takes its file with it.
func TestPersistence(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	ts := newTestServer(t, EmbeddedOptions{Dir: dir})
	c := sdkClient(t, ts, "http://localhost:"+ts.port(), false)
	b := aws.String("trust")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("plain.pem"), Body: strings.NewReader("unversioned")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b, VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, body := range []string{"first", "second", "third"} {
		out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("ca/bundle.pem"), Body: strings.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.VersionId))
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("ca/bundle.pem"), VersionId: aws.String(ids[2])}); err != nil {
		t.Fatal(err)
	}
	blobs, _ := os.ReadDir(filepath.Join(dir, "blobs"))
	if len(blobs) != 3 { // plain.pem, first, second
		t.Errorf("%d files under blobs after deleting a version, want 3", len(blobs))
	}
	ts.srv.Close()
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}

	ts2 := newTestServer(t, EmbeddedOptions{Dir: dir})
	c2 := sdkClient(t, ts2, "http://localhost:"+ts2.port(), true)
	gv, err := c2.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
	if err != nil || gv.Status != types.BucketVersioningStatusEnabled {
		t.Errorf("versioning after reopening: %v, %q", err, gv.Status)
	}
	for i, want := range []string{"first", "second"} {
		out, err := c2.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("ca/bundle.pem"), VersionId: aws.String(ids[i])})
		if err != nil {
			t.Fatalf("GetObject version %s after reopening: %v", ids[i], err)
		}
		if got := readBody(t, out); got != want {
			t.Errorf("version %s after reopening = %q, want %q", ids[i], got, want)
		}
	}
	if got, err := ts2.GetObject(ctx, "trust", "ca/bundle.pem", ""); err != nil || string(got) != "second" {
		t.Errorf("latest after reopening = %q, %v; want second", got, err)
	}
	if _, err := ts2.GetObject(ctx, "trust", "ca/bundle.pem", ids[2]); !errors.Is(err, ErrNoSuchVersion) {
		t.Errorf("the deleted version after reopening: %v, want ErrNoSuchVersion", err)
	}
	if got, err := ts2.GetObject(ctx, "trust", "plain.pem", "null"); err != nil || string(got) != "unversioned" {
		t.Errorf("plain.pem after reopening = %q, %v", got, err)
	}
	list, err := c2.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b})
	if err != nil || len(list.Contents) != 2 {
		t.Errorf("ListObjectsV2 after reopening: %v, %d objects, want 2", err, len(list.Contents))
	}
}

// TestMemoryStoreDoesNotPersist: with Dir "" a new store starts empty.
func TestMemoryStoreDoesNotPersist(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t, EmbeddedOptions{})
	c := sdkClient(t, ts, "http://localhost:"+ts.port(), true)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("mem1")}); err != nil {
		t.Fatal(err)
	}
	ts2 := newTestServer(t, EmbeddedOptions{})
	if _, err := ts2.GetObject(ctx, "mem1", "k", ""); !errors.Is(err, ErrNoSuchBucket) {
		t.Errorf("a second memory store sees the first one's bucket: %v", err)
	}
}

func TestOpenStoreErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewEmbedded(EmbeddedOptions{Dir: dir}); err == nil || !strings.Contains(err.Error(), "index.json") {
		t.Errorf("NewEmbedded on a damaged index: %v, want an error naming index.json", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte(`{"format":99}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewEmbedded(EmbeddedOptions{Dir: dir}); err == nil || !strings.Contains(err.Error(), "format 99") {
		t.Errorf("NewEmbedded on a future index format: %v", err)
	}
	if _, err := NewEmbedded(EmbeddedOptions{MaxObjectSize: -1}); err == nil {
		t.Error("NewEmbedded accepted a negative MaxObjectSize")
	}
}

// TestMaxObjectSize: a PUT above the limit gets S3's EntityTooLarge, from
// the SDK's point of view and on the wire before the body is sent.
func TestMaxObjectSize(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t, EmbeddedOptions{MaxObjectSize: 1000})
	c := sdkClient(t, ts, "http://localhost:"+ts.port(), true)
	b := aws.String("small")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("fits"), Body: strings.NewReader(strings.Repeat("x", 1000))}); err != nil {
		t.Fatalf("PutObject of exactly MaxObjectSize bytes: %v", err)
	}
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("big"), Body: strings.NewReader(strings.Repeat("x", 1001))})
	if apiCode(err) != "EntityTooLarge" {
		t.Fatalf("PutObject of MaxObjectSize+1 bytes: %v, want EntityTooLarge", err)
	}
	if _, err := ts.GetObject(ctx, "small", "big", ""); !errors.Is(err, ErrNoSuchKey) {
		t.Errorf("the refused object exists: %v", err)
	}

	// Raw: announce 1 GiB, send no body, and the answer still comes.
	conn, err := net.Dial("tcp", ts.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "PUT /small/huge HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n", 1<<30)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response to an oversized PUT before its body: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400", resp.StatusCode)
	}
	var body strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&body)
	if !strings.Contains(body.String(), "<Code>EntityTooLarge</Code>") {
		t.Errorf("body %q has no EntityTooLarge", body.String())
	}

	// The declared size of an aws-chunked upload counts, not its framing.
	conn2, err := net.Dial("tcp", ts.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	_ = conn2.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn2, "PUT /small/huge HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\nContent-Encoding: aws-chunked\r\nX-Amz-Content-Sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\nX-Amz-Decoded-Content-Length: 5000\r\n\r\n%s", strings.Repeat("z", 100))
	resp2, err := http.ReadResponse(bufio.NewReader(conn2), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusBadRequest {
		t.Errorf("aws-chunked upload declaring 5000 bytes: status %d, want 400 EntityTooLarge", resp2.StatusCode)
	}
}
