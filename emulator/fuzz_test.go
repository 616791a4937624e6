package emulator_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/albheader"
	"github.com/albmtls/albmtls/emulator/config"
)

// fuzzLeak is the response header the recording target sets when a
// request reached it carrying a header the emulator owns. The target
// answers through the emulator, so the finding travels back on the very
// connection that caused it: no state is shared between execs.
const fuzzLeak = "X-Fuzz-Leak"

// owned are the request headers the emulator owns, in their default
// names: the six mTLS headers and the two TLS ones. A client's copy must not
// reach the target under any spelling a CGI-style target folds onto them
// (X_Amzn_Mtls_Clientcert_Subject, issue 19 item 1); X-Amzn-Mtls-Clientcert0
// is not owned and passes, as any other client header does.
var owned = []string{
	albheader.ClientCert, albheader.ClientCertSerialNumber, albheader.ClientCertIssuer,
	albheader.ClientCertSubject, albheader.ClientCertValidity, albheader.ClientCertLeaf,
	albheader.TLSVersion, albheader.TLSCipherSuite,
}

func isOwned(name string) bool {
	for _, o := range owned {
		if cgiName(o) == cgiName(name) {
			return true
		}
	}
	return false
}

// cgiName is the variable a CGI-style server (WSGI, PHP, Rack) makes of a
// header name: upper case, every byte but letters and digits as '_'.
func cgiName(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		case 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			return r
		}
		return '_'
	}, name)
}

// fuzzFrontEnd starts, once per fuzzing process, a recording target and an
// emulator with an HTTP listener forwarding to it, and returns the
// listener's address. Nothing is logged: a log line per exec is a write per
// exec.
func fuzzFrontEnd(f testing.TB) string {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		for _, h := range []http.Header{r.Header, r.Trailer} {
			for name, vs := range h {
				// A trailer declared but not sent has no values.
				if len(vs) > 0 && isOwned(name) {
					w.Header().Add(fuzzLeak, name)
				}
			}
		}
		_, _ = io.WriteString(w, "ok")
	}))
	f.Cleanup(target.Close)
	cfg, err := config.Parse("fuzz.yaml", []byte(`target_groups:
  - name: web
    targets: ["`+target.Listener.Addr().String()+`"]
    health_check: {enabled: false}
listeners:
  - port: 0
    protocol: HTTP
    default_action: {type: forward, target_group: web}
    rules:
      - priority: 1
        conditions: {path_pattern: ["/fixed*"]}
        action: {type: fixed-response, fixed_response: {status_code: "418", content_type: text/plain, message_body: tea}}
      - priority: 2
        conditions: {path_pattern: ["/sentinel-4f1c"]}
        action: {type: fixed-response, fixed_response: {status_code: "299", content_type: text/plain, message_body: sentinel-4f1c}}
`))
	require.NoError(f, err)
	srv, err := emulator.New(cfg, emulator.Options{})
	require.NoError(f, err)
	require.NoError(f, srv.Start(context.Background()))
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv.Listeners()[0].Addr.String()
}

// sentinel ends every complete input: the emulator answers it with a
// fixed response the client recognises, so the client knows it has every
// answer without half-closing (which the emulator rightly takes for a
// client gone away: 460, nothing sent) and without waiting for the
// emulator to close (which would leave its side in TIME_WAIT).
const (
	sentinel       = "GET /sentinel-4f1c HTTP/1.1\r\nHost: s\r\n\r\n"
	sentinelAnswer = "sentinel-4f1c"
)

// FuzzFrontEnd sends raw bytes to an HTTP listener, as one client
// connection, and checks what comes back: no panic (the emulator runs in
// this process); no header the emulator owns (X-Amzn-Mtls-Clientcert and
// its -Leaf, -Subject... siblings, X-Amzn-Tls-*) sent by the client, in any
// case with the canonical hyphens, reaches the target, in headers or
// trailers; and when the bytes are whole requests (as net/http's parser,
// the emulator's own, reads them) every answer parses as an HTTP response
// with its whole body, and there are no more answers than requests (more
// would mean the emulator and its parser disagree on where a request ends).
// Incomplete input is sent and half-closed; then only the first answer is
// checked. One emulator serves every exec; each exec is one loopback
// connection, closed with a reset so that TIME_WAIT does not pile up.
func FuzzFrontEnd(f *testing.F) {
	addr := fuzzFrontEnd(f)
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return // minimising long inputs costs more than they find
		}
		reqs, complete := splitRequests(data)
		send := data
		if complete {
			send = append(append([]byte{}, data...), sentinel...)
			last, _ := splitRequests([]byte(sentinel))
			reqs = append(reqs, last...)
		}
		var out []byte
		if complete {
			out = exchangeUntilSentinel(t, addr, send, reqs)
		} else {
			out = exchange(t, addr, send, true)
		}
		if i := bytes.Index(bytes.ToLower(out), []byte(strings.ToLower(fuzzLeak)+":")); i >= 0 {
			line, _, _ := bytes.Cut(out[i:], []byte("\r\n"))
			t.Fatalf("a client-sent mTLS header reached the target (%s) from %q", line, data)
		}
		br := bufio.NewReader(bytes.NewReader(out))
		for n := 0; ; {
			if _, err := br.Peek(1); err != nil {
				return // every answer read; none at all is allowed (460)
			}
			var req *http.Request
			if n < len(reqs) {
				req = reqs[n]
			} else if complete {
				t.Fatalf("%d requests got more answers:\n%q\n->\n%q", len(reqs), send, out)
			}
			resp, err := http.ReadResponse(br, req)
			if err != nil {
				t.Fatalf("answer %d does not parse as HTTP (%v):\n%q\n->\n%q", n, err, send, out)
			}
			if _, err := io.Copy(io.Discard, resp.Body); err != nil && complete {
				t.Fatalf("answer %d has a broken body (%v):\n%q\n->\n%q", n, err, send, out)
			}
			switch {
			case !complete || resp.StatusCode == http.StatusSwitchingProtocols:
				return
			case resp.Close:
				// The last answer on the connection. net/http's own error
				// pages (505, 431) carry a body even for HEAD, so what
				// follows may be that body: the connection ends here.
				return
			case resp.StatusCode >= 200:
				n++
			}
		}
	})
}

// splitRequests parses data as pipelined HTTP/1 requests, with their
// bodies; complete is false when data ends inside a request or holds one
// net/http cannot parse.
func splitRequests(data []byte) (reqs []*http.Request, complete bool) {
	br := bufio.NewReader(bytes.NewReader(data))
	for {
		if _, err := br.Peek(1); err != nil {
			return reqs, true
		}
		req, err := http.ReadRequest(br)
		if err != nil {
			return reqs, false
		}
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return reqs, false
		}
		reqs = append(reqs, req)
		if req.Close {
			return reqs, true // the emulator reads no further
		}
	}
}

// exchangeUntilSentinel writes data, whose last request is the sentinel,
// and reads answers until the sentinel's (or until the emulator closes, or
// an answer does not parse), then resets the connection. It returns the
// bytes read.
func exchangeUntilSentinel(t testing.TB, addr string, data []byte, reqs []*http.Request) []byte {
	conn := dial(t, addr)
	defer resetClose(conn)
	if _, err := conn.Write(data); err != nil {
		return nil
	}
	var got bytes.Buffer
	br := bufio.NewReader(io.TeeReader(conn, &got))
	var err error
	for n := 0; ; {
		var req *http.Request
		if n < len(reqs) {
			req = reqs[n]
		}
		var resp *http.Response
		if resp, err = http.ReadResponse(br, req); err != nil {
			break
		}
		var body []byte
		body, err = io.ReadAll(resp.Body)
		if err != nil || string(body) == sentinelAnswer || resp.Close || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		if resp.StatusCode >= 200 {
			n++
		}
	}
	checkTimeout(t, err, data, got.Bytes())
	return got.Bytes() // with whatever br read beyond the last answer
}

// exchange writes data on a fresh connection, half-closes it if asked, and
// reads the answer until the emulator closes.
func exchange(t testing.TB, addr string, data []byte, halfClose bool) []byte {
	conn := dial(t, addr)
	defer resetClose(conn)
	if _, err := conn.Write(data); err != nil {
		return nil // the emulator may close early on garbage
	}
	if halfClose {
		_ = conn.CloseWrite()
	}
	out, err := io.ReadAll(conn)
	checkTimeout(t, err, data, out)
	return out
}

func dial(t testing.TB, addr string) *net.TCPConn {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	conn := c.(*net.TCPConn)
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	return conn
}

// resetClose closes with a reset, so that no TIME_WAIT piles up.
func resetClose(conn *net.TCPConn) {
	_ = conn.SetLinger(0)
	_ = conn.Close()
}

// checkTimeout fails when err is the read deadline: the emulator neither
// answered nor closed within 10s.
func checkTimeout(t testing.TB, err error, data, got []byte) {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("no answer and no close within 10s for %q (got %q)", data, got)
	}
}
