package s3

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestSDKMoreOperations: Range GETs (memory and Dir), CopyObject,
// DeleteObjects and a multipart upload, which gofakes3 serves over the
// store, through the SDK.
func TestSDKMoreOperations(t *testing.T) {
	for _, dir := range []string{"", "dir"} {
		t.Run("dir="+dir, func(t *testing.T) {
			ctx := context.Background()
			opts := EmbeddedOptions{MaxObjectSize: 12 << 20}
			if dir != "" {
				opts.Dir = t.TempDir()
			}
			ts := newTestServer(t, opts)
			c := sdkClient(t, ts, "http://localhost:"+ts.port(), false)
			b := aws.String("more")
			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("k"), Body: strings.NewReader("0123456789")}); err != nil {
				t.Fatal(err)
			}
			for rng, want := range map[string]string{"bytes=2-4": "234", "bytes=7-": "789", "bytes=-2": "89"} {
				out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("k"), Range: aws.String(rng)})
				if err != nil {
					t.Fatalf("GetObject Range %s: %v", rng, err)
				}
				if got := readBody(t, out); got != want {
					t.Errorf("Range %s = %q, want %q", rng, got, want)
				}
			}
			if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("copy"), CopySource: aws.String("more/k")}); err != nil {
				t.Fatalf("CopyObject: %v", err)
			}
			if got, err := ts.GetObject(ctx, "more", "copy", ""); err != nil || string(got) != "0123456789" {
				t.Errorf("the copy = %q, %v", got, err)
			}
			del, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: b, Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("k")}, {Key: aws.String("copy")}}}})
			if err != nil || len(del.Deleted) != 2 {
				t.Fatalf("DeleteObjects: %v, %d deleted", err, len(del.Deleted))
			}
			list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b})
			if err != nil || len(list.Contents) != 0 {
				t.Errorf("after DeleteObjects: %v, %d objects", err, len(list.Contents))
			}

			// Multipart: two parts (5 MiB is S3's smallest non-last part).
			parts := []string{strings.Repeat("a", 5<<20), "tail"}
			if err := multipart(ctx, c, "more", "mp", parts); err != nil {
				t.Fatalf("multipart upload: %v", err)
			}
			got, err := ts.GetObject(ctx, "more", "mp", "")
			if err != nil || string(got) != strings.Join(parts, "") {
				t.Errorf("multipart object: %d bytes, %v; want %d", len(got), err, len(strings.Join(parts, "")))
			}
			// Parts each under the limit, the whole above it: refused on completion.
			big := []string{strings.Repeat("b", 6<<20), strings.Repeat("c", 6<<20), "d"}
			if err := multipart(ctx, c, "more", "toobig", big); apiCode(err) != "EntityTooLarge" {
				t.Errorf("multipart upload above MaxObjectSize: %v, want EntityTooLarge", err)
			}
			keys := []string{}
			list, _ = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b})
			for _, o := range list.Contents {
				keys = append(keys, aws.ToString(o.Key))
			}
			if !slices.Equal(keys, []string{"mp"}) {
				t.Errorf("objects %q, want only mp", keys)
			}
		})
	}
}

func multipart(ctx context.Context, c *s3.Client, bucket, key string, parts []string) error {
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("CreateMultipartUpload: %w", err)
	}
	var done []types.CompletedPart
	for i, p := range parts {
		n := aws.Int32(int32(i + 1))
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId, PartNumber: n, Body: strings.NewReader(p)})
		if err != nil {
			return fmt.Errorf("UploadPart %d: %w", i+1, err)
		}
		done = append(done, types.CompletedPart{ETag: out.ETag, PartNumber: n})
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	return err
}
