package targetgroup

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/albmtls/albmtls/emulator/albresponse"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRoundRobin: two healthy targets take turns, over HTTP/1.1 and HTTP/2
// from the client.
func TestRoundRobin(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "http1", true: "h2"}[h2], func(t *testing.T) {
			a, b := newBackend(t, "a"), newBackend(t, "b")
			g := startGroup(t, Config{Targets: []string{a.addr(), b.addr()}, HealthCheck: fastHealth()})
			<-g.Ready()
			waitFor(t, func() bool { return allIn(g, StateHealthy) }, "targets never became healthy: %v", g.Targets())
			f := newFront(t, g, h2, nil)
			var seen []string
			for range 6 {
				code, who, _ := f.get(t, "/app")
				require.Equal(t, http.StatusOK, code)
				seen = append(seen, who)
				out := f.last(t)
				assert.Equal(t, 200, out.ELBStatus)
				assert.Equal(t, 200, out.TargetStatus)
				assert.Equal(t, map[string]string{"a": a.addr(), "b": b.addr()}[who], out.Target().String())
				assert.GreaterOrEqual(t, out.RequestTime, time.Duration(0))
				assert.GreaterOrEqual(t, out.TargetTime, time.Duration(0))
				assert.GreaterOrEqual(t, out.ResponseTime, time.Duration(0))
				assert.Equal(t, []string{out.Target().String()}, targetList(out))
				assert.Equal(t, []string{"200"}, statusList(out))
				assert.Positive(t, out.SentBytes)
				assert.Positive(t, out.ReceivedBytes)
			}
			for i := 2; i < len(seen); i++ {
				assert.Equal(t, seen[i-2], seen[i], "round robin: %v", seen)
			}
			assert.NotEqual(t, seen[0], seen[1], "both targets must serve: %v", seen)
		})
	}
}

func allIn(g *Group, s TargetState) bool {
	for _, ts := range g.Targets() {
		if ts.State != s {
			return false
		}
	}
	return true
}

func stateOf(g *Group, addr string) TargetStatus {
	for _, ts := range g.Targets() {
		if ts.Address == addr {
			return ts
		}
	}
	return TargetStatus{}
}

// TestHealthEvictionAndReturn: a target failing its health path leaves the
// rotation after the unhealthy threshold and comes back after the healthy
// threshold; when both fail, the group fails open.
func TestHealthEvictionAndReturn(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	g := startGroup(t, Config{Targets: []string{a.addr(), b.addr()}, HealthCheck: fastHealth()})
	waitFor(t, func() bool { return allIn(g, StateHealthy) }, "targets never became healthy")
	f := newFront(t, g, false, nil)

	b.health.Store(http.StatusInternalServerError)
	waitFor(t, func() bool { return stateOf(g, b.addr()).State == StateUnhealthy }, "b never became unhealthy")
	st := stateOf(g, b.addr())
	assert.Equal(t, ReasonResponseCodeMismatch, st.Reason)
	assert.Equal(t, "Health checks failed with these codes: [500]", st.Description)
	hitsB := b.hits.Load()
	for range 6 {
		_, who, _ := f.get(t, "/app")
		assert.Equal(t, "a", who, "an unhealthy target gets no traffic")
	}
	assert.Equal(t, hitsB, b.hits.Load())

	// Every target unhealthy: fail open, both serve again.
	a.health.Store(http.StatusServiceUnavailable)
	waitFor(t, func() bool { return allIn(g, StateUnhealthy) }, "a never became unhealthy")
	served := map[string]bool{}
	for range 4 {
		code, who, _ := f.get(t, "/app")
		assert.Equal(t, http.StatusOK, code)
		served[who] = true
	}
	assert.Equal(t, map[string]bool{"a": true, "b": true}, served, "fail-open routes to all targets")

	// b recovers: after the healthy threshold it alone takes traffic.
	b.health.Store(http.StatusOK)
	waitFor(t, func() bool { return stateOf(g, b.addr()).State == StateHealthy }, "b never came back")
	for range 4 {
		_, who, _ := f.get(t, "/app")
		assert.Equal(t, "b", who)
	}
}

// TestHealthCheckRequest: ALB's check is a GET with its User-Agent on the
// configured path, and the matcher decides.
func TestHealthCheckMatcher(t *testing.T) {
	a := newBackend(t, "a")
	a.health.Store(http.StatusAccepted)
	hc := fastHealth()
	hc.Matcher = "200-299"
	g := startGroup(t, Config{Targets: []string{a.addr()}, HealthCheck: hc})
	waitFor(t, func() bool { return allIn(g, StateHealthy) }, "202 should match 200-299")

	hc.Matcher = "200"
	b := newBackend(t, "b")
	b.health.Store(http.StatusAccepted)
	g2 := startGroup(t, Config{Targets: []string{b.addr()}, HealthCheck: hc})
	waitFor(t, func() bool { return allIn(g2, StateUnhealthy) }, "202 should not match 200")
}

func TestHealthCheckTimeoutAndDown(t *testing.T) {
	silent := rawTarget(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	down := closedPort(t)
	g := startGroup(t, Config{Targets: []string{silent, down}, HealthCheck: fastHealth()})
	waitFor(t, func() bool { return allIn(g, StateUnhealthy) }, "targets: %v", g.Targets())
	assert.Equal(t, ReasonTimeout, stateOf(g, silent).Reason)
	assert.Equal(t, ReasonFailedHealthChecks, stateOf(g, down).Reason)
}

// TestNoTargets: an empty group answers ALB's 503 page byte for byte.
func TestNoTargets(t *testing.T) {
	g := startGroup(t, Config{})
	f := newFront(t, g, false, nil)
	line, h, body := f.rawGet(t)
	assert.Equal(t, "HTTP/1.1 503 Service Temporarily Unavailable", line)
	assert.Equal(t, "awselb/2.0", h.Get("Server"))
	assert.Equal(t, "162", h.Get("Content-Length"))
	_, page := albresponse.Page(503)
	assert.Equal(t, string(page), body)
	out := f.last(t)
	assert.Equal(t, Outcome{
		RequestTime: -1, TargetTime: -1, ResponseTime: -1, ELBStatus: 503,
		Failure: FailureNoTargets, ReceivedBytes: out.ReceivedBytes, SentBytes: out.SentBytes,
	}, out)
	assert.Positive(t, out.SentBytes)
}

func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestTargetFailures: each misbehaviour gets ALB's status and page, over
// HTTP/1.1 (raw status line) and HTTP/2.
func TestTargetFailures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		target  func(t *testing.T) string
		code    int
		failure Failure
	}{
		{"refused", closedPort, 502, FailureTargetConnectionError},
		{"reset before response", func(t *testing.T) string {
			return rawTarget(t, func(c net.Conn) { readRequestHead(c); reset(c) })
		}, 502, FailureTargetResponseError},
		{"closed before response", func(t *testing.T) string {
			return rawTarget(t, func(c net.Conn) { readRequestHead(c) })
		}, 502, FailureTargetResponseError},
		{"garbage", func(t *testing.T) string {
			return rawTarget(t, func(c net.Conn) {
				readRequestHead(c)
				_, _ = io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n\r\n")
			})
		}, 502, FailureTargetResponseError},
		{"invalid header", func(t *testing.T) string {
			return rawTarget(t, func(c net.Conn) {
				readRequestHead(c)
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nBad Header Line\r\n\r\n")
			})
		}, 502, FailureTargetResponseError},
		{"silent past idle timeout", func(t *testing.T) string {
			return rawTarget(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
		}, 504, FailureTargetTimeout},
	} {
		for _, h2 := range []bool{false, true} {
			t.Run(tc.name+map[bool]string{false: "/http1", true: "/h2"}[h2], func(t *testing.T) {
				addr := tc.target(t)
				g := startGroup(t, Config{
					Targets: []string{addr}, HealthCheck: HealthCheck{Enabled: disabled()},
					IdleTimeout: 300 * time.Millisecond, LogErrorReason: true,
				})
				f := newFront(t, g, h2, nil)
				_, wantBody := albresponse.Page(tc.code)
				if h2 {
					code, _, body := f.get(t, "/x")
					assert.Equal(t, tc.code, code)
					assert.Equal(t, string(wantBody), body)
				} else {
					line, h, body := f.rawGet(t)
					reason, _ := albresponse.Page(tc.code)
					assert.Equal(t, "HTTP/1.1 "+strconv.Itoa(tc.code)+" "+reason, line)
					assert.Equal(t, "awselb/2.0", h.Get("Server"))
					assert.Equal(t, string(wantBody), body)
				}
				out := f.last(t)
				assert.Equal(t, tc.code, out.ELBStatus)
				assert.Equal(t, tc.failure, out.Failure)
				assert.Equal(t, string(tc.failure), out.ErrorReason, "LogErrorReason copies the failure")
				assert.Equal(t, addr, out.Target().String())
				assert.Zero(t, out.TargetStatus)
				assert.Equal(t, []string{"-"}, statusList(out))
				assert.Equal(t, time.Duration(-1), out.RequestTime)
				assert.Equal(t, time.Duration(-1), out.TargetTime)
				assert.Equal(t, time.Duration(-1), out.ResponseTime)
				assert.False(t, out.Aborted)
			})
		}
	}
}

// TestResetMidBody: a target that resets after its headers and a few body
// bytes, before any of it reached the client (issue 19 item 7: this was
// logged as 200 while the client got nothing), gets ALB's 502 page, and
// the outcome says 502 to the client, 200 from the target.
func TestResetMidBody(t *testing.T) {
	addr := rawTarget(t, func(c net.Conn) {
		readRequestHead(c)
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nX-Target: yes\r\n\r\npartial")
		time.Sleep(20 * time.Millisecond)
		reset(c)
	})
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "http1", true: "h2"}[h2], func(t *testing.T) {
			g := startGroup(t, Config{Targets: []string{addr}, HealthCheck: HealthCheck{Enabled: disabled()}, LogErrorReason: true})
			f := newFront(t, g, h2, nil)
			resp, err := f.srv.Client().Get(f.srv.URL + "/x")
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			_, page := albresponse.Page(http.StatusBadGateway)
			assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
			assert.Equal(t, string(page), string(body))
			assert.Empty(t, resp.Header.Get("X-Target"), "none of the target's headers")
			out := f.last(t)
			assert.False(t, out.Aborted, "nothing of the target's response reached the client")
			assert.Equal(t, 200, out.TargetStatus)
			assert.Equal(t, http.StatusBadGateway, out.ELBStatus)
			assert.Equal(t, FailureTargetResponseError, out.Failure)
			assert.Equal(t, string(FailureTargetResponseError), out.ErrorReason)
			assert.Greater(t, out.SentBytes, int64(len(page)))
			assert.Less(t, out.SentBytes, int64(len(page))+300, "the page, not the target's body")
		})
	}
}

// TestResetAfterBytesReachedClient: a target that resets after part of a
// large body reached the client cuts the client off (Aborted); the outcome
// keeps the status line the client got and counts only the bytes that
// went out.
func TestResetAfterBytesReachedClient(t *testing.T) {
	const declared, sent = 1 << 20, 64 << 10
	addr := rawTarget(t, func(c net.Conn) {
		readRequestHead(c)
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(declared)+"\r\n\r\n")
		_, _ = c.Write(make([]byte, sent))
		time.Sleep(100 * time.Millisecond)
		reset(c)
	})
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "http1", true: "h2"}[h2], func(t *testing.T) {
			g := startGroup(t, Config{Targets: []string{addr}, HealthCheck: HealthCheck{Enabled: disabled()}})
			f := newFront(t, g, h2, nil)
			resp, err := f.srv.Client().Get(f.srv.URL + "/x")
			require.NoError(t, err)
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			assert.Error(t, err, "the client must see the truncation")
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			out := f.last(t)
			assert.True(t, out.Aborted)
			assert.Equal(t, 200, out.TargetStatus)
			assert.Equal(t, 200, out.ELBStatus, "the status line the client received")
			assert.Equal(t, FailureTargetResponseError, out.Failure)
			assert.GreaterOrEqual(t, out.SentBytes, n)
			assert.LessOrEqual(t, out.SentBytes, int64(sent)+1024, "only what went out, not the declared length")
		})
	}
}

// TestClientCancel: a client that gives up while the target works is a 460,
// and another client's request on another connection is not disturbed.
func TestClientCancel(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "http1", true: "h2"}[h2], func(t *testing.T) {
			arrived := make(chan string, 2)
			release := make(chan struct{})
			target := rawTarget(t, func(c net.Conn) {
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				arrived <- req.URL.Path
				if req.URL.Path == "/impatient" {
					_, _ = io.Copy(io.Discard, c) // until the proxy gives up
					return
				}
				<-release
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone")
			})
			g := startGroup(t, Config{Targets: []string{target}, HealthCheck: HealthCheck{Enabled: disabled()}})
			f := newFront(t, g, h2, nil)
			client := f.srv.Client()

			// A patient client on its own connection.
			patient := make(chan string, 1)
			other := &http.Client{Transport: client.Transport.(*http.Transport).Clone()}
			go func() {
				resp, err := other.Get(f.srv.URL + "/patient")
				if err != nil {
					patient <- err.Error()
					return
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				patient <- string(b)
			}()
			require.Equal(t, "/patient", <-arrived)

			ctx, cancel := context.WithCancel(context.Background())
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/impatient", nil)
			require.NoError(t, err)
			errc := make(chan error, 1)
			go func() {
				resp, err := client.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				errc <- err
			}()
			require.Equal(t, "/impatient", <-arrived)
			cancel()
			require.Error(t, <-errc)
			out := f.last(t)
			assert.Equal(t, StatusClientClosed, out.ELBStatus)
			assert.Equal(t, FailureClientClosed, out.Failure)
			assert.Zero(t, out.TargetStatus)
			assert.Equal(t, time.Duration(-1), out.TargetTime)

			close(release)
			assert.Equal(t, "done", <-patient)
		})
	}
}

// TestForwardKeepsHostAndRewrites: ALB keeps the client's Host, speaks
// HTTP/1.1 to the target, and the caller's rewrite sets headers.
func TestForwardKeepsHostAndRewrites(t *testing.T) {
	a := newBackend(t, "a")
	g := startGroup(t, Config{Targets: []string{a.addr()}, HealthCheck: HealthCheck{Enabled: disabled()}})
	f := newFront(t, g, true, func(pr *httputil.ProxyRequest) {
		pr.Out.Header.Set("X-Amzn-Trace-Id", "Root=1-00000000-000000000000000000000000")
	})
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/echo", strings.NewReader("hello"))
	require.NoError(t, err)
	req.Host = "app.example.com"
	req.Header.Set("User-Agent", "curl/8.5.0")
	resp, err := f.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "a:hello", string(body))
	assert.Equal(t, "HTTP/2.0", resp.Proto)
	assert.Equal(t, "app.example.com", resp.Header.Get("X-Seen-Host"))
	assert.Equal(t, "HTTP/1.1", resp.Header.Get("X-Seen-Proto"))
	assert.Equal(t, "Root=1-00000000-000000000000000000000000", resp.Header.Get("X-Seen-Trace"))
	assert.Equal(t, "curl/8.5.0", resp.Header.Get("X-Seen-UA"))
	out := f.last(t)
	assert.GreaterOrEqual(t, out.ReceivedBytes, int64(len("hello")))
}

// TestHTTPSTarget: HTTPS to a target with a self-signed certificate works,
// unverified as with ALB, for traffic and health checks.
func TestHTTPSTarget(t *testing.T) {
	srv := newTLSBackend(t)
	hc := fastHealth()
	hc.Protocol = "HTTPS"
	g := startGroup(t, Config{Protocol: "HTTPS", Targets: []string{srv}, HealthCheck: hc})
	waitFor(t, func() bool { return allIn(g, StateHealthy) }, "HTTPS health checks failed: %v", g.Targets())
	f := newFront(t, g, false, nil)
	code, who, _ := f.get(t, "/x")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "tls", who)
}

// TestHTTPSTargetHandshakeFailure: a target that does not speak TLS is 502.
func TestHTTPSTargetHandshakeFailure(t *testing.T) {
	plain := newBackend(t, "plain")
	g := startGroup(t, Config{Protocol: "HTTPS", Targets: []string{plain.addr()}, HealthCheck: HealthCheck{Enabled: disabled()}})
	f := newFront(t, g, false, nil)
	code, _, _ := f.get(t, "/x")
	assert.Equal(t, http.StatusBadGateway, code)
	assert.Equal(t, FailureTargetConnectionError, f.last(t).Failure)
}

// TestIdleTimeoutRestartsPerRequest: a pooled connection that sat idle for
// most of the idle timeout gets a full idle timeout for its next request.
// (The sleeps are the scenario, not synchronisation.)
func TestIdleTimeoutRestartsPerRequest(t *testing.T) {
	var conns atomic.Int32
	delay := atomic.Int64{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(delay.Load()))
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	g := startGroup(t, Config{
		Targets: []string{srv.Listener.Addr().String()}, HealthCheck: HealthCheck{Enabled: disabled()},
		IdleTimeout: time.Second,
	})
	f := newFront(t, g, false, nil)
	code, _, _ := f.get(t, "/")
	require.Equal(t, http.StatusOK, code)
	time.Sleep(700 * time.Millisecond)
	delay.Store(int64(600 * time.Millisecond))
	code, _, _ = f.get(t, "/")
	assert.Equal(t, http.StatusOK, code, "outcome: %+v", f.last(t))
	assert.Equal(t, int32(1), conns.Load(), "the pooled connection was reused")
}
