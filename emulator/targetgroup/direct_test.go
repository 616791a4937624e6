package targetgroup

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scriptedTarget answers each request head it reads with the next of its
// responses (raw bytes; "" closes the connection without answering; a
// response ending in "<RST>" is sent without that marker and the
// connection reset; "<CLOSE>", closed; "<PAUSE>" in it, a pause) and
// records every request head it read.
type scriptedTarget struct {
	addr  string
	mu    sync.Mutex
	heads []string
}

func newScriptedTarget(t *testing.T, response string, delay time.Duration) *scriptedTarget {
	st := &scriptedTarget{}
	st.addr = rawTarget(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			var head bytes.Buffer
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				head.WriteString(line)
				if line == "\r\n" {
					break
				}
			}
			st.mu.Lock()
			st.heads = append(st.heads, head.String())
			st.mu.Unlock()
			if response == "" {
				return
			}
			resp, rst := strings.CutSuffix(response, "<RST>")
			resp, closeAfter := strings.CutSuffix(resp, "<CLOSE>")
			first, rest, split := strings.Cut(resp, "<PAUSE>")
			_, _ = io.WriteString(c, first)
			if split {
				time.Sleep(delay)
				_, _ = io.WriteString(c, rest)
			}
			if rst {
				reset(c)
				return
			}
			if closeAfter {
				return
			}
		}
	})
	return st
}

func (st *scriptedTarget) lastHead() string {
	if st == nil {
		return ""
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.heads) == 0 {
		return ""
	}
	return st.heads[len(st.heads)-1]
}

// differential runs one client request through a net/http front whose
// handler forwards with Forward or with ForwardDirect, and returns the
// request head the target got, the raw bytes the client got and the
// outcome.
func differential(t *testing.T, g *Group, st *scriptedTarget, useDirect bool, order *HeaderOrder, request string) (targetHead, client string, out Outcome) {
	t.Helper()
	done := make(chan Outcome, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var o Outcome
		host := TargetHost(r.Host, 8443, false)
		if useDirect {
			require.True(t, g.CanForwardDirect(r))
			o = g.ForwardDirect(w, r, func(h http.Header) DirectRequest {
				h.Set("X-Forwarded-Proto", "https")
				dr := DirectRequest{Host: host}
				if order != nil {
					dr.Order, dr.Ordered = *order, true
				}
				return dr
			})
		} else {
			o = g.Forward(w, r, func(pr *httputil.ProxyRequest) {
				pr.Out.Host = host
				if xff := pr.In.Header.Values("X-Forwarded-For"); len(xff) > 0 {
					pr.Out.Header["X-Forwarded-For"] = xff
				}
				pr.Out.Header.Set("X-Forwarded-Proto", "https")
				if order != nil {
					SetHeaderOrder(pr.Out, *order)
				}
			})
		}
		done <- o
		if o.Aborted || o.ELBStatus == StatusClientClosed {
			panic(http.ErrAbortHandler)
		}
	}))
	srv.Config.ErrorLog = slog.NewLogLogger(slog.NewTextHandler(io.Discard, nil), slog.LevelError)
	srv.Config.SetKeepAlivesEnabled(false) // the response ends with the connection
	srv.Start()
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = io.WriteString(c, request)
	require.NoError(t, err)
	// One response (after any 1xx), as raw bytes.
	var raw bytes.Buffer
	br := bufio.NewReader(io.TeeReader(c, &raw))
	method, _, _ := strings.Cut(request, " ")
	for {
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			break
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode >= 200 {
			break
		}
	}
	got := raw.Bytes()
	select {
	case out = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("no outcome")
	}
	return st.lastHead(), string(got), out
}

var dateLine = regexp.MustCompile(`(?m)^Date: .*\r\n`)

// TestForwardDirectMatchesForward: for each target behaviour, ForwardDirect
// sends the target the request head Forward sends, gives the client the
// bytes Forward gives it (less the Date line), and reports the same
// outcome (less the times).
func TestForwardDirectMatchesForward(t *testing.T) {
	const get = "GET /p?q=1 HTTP/1.1\r\nHost: app.example.com\r\nUser-Agent: ua/1\r\nAccept: */*\r\n" +
		"Connection: X-Hop, keep-alive\r\nX-Hop: gone\r\nKeep-Alive: timeout=5\r\nTe: trailers, deflate\r\n" +
		"Forwarded: for=1.2.3.4\r\nX-Forwarded-Host: evil\r\nX-Forwarded-Proto: http\r\nX-Forwarded-For: 10.0.0.1\r\n" +
		"Proxy-Authorization: x\r\nX-B: 2\r\nX-A: 1\r\nX-A: 3\r\n\r\n"
	body2k := strings.Repeat("b", 2500)
	cases := []struct {
		name     string
		request  string
		response string
		order    *HeaderOrder
	}{
		{"content-length", get, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-T: 1\r\nContent-Length: 5\r\n\r\nhello", nil},
		{"ordered", get, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
			&HeaderOrder{Before: []string{"X-Forwarded-For", "X-Forwarded-Proto"}, After: []string{"X-Missing"}, Client: []string{"User-Agent", "X-B", "X-A", "Accept"}}},
		{"hop-by-hop response headers", get, "HTTP/1.1 201 Created\r\nConnection: X-Secret, keep-alive\r\nX-Secret: s\r\nKeep-Alive: timeout=9\r\n" +
			"Proxy-Authenticate: y\r\nUpgrade: h2c\r\nX-Kept: k\r\nX-Kept: k2\r\nContent-Length: 0\r\n\r\n", nil},
		// A streamed body's Content-Type is given: net/http's server sniffs
		// one when it is missing, or not when ReverseProxy's first flush
		// comes first (a race on Forward's path; emulator/http1 never sniffs).
		{"chunked with undeclared trailer", get, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer: v\r\n\r\n", nil},
		{"chunked with declared trailer", get, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTrailer: x-sum\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 9\r\n\r\n", nil},
		{"chunked, long", get, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n9c4\r\n" + body2k + "\r\n0\r\n\r\n", nil},
		{"body to the end of the connection", get, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close<CLOSE>", nil},
		{"HTTP/1.0 response", get, "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc", nil},
		{"no content", get, "HTTP/1.1 204 No Content\r\nX-T: 1\r\n\r\n", nil},
		{"not modified", get, "HTTP/1.1 304 Not Modified\r\nEtag: \"x\"\r\n\r\n", nil},
		{"HEAD", "HEAD / HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n", nil},
		{"POST without a body", "POST /f HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", nil},
		{"early hints", get, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", nil},
		{"unknown status", get, "HTTP/1.1 299 Whatever\r\nContent-Length: 1\r\n\r\nx", nil},
		{"malformed status line", get, "HTTP/1.1 2x0 OK\r\nContent-Length: 1\r\n\r\nx", nil},
		{"malformed header line", get, "HTTP/1.1 200 OK\r\nNo colon here\r\nContent-Length: 1\r\n\r\nx", nil},
		{"differing Content-Length", get, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", nil},
		{"unsupported transfer coding", get, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx", nil},
		{"no response", get, "", nil},
		{"short body within the hold", get, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc<RST>", nil},
		{"reset after the hold", get, "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + body2k + "<PAUSE>x<RST>", nil},
		{"slow body", get, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab<PAUSE>cd", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var heads, clients [2]string
			var outs [2]Outcome
			for i, useDirect := range []bool{false, true} {
				st := newScriptedTarget(t, tc.response, 50*time.Millisecond)
				g := startGroup(t, Config{Targets: []string{st.addr}, HealthCheck: noHealth(), IdleTimeout: 5 * time.Second})
				heads[i], clients[i], outs[i] = differential(t, g, st, useDirect, tc.order, tc.request)
			}
			assert.Equal(t, heads[0], heads[1], "the target's request head")
			assert.NotEmpty(t, heads[1])
			assert.Equal(t, dateLine.ReplaceAllString(clients[0], ""), dateLine.ReplaceAllString(clients[1], ""), "the client's bytes")
			for i := range outs {
				outs[i].RequestTime, outs[i].TargetTime, outs[i].ResponseTime = 0, 0, 0
				for j := range outs[i].Attempts { // each run has its own target
					require.Equal(t, outs[i].Attempts[j].Registered, outs[i].Attempts[j].Target.String())
					outs[i].Attempts[j].Target, outs[i].Attempts[j].Registered = netip.AddrPort{}, ""
				}
			}
			assert.Equal(t, outs[0], outs[1], "the outcome")
		})
	}
}

// TestForwardDirectTimes: the three processing times come from the
// request's steps, as Forward's do: a target that waits before answering
// shows in target_processing_time.
func TestForwardDirectTimes(t *testing.T) {
	st := newScriptedTarget(t, "<PAUSE>HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", 100*time.Millisecond)
	g := startGroup(t, Config{Targets: []string{st.addr}, HealthCheck: noHealth()})
	_, client, out := differential(t, g, st, true, nil, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	assert.Contains(t, client, "HTTP/1.1 200 OK")
	assert.GreaterOrEqual(t, out.TargetTime, 100*time.Millisecond)
	assert.GreaterOrEqual(t, out.RequestTime, time.Duration(0))
	assert.GreaterOrEqual(t, out.ResponseTime, time.Duration(0))
}

// TestForwardDirectReusesAndRetries: the pooled connection carries the next
// request, and a pooled connection the target closed is retried on a new
// one, as on Forward's path.
func TestForwardDirectReusesAndRetries(t *testing.T) {
	addr, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	g := startGroup(t, Config{Targets: []string{addr}, HealthCheck: noHealth()})
	for range 3 {
		_, client, out := differential(t, g, nil, true, nil, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
		assert.Contains(t, client, "\r\n\r\nok")
		assert.Equal(t, 200, out.ELBStatus)
	}
	assert.Equal(t, int32(1), conns.opened.Load(), "one target connection for three requests")

	addr2, served := closesOnSecondRequest(t)
	g2 := startGroup(t, Config{Targets: []string{addr2}, HealthCheck: noHealth()})
	for range 2 {
		_, client, out := differential(t, g2, nil, true, nil, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
		assert.Equal(t, 200, out.ELBStatus, client)
	}
	assert.Equal(t, int32(2), served.Load(), "the second request was retried on a new connection")
}

// TestCanForwardDirect: what goes to Forward instead.
func TestCanForwardDirect(t *testing.T) {
	g := startGroup(t, Config{Targets: []string{"127.0.0.1:1"}, HealthCheck: noHealth()})
	gs := startGroup(t, Config{Name: "tls", Protocol: "HTTPS", Targets: []string{"127.0.0.1:1"}, HealthCheck: noHealth()})
	req := func(method, target string, mod func(*http.Request)) *http.Request {
		r := httptest.NewRequest(method, target, nil)
		if mod != nil {
			mod(r)
		}
		return r
	}
	assert.True(t, g.CanForwardDirect(req("GET", "/a?b=c", nil)))
	assert.False(t, gs.CanForwardDirect(req("GET", "/", nil)), "HTTPS target group")
	assert.False(t, g.CanForwardDirect(req("POST", "/", func(r *http.Request) { r.ContentLength = 3 })), "a body")
	assert.False(t, g.CanForwardDirect(req("POST", "/", func(r *http.Request) { r.TransferEncoding = []string{"chunked"} })), "a chunked body")
	assert.False(t, g.CanForwardDirect(req("GET", "/", func(r *http.Request) { r.Header.Set("Upgrade", "websocket") })), "an upgrade")
	assert.False(t, g.CanForwardDirect(req("GET", "/a?b=c;d", nil)), "a query ReverseProxy rewrites")
	assert.False(t, g.CanForwardDirect(req("GET", "/a?b=%zz", nil)), "a bad escape")
}
