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
	"github.com/albmtls/albmtls/emulator/config"
)

// fuzzLeak is the response header the recording target sets when a
// request reached it carrying a header of the mTLS namespace. The target
// answers through the emulator, so the finding travels back on the very
// connection that caused it: no state is shared between execs.
const fuzzLeak = "X-Fuzz-Leak"

// mtlsNamespace is the prefix of the headers the emulator owns in mTLS
// modes, in canonical spelling (compared case-insensitively).
const mtlsNamespace = "x-amzn-mtls-clientcert"

// fuzzFrontEnd starts, once per fuzzing process, a recording target and an
// emulator with an HTTP listener forwarding to it, and returns the
// listener's address. Nothing is logged: a log line per exec is a write per
// exec.
func fuzzFrontEnd(f testing.TB) string {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		for _, h := range []http.Header{r.Header, r.Trailer} {
			for name := range h {
				if strings.HasPrefix(strings.ToLower(name), mtlsNamespace) {
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

// FuzzFrontEnd sends raw bytes to an HTTP listener, as one client
// connection, and checks what comes back: no panic (the emulator runs in
// this process), whatever the emulator answers parses as an HTTP response,
// and no header of the X-Amzn-Mtls-Clientcert namespace sent by the client
// (any case, canonical spelling) reaches the target, in headers or
// trailers. One emulator serves every exec; each exec is one loopback
// connection, closed with a reset so that TIME_WAIT does not pile up.
func FuzzFrontEnd(f *testing.F) {
	addr := fuzzFrontEnd(f)
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return // minimising long inputs costs more than they find
		}
		out := exchange(t, addr, data)
		if len(out) == 0 {
			return // a connection closed without an answer is allowed
		}
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), nil)
		if err != nil {
			t.Fatalf("the answer to %q does not parse as HTTP (%v):\n%q", data, err, out)
		}
		_ = resp.Body.Close()
		if i := bytes.Index(bytes.ToLower(out), []byte(strings.ToLower(fuzzLeak)+":")); i >= 0 {
			line, _, _ := bytes.Cut(out[i:], []byte("\r\n"))
			t.Fatalf("a client-sent mTLS header reached the target (%s) from %q", line, data)
		}
	})
}

// exchange writes data on a fresh connection, half-closes it, and reads the
// answer until the emulator closes.
func exchange(t testing.TB, addr string, data []byte) []byte {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	conn := c.(*net.TCPConn)
	defer func() {
		_ = conn.SetLinger(0)
		_ = conn.Close()
	}()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(data); err != nil {
		return nil // the emulator may close early on garbage
	}
	_ = conn.CloseWrite()
	out, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("no answer and no close within 10s for %q (got %q)", data, out)
	}
	return out
}
