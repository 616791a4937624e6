package targetgroup

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, cond func() bool, msg string, args ...any) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, 5*time.Millisecond, append([]any{msg}, args...)...)
}

// backend is a well-behaved target: it names itself in X-Backend, echoes
// what it received, and answers its health path with a settable status.
type backend struct {
	name   string
	srv    *httptest.Server
	health atomic.Int32 // status for /healthz
	checks atomic.Int32 // health checks received
	hits   atomic.Int32 // other requests received
}

func newBackend(t *testing.T, name string) *backend {
	t.Helper()
	b := &backend{name: name}
	b.health.Store(http.StatusOK)
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			b.checks.Add(1)
			w.WriteHeader(int(b.health.Load()))
			return
		}
		b.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Backend", name)
		w.Header().Set("X-Seen-Host", r.Host)
		w.Header().Set("X-Seen-Proto", r.Proto)
		w.Header().Set("X-Seen-Trace", r.Header.Get("X-Amzn-Trace-Id"))
		w.Header().Set("X-Seen-UA", r.Header.Get("User-Agent"))
		_, _ = io.WriteString(w, name+":"+string(body))
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *backend) addr() string { return b.srv.Listener.Addr().String() }

// fastHealth is a health check fast enough for tests.
func fastHealth() HealthCheck {
	return HealthCheck{
		Path: "/healthz", Interval: 40 * time.Millisecond, Timeout: 30 * time.Millisecond,
		HealthyThreshold: 2, UnhealthyThreshold: 2, AllowShortIntervals: true,
	}
}

func disabled() *bool { f := false; return &f }

// startGroup builds and starts a group, closed at cleanup.
func startGroup(t *testing.T, cfg Config) *Group {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "web"
	}
	g, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	g.Start(t.Context())
	t.Cleanup(g.Close)
	return g
}

// front is the listener side: it forwards every request through g and
// records the outcomes, aborting the client as Outcome.Aborted asks.
type front struct {
	srv      *httptest.Server
	mu       sync.Mutex
	outcomes []Outcome
	got      chan struct{}
}

func newFront(t *testing.T, g *Group, h2 bool, rewrite func(*httputil.ProxyRequest)) *front {
	t.Helper()
	f := &front{got: make(chan struct{}, 1000)}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := g.Forward(w, r, rewrite)
		f.mu.Lock()
		f.outcomes = append(f.outcomes, out)
		f.mu.Unlock()
		f.got <- struct{}{}
		if out.Aborted {
			panic(http.ErrAbortHandler)
		}
	}))
	f.srv.Config.ErrorLog = slog.NewLogLogger(slog.NewTextHandler(io.Discard, nil), slog.LevelError)
	if h2 {
		f.srv.EnableHTTP2 = true
		f.srv.StartTLS()
	} else {
		f.srv.Start()
	}
	t.Cleanup(f.srv.Close)
	return f
}

// last waits for the next outcome and returns the latest one.
func (f *front) last(t *testing.T) Outcome {
	t.Helper()
	select {
	case <-f.got:
	case <-time.After(10 * time.Second):
		t.Fatal("no outcome recorded")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.outcomes[len(f.outcomes)-1]
}

// get sends a GET through the front and returns status, X-Backend and body.
func (f *front) get(t *testing.T, path string) (int, string, string) {
	t.Helper()
	resp, err := f.srv.Client().Get(f.srv.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("X-Backend"), string(body)
}

// rawGet sends one HTTP/1.1 request on a fresh TCP connection and returns
// the status line, headers and body as sent by the front.
func (f *front) rawGet(t *testing.T) (statusLine string, header http.Header, body string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", f.srv.Listener.Addr().String(), 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = io.WriteString(c, "GET /x HTTP/1.1\r\nHost: app.example.com\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	header = http.Header{}
	for {
		l, err := br.ReadString('\n')
		require.NoError(t, err)
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			break
		}
		k, v, _ := strings.Cut(l, ": ")
		header.Add(k, v)
	}
	n, err := strconv.Atoi(header.Get("Content-Length"))
	require.NoError(t, err)
	b := make([]byte, n)
	_, err = io.ReadFull(br, b)
	require.NoError(t, err)
	return strings.TrimRight(line, "\r\n"), header, string(b)
}

// rawTarget is a misbehaving target: serve runs on every accepted
// connection.
func rawTarget(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// readRequestHead consumes one request head from c.
func readRequestHead(c net.Conn) *bufio.Reader {
	br := bufio.NewReader(c)
	_, _ = http.ReadRequest(br)
	return br
}

// reset closes c with a TCP RST.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

// newTLSBackend is an HTTPS target with a self-signed certificate.
func newTLSBackend(t *testing.T) string {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", "tls")
		_, _ = io.WriteString(w, "secure")
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// portOf returns the port of a host:port address.
func portOf(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}

// targetList and statusList are target:port_list and
// target_status_code_list as the access log writes them.
func targetList(out Outcome) []string {
	var l []string
	for _, a := range out.Attempts {
		l = append(l, a.Target.String())
	}
	return l
}

func statusList(out Outcome) []string {
	var l []string
	for _, a := range out.Attempts {
		if a.Status == 0 {
			l = append(l, "-")
			continue
		}
		l = append(l, strconv.Itoa(a.Status))
	}
	return l
}
