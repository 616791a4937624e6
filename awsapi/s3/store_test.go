package s3

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"

	"github.com/albmtls/albmtls/emulator/alb"
)

func newStore(t *testing.T, dir string) *store {
	t.Helper()
	s, err := openStore(dir, 1<<20, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket("bkt"); err != nil {
		t.Fatal(err)
	}
	return s
}

func put(t *testing.T, s *store, key, body string) string {
	t.Helper()
	res, err := s.PutObject("bkt", key, map[string]string{}, strings.NewReader(body), int64(len(body)), nil)
	if err != nil {
		t.Fatalf("PutObject %s: %v", key, err)
	}
	return string(res.VersionID)
}

// versionsOf lists key's versions newest first as "ID=body" ("null" for the
// null version, "ID=DM" for a delete marker).
func versionsOf(t *testing.T, s *store, key string) []string {
	t.Helper()
	res, err := s.ListBucketVersions("bkt", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range res.Versions {
		switch v := v.(type) {
		case *gofakes3.Version:
			if v.Key != key {
				continue
			}
			obj, err := s.GetObjectVersion("bkt", key, v.VersionID, nil)
			id := string(v.VersionID)
			if id == "" {
				id = "null"
				obj, err = s.GetObject("bkt", key, nil) // the null version is the latest in these tables
			}
			if err != nil {
				t.Fatalf("GetObjectVersion %s: %v", id, err)
			}
			b, _ := io.ReadAll(obj.Contents)
			out = append(out, id+"="+string(b))
		case *gofakes3.DeleteMarker:
			if v.Key != key {
				continue
			}
			id := string(v.VersionID)
			if id == "" {
				id = "null"
			}
			out = append(out, id+"=DM")
		}
	}
	return out
}

// TestVersioningStates: what PUT and DELETE do under each versioning
// status, as S3 documents it
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html):
// never enabled, one "null" version that a PUT replaces and a DELETE
// removes; suspended, a PUT or DELETE replaces the "null" version and keeps
// the others.
func TestVersioningStates(t *testing.T) {
	t.Run("never enabled", func(t *testing.T) {
		s := newStore(t, "")
		if id := put(t, s, "k", "a"); id != "" {
			t.Errorf("VersionID %q in an unversioned bucket", id)
		}
		put(t, s, "k", "b")
		if got := versionsOf(t, s, "k"); strings.Join(got, " ") != "null=b" {
			t.Errorf("versions %q, want null=b", got)
		}
		res, err := s.DeleteObject("bkt", "k")
		if err != nil || res.IsDeleteMarker {
			t.Fatalf("DeleteObject: %+v %v", res, err)
		}
		if got := versionsOf(t, s, "k"); len(got) != 0 {
			t.Errorf("versions after delete %q, want none", got)
		}
		if err := s.DeleteBucket("bkt"); err != nil {
			t.Errorf("DeleteBucket of an emptied bucket: %v", err)
		}
	})
	t.Run("enabled then suspended", func(t *testing.T) {
		s := newStore(t, "")
		put(t, s, "k", "n0")
		if err := s.SetVersioningConfiguration("bkt", gofakes3.VersioningConfiguration{Status: gofakes3.VersioningEnabled}); err != nil {
			t.Fatal(err)
		}
		v1 := put(t, s, "k", "v1")
		if err := s.SetVersioningConfiguration("bkt", gofakes3.VersioningConfiguration{Status: gofakes3.VersioningSuspended}); err != nil {
			t.Fatal(err)
		}
		if id := put(t, s, "k", "n1"); id != "" {
			t.Errorf("PUT while suspended returned VersionID %q, want the null version", id)
		}
		if got, want := strings.Join(versionsOf(t, s, "k"), " "), "null=n1 "+v1+"=v1"; got != want {
			t.Errorf("versions %q, want %q (the suspended PUT replaces the null version)", got, want)
		}
		res, err := s.DeleteObject("bkt", "k")
		if err != nil || !res.IsDeleteMarker || res.VersionID != "" {
			t.Fatalf("DeleteObject while suspended: %+v %v, want a null delete marker", res, err)
		}
		if got, want := strings.Join(versionsOf(t, s, "k"), " "), "null=DM "+v1+"=v1"; got != want {
			t.Errorf("versions %q, want %q", got, want)
		}
		if err := s.DeleteBucket("bkt"); !gofakes3.HasErrorCode(err, gofakes3.ErrBucketNotEmpty) {
			t.Errorf("DeleteBucket with versions left: %v, want BucketNotEmpty", err)
		}
		// Off is not a state a versioned bucket returns to.
		if err := s.SetVersioningConfiguration("bkt", gofakes3.VersioningConfiguration{}); err != nil {
			t.Fatal(err)
		}
		if vc, _ := s.VersioningConfiguration("bkt"); vc.Status != gofakes3.VersioningSuspended {
			t.Errorf("status %q after an empty configuration, want Suspended", vc.Status)
		}
	})
	t.Run("enabled: delete of a missing key adds a marker", func(t *testing.T) {
		s := newStore(t, "")
		if err := s.SetVersioningConfiguration("bkt", gofakes3.VersioningConfiguration{Status: gofakes3.VersioningEnabled}); err != nil {
			t.Fatal(err)
		}
		res, err := s.DeleteObject("bkt", "ghost")
		if err != nil || !res.IsDeleteMarker || res.VersionID == "" {
			t.Errorf("DeleteObject of a missing key: %+v %v", res, err)
		}
		if _, err := s.GetObjectVersion("bkt", "ghost", res.VersionID, nil); !gofakes3.HasErrorCode(err, gofakes3.ErrMethodNotAllowed) {
			t.Errorf("GET of a delete marker's version: %v, want MethodNotAllowed", err)
		}
	})
}

func TestListBucketPages(t *testing.T) {
	s := newStore(t, "")
	for _, k := range []string{"a/1", "a/2", "b/1", "c", "d/1"} {
		put(t, s, k, k)
	}
	for _, tc := range []struct {
		name  string
		pre   gofakes3.Prefix
		pages []string // each page: contents and prefixes, comma-separated
	}{
		{"all, 2 a page", gofakes3.Prefix{}, []string{"a/1,a/2", "b/1,c", "d/1"}},
		{"delimiter, 2 a page", gofakes3.NewFolderPrefix(""), []string{"a/,b/", "c,d/"}},
		{"prefix a/", gofakes3.NewPrefix(ptr("a/"), nil), []string{"a/1,a/2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			page := gofakes3.ListBucketPage{MaxKeys: 2}
			for range 10 {
				l, err := s.ListBucket("bkt", &tc.pre, page)
				if err != nil {
					t.Fatal(err)
				}
				var items []string
				for _, c := range l.Contents {
					items = append(items, c.Key)
				}
				for _, p := range l.CommonPrefixes {
					items = append(items, p.Prefix)
				}
				got = append(got, strings.Join(items, ","))
				if !l.IsTruncated {
					break
				}
				page = gofakes3.ListBucketPage{MaxKeys: 2, Marker: l.NextMarker, HasMarker: true}
			}
			if strings.Join(got, " | ") != strings.Join(tc.pages, " | ") {
				t.Errorf("pages %q, want %q", got, tc.pages)
			}
		})
	}
}

func ptr(s string) *string { return &s }

// TestFailedSaveRollsBack: when the index cannot be written the change is
// refused with InternalError and neither memory nor disk keeps half of it.
func TestFailedSaveRollsBack(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir)
	put(t, s, "k", "before")
	// A non-empty directory where the index goes: the rename fails.
	if err := os.Remove(filepath.Join(dir, "index.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "index.json", "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := s.PutObject("bkt", "k", map[string]string{}, strings.NewReader("after"), 5, nil)
	if !gofakes3.HasErrorCode(err, gofakes3.ErrInternal) || !strings.Contains(err.Error(), "index.json") {
		t.Fatalf("PutObject with an unwritable index: %v, want InternalError naming index.json", err)
	}
	if got := versionsOf(t, s, "k"); strings.Join(got, " ") != "null=before" {
		t.Errorf("after the failed PUT: %q, want null=before", got)
	}
	blobs, _ := os.ReadDir(filepath.Join(dir, "blobs"))
	if len(blobs) != 1 {
		t.Errorf("%d blob files after the failed PUT, want 1", len(blobs))
	}
	if _, err := s.DeleteObject("bkt", "k"); err == nil {
		t.Error("DeleteObject succeeded with an unwritable index")
	}
	if got := versionsOf(t, s, "k"); strings.Join(got, " ") != "null=before" {
		t.Errorf("after the failed DELETE: %q", got)
	}
	if err := s.CreateBucket("other"); err == nil {
		t.Error("CreateBucket succeeded with an unwritable index")
	}
	if ok, _ := s.BucketExists("other"); ok {
		t.Error("the bucket of a failed CreateBucket exists")
	}
}

func TestPutObjectSizeChecks(t *testing.T) {
	s := newStore(t, "")
	s.maxSize = 4
	if _, err := s.PutObject("bkt", "k", nil, strings.NewReader("12345"), 5, nil); !gofakes3.HasErrorCode(err, "EntityTooLarge") {
		t.Errorf("PutObject above the limit: %v, want EntityTooLarge", err)
	}
	if _, err := s.PutObject("bkt", "k", nil, strings.NewReader("12"), 3, nil); !gofakes3.HasErrorCode(err, gofakes3.ErrIncompleteBody) {
		t.Errorf("PutObject with a short body: %v, want IncompleteBody", err)
	}
	if _, err := s.PutObject("nope", "k", nil, strings.NewReader("1"), 1, nil); !gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchBucket) {
		t.Errorf("PutObject in a missing bucket: %v", err)
	}
}

func TestDefaultMaxObjectSizeHoldsACRL(t *testing.T) {
	if DefaultMaxObjectSize < alb.MaxRevocationFileSize {
		t.Errorf("DefaultMaxObjectSize %d is below ALB's CRL quota %d: a CRL ALB takes could not be uploaded", DefaultMaxObjectSize, alb.MaxRevocationFileSize)
	}
}

// TestOpenRemovesOrphans: a version file no index entry names (a crash
// after writing it) and a temporary index are removed on open; named
// files stay.
func TestOpenRemovesOrphans(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir)
	put(t, s, "k", "kept")
	orphan := filepath.Join(dir, "blobs", "orphan")
	tmp := filepath.Join(dir, "index-123.tmp")
	for _, f := range []string{orphan, tmp} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s2, err := openStore(dir, 1<<20, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{orphan, tmp} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s is still there after open (%v)", f, err)
		}
	}
	if got := versionsOf(t, s2, "k"); strings.Join(got, " ") != "null=kept" {
		t.Errorf("after open: %q, want null=kept", got)
	}
}

// TestConcurrentPutsOneKey: concurrent PUTs, GETs and DELETEs of one key in
// a versioned, persisted bucket leave every version whole and the index
// in step with memory (run with -race in make test-race).
func TestConcurrentPutsOneKey(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir)
	if err := s.SetVersioningConfiguration("bkt", gofakes3.VersioningConfiguration{Status: gofakes3.VersioningEnabled}); err != nil {
		t.Fatal(err)
	}
	const n = 16
	errs := make(chan error, 3*n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(3)
		go func() {
			defer wg.Done()
			body := strings.Repeat(fmt.Sprint(i%10), 1000+i)
			_, err := s.PutObject("bkt", "k", map[string]string{}, strings.NewReader(body), int64(len(body)), nil)
			errs <- err
		}()
		go func() {
			defer wg.Done()
			obj, err := s.GetObject("bkt", "k", nil)
			if err == nil && !obj.IsDeleteMarker {
				b, rerr := io.ReadAll(obj.Contents)
				obj.Contents.Close()
				if rerr != nil || int64(len(b)) != obj.Size || strings.Trim(string(b), string(b[:1])) != "" {
					err = fmt.Errorf("a GET read %d of %d bytes (%v), or mixed bodies", len(b), obj.Size, rerr)
				}
			} else if gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchKey) {
				err = nil
			}
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := s.DeleteObject("bkt", "k")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	res, err := s.ListBucketVersions("bkt", nil, nil)
	if err != nil || len(res.Versions) != 2*n {
		t.Fatalf("%d versions and markers (%v), want %d", len(res.Versions), err, 2*n)
	}
	s2, err := openStore(dir, 1<<20, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	res2, err := s2.ListBucketVersions("bkt", nil, nil)
	if err != nil || len(res2.Versions) != 2*n {
		t.Fatalf("after reopening: %d versions and markers (%v), want %d", len(res2.Versions), err, 2*n)
	}
	for i, v := range res.Versions {
		if v.GetVersionID() != res2.Versions[i].GetVersionID() {
			t.Errorf("version %d: %s in memory, %s on disk", i, v.GetVersionID(), res2.Versions[i].GetVersionID())
		}
	}
}
