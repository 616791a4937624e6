package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// addressing is one way a client names the bucket: its endpoint, path style
// or not, and the Host the server must see for bucket "bkt1".
type addressing struct {
	name      string
	endpoint  string // %s = the port
	pathStyle bool
	wantHost  string // %s = the port
}

var addressings = []addressing{
	{"path style", "http://localhost:%s", true, "localhost:%s"},
	{"path style on 127.0.0.1", "http://127.0.0.1:%s", true, "127.0.0.1:%s"},
	{"virtual host BUCKET.localhost", "http://localhost:%s", false, "bkt1.localhost:%s"},
	{"virtual host BUCKET.s3.localhost", "http://s3.localhost:%s", false, "bkt1.s3.localhost:%s"},
	{"virtual host BUCKET.s3.REGION.localhost", "http://s3.eu-west-1.localhost:%s", false, "bkt1.s3.eu-west-1.localhost:%s"},
	{"virtual host localstack name", "http://s3.localhost.localstack.cloud:%s", false, "bkt1.s3.localhost.localstack.cloud:%s"},
}

func readBody(t *testing.T, out *s3.GetObjectOutput) string {
	t.Helper()
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("reading the object: %v", err)
	}
	return string(b)
}

func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// TestSDKOperations drives every basic operation with the AWS SDK for Go v2
// in each addressing style and checks the Host the server saw.
func TestSDKOperations(t *testing.T) {
	for _, a := range addressings {
		t.Run(a.name, func(t *testing.T) {
			ctx := context.Background()
			ts := newTestServer(t, EmbeddedOptions{})
			c := sdkClient(t, ts, fmt.Sprintf(a.endpoint, ts.port()), a.pathStyle)

			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt1")}); err != nil {
				t.Fatalf("CreateBucket: %v", err)
			}
			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt1")}); apiCode(err) != "BucketAlreadyExists" {
				t.Errorf("CreateBucket of an existing bucket: got %v, want BucketAlreadyExists", err)
			}
			if !slices.Contains(ts.seenHosts(), fmt.Sprintf(a.wantHost, ts.port())) {
				t.Errorf("the server never saw Host %q; it saw %q", fmt.Sprintf(a.wantHost, ts.port()), ts.seenHosts())
			}
			if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("bkt1")}); err != nil {
				t.Errorf("HeadBucket: %v", err)
			}

			keys := []string{"ca/bundle.pem", "crl/a.pem", "crl/b.pem", "dir/key with spaces+plus.pem"}
			for _, k := range keys {
				out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt1"), Key: aws.String(k), Body: strings.NewReader("body of " + k), ContentType: aws.String("application/x-pem-file")})
				if err != nil {
					t.Fatalf("PutObject %s: %v", k, err)
				}
				if out.VersionId != nil {
					t.Errorf("PutObject in an unversioned bucket returned VersionId %q", *out.VersionId)
				}
			}

			head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt1"), Key: aws.String("ca/bundle.pem")})
			if err != nil {
				t.Fatalf("HeadObject: %v", err)
			}
			if got, want := aws.ToInt64(head.ContentLength), int64(len("body of ca/bundle.pem")); got != want {
				t.Errorf("HeadObject ContentLength = %d, want %d", got, want)
			}
			if aws.ToString(head.ContentType) != "application/x-pem-file" {
				t.Errorf("HeadObject ContentType = %q", aws.ToString(head.ContentType))
			}

			for _, k := range keys {
				out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt1"), Key: aws.String(k)})
				if err != nil {
					t.Fatalf("GetObject %s: %v", k, err)
				}
				if got := readBody(t, out); got != "body of "+k {
					t.Errorf("GetObject %s = %q", k, got)
				}
			}

			// ListObjectsV2: a prefix, and pages of one key.
			list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt1"), Prefix: aws.String("crl/")})
			if err != nil {
				t.Fatalf("ListObjectsV2: %v", err)
			}
			var got []string
			for _, o := range list.Contents {
				got = append(got, aws.ToString(o.Key))
			}
			if want := []string{"crl/a.pem", "crl/b.pem"}; !slices.Equal(got, want) {
				t.Errorf("ListObjectsV2 prefix crl/ = %q, want %q", got, want)
			}
			got = nil
			p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("bkt1"), MaxKeys: aws.Int32(1)})
			pages := 0
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatalf("ListObjectsV2 page %d: %v", pages, err)
				}
				pages++
				for _, o := range page.Contents {
					got = append(got, aws.ToString(o.Key))
				}
				if pages > 10 {
					t.Fatal("ListObjectsV2 pagination does not end")
				}
			}
			if !slices.Equal(got, keys) || pages != len(keys) {
				t.Errorf("ListObjectsV2 in pages of 1: %d pages, keys %q; want %d pages, %q", pages, got, len(keys), keys)
			}
			del, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt1"), Delimiter: aws.String("/")})
			if err != nil {
				t.Fatalf("ListObjectsV2 with a delimiter: %v", err)
			}
			var prefixes []string
			for _, cp := range del.CommonPrefixes {
				prefixes = append(prefixes, aws.ToString(cp.Prefix))
			}
			if want := []string{"ca/", "crl/", "dir/"}; !slices.Equal(prefixes, want) {
				t.Errorf("ListObjectsV2 delimiter / common prefixes = %q, want %q", prefixes, want)
			}

			buckets, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
			if err != nil {
				t.Fatalf("ListBuckets: %v", err)
			}
			if len(buckets.Buckets) != 1 || aws.ToString(buckets.Buckets[0].Name) != "bkt1" {
				t.Errorf("ListBuckets = %+v", buckets.Buckets)
			}

			if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("bkt1")}); apiCode(err) != "BucketNotEmpty" {
				t.Errorf("DeleteBucket of a bucket with objects: got %v, want BucketNotEmpty", err)
			}
			for _, k := range keys {
				if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bkt1"), Key: aws.String(k)}); err != nil {
					t.Fatalf("DeleteObject %s: %v", k, err)
				}
			}
			_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt1"), Key: aws.String("ca/bundle.pem")})
			var nsk *types.NoSuchKey
			if !errors.As(err, &nsk) {
				t.Errorf("GetObject after DeleteObject: got %v, want *types.NoSuchKey", err)
			}
			_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt1"), Key: aws.String("ca/bundle.pem")})
			var nf *types.NotFound
			if !errors.As(err, &nf) {
				t.Errorf("HeadObject after DeleteObject: got %v, want *types.NotFound", err)
			}
			if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("bkt1")}); err != nil {
				t.Fatalf("DeleteBucket: %v", err)
			}
			_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt1"), Key: aws.String("x")})
			if apiCode(err) != "NoSuchBucket" {
				t.Errorf("GetObject in a deleted bucket: got %v, want NoSuchBucket", err)
			}
		})
	}
}

// TestSDKVersions: PutBucketVersioning, the VersionId of each PUT, GetObject
// and HeadObject of a version, ListObjectVersions, delete markers, and the
// Objects view of the same versions (what a trust store's
// ca_certificates_bundle_s3_object_version reads).
func TestSDKVersions(t *testing.T) {
	for _, a := range []addressing{addressings[0], addressings[2]} {
		t.Run(a.name, func(t *testing.T) {
			ctx := context.Background()
			ts := newTestServer(t, EmbeddedOptions{})
			c := sdkClient(t, ts, fmt.Sprintf(a.endpoint, ts.port()), a.pathStyle)
			bucket, key := aws.String("bkt1"), aws.String("bundle.pem")
			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
				t.Fatalf("CreateBucket: %v", err)
			}
			// Before versioning: the "null" version.
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: key, Body: strings.NewReader("v0")}); err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			gv, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: bucket})
			if err != nil || gv.Status != "" {
				t.Fatalf("GetBucketVersioning before: %v, status %q, want none", err, gv.Status)
			}
			if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bucket, VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
				t.Fatalf("PutBucketVersioning: %v", err)
			}
			gv, err = c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: bucket})
			if err != nil || gv.Status != types.BucketVersioningStatusEnabled {
				t.Fatalf("GetBucketVersioning after: %v, status %q", err, gv.Status)
			}
			var ids []string
			for _, body := range []string{"v1", "v2"} {
				out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: key, Body: strings.NewReader(body)})
				if err != nil {
					t.Fatalf("PutObject %s: %v", body, err)
				}
				if aws.ToString(out.VersionId) == "" {
					t.Fatalf("PutObject %s in a versioned bucket returned no VersionId", body)
				}
				ids = append(ids, aws.ToString(out.VersionId))
			}
			if ids[0] == ids[1] {
				t.Fatalf("two PUTs got the same VersionId %q", ids[0])
			}
			latest, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: key})
			if err != nil {
				t.Fatalf("GetObject latest: %v", err)
			}
			if got := readBody(t, latest); got != "v2" || aws.ToString(latest.VersionId) != ids[1] {
				t.Errorf("GetObject latest = %q version %q, want v2 version %q", got, aws.ToString(latest.VersionId), ids[1])
			}
			for i, want := range []string{"v1", "v2"} {
				out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: key, VersionId: aws.String(ids[i])})
				if err != nil {
					t.Fatalf("GetObject version %s: %v", ids[i], err)
				}
				if got := readBody(t, out); got != want {
					t.Errorf("GetObject version %s = %q, want %q", ids[i], got, want)
				}
				h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: key, VersionId: aws.String(ids[i])})
				if err != nil || aws.ToString(h.VersionId) != ids[i] || aws.ToInt64(h.ContentLength) != 2 {
					t.Errorf("HeadObject version %s: %v, VersionId %q, ContentLength %d", ids[i], err, aws.ToString(h.VersionId), aws.ToInt64(h.ContentLength))
				}
				got, err := ts.GetObject(ctx, "bkt1", "bundle.pem", ids[i])
				if err != nil || string(got) != want {
					t.Errorf("Embedded.GetObject version %s = %q, %v; want %q", ids[i], got, err, want)
				}
			}
			if got, err := ts.GetObject(ctx, "bkt1", "bundle.pem", "null"); err != nil || string(got) != "v0" {
				t.Errorf(`Embedded.GetObject version "null" = %q, %v; want v0 (the version put before versioning)`, got, err)
			}
			_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: key, VersionId: aws.String("NoSuchVersionIdHere0000000000000")})
			if apiCode(err) != "NoSuchVersion" {
				t.Errorf("GetObject of an unknown version: got %v, want NoSuchVersion", err)
			}

			// DeleteObject without a version adds a delete marker.
			d, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: key})
			if err != nil {
				t.Fatalf("DeleteObject: %v", err)
			}
			if !aws.ToBool(d.DeleteMarker) || aws.ToString(d.VersionId) == "" {
				t.Fatalf("DeleteObject in a versioned bucket: DeleteMarker %v VersionId %q", aws.ToBool(d.DeleteMarker), aws.ToString(d.VersionId))
			}
			marker := aws.ToString(d.VersionId)
			var nsk *types.NoSuchKey
			if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: key}); !errors.As(err, &nsk) {
				t.Errorf("GetObject behind a delete marker: got %v, want *types.NoSuchKey", err)
			}
			if _, err := ts.GetObject(ctx, "bkt1", "bundle.pem", ""); !errors.Is(err, ErrNoSuchKey) {
				t.Errorf("Embedded.GetObject behind a delete marker: got %v, want ErrNoSuchKey", err)
			}
			if got, err := ts.GetObject(ctx, "bkt1", "bundle.pem", ids[0]); err != nil || string(got) != "v1" {
				t.Errorf("Embedded.GetObject of an old version behind a delete marker = %q, %v", got, err)
			}

			lv, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: bucket})
			if err != nil {
				t.Fatalf("ListObjectVersions: %v", err)
			}
			var gotIDs []string
			for _, v := range lv.Versions {
				gotIDs = append(gotIDs, aws.ToString(v.VersionId))
				if aws.ToBool(v.IsLatest) {
					t.Errorf("version %s is IsLatest behind a delete marker", aws.ToString(v.VersionId))
				}
			}
			if want := []string{ids[1], ids[0], "null"}; !slices.Equal(gotIDs, want) {
				t.Errorf("ListObjectVersions versions = %q, want newest first %q", gotIDs, want)
			}
			if len(lv.DeleteMarkers) != 1 || aws.ToString(lv.DeleteMarkers[0].VersionId) != marker || !aws.ToBool(lv.DeleteMarkers[0].IsLatest) {
				t.Errorf("ListObjectVersions delete markers = %+v, want one latest %q", lv.DeleteMarkers, marker)
			}
			// Pages of one version.
			var paged []string
			in := &s3.ListObjectVersionsInput{Bucket: bucket, MaxKeys: aws.Int32(1)}
			for range 10 {
				page, err := c.ListObjectVersions(ctx, in)
				if err != nil {
					t.Fatalf("ListObjectVersions page: %v", err)
				}
				for _, v := range page.Versions {
					paged = append(paged, aws.ToString(v.VersionId))
				}
				for _, m := range page.DeleteMarkers {
					paged = append(paged, aws.ToString(m.VersionId))
				}
				if !aws.ToBool(page.IsTruncated) {
					break
				}
				in.KeyMarker, in.VersionIdMarker = page.NextKeyMarker, page.NextVersionIdMarker
			}
			if want := []string{marker, ids[1], ids[0], "null"}; !slices.Equal(paged, want) {
				t.Errorf("ListObjectVersions in pages of 1 = %q, want %q", paged, want)
			}

			// Deleting the marker's version brings v2 back.
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: key, VersionId: aws.String(marker)}); err != nil {
				t.Fatalf("DeleteObject of the delete marker: %v", err)
			}
			if got, err := ts.GetObject(ctx, "bkt1", "bundle.pem", ""); err != nil || string(got) != "v2" {
				t.Errorf("latest after removing the delete marker = %q, %v; want v2", got, err)
			}
			// Deleting v2 for good makes v1 current.
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: key, VersionId: aws.String(ids[1])}); err != nil {
				t.Fatalf("DeleteObject version: %v", err)
			}
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: key})
			if err != nil {
				t.Fatalf("GetObject after deleting the latest version: %v", err)
			}
			if got := readBody(t, out); got != "v1" {
				t.Errorf("latest after deleting version 2 = %q, want v1", got)
			}
			if _, err := ts.GetObject(ctx, "bkt1", "bundle.pem", ids[1]); !errors.Is(err, ErrNoSuchVersion) {
				t.Errorf("Embedded.GetObject of a deleted version: got %v, want ErrNoSuchVersion", err)
			}
		})
	}
}

// TestEmbeddedGetObjectErrors: the sentinels of Objects.GetObject.
func TestEmbeddedGetObjectErrors(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t, EmbeddedOptions{})
	c := sdkClient(t, ts, "http://localhost:"+ts.port(), true)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt1"), Key: aws.String("k"), Body: bytes.NewReader([]byte("x"))}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		bucket, key, version string
		want                 error
	}{
		{"nope", "k", "", ErrNoSuchBucket},
		{"bkt1", "nope", "", ErrNoSuchKey},
		{"bkt1", "k", "unknownversion", ErrNoSuchVersion},
		{"bkt1", "nope", "unknownversion", ErrNoSuchVersion},
	} {
		_, err := ts.GetObject(ctx, tc.bucket, tc.key, tc.version)
		if !errors.Is(err, tc.want) {
			t.Errorf("GetObject(%q, %q, %q) = %v, want %v", tc.bucket, tc.key, tc.version, err, tc.want)
		}
		if err != nil && !strings.Contains(err.Error(), "s3://"+tc.bucket+"/"+tc.key) {
			t.Errorf("the error %q does not name s3://%s/%s", err, tc.bucket, tc.key)
		}
	}
	if got, err := ts.GetObject(ctx, "bkt1", "k", ""); err != nil || string(got) != "x" {
		t.Errorf("GetObject = %q, %v", got, err)
	}
}

// TestObjectMetadata: user metadata and content headers come back on GET;
// what described the request (the session token, x-amz-date, the payload
// hash) is neither stored nor echoed.
func TestObjectMetadata(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ts := newTestServer(t, EmbeddedOptions{Dir: dir})
	c := s3.NewFromConfig(aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "secret", "SESSIONTOKENSECRET"),
		BaseEndpoint: aws.String(ts.srv.URL),
		HTTPClient:   loopbackClient(ts.srv.Listener.Addr().String()),
	}, func(o *s3.Options) { o.UsePathStyle = true; o.DisableLogOutputChecksumValidationSkipped = true })
	b := aws.String("meta")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("k"), Body: strings.NewReader("x"),
		Metadata: map[string]string{"owner": "pki-team"}, ContentType: aws.String("application/x-pem-file")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, out)
	if out.Metadata["owner"] != "pki-team" || aws.ToString(out.ContentType) != "application/x-pem-file" {
		t.Errorf("GetObject metadata %v, content type %q", out.Metadata, aws.ToString(out.ContentType))
	}
	raw, err := http.Get(ts.srv.URL + "/meta/k")
	if err != nil {
		t.Fatal(err)
	}
	raw.Body.Close()
	for _, h := range []string{"X-Amz-Security-Token", "X-Amz-Date", "X-Amz-Content-Sha256"} {
		if v := raw.Header.Get(h); v != "" {
			t.Errorf("GET echoes the PUT's %s: %q", h, v)
		}
	}
	index, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(index, []byte("SESSIONTOKENSECRET")) {
		t.Error("the session token of a PUT is stored in index.json")
	}
}

// TestSDKNullVersion: VersionId "null" names the version put before
// versioning was enabled, for GET, HEAD and DELETE (which removes it
// rather than adding a delete marker).
func TestSDKNullVersion(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t, EmbeddedOptions{})
	c := sdkClient(t, ts, "http://localhost:"+ts.port(), false)
	b, k := aws.String("nullv"), aws.String("k")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: k, Body: strings.NewReader("before")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b, VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	v1, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: k, Body: strings.NewReader("after!")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: k, VersionId: aws.String("null")})
	if err != nil {
		t.Fatalf("GetObject VersionId null: %v", err)
	}
	if got := readBody(t, out); got != "before" {
		t.Errorf("GetObject VersionId null = %q, want before", got)
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: k, VersionId: aws.String("null")})
	if err != nil || aws.ToInt64(h.ContentLength) != int64(len("before")) {
		t.Errorf("HeadObject VersionId null: %v, length %d", err, aws.ToInt64(h.ContentLength))
	}
	d, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: k, VersionId: aws.String("null")})
	if err != nil || aws.ToBool(d.DeleteMarker) {
		t.Fatalf("DeleteObject VersionId null: %v, delete marker %v", err, aws.ToBool(d.DeleteMarker))
	}
	lv, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: b})
	if err != nil {
		t.Fatal(err)
	}
	if len(lv.Versions) != 1 || aws.ToString(lv.Versions[0].VersionId) != aws.ToString(v1.VersionId) || len(lv.DeleteMarkers) != 0 {
		t.Errorf("after deleting the null version: versions %d (want only %s), delete markers %d", len(lv.Versions), aws.ToString(v1.VersionId), len(lv.DeleteMarkers))
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: k, VersionId: aws.String("null")}); apiCode(err) != "NoSuchVersion" {
		t.Errorf("GetObject of the deleted null version: %v, want NoSuchVersion", err)
	}
}
