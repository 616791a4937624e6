package s3

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// store is the storage behind the embedded S3: a gofakes3.Backend and
// gofakes3.VersionedBackend (gofakes3 speaks the protocol, the store keeps
// buckets, objects and their versions). None of gofakes3's own backends has
// both versions and persistence (s3mem is versioned but memory-only, s3bolt and
// s3afero persist but have no versions), and Terraform's aws_lb_trust_store
// passes ca_certificates_bundle_s3_object_version, so a version ID handed out
// before a restart must still resolve after it: hence this store.
//
// With dir == "" everything is in memory. Otherwise the index (buckets,
// versioning status, every version's metadata) is dir/index.json, rewritten
// atomically (temporary file, fsync, rename) after each change, and each
// version's bytes are a file under dir/blobs written before the index names it.
// The index is rewritten whole, which suits what albmtls keeps in S3 (a few CA
// bundles and CRLs), not millions of keys.
type store struct {
	dir     string
	maxSize int64
	now     func() time.Time

	mu      sync.RWMutex
	buckets map[string]*bucket
}

type bucket struct {
	Name       string             `json:"name"`
	Created    time.Time          `json:"created"`
	Versioning string             `json:"versioning,omitempty"` // "", "Enabled" or "Suspended"
	Objects    map[string]*object `json:"objects"`
}

// object holds a key's versions, oldest first; the last one is current.
type object struct {
	Versions []*version `json:"versions"`
}

type version struct {
	ID           string            `json:"id,omitempty"` // "" is S3's "null" version
	DeleteMarker bool              `json:"delete_marker,omitempty"`
	Size         int64             `json:"size"`
	MD5          string            `json:"md5,omitempty"` // hex
	Modified     time.Time         `json:"modified"`
	Meta         map[string]string `json:"meta,omitempty"`
	Blob         string            `json:"blob,omitempty"` // file name under dir/blobs
	body         []byte            // the bytes, in memory mode
}

type index struct {
	Format  int                `json:"format"`
	Buckets map[string]*bucket `json:"buckets"`
}

const indexFormat = 1

var (
	_ gofakes3.Backend          = (*store)(nil)
	_ gofakes3.VersionedBackend = (*store)(nil)
)

func openStore(dir string, maxSize int64, now func() time.Time) (*store, error) {
	s := &store{dir: dir, maxSize: maxSize, now: now, buckets: map[string]*bucket{}}
	if dir == "" {
		return s, nil
	}
	if err := os.MkdirAll(filepath.Join(dir, "blobs"), 0o700); err != nil {
		return nil, fmt.Errorf("s3: creating the store directory %s: %w (check the path and its permissions)", dir, err)
	}
	data, err := os.ReadFile(s.indexPath())
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("s3: reading the store index: %w", err)
	}
	var ix index
	if err := json.Unmarshal(data, &ix); err != nil {
		return nil, fmt.Errorf("s3: the store index %s is not valid JSON: %w (restore it from a backup or move the directory away to start empty)", s.indexPath(), err)
	}
	if ix.Format != indexFormat {
		return nil, fmt.Errorf("s3: the store index %s has format %d, this albmtls reads format %d", s.indexPath(), ix.Format, indexFormat)
	}
	for name, b := range ix.Buckets {
		if b == nil || b.Name != name {
			return nil, fmt.Errorf("s3: the store index %s has a damaged entry for bucket %q", s.indexPath(), name)
		}
		if b.Objects == nil {
			b.Objects = map[string]*object{}
		}
		for key, o := range b.Objects {
			if o == nil || len(o.Versions) == 0 {
				delete(b.Objects, key)
			}
		}
		s.buckets[name] = b
	}
	s.removeOrphans()
	return s, nil
}

// removeOrphans deletes what a crash between writing a version's file and
// the index can leave: files no version names, and temporary indexes.
func (s *store) removeOrphans() {
	named := map[string]bool{}
	for _, b := range s.buckets {
		for _, o := range b.Objects {
			for _, v := range o.Versions {
				named[v.Blob] = true
			}
		}
	}
	if entries, err := os.ReadDir(filepath.Join(s.dir, "blobs")); err == nil {
		for _, e := range entries {
			if !named[e.Name()] {
				_ = os.Remove(s.blobPath(e.Name()))
			}
		}
	}
	if tmps, err := filepath.Glob(filepath.Join(s.dir, "index-*.tmp")); err == nil {
		for _, t := range tmps {
			_ = os.Remove(t)
		}
	}
}

func (s *store) indexPath() string { return filepath.Join(s.dir, "index.json") }

func (s *store) blobPath(name string) string { return filepath.Join(s.dir, "blobs", name) }

// save writes the index; the caller holds s.mu for writing.
func (s *store) save() error {
	if s.dir == "" {
		return nil
	}
	data, err := json.Marshal(index{Format: indexFormat, Buckets: s.buckets})
	if err != nil {
		return fmt.Errorf("s3: encoding the store index: %w", err)
	}
	tmp, err := os.CreateTemp(s.dir, "index-*.tmp")
	if err != nil {
		return fmt.Errorf("s3: writing the store index in %s: %w", s.dir, err)
	}
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), s.indexPath())
	}
	if werr != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("s3: writing the store index %s: %w (is the disk full?)", s.indexPath(), werr)
	}
	// The rename is durable once the directory is synced.
	if d, err := os.Open(s.dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// commit saves the index after a change; if that fails, undo restores the
// model as it was so that memory and disk keep agreeing.
func (s *store) commit(undo func()) error {
	if err := s.save(); err != nil {
		undo()
		return gofakes3.ErrorMessage(gofakes3.ErrInternal, err.Error())
	}
	return nil
}

// dropBlobs removes the files of versions no longer in the index.
func (s *store) dropBlobs(vs ...*version) {
	if s.dir == "" {
		return
	}
	for _, v := range vs {
		if v != nil && v.Blob != "" {
			_ = os.Remove(s.blobPath(v.Blob))
		}
	}
}

func newVersionID() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (o *object) current() *version {
	if o == nil || len(o.Versions) == 0 {
		return nil
	}
	return o.Versions[len(o.Versions)-1]
}

// nullVersion is how the front handler passes gofakes3 an explicit
// ?versionId=null, which gofakes3 would otherwise fold into "no version"
// (the latest). It cannot be a version ID this store hands out (those are
// base64url, without dots).
const nullVersion gofakes3.VersionID = "null.albmtls"

// find returns the version named id; "null" (and nullVersion) name the
// version put while versioning was off, stored with the ID "".
func (o *object) find(id string) (int, *version) {
	if id == "null" || id == string(nullVersion) {
		id = ""
	}
	for i, v := range o.Versions {
		if v.ID == id {
			return i, v
		}
	}
	return -1, nil
}

func (o *object) clone() *object {
	if o == nil {
		return nil
	}
	return &object{Versions: slices.Clone(o.Versions)}
}

// restoreObject puts a key's versions back as they were (nil: no such key).
func (b *bucket) restoreObject(key string, o *object) {
	if o == nil {
		delete(b.Objects, key)
	} else {
		b.Objects[key] = o
	}
}

// add makes v the current version of key and returns the versions it
// replaced (the "null" version when versioning is not enabled).
func (b *bucket) add(key string, v *version) (dropped []*version) {
	o := b.Objects[key]
	if o == nil {
		o = &object{}
		b.Objects[key] = o
	}
	if b.Versioning == string(gofakes3.VersioningEnabled) {
		v.ID = newVersionID()
	} else {
		v.ID = ""
		if i, old := o.find(""); old != nil {
			o.Versions = slices.Delete(o.Versions, i, i+1)
			dropped = append(dropped, old)
		}
	}
	o.Versions = append(o.Versions, v)
	return dropped
}

func (s *store) bucket(name string) (*bucket, error) {
	b := s.buckets[name]
	if b == nil {
		return nil, gofakes3.BucketNotFound(name)
	}
	return b, nil
}

func (s *store) ListBuckets() ([]gofakes3.BucketInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]gofakes3.BucketInfo, 0, len(s.buckets))
	for _, b := range s.buckets {
		out = append(out, gofakes3.BucketInfo{Name: b.Name, CreationDate: gofakes3.NewContentTime(b.Created)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func sortedKeys(b *bucket) []string {
	keys := make([]string, 0, len(b.Objects))
	for k := range b.Objects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (s *store) ListBucket(name string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	if prefix == nil {
		prefix = &gofakes3.Prefix{}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, err := s.bucket(name)
	if err != nil {
		return nil, err
	}
	resp := gofakes3.NewObjectList()
	keys := sortedKeys(b)
	var match gofakes3.PrefixMatch
	var cnt int64
	lastPrefix := ""
	for i, key := range keys {
		if page.Marker != "" && key <= page.Marker {
			continue
		}
		cur := b.Objects[key].current()
		if cur.DeleteMarker || !prefix.Match(key, &match) {
			continue
		}
		if match.CommonPrefix {
			if match.MatchedPart == lastPrefix {
				continue
			}
			resp.AddPrefix(match.MatchedPart)
			lastPrefix = match.MatchedPart
		} else {
			resp.Add(&gofakes3.Content{
				Key:          key,
				LastModified: gofakes3.NewContentTime(cur.Modified),
				ETag:         `"` + cur.MD5 + `"`,
				Size:         cur.Size,
				StorageClass: gofakes3.StorageStandard,
			})
		}
		cnt++
		if page.MaxKeys > 0 && cnt >= page.MaxKeys {
			resp.NextMarker = key
			if match.CommonPrefix {
				// Skip the rest of this common prefix on the next page.
				resp.NextMarker = match.MatchedPart + "\xff"
			}
			for _, rest := range keys[i+1:] {
				if rest > resp.NextMarker && !b.Objects[rest].current().DeleteMarker && prefix.Match(rest, nil) {
					resp.IsTruncated = true
					break
				}
			}
			if !resp.IsTruncated {
				resp.NextMarker = ""
			}
			break
		}
	}
	return resp, nil
}

func (s *store) CreateBucket(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buckets[name] != nil {
		return gofakes3.ResourceError(gofakes3.ErrBucketAlreadyExists, name)
	}
	s.buckets[name] = &bucket{Name: name, Created: s.now().UTC(), Objects: map[string]*object{}}
	return s.commit(func() { delete(s.buckets, name) })
}

func (s *store) BucketExists(name string) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.buckets[name] != nil, nil
}

func (s *store) DeleteBucket(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.bucket(name)
	if err != nil {
		return err
	}
	if len(b.Objects) > 0 { // S3 counts versions and delete markers too
		return gofakes3.ResourceError(gofakes3.ErrBucketNotEmpty, name)
	}
	delete(s.buckets, name)
	return s.commit(func() { s.buckets[name] = b })
}

func (s *store) ForceDeleteBucket(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.bucket(name)
	if err != nil {
		return err
	}
	delete(s.buckets, name)
	if err := s.commit(func() { s.buckets[name] = b }); err != nil {
		return err
	}
	for _, o := range b.Objects {
		s.dropBlobs(o.Versions...)
	}
	return nil
}

// toObject opens a version's bytes (withBody) or only describes them. It runs
// under s.mu so that a blob is not removed between lookup and open.
func (s *store) toObject(key string, v *version, rng *gofakes3.ObjectRangeRequest, withBody bool) (*gofakes3.Object, error) {
	hash, _ := hex.DecodeString(v.MD5)
	obj := &gofakes3.Object{
		Name:           key,
		Metadata:       v.Meta,
		Size:           v.Size,
		Hash:           hash,
		VersionID:      gofakes3.VersionID(v.ID),
		IsDeleteMarker: v.DeleteMarker,
		Contents:       io.NopCloser(bytes.NewReader(nil)),
	}
	if obj.Metadata == nil {
		obj.Metadata = map[string]string{}
	}
	if !withBody || v.DeleteMarker {
		return obj, nil
	}
	r, err := rng.Range(v.Size)
	if err != nil {
		return nil, err
	}
	obj.Range = r
	start, length := int64(0), v.Size
	if r != nil {
		start, length = r.Start, r.Length
	}
	if s.dir == "" {
		obj.Contents = io.NopCloser(bytes.NewReader(v.body[start : start+length]))
		return obj, nil
	}
	f, err := os.Open(s.blobPath(v.Blob))
	if err != nil {
		return nil, gofakes3.ErrorMessage(gofakes3.ErrInternal, fmt.Sprintf("s3: opening the bytes of %s: %v", key, err))
	}
	obj.Contents = struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(f, start, length), f}
	return obj, nil
}

// lookup finds key's version id ("" with latest: the current one).
func (s *store) lookup(bucketName, key string, id gofakes3.VersionID, latest bool) (*version, error) {
	b, err := s.bucket(bucketName)
	if err != nil {
		return nil, err
	}
	o := b.Objects[key]
	if latest {
		if o == nil {
			return nil, gofakes3.KeyNotFound(key)
		}
		return o.current(), nil // a delete marker: gofakes3 answers NoSuchKey with x-amz-delete-marker
	}
	if o == nil {
		return nil, gofakes3.ErrNoSuchVersion
	}
	_, v := o.find(string(id))
	if v == nil {
		return nil, gofakes3.ErrNoSuchVersion
	}
	if v.DeleteMarker {
		// S3: a GET or HEAD of a delete marker's version is 405 MethodNotAllowed.
		return nil, gofakes3.ErrorMessage(gofakes3.ErrMethodNotAllowed, "The specified method is not allowed against this resource.")
	}
	return v, nil
}

func (s *store) HeadObject(bucketName, key string) (*gofakes3.Object, error) {
	return s.HeadObjectVersion(bucketName, key, "")
}

func (s *store) GetObject(bucketName, key string, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	return s.GetObjectVersion(bucketName, key, "", rng)
}

func (s *store) HeadObjectVersion(bucketName, key string, id gofakes3.VersionID) (*gofakes3.Object, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, err := s.lookup(bucketName, key, id, id == "")
	if err != nil {
		return nil, err
	}
	return s.toObject(key, v, nil, false)
}

func (s *store) GetObjectVersion(bucketName, key string, id gofakes3.VersionID, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, err := s.lookup(bucketName, key, id, id == "")
	if err != nil {
		return nil, err
	}
	return s.toObject(key, v, rng, true)
}

// errEntityTooLarge is S3's answer to an object above the store's limit.
func (s *store) errEntityTooLarge(size int64) error {
	return gofakes3.ErrorMessage("EntityTooLarge", fmt.Sprintf("Your proposed upload (%d bytes) exceeds the maximum allowed object size of %d bytes.", size, s.maxSize))
}

// readBody reads exactly size bytes, into memory or a new blob file, and
// returns the bytes (memory), the blob name (dir) and the MD5.
func (s *store) readBody(input io.Reader, size int64) (body []byte, blob string, sum []byte, err error) {
	if s.maxSize > 0 && size > s.maxSize {
		return nil, "", nil, s.errEntityTooLarge(size)
	}
	h := md5.New()
	var w io.Writer
	var buf *bytes.Buffer
	var f *os.File
	if s.dir == "" {
		buf = bytes.NewBuffer(make([]byte, 0, size))
		w = buf
	} else {
		blob = newVersionID()
		f, err = os.OpenFile(s.blobPath(blob), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, "", nil, gofakes3.ErrorMessage(gofakes3.ErrInternal, fmt.Sprintf("s3: creating an object file in %s: %v", s.dir, err))
		}
		w = f
	}
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(input, size))
	if err == nil && n != size {
		err = gofakes3.ErrIncompleteBody
	}
	if f != nil {
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}
	if err != nil {
		var ee gofakes3.Error
		if !errors.As(err, &ee) {
			err = gofakes3.ErrorMessage(gofakes3.ErrIncompleteBody, fmt.Sprintf("reading the object's bytes: %v", err))
		}
		return nil, "", nil, err
	}
	if buf != nil {
		body = buf.Bytes()
	}
	return body, blob, h.Sum(nil), nil
}

func (s *store) PutObject(bucketName, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	var result gofakes3.PutObjectResult
	if exists, _ := s.BucketExists(bucketName); !exists {
		return result, gofakes3.BucketNotFound(bucketName)
	}
	// Read before taking the lock: a slow client must not block the store.
	body, blob, sum, err := s.readBody(input, size)
	if err != nil {
		return result, err
	}
	v := &version{Size: size, MD5: hex.EncodeToString(sum), Modified: s.now().UTC(), Meta: objectMetadata(meta), Blob: blob, body: body}

	s.mu.Lock()
	defer s.mu.Unlock()
	fail := func(err error) (gofakes3.PutObjectResult, error) {
		s.dropBlobs(v)
		return result, err
	}
	b, err := s.bucket(bucketName)
	if err != nil {
		return fail(err)
	}
	prev := b.Objects[key]
	if conditions != nil {
		info := &gofakes3.ConditionalObjectInfo{}
		if cur := prev.current(); cur != nil && !cur.DeleteMarker {
			info.Exists = true
			info.Hash, _ = hex.DecodeString(cur.MD5)
		}
		if err := gofakes3.CheckPutConditions(conditions, info); err != nil {
			return fail(err)
		}
	}
	saved := prev.clone()
	dropped := b.add(key, v)
	if err := s.commit(func() { b.restoreObject(key, saved) }); err != nil {
		return fail(err)
	}
	s.dropBlobs(dropped...)
	result.VersionID = gofakes3.VersionID(v.ID)
	return result, nil
}

// objectMetadata keeps, of the request headers gofakes3 hands over (every
// X-Amz-* one), those S3 stores with an object and returns on GET and HEAD:
// the content headers, user metadata and the redirect location. The rest
// (x-amz-date, x-amz-security-token, x-amz-content-sha256, checksum
// negotiation) describe the request, and a session token must not be kept
// on disk nor echoed to whoever reads the object.
func objectMetadata(meta map[string]string) map[string]string {
	out := make(map[string]string, len(meta))
	for k, v := range meta {
		switch ck := http.CanonicalHeaderKey(k); {
		case ck == "Content-Type", ck == "Content-Disposition", ck == "Content-Encoding",
			ck == "Content-Language", ck == "Cache-Control", ck == "Expires", ck == "Last-Modified",
			ck == "X-Amz-Website-Redirect-Location", strings.HasPrefix(ck, "X-Amz-Meta-"):
			out[ck] = v
		}
	}
	return out
}

func (s *store) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	return gofakes3.CopyObject(s, srcBucket, srcKey, dstBucket, dstKey, meta)
}

// deleteLocked is DELETE without a version ID: with versioning enabled it
// adds a delete marker (even for a key that does not exist, as S3 does);
// suspended, the delete marker replaces the "null" version; never enabled,
// the object goes.
func (s *store) deleteLocked(b *bucket, key string) (gofakes3.ObjectDeleteResult, []*version) {
	var result gofakes3.ObjectDeleteResult
	if b.Versioning == "" {
		o := b.Objects[key]
		if o == nil {
			return result, nil
		}
		delete(b.Objects, key)
		return result, o.Versions
	}
	marker := &version{DeleteMarker: true, Modified: s.now().UTC()}
	dropped := b.add(key, marker)
	result.IsDeleteMarker = true
	result.VersionID = gofakes3.VersionID(marker.ID)
	return result, dropped
}

// deleteVersionLocked removes one version for good; the one before it
// becomes current. An unknown version is no error, as in S3.
func (s *store) deleteVersionLocked(b *bucket, key string, id gofakes3.VersionID) (gofakes3.ObjectDeleteResult, []*version) {
	var result gofakes3.ObjectDeleteResult
	o := b.Objects[key]
	if o == nil {
		return result, nil
	}
	i, v := o.find(string(id))
	if v == nil {
		return result, nil
	}
	o.Versions = slices.Delete(o.Versions, i, i+1)
	if len(o.Versions) == 0 {
		delete(b.Objects, key)
	}
	result.VersionID = gofakes3.VersionID(v.ID)
	result.IsDeleteMarker = v.DeleteMarker
	return result, []*version{v}
}

func (s *store) DeleteObject(bucketName, key string) (gofakes3.ObjectDeleteResult, error) {
	return s.DeleteObjectVersion(bucketName, key, "")
}

func (s *store) DeleteObjectVersion(bucketName, key string, id gofakes3.VersionID) (gofakes3.ObjectDeleteResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.bucket(bucketName)
	if err != nil {
		return gofakes3.ObjectDeleteResult{}, err
	}
	saved := b.Objects[key].clone()
	var result gofakes3.ObjectDeleteResult
	var dropped []*version
	if id == "" {
		result, dropped = s.deleteLocked(b, key)
	} else {
		result, dropped = s.deleteVersionLocked(b, key, id)
	}
	if err := s.commit(func() { b.restoreObject(key, saved) }); err != nil {
		return gofakes3.ObjectDeleteResult{}, err
	}
	s.dropBlobs(dropped...)
	return result, nil
}

func (s *store) DeleteMulti(bucketName string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	ids := make([]gofakes3.ObjectID, len(keys))
	for i, k := range keys {
		ids[i] = gofakes3.ObjectID{Key: k}
	}
	return s.DeleteMultiVersions(bucketName, ids...)
}

func (s *store) DeleteMultiVersions(bucketName string, objects ...gofakes3.ObjectID) (gofakes3.MultiDeleteResult, error) {
	var result gofakes3.MultiDeleteResult
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.bucket(bucketName)
	if err != nil {
		return result, err
	}
	saved := map[string]*object{}
	var dropped []*version
	for _, id := range objects {
		if _, ok := saved[id.Key]; !ok {
			saved[id.Key] = b.Objects[id.Key].clone()
		}
		var d []*version
		if id.VersionID == "" {
			_, d = s.deleteLocked(b, id.Key)
		} else {
			_, d = s.deleteVersionLocked(b, id.Key, gofakes3.VersionID(id.VersionID))
		}
		dropped = append(dropped, d...)
		result.Deleted = append(result.Deleted, id)
	}
	if err := s.commit(func() {
		for k, o := range saved {
			b.restoreObject(k, o)
		}
	}); err != nil {
		return gofakes3.MultiDeleteResult{}, err
	}
	s.dropBlobs(dropped...)
	return result, nil
}

func (s *store) VersioningConfiguration(bucketName string) (gofakes3.VersioningConfiguration, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, err := s.bucket(bucketName)
	if err != nil {
		return gofakes3.VersioningConfiguration{}, err
	}
	return gofakes3.VersioningConfiguration{Status: gofakes3.VersioningStatus(b.Versioning)}, nil
}

func (s *store) SetVersioningConfiguration(bucketName string, v gofakes3.VersioningConfiguration) error {
	if v.MFADelete.Enabled() {
		return gofakes3.ErrorMessage(gofakes3.ErrNotImplemented, "MFA delete is not emulated.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.bucket(bucketName)
	if err != nil {
		return err
	}
	old := b.Versioning
	switch {
	case v.Enabled():
		b.Versioning = string(gofakes3.VersioningEnabled)
	case b.Versioning != "":
		// Once enabled, versioning can only be suspended, never turned off.
		b.Versioning = string(gofakes3.VersioningSuspended)
	}
	return s.commit(func() { b.Versioning = old })
}

func (s *store) ListBucketVersions(bucketName string, prefix *gofakes3.Prefix, page *gofakes3.ListBucketVersionsPage) (*gofakes3.ListBucketVersionsResult, error) {
	if prefix == nil {
		prefix = &gofakes3.Prefix{}
	}
	if page == nil {
		page = &gofakes3.ListBucketVersionsPage{}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	result := gofakes3.NewListBucketVersionsResult(bucketName, prefix, page)
	b, err := s.bucket(bucketName)
	if err != nil {
		return result, err
	}
	var match gofakes3.PrefixMatch
	var cnt int64
	type item struct {
		key string
		v   *version
	}
	// S3 lists keys in order and each key's versions newest first; a page
	// starts after key-marker, or after version-id-marker within key-marker.
	var items []item
	for _, key := range sortedKeys(b) {
		if page.HasKeyMarker && page.KeyMarker != "" {
			if key < page.KeyMarker || (key == page.KeyMarker && !page.HasVersionIDMarker) {
				continue
			}
		}
		if !prefix.Match(key, &match) {
			continue
		}
		if match.CommonPrefix {
			result.AddPrefix(match.MatchedPart)
			continue
		}
		vs := b.Objects[key].Versions
		start := len(vs) - 1
		if page.HasVersionIDMarker && key == page.KeyMarker {
			i, _ := b.Objects[key].find(string(page.VersionIDMarker))
			start = i - 1 // after the marker; not found: nothing of this key
		}
		for i := start; i >= 0; i-- {
			items = append(items, item{key, vs[i]})
		}
	}
	for n, it := range items {
		if page.MaxKeys > 0 && cnt >= page.MaxKeys {
			result.IsTruncated = true
			prev := items[n-1]
			result.NextKeyMarker = prev.key
			result.NextVersionIDMarker = gofakes3.VersionID(prev.v.ID)
			if prev.v.ID == "" {
				result.NextVersionIDMarker = "null"
			}
			break
		}
		latest := b.Objects[it.key].current() == it.v
		if it.v.DeleteMarker {
			result.Versions = append(result.Versions, &gofakes3.DeleteMarker{
				Key: it.key, VersionID: gofakes3.VersionID(it.v.ID), IsLatest: latest,
				LastModified: gofakes3.NewContentTime(it.v.Modified),
			})
		} else {
			result.Versions = append(result.Versions, &gofakes3.Version{
				Key: it.key, VersionID: gofakes3.VersionID(it.v.ID), IsLatest: latest,
				LastModified: gofakes3.NewContentTime(it.v.Modified), Size: it.v.Size,
				ETag: `"` + it.v.MD5 + `"`, StorageClass: gofakes3.StorageStandard,
			})
		}
		cnt++
	}
	return result, nil
}
