package emulator_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/albmtls/albmtls/emulator/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seenRequest is what the target received.
type seenRequest struct {
	Method, Path, Body string
	CL                 int64
	TE                 []string
	BodyErr            bool // the body did not arrive complete
}

type recordingTarget struct {
	srv    *httptest.Server
	mu     sync.Mutex
	seen   []seenRequest
	closed int // connections that ended
}

func newRecordingTarget(t *testing.T) *recordingTarget {
	rt := &recordingTarget{}
	rt.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		rt.mu.Lock()
		rt.seen = append(rt.seen, seenRequest{r.Method, r.URL.Path, string(body), r.ContentLength, r.TransferEncoding, err != nil})
		rt.mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	rt.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			rt.mu.Lock()
			rt.closed++
			rt.mu.Unlock()
		}
	}
	t.Cleanup(rt.srv.Close)
	return rt
}

func (rt *recordingTarget) closedConns() int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.closed
}

func (rt *recordingTarget) requests() []seenRequest {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]seenRequest(nil), rt.seen...)
}

// rawExchange sends raw bytes on a new mTLS connection as the "valid"
// client and reads every response until the connection ends.
func (l *lb) rawExchange(t *testing.T, raw string) (statuses []int, closed bool) {
	t.Helper()
	c, err := tls.Dial("tcp", l.httpsAddr(), l.tlsConfig("valid", tls.VersionTLS13))
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(c, raw)
	require.NoError(t, err)
	br := bufio.NewReader(c)
	for {
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			// EOF: the emulator closed; a timeout: it waits for more.
			return statuses, err == io.EOF || strings.Contains(err.Error(), "connection reset")
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
		if resp.Close {
			return statuses, true
		}
	}
}

// TestDesyncMitigation sends request-smuggling shapes over real mTLS
// connections under each routing.http.desync_mitigation_mode and checks
// ALB's answers (docs/desync.md): the status, whether the connection is
// closed, the access log's classification fields, and what the target saw.
// A request whose framing is ambiguous must never let a second request be
// smuggled to the target.
func TestDesyncMitigation(t *testing.T) {
	for _, fe := range []string{config.FrontEndNetHTTP, config.FrontEndALBMTLS} {
		t.Run(strings.ReplaceAll(fe, "/", ""), func(t *testing.T) { testDesyncMitigation(t, fe) })
	}
}

// testDesyncMitigation runs the desync cases against one HTTP/1.x front
// end (emulation.http1_front_end).
func testDesyncMitigation(t *testing.T, frontEnd string) {
	const smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
	type want struct {
		statuses []int
		closed   bool
		paths    []string // what the target saw, in order
		broken   bool     // the target saw the request's body fail
	}
	// closesTarget: the load balancer closes its connection to the target
	// after the request (defensive mode, Ambiguous).
	cases := []struct {
		name           string
		raw            string
		class, reason  string
		monitor, def   want
		strict         want
		notInAccessLog bool // refused by net/http before the emulator sees it
		// ownFront, when set, is the outcome with albmtls's own front end
		// for a head net/http refuses itself: routing's 400 (with its
		// access-log line, class and reason) where the mode blocks it,
		// the parser's 400 (no line) in monitor mode.
		ownFront *want
		ownClass string
	}{
		{name: "compliant keep-alive pair",
			raw:     "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			monitor: want{[]int{200, 200}, true, []string{"/a", "/b"}, false},
			def:     want{[]int{200, 200}, true, []string{"/a", "/b"}, false},
			strict:  want{[]int{200, 200}, true, []string{"/a", "/b"}, false}},
		{name: "CL and TE with a smuggled request",
			raw:   "POST /cl-te HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
			class: "Ambiguous", reason: "BothTeClPresent",
			monitor: want{[]int{200, 200}, false, []string{"/cl-te", "/smuggled"}, false},
			def:     want{[]int{200}, true, []string{"/cl-te"}, false},
			strict:  want{[]int{400}, true, nil, false}},
		{name: "duplicate Content-Length",
			raw:   "POST /dup HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
			class: "Ambiguous", reason: "DuplicateContentLength",
			monitor: want{[]int{200}, false, []string{"/dup"}, false},
			def:     want{[]int{200}, true, []string{"/dup"}, false},
			strict:  want{[]int{400}, true, nil, false}},
		{name: "GET with a body length",
			raw:   "GET /get-body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd",
			class: "Ambiguous", reason: "UndefinedContentLengthSemantics",
			monitor: want{[]int{200}, false, []string{"/get-body"}, false},
			def:     want{[]int{200}, true, []string{"/get-body"}, false},
			strict:  want{[]int{400}, true, nil, false}},
		{name: "obs-fold hiding Transfer-Encoding",
			raw:   "GET /fold HTTP/1.1\r\nHost: x\r\nX-A: b\r\n Transfer-Encoding: chunked\r\n\r\n",
			class: "Ambiguous", reason: "MultilineHeader",
			monitor: want{[]int{200}, false, []string{"/fold"}, false},
			def:     want{[]int{200}, true, []string{"/fold"}, false},
			strict:  want{[]int{400}, true, nil, false}},
		{name: "bare LF",
			raw:   "GET /lf HTTP/1.1\nHost: x\n\n",
			class: "Acceptable", reason: "NonCrLfLineTermination",
			monitor: want{[]int{200}, false, []string{"/lf"}, false},
			def:     want{[]int{200}, false, []string{"/lf"}, false},
			strict:  want{[]int{400}, true, nil, false}},
		{name: "HTTP/1.2",
			raw:   "GET /v12 HTTP/1.2\r\nHost: x\r\n\r\n",
			class: "Acceptable", reason: "NonCompliantVersion",
			monitor: want{[]int{200}, false, []string{"/v12"}, false},
			def:     want{[]int{200}, false, []string{"/v12"}, false},
			strict:  want{[]int{400}, true, nil, false}},
		{name: "Content_Length lookalike",
			raw:   "POST /lookalike HTTP/1.1\r\nHost: x\r\nContent_Length: 3\r\n\r\n",
			class: "Ambiguous", reason: "SuspiciousHeader",
			monitor: want{[]int{200}, false, []string{"/lookalike"}, false},
			def:     want{[]int{200}, true, []string{"/lookalike"}, false},
			strict:  want{[]int{400}, true, nil, false}},
		// A compliant head with a broken chunked body: the head is relayed
		// as the body streams, the body never arrives complete, the client
		// gets a 400 and nothing after it is read as a request.
		{name: "invalid chunk size",
			raw:     "POST /badchunk HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n" + smuggled,
			monitor: want{[]int{400}, true, []string{"/badchunk"}, true}, def: want{[]int{400}, true, []string{"/badchunk"}, true},
			strict: want{[]int{400}, true, []string{"/badchunk"}, true}},
		{name: "chunk size overflow",
			raw:     "POST /overflow HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000003\r\nabc\r\n0\r\n\r\n" + smuggled,
			monitor: want{[]int{400}, true, []string{"/overflow"}, true}, def: want{[]int{400}, true, []string{"/overflow"}, true},
			strict: want{[]int{400}, true, []string{"/overflow"}, true}},
		// Refused by Go's HTTP server before the emulator sees the request:
		// a 400 and a closed connection in every mode (ALB's monitor mode
		// would route them; docs/desync.md, "Limits").
		{name: "differing Content-Length", notInAccessLog: true,
			raw:     "POST /multi HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc",
			monitor: want{[]int{400}, true, nil, false}, def: want{[]int{400}, true, nil, false}, strict: want{[]int{400}, true, nil, false},
			ownFront: &want{[]int{400}, true, nil, false}, ownClass: "Severe/MultipleContentLength"},
		{name: "TE chunked twice", notInAccessLog: true,
			raw:     "POST /te2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
			monitor: want{[]int{501}, true, nil, false}, def: want{[]int{501}, true, nil, false}, strict: want{[]int{501}, true, nil, false},
			ownFront: &want{[]int{400}, true, nil, false}, ownClass: "Severe/MultipleTransferEncodingChunked"},
	}
	modes := []struct {
		mode string
		pick func(c int) want
	}{
		{"monitor", func(i int) want { return cases[i].monitor }},
		{"defensive", func(i int) want { return cases[i].def }},
		{"strictest", func(i int) want { return cases[i].strict }},
	}
	for _, m := range modes {
		t.Run(m.mode, func(t *testing.T) {
			target := newRecordingTarget(t)
			l := startLB(t, params{Targets: []string{target.srv.Listener.Addr().String()},
				Action:    `{type: forward, target_group: web}`,
				LB:        ", attributes: {routing.http.desync_mitigation_mode: " + m.mode + "}",
				Emulation: "  http1_front_end: " + frontEnd})
			for i, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					w := m.pick(i)
					if frontEnd == config.FrontEndALBMTLS && c.ownFront != nil {
						w = *c.ownFront
						if m.mode != "monitor" {
							c.notInAccessLog = false
							c.class, c.reason, _ = strings.Cut(c.ownClass, "/")
						}
					}
					before, logged, closedBefore := len(target.requests()), len(l.requests()), target.closedConns()
					statuses, closed := l.rawExchange(t, c.raw)
					assert.Equal(t, w.statuses, statuses, "statuses")
					assert.Equal(t, w.closed, closed, "connection closed")
					// The target records a request once its body ended.
					require.Eventually(t, func() bool { return len(target.requests()) >= before+len(w.paths) }, 5*time.Second, 10*time.Millisecond)
					var paths []string
					for _, r := range target.requests()[before:] {
						paths = append(paths, r.Path)
						assert.NotContains(t, r.Body, "/smuggled", "a request was smuggled inside a body")
						assert.Equal(t, w.broken, r.BodyErr, "%s: body complete", r.Path)
					}
					assert.Equal(t, w.paths, paths, "what the target saw")
					if m.mode == "defensive" && c.class == "Ambiguous" {
						// Routed, then the target connection is closed too.
						assert.Eventually(t, func() bool { return target.closedConns() > closedBefore }, 5*time.Second, 10*time.Millisecond,
							"the target connection stays open after an Ambiguous request")
					} else if len(w.paths) > 0 && !w.broken {
						assert.Equal(t, closedBefore, target.closedConns(), "the target connection is kept for reuse")
					}
					if c.notInAccessLog {
						return
					}
					require.Eventually(t, func() bool { return len(l.requests()) >= logged+len(w.statuses) }, 5*time.Second, 10*time.Millisecond)
					e := l.requests()[logged]
					assert.Equal(t, c.class, e.Classification, "classification")
					assert.Equal(t, c.reason, e.ClassificationReason, "classification_reason")
					assert.Equal(t, w.statuses[0], e.ELBStatusCode)
				})
			}
		})
	}
}
