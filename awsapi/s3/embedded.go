package s3

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// EmbeddedOptions configures the embedded S3 store.
type EmbeddedOptions struct {
	Dir           string // "" keeps objects in memory; else they persist under Dir across restarts
	MaxObjectSize int64  // 0 = DefaultMaxObjectSize; larger PUTs are refused with S3's EntityTooLarge
	Logger        *slog.Logger
}

// Embedded is the S3 store albmtls serves itself.
type Embedded struct {
	store   *store
	handler http.Handler
	maxSize int64
	log     *slog.Logger
}

var _ Objects = (*Embedded)(nil)

// NewEmbedded opens the store (reading Dir's index when there is one).
func NewEmbedded(opts EmbeddedOptions) (*Embedded, error) {
	if opts.MaxObjectSize < 0 {
		return nil, fmt.Errorf("s3: MaxObjectSize %d is negative; give 0 for the default (%d bytes) or a positive size", opts.MaxObjectSize, DefaultMaxObjectSize)
	}
	maxSize := opts.MaxObjectSize
	if maxSize == 0 {
		maxSize = DefaultMaxObjectSize
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	st, err := openStore(opts.Dir, maxSize, time.Now)
	if err != nil {
		return nil, err
	}
	fake := gofakes3.New(st, gofakes3.WithLogger(slogLogger{logger}))
	return &Embedded{store: st, handler: fake.Server(), maxSize: maxSize, log: logger}, nil
}

// Close releases the store. Every change is already on disk when its request
// has been answered, so Close has nothing to flush.
func (e *Embedded) Close() error { return nil }

// ServeHTTP answers S3 requests, path-style (/BUCKET/KEY) or virtual-host
// style (Host BUCKET.localhost[:port], BUCKET.s3.localhost,
// BUCKET.s3.REGION.localhost, and the same under localhost.localstack.cloud).
func (e *Embedded) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if bucket, ok := HostBucket(r.Host); ok {
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path = "/" + bucket
		if p := r.URL.Path; p != "/" && p != "" {
			u.Path += "/" + strings.TrimPrefix(p, "/")
		}
		u.RawPath = ""
		r2.URL = &u
		r = r2
	}
	if q := r.URL.Query(); q.Get("versionId") == "null" {
		// S3's name for the version put while versioning was off; gofakes3
		// would treat it as "the latest version".
		q.Set("versionId", string(nullVersion))
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.RawQuery = q.Encode()
		r2.URL = &u
		r = r2
	}
	if r.Method == http.MethodPut {
		var ok bool
		if r, ok = e.checkUpload(w, r); !ok {
			return
		}
	}
	if r.Method == http.MethodHead && versionFromQuery(r) != "" {
		// gofakes3 answers HEAD ?versionId= with the latest version; a GET
		// of that version without its body is the HEAD S3 gives.
		r2 := new(http.Request)
		*r2 = *r
		r2.Method = http.MethodGet
		e.handler.ServeHTTP(headWriter{w}, r2)
		return
	}
	e.handler.ServeHTTP(w, r)
}

func versionFromQuery(r *http.Request) string { return r.URL.Query().Get("versionId") }

// headWriter drops the body of a response to a HEAD request.
type headWriter struct{ http.ResponseWriter }

func (h headWriter) Write(p []byte) (int, error) { return len(p), nil }

// checkUpload refuses an object (or part) larger than MaxObjectSize from its
// declared length, before a byte of the body is read, and turns an
// aws-chunked body (the SDKs' streaming uploads, signed or with a trailing
// checksum) into a plain one of its decoded length.
func (e *Embedded) checkUpload(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	if strings.Trim(r.URL.Path, "/") == "" || !strings.Contains(strings.TrimPrefix(r.URL.Path, "/"), "/") {
		return r, true // a bucket-level PUT (CreateBucket, ?versioning, …)
	}
	if r.Header.Get("X-Amz-Copy-Source") != "" {
		return r, true // CopyObject: the size is the source's
	}
	size := r.ContentLength
	decoded := r.Header.Get("X-Amz-Decoded-Content-Length")
	chunked := strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") ||
		strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked")
	if chunked {
		n, err := strconv.ParseInt(decoded, 10, 64)
		if err != nil || n < 0 {
			WriteError(w, http.StatusLengthRequired, "MissingContentLength", "An aws-chunked upload must send x-amz-decoded-content-length with the object's size.")
			return nil, false
		}
		size = n
	}
	if size < 0 {
		WriteError(w, http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header.")
		return nil, false
	}
	if size > e.maxSize {
		e.log.Info("s3: refused an upload above the object size limit", "path", r.URL.Path, "size", size, "limit", e.maxSize)
		WriteError(w, http.StatusBadRequest, "EntityTooLarge",
			fmt.Sprintf("Your proposed upload (%d bytes) exceeds the maximum allowed object size of %d bytes (the embedded S3's max object size).", size, e.maxSize))
		return nil, false
	}
	if chunked {
		r = r.Clone(r.Context()) // the caller's request keeps its headers
		r.Body = struct {
			io.Reader
			io.Closer
		}{newAWSChunkedReader(r.Body), r.Body}
		r.ContentLength = size
		r.Header.Set("Content-Length", strconv.FormatInt(size, 10))
		r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		r.Header.Del("X-Amz-Decoded-Content-Length")
		if ce := removeToken(r.Header.Get("Content-Encoding"), "aws-chunked"); ce != "" {
			r.Header.Set("Content-Encoding", ce)
		} else {
			r.Header.Del("Content-Encoding")
		}
	}
	return r, true
}

func removeToken(list, token string) string {
	var keep []string
	for _, t := range strings.Split(list, ",") {
		if t = strings.TrimSpace(t); t != "" && !strings.EqualFold(t, token) {
			keep = append(keep, t)
		}
	}
	return strings.Join(keep, ",")
}

var (
	// BUCKET.s3.REGION or BUCKET.s3-REGION; a region is like eu-west-1.
	regionalS3Suffix = regexp.MustCompile(`\.s3[.-][a-z]{2}(-[a-z]+)+-[0-9]+$`)
	hostBases        = []string{".localhost.localstack.cloud", ".localhost"}
)

// HostBucket returns the bucket a virtual-host style Host names: BUCKET in
// BUCKET.localhost[:port], BUCKET.s3.localhost, BUCKET.s3.REGION.localhost,
// BUCKET.s3-REGION.localhost and the same under localhost.localstack.cloud
// (LocalStack's name). A bucket name may hold dots. Hosts that name no bucket
// (localhost, 127.0.0.1, s3.localhost, s3.REGION.localhost) give false: their
// requests are path-style.
func HostBucket(host string) (string, bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, base := range hostBases {
		if !strings.HasSuffix(host, base) {
			continue
		}
		name := strings.TrimSuffix(host, base)
		if name == "" || name == "s3" {
			return "", false
		}
		if loc := regionalS3Suffix.FindStringIndex("." + name); loc != nil && loc[0] == 0 {
			return "", false // s3.REGION.localhost: the service's own name
		}
		if loc := regionalS3Suffix.FindStringIndex(name); loc != nil {
			name = name[:loc[0]]
		} else {
			name = strings.TrimSuffix(name, ".s3")
		}
		if name == "" {
			return "", false
		}
		return name, true
	}
	return "", false
}

// GetObject reads an object from the store (version "" is the latest).
func (e *Embedded) GetObject(ctx context.Context, bucket, key, version string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name := "s3://" + bucket + "/" + key
	if version != "" {
		name += " version " + version
	}
	id := version // "null" names the version put while versioning was off
	s := e.store
	s.mu.RLock()
	v, err := s.lookup(bucket, key, gofakes3.VersionID(id), version == "")
	if err == nil && v.DeleteMarker {
		s.mu.RUnlock()
		return nil, fmt.Errorf("%s: %w (its latest version is a delete marker)", name, ErrNoSuchKey)
	}
	var obj *gofakes3.Object
	if err == nil {
		obj, err = s.toObject(key, v, nil, true)
	}
	s.mu.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, objectError(err))
	}
	defer obj.Contents.Close()
	data := make([]byte, obj.Size) // the caller's own copy
	if _, err := io.ReadFull(obj.Contents, data); err != nil {
		return nil, fmt.Errorf("%s: reading the stored bytes: %w", name, err)
	}
	return data, nil
}

// objectError maps gofakes3's error codes onto the sentinels.
func objectError(err error) error {
	switch {
	case gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchBucket):
		return fmt.Errorf("%w (create it with CreateBucket, or check the name)", ErrNoSuchBucket)
	case gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchKey):
		return fmt.Errorf("%w (upload it with PutObject, or check the key)", ErrNoSuchKey)
	case gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchVersion):
		return fmt.Errorf("%w (list the versions with ListObjectVersions)", ErrNoSuchVersion)
	case gofakes3.HasErrorCode(err, gofakes3.ErrMethodNotAllowed):
		return fmt.Errorf("%w: that version is a delete marker", ErrNoSuchVersion)
	}
	return err
}

// slogLogger hands gofakes3's log lines to slog (its INFO lines, one per
// request, are Debug here).
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Print(level gofakes3.LogLevel, v ...any) {
	msg := strings.TrimSuffix(fmt.Sprintln(v...), "\n")
	switch level {
	case gofakes3.LogErr:
		s.l.Error("s3: " + msg)
	case gofakes3.LogWarn:
		s.l.Warn("s3: " + msg)
	default:
		s.l.Debug("s3: " + msg)
	}
}
