package logdelivery

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is the injected clock; tests move it by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}

// objects lists the .log.gz files under dir, relative and slash-separated, sorted.
func objects(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".log.gz") {
			rel, err := filepath.Rel(dir, p)
			require.NoError(t, err)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	}))
	sort.Strings(out)
	return out
}

// noTempFiles checks that no temporary object is left once deliveries are done.
func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		assert.False(t, strings.HasPrefix(d.Name(), ".tmp-"), "temporary file left behind: %s", p)
		return err
	}))
}

func gunzip(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	b, err := io.ReadAll(zr)
	require.NoError(t, err)
	return string(b)
}

func baseConfig(t *testing.T, clock *fakeClock) S3Config {
	return S3Config{
		Dir:          t.TempDir(),
		Kind:         AccessLog,
		AccountID:    "123456789012",
		Region:       "us-east-2",
		LoadBalancer: "app/my-loadbalancer/1234567890abcdef",
		NodeIP:       netip.MustParseAddr("172.160.1.192"),
		Now:          clock.Now,
		Rand:         bytes.NewReader(counting(4096)),
		CheckEvery:   2 * time.Millisecond,
	}
}

// counting returns n bytes 0, 1, 2, …: a predictable but varied random source.
func counting(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func TestObjectKeyMatchesRealKeys(t *testing.T) {
	// The real connection-log key of alb-behaviour §6.1 [OBS].
	conn := S3Config{
		Kind: ConnectionLog, AccountID: "702656214742", Region: "us-east-1",
		LoadBalancer: "app/k8s-tileserver-617dd1df30/98e3a879de9d6b42",
		NodeIP:       netip.MustParseAddr("54.81.166.60"),
	}
	assert.Equal(t,
		"AWSLogs/702656214742/elasticloadbalancing/us-east-1/2026/09/23/conn_log_702656214742_elasticloadbalancing_us-east-1_app.k8s-tileserver-617dd1df30.98e3a879de9d6b42_20260923T0715Z_54.81.166.60_57hw2gm1.log.gz",
		ObjectKey(conn, at(t, "2026-09-23T07:15:00Z"), "57hw2gm1"))

	// A real access-log key (third-party capture, DataBiosphere/azul PR #4920).
	access := S3Config{
		Kind: AccessLog, AccountID: "122796619775", Region: "us-east-1",
		LoadBalancer: "app/azul-gitlab-alb/c051f98624e68d7e",
		NodeIP:       netip.MustParseAddr("172.71.1.176"),
	}
	assert.Equal(t,
		"AWSLogs/122796619775/elasticloadbalancing/us-east-1/2023/02/07/122796619775_elasticloadbalancing_us-east-1_app.azul-gitlab-alb.c051f98624e68d7e_20230207T0135Z_172.71.1.176_jm0mfogh.log.gz",
		ObjectKey(access, at(t, "2023-02-07T01:35:00Z"), "jm0mfogh"))
}

func TestS3LayoutDeliversEachWindowWhenItEnds(t *testing.T) {
	clock := &fakeClock{t: at(t, "2022-02-15T23:36:10Z")}
	cfg := baseConfig(t, clock)
	s, err := NewS3Layout(cfg)
	require.NoError(t, err)

	// The access-log test file is written at start (alb-behaviour §7).
	test, err := os.ReadFile(filepath.Join(cfg.Dir, "AWSLogs", "123456789012", "ELBAccessLogTestFile"))
	require.NoError(t, err)
	assert.Equal(t, "Enable AccessLog for ELB: my-loadbalancer at 2022-02-15T23:36:10.000Z", string(test))

	require.NoError(t, s.WriteLine([]byte("line one")))
	require.NoError(t, s.WriteLine([]byte("line two\n")))
	clock.Set(at(t, "2022-02-15T23:39:59Z"))
	// Give the background goroutine many checks; the window is still open.
	time.Sleep(20 * time.Millisecond)
	assert.Empty(t, objects(t, cfg.Dir))

	clock.Set(at(t, "2022-02-15T23:40:00Z")) // the window 23:35-23:40 ends
	require.Eventually(t, func() bool { return len(objects(t, cfg.Dir)) == 1 }, 10*time.Second, 2*time.Millisecond)
	keys := objects(t, cfg.Dir)
	// Random part from the injected reader: bytes 0-7 → "abcdefgh".
	assert.Equal(t, "AWSLogs/123456789012/elasticloadbalancing/us-east-2/2022/02/15/123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.1234567890abcdef_20220215T2340Z_172.160.1.192_abcdefgh.log.gz", keys[0])
	assert.Equal(t, "line one\nline two\n", gunzip(t, filepath.Join(cfg.Dir, keys[0])))

	// An empty window writes nothing.
	clock.Set(at(t, "2022-02-15T23:55:00Z"))
	time.Sleep(20 * time.Millisecond)
	assert.Len(t, objects(t, cfg.Dir), 1)

	// Lines of the next window are delivered at Close, under that window's end,
	// which crosses midnight into the next day's directory.
	clock.Set(at(t, "2022-02-15T23:58:01Z"))
	require.NoError(t, s.WriteLine([]byte("line three")))
	require.NoError(t, s.Close())
	keys = objects(t, cfg.Dir)
	require.Len(t, keys, 2)
	assert.Regexp(t, `^AWSLogs/123456789012/elasticloadbalancing/us-east-2/2022/02/16/123456789012_elasticloadbalancing_us-east-2_app\.my-loadbalancer\.1234567890abcdef_20220216T0000Z_172\.160\.1\.192_[a-z0-9]{8}\.log\.gz$`, keys[1])
	assert.Equal(t, "line three\n", gunzip(t, filepath.Join(cfg.Dir, keys[1])))

	noTempFiles(t, cfg.Dir)
	require.ErrorIs(t, s.WriteLine([]byte("late")), fs.ErrClosed)
	require.NoError(t, s.Close(), "second Close is a no-op")
}

func TestS3LayoutRotatesOnWriteWhenTheWindowHasEnded(t *testing.T) {
	// With the background check effectively off, the first line of a new
	// window delivers the old one, so no object mixes two windows.
	clock := &fakeClock{t: at(t, "2026-09-23T07:11:27Z")}
	cfg := baseConfig(t, clock)
	cfg.Kind = ConnectionLog
	cfg.CheckEvery = time.Hour
	cfg.Rand = nil // crypto/rand
	s, err := NewS3Layout(cfg)
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(cfg.Dir, "AWSLogs", "123456789012", "ELBAccessLogTestFile"))
	assert.ErrorIs(t, err, fs.ErrNotExist, "connection logs have no test file")

	require.NoError(t, s.WriteLine([]byte("window 1")))
	clock.Set(at(t, "2026-09-23T07:15:00.000001Z"))
	require.NoError(t, s.WriteLine([]byte("window 2")))
	keys := objects(t, cfg.Dir)
	require.Len(t, keys, 1)
	assert.Contains(t, keys[0], "/conn_log_123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.1234567890abcdef_20260923T0715Z_")
	assert.Equal(t, "window 1\n", gunzip(t, filepath.Join(cfg.Dir, keys[0])))

	require.NoError(t, s.Flush())
	keys = objects(t, cfg.Dir)
	require.Len(t, keys, 2)
	assert.Contains(t, keys[1], "_20260923T0720Z_")
	assert.Equal(t, "window 2\n", gunzip(t, filepath.Join(cfg.Dir, keys[1])))
	require.NoError(t, s.Flush(), "flush with nothing waiting writes nothing")
	require.NoError(t, s.Close())
	assert.Len(t, objects(t, cfg.Dir), 2)
}

func TestS3LayoutShortIntervalAndPrefix(t *testing.T) {
	clock := &fakeClock{t: at(t, "2026-01-01T00:00:00Z")}
	cfg := baseConfig(t, clock)
	cfg.Interval = 10 * time.Second
	cfg.Prefix = "logging-prefix/alb"
	s, err := NewS3Layout(cfg)
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(cfg.Dir, "logging-prefix", "alb", "AWSLogs", "123456789012", "ELBAccessLogTestFile"))
	require.NoError(t, err)
	for i := range 3 {
		clock.Set(at(t, "2026-01-01T00:00:00Z").Add(time.Duration(i) * 10 * time.Second))
		require.NoError(t, s.WriteLine([]byte{byte('a' + i)}))
	}
	require.NoError(t, s.Close())
	keys := objects(t, cfg.Dir)
	require.Len(t, keys, 3)
	var all []string
	for _, k := range keys {
		assert.True(t, strings.HasPrefix(k, "logging-prefix/alb/AWSLogs/123456789012/elasticloadbalancing/us-east-2/2026/01/01/"), k)
		all = append(all, gunzip(t, filepath.Join(cfg.Dir, k)))
	}
	sort.Strings(all)
	assert.Equal(t, []string{"a\n", "b\n", "c\n"}, all)
	// Three windows end in the same minute, so their names differ only in
	// the random part: a name is never reused, even with a repeating source.
	cfg.Dir = t.TempDir()
	cfg.Rand = bytes.NewReader(bytes.Repeat([]byte("abcdefgh"), 100))
	s, err = NewS3Layout(cfg)
	require.NoError(t, err)
	for i := range 3 {
		clock.Set(at(t, "2026-01-01T00:00:00Z").Add(time.Duration(i) * 10 * time.Second))
		require.NoError(t, s.WriteLine([]byte{byte('a' + i)}))
	}
	require.NoError(t, s.Close())
	assert.Len(t, objects(t, cfg.Dir), 3)
}

func TestS3LayoutConcurrentWriters(t *testing.T) {
	clock := &fakeClock{t: at(t, "2026-01-01T00:00:00Z")}
	cfg := baseConfig(t, clock)
	cfg.Rand = nil
	s, err := NewS3Layout(cfg)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 250 {
				if g == 0 && i == 100 {
					clock.Set(at(t, "2026-01-01T00:05:00Z")) // rotate mid-stream
				}
				assert.NoError(t, s.WriteLine([]byte(strings.Repeat(string(rune('a'+g)), 50))))
			}
		})
	}
	wg.Wait()
	require.NoError(t, s.Close())
	total := 0
	re := regexp.MustCompile(`^(a{50}|b{50}|c{50}|d{50})$`)
	for _, k := range objects(t, cfg.Dir) {
		for _, line := range strings.Split(strings.TrimSuffix(gunzip(t, filepath.Join(cfg.Dir, k)), "\n"), "\n") {
			assert.Regexp(t, re, line)
			total++
		}
	}
	assert.Equal(t, 1000, total)
}

func TestNewS3LayoutErrors(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	tests := map[string]func(*S3Config){
		"no dir":     func(c *S3Config) { c.Dir = "" },
		"AWSLogs":    func(c *S3Config) { c.Prefix = "x/AWSLogs/y" },
		"no account": func(c *S3Config) { c.AccountID = "" },
		"no region":  func(c *S3Config) { c.Region = "" },
		"bad elb":    func(c *S3Config) { c.LoadBalancer = "my-loadbalancer" },
		"net elb":    func(c *S3Config) { c.LoadBalancer = "net/my-nlb/1234" },
		"unwritable": func(c *S3Config) { c.Dir = "/proc/albmtls-cannot-write-here" },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := baseConfig(t, clock)
			mutate(&cfg)
			s, err := NewS3Layout(cfg)
			require.Error(t, err)
			assert.Nil(t, s)
		})
	}
}

func TestS3LayoutReportsDeliveryErrors(t *testing.T) {
	clock := &fakeClock{t: at(t, "2026-01-01T00:00:00Z")}
	cfg := baseConfig(t, clock)
	cfg.Kind = ConnectionLog
	cfg.Rand = strings.NewReader("short") // too few bytes for the random part
	s, err := NewS3Layout(cfg)
	require.NoError(t, err)
	require.NoError(t, s.WriteLine([]byte("x")))
	err = s.Close()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "random part of log object name")
}
