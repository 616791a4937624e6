package logdelivery

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Kind selects which ALB log an S3Layout delivers; it decides the object
// name prefix and whether the access-log test file is written.
type Kind int

const (
	// AccessLog objects are named ACCOUNT_elasticloadbalancing_… (alb-behaviour §7).
	AccessLog Kind = iota
	// ConnectionLog objects are named conn_log_ACCOUNT_elasticloadbalancing_… (alb-behaviour §6.1).
	ConnectionLog
)

// DefaultInterval is ALB's delivery period: "a log file for each load
// balancer node every 5 minutes" (alb-behaviour §6.1).
const DefaultInterval = 5 * time.Minute

// S3Config configures an S3Layout.
type S3Config struct {
	// Dir is the local directory that plays the bucket (logs.s3_layout_dir).
	Dir string
	// Prefix is the optional bucket prefix; like ALB, it must not contain "AWSLogs".
	Prefix string
	// Kind is AccessLog or ConnectionLog.
	Kind Kind
	// AccountID and Region appear in every object key.
	AccountID, Region string
	// LoadBalancer is the resource ID, app/NAME/ID (connlog.ELB).
	LoadBalancer string
	// NodeIP is the node address in object names; the zero value means 127.0.0.1.
	NodeIP netip.Addr
	// Interval is the delivery window; zero means DefaultInterval. Windows
	// are aligned with time.Truncate, so an interval that divides a day ends
	// on the clock: the default windows end at :00, :05, … as ALB's do.
	Interval time.Duration
	// Now is the clock; nil means time.Now. Tests inject one.
	Now func() time.Time
	// Rand supplies the random part of object names; nil means crypto/rand.
	Rand io.Reader
	// CheckEvery is how often, in real time, a background goroutine checks
	// Now for the end of the window; zero means Interval/10, at most 1s.
	CheckEvery time.Duration
	// Logger receives delivery errors from the background goroutine; nil
	// means slog.Default().
	Logger *slog.Logger
}

// S3Layout collects log lines in memory and, when their window ends (and at
// Flush and Close), writes them as one gzip object under ALB's key layout:
//
//	[PREFIX/]AWSLogs/ACCOUNT/elasticloadbalancing/REGION/yyyy/mm/dd/[conn_log_]ACCOUNT_elasticloadbalancing_REGION_app.NAME.ID_ENDTIME_IP_RANDOM.log.gz
//
// An object is written to a temporary name and renamed, so a reader never
// sees a partial object. A window without lines writes nothing.
type S3Layout struct {
	cfg S3Config

	mu     sync.Mutex
	buf    bytes.Buffer // lines of the open window
	end    time.Time    // end of the open window; zero when buf is empty
	closed bool
	bgErr  error // first delivery error of the background goroutine

	writeMu  sync.Mutex     // serialises object writes
	inflight sync.WaitGroup // deliveries started by WriteLine, awaited by Close
	stop     chan struct{}
	done     chan struct{}
}

// NewS3Layout validates cfg, writes the ELBAccessLogTestFile for access logs
// (alb-behaviour §7) and starts the background goroutine that delivers each window
// when it ends.
func NewS3Layout(cfg S3Config) (*S3Layout, error) {
	if cfg.Dir == "" {
		return nil, errors.New("s3 layout: no directory: set logs.s3_layout_dir")
	}
	if strings.Contains(cfg.Prefix, "AWSLogs") {
		return nil, fmt.Errorf("s3 layout: prefix %q contains AWSLogs, which ALB refuses: choose another prefix", cfg.Prefix)
	}
	if cfg.AccountID == "" || cfg.Region == "" {
		return nil, errors.New("s3 layout: account ID and region are part of every object key: set load_balancer.account_id and load_balancer.region")
	}
	parts := strings.Split(cfg.LoadBalancer, "/")
	if len(parts) != 3 || parts[0] != "app" || parts[1] == "" || parts[2] == "" {
		return nil, fmt.Errorf("s3 layout: load balancer %q is not a resource ID app/NAME/ID", cfg.LoadBalancer)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if !cfg.NodeIP.IsValid() {
		cfg.NodeIP = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	if cfg.CheckEvery <= 0 {
		cfg.CheckEvery = max(min(cfg.Interval/10, time.Second), time.Millisecond)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &S3Layout{
		cfg:  cfg,
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	if cfg.Kind == AccessLog {
		if err := s.writeTestFile(parts[1]); err != nil {
			return nil, err
		}
	}
	go s.run()
	return s, nil
}

// WriteLine adds line to the open window. A line that arrives after the
// window's end first delivers the old window, so the lines of each object
// belong to its window even when the background goroutine is late.
func (s *S3Layout) WriteLine(line []byte) error {
	now := s.cfg.Now()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("write log line to the s3 layout in %s: %w", s.cfg.Dir, fs.ErrClosed)
	}
	data, end := s.takeDueLocked(now)
	if data != nil {
		s.inflight.Add(1)
		defer s.inflight.Done()
	}
	if s.buf.Len() == 0 {
		s.end = s.windowEnd(now)
	}
	s.buf.Write(line)
	if len(line) == 0 || line[len(line)-1] != '\n' {
		s.buf.WriteByte('\n')
	}
	s.mu.Unlock()
	if data != nil {
		return s.deliver(data, end)
	}
	return nil
}

// Flush delivers the open window now, under its end time, without waiting
// for the window to end. It writes nothing when no lines are waiting.
func (s *S3Layout) Flush() error {
	s.mu.Lock()
	data, end := s.takeLocked()
	if data != nil {
		s.inflight.Add(1) // under mu, before Close can start waiting
		defer s.inflight.Done()
	}
	s.mu.Unlock()
	return s.deliver(data, end)
}

// Close delivers the open window, stops the background goroutine and
// reports any delivery error it had logged. A second Close does nothing.
func (s *S3Layout) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	data, end := s.takeLocked()
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	s.inflight.Wait()
	err := s.deliver(data, end)
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.bgErr, err)
}

// run delivers each window once Now passes its end, checking every CheckEvery.
func (s *S3Layout) run() {
	defer close(s.done)
	t := time.NewTicker(s.cfg.CheckEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.mu.Lock()
		data, end := s.takeDueLocked(s.cfg.Now())
		s.mu.Unlock()
		if err := s.deliver(data, end); err != nil {
			s.cfg.Logger.Error("deliver log object", "dir", s.cfg.Dir, "err", err)
			s.mu.Lock()
			if s.bgErr == nil {
				s.bgErr = err
			}
			s.mu.Unlock()
		}
	}
}

// windowEnd returns the end of the window that holds t.
func (s *S3Layout) windowEnd(t time.Time) time.Time {
	return t.UTC().Truncate(s.cfg.Interval).Add(s.cfg.Interval)
}

// takeDueLocked detaches the buffered lines if their window has ended by now.
func (s *S3Layout) takeDueLocked(now time.Time) ([]byte, time.Time) {
	if s.buf.Len() == 0 || now.Before(s.end) {
		return nil, time.Time{}
	}
	return s.takeLocked()
}

// takeLocked detaches the buffered lines and their window end.
func (s *S3Layout) takeLocked() ([]byte, time.Time) {
	if s.buf.Len() == 0 {
		return nil, time.Time{}
	}
	data := bytes.Clone(s.buf.Bytes())
	end := s.end
	s.buf.Reset()
	s.end = time.Time{}
	return data, end
}

// deliver writes data as the gzip object of the window ending at end.
func (s *S3Layout) deliver(data []byte, end time.Time) error {
	if data == nil {
		return nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	// Windows shorter than a minute share an end-time, and an injected
	// random source may repeat: never reuse the name of a delivered object,
	// drawing again from crypto/rand after a clash.
	var key string
	for src := s.cfg.Rand; ; src = rand.Reader {
		random, err := randomString(src)
		if err != nil {
			return err
		}
		key = ObjectKey(s.cfg, end, random)
		if _, err := os.Stat(s.objectPath(key)); err != nil {
			break // free (or unreadable: writeObject will report it)
		}
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(data); err != nil {
		return fmt.Errorf("compress log object %s: %w", key, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compress log object %s: %w", key, err)
	}
	return s.writeObject(key, gz.Bytes())
}

// writeObject writes key under Dir (and Prefix) through a temporary file and
// a rename, so readers see whole objects only.
func (s *S3Layout) writeObject(key string, body []byte) error {
	dst := s.objectPath(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("create directory for log object %s: %w", dst, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".tmp-*")
	if err != nil {
		return fmt.Errorf("create log object %s: %w", dst, err)
	}
	_, werr := tmp.Write(body)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write log object %s: %w", dst, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write log object %s: %w", dst, err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("publish log object %s: %w", dst, err)
	}
	return nil
}

// objectPath is the local path of key under Dir and Prefix.
func (s *S3Layout) objectPath(key string) string {
	return filepath.Join(s.cfg.Dir, filepath.FromSlash(path.Join(s.cfg.Prefix, key)))
}

// writeTestFile writes AWSLogs/ACCOUNT/ELBAccessLogTestFile, which ALB puts
// in the bucket when access logging is enabled (alb-behaviour §7). Its content is not
// in the reference; the emulator writes the form third-party implementations
// use: "Enable AccessLog for ELB: NAME at 2006-01-02T15:04:05.000Z".
func (s *S3Layout) writeTestFile(lbName string) error {
	body := "Enable AccessLog for ELB: " + lbName + " at " + s.cfg.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	return s.writeObject(path.Join("AWSLogs", s.cfg.AccountID, "ELBAccessLogTestFile"), []byte(body))
}

// randomString returns the 8 lower-case letters and digits that end an
// object name, like 57hw2gm1 in the real key of alb-behaviour §6.1.
func randomString(r io.Reader) (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("random part of log object name: %w", err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:]), nil
}

// ObjectKey returns the key, relative to the bucket prefix, of the object
// for the window ending at end (alb-behaviour §6.1, §7). yyyy/mm/dd is the window
// end's UTC date, which is ALB's delivery date except for late deliveries.
func ObjectKey(cfg S3Config, end time.Time, random string) string {
	end = end.UTC()
	node := cfg.NodeIP
	if !node.IsValid() {
		node = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	prefix := ""
	if cfg.Kind == ConnectionLog {
		prefix = "conn_log_"
	}
	name := prefix + cfg.AccountID + "_elasticloadbalancing_" + cfg.Region + "_" +
		strings.ReplaceAll(cfg.LoadBalancer, "/", ".") + "_" + end.Format("20060102T1504Z") + "_" +
		node.String() + "_" + random + ".log.gz"
	return path.Join("AWSLogs", cfg.AccountID, "elasticloadbalancing", cfg.Region, end.Format("2006/01/02"), name)
}
