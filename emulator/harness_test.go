package emulator_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/accesslog"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/internal/syncbuf"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// lb is an emulator started for one test from a config template, over the
// standard test PKI written to a temp dir.
type lb struct {
	t    *testing.T
	dir  string
	set  *pki.Set
	srv  *emulator.Server
	mu   sync.Mutex
	conn []emulator.ConnectionEvent
	reqs []accesslog.Entry
	logs syncbuf.Buffer // the operational log, also sent to the test log
}

// params feed the config templates.
type params struct {
	Mode         string
	IgnoreExpiry bool
	Advertise    bool
	Targets      []string
	Extra        string // appended to the HTTPS listener (attributes, options)
	Emulation    string // body of the emulation block
	Revocations  []string
	Action       string // default action of the HTTPS listener
	Admin        string // the admin block; default {listen: "127.0.0.1:0"}
	LB           string // appended inside load_balancer's braces (", attributes: {…}")
	// WatchInterval is emulation.watch_interval (default 50ms); "0s" for a
	// test that reloads by hand and counts reloads, so the watcher cannot
	// race it.
	WatchInterval string
}

const baseConfig = `load_balancer: {name: test-alb, account_id: "123456789012", region: eu-west-1{{.LB}}}
trust_stores:
  - name: ts
    ca_certificates_bundle: ca/bundle.pem
    revocations: [{{range $i, $r := .Revocations}}{{if $i}}, {{end}}{{$r}}{{end}}]
target_groups:
  - name: web
    targets: [{{range $i, $t := .Targets}}{{if $i}}, {{end}}"{{$t}}"{{end}}]
    health_check: {enabled: false}
listeners:
  - port: 0
    protocol: HTTPS
    ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-06
    certificates: [{certificate: server/server.pem, private_key: server/server-key.pem}]
    mutual_authentication: {mode: {{.Mode}}{{if eq .Mode "verify"}}, trust_store: ts{{if .IgnoreExpiry}}, ignore_client_certificate_expiry: true{{end}}{{if .Advertise}}, advertise_trust_store_ca_names: "on"{{end}}{{end}}}
    default_action: {{.Action}}
{{.Extra}}
  - port: 0
    protocol: HTTP
    default_action: {type: redirect, redirect: {protocol: HTTPS, port: "443", status_code: HTTP_301}}
logs:
  connection: {file: logs/conn.log}
  access: {file: logs/access.log}
admin: {{.Admin}}
emulation:
  watch_interval: {{or .WatchInterval "50ms"}}
{{.Emulation}}
`

const fixedOK = `{type: fixed-response, fixed_response: {status_code: "200", content_type: text/plain, message_body: ok}}`

// startLB writes the config into a fresh PKI directory and starts the
// emulator on free ports.
func startLB(t *testing.T, p params) *lb {
	t.Helper()
	if p.Mode == "" {
		p.Mode = "verify"
	}
	if p.Action == "" {
		p.Action = fixedOK
	}
	if p.Admin == "" {
		p.Admin = `{listen: "127.0.0.1:0"}`
	}
	if p.Revocations == nil {
		p.Revocations = []string{"crl/intermediate.crl.pem", "crl/root.crl.pem"}
	}
	if fe := os.Getenv("ALBMTLS_TEST_HTTP1_FRONT_END"); fe != "" && !strings.Contains(p.Emulation, "http1_front_end") {
		// Run the package's tests against another HTTP/1.x front end
		// (emulation.http1_front_end); read only here, in tests.
		p.Emulation += "\n  http1_front_end: " + fe
	}
	var buf bytes.Buffer
	require.NoError(t, template.Must(template.New("cfg").Parse(baseConfig)).Execute(&buf, p))
	l := &lb{t: t, dir: pkitest.Dir(t)}
	var err error
	l.set, err = pki.Load(l.dir)
	require.NoError(t, err)
	file := filepath.Join(l.dir, "albmtls.yaml")
	require.NoError(t, os.WriteFile(file, buf.Bytes(), 0o644))
	cfg, err := config.Load(file)
	require.NoError(t, err, buf.String())
	l.srv, err = emulator.New(cfg, emulator.Options{
		Logger: slog.New(slog.NewTextHandler(io.MultiWriter(testWriter{t}, &l.logs), &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnConnection: func(ev emulator.ConnectionEvent) {
			l.mu.Lock()
			l.conn = append(l.conn, ev)
			l.mu.Unlock()
		},
		OnRequest: func(ev emulator.RequestEvent) {
			l.mu.Lock()
			l.reqs = append(l.reqs, *ev.Entry)
			l.mu.Unlock()
		},
	})
	require.NoError(t, err)
	require.NoError(t, l.srv.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, l.srv.Shutdown(ctx))
	})
	return l
}

func (l *lb) httpsAddr() string { return l.srv.Listeners()[0].Addr.String() }
func (l *lb) httpAddr() string  { return l.srv.Listeners()[1].Addr.String() }

// roots trusts the server certificate (issued by the intermediate).
func (l *lb) roots() *x509.CertPool {
	pool := x509.NewCertPool()
	require.True(l.t, pool.AppendCertsFromPEM(l.set.Bundle()))
	return pool
}

// tlsConfig presents the named client certificate ("" for none).
func (l *lb) tlsConfig(client string, version uint16) *tls.Config {
	cfg := &tls.Config{RootCAs: l.roots(), ServerName: "localhost", MinVersion: version, MaxVersion: version}
	if client != "" {
		leaf, ok := l.set.Client(client)
		require.True(l.t, ok, client)
		cfg.Certificates = []tls.Certificate{leaf.TLSCertificate()}
	}
	return cfg
}

// outcome is what a client saw of one connection and request.
type outcome struct {
	status int
	body   string
	err    error // handshake or first-read failure: the connection was rejected
}

// get opens a fresh connection with the named client certificate and sends
// one GET; a rejected TLS 1.3 client sees the handshake succeed and the
// reset on its first read (alb-behaviour §2.3).
func (l *lb) get(client string, version uint16, path string, hdr http.Header) outcome {
	l.t.Helper()
	tr := &http.Transport{TLSClientConfig: l.tlsConfig(client, version), DisableKeepAlives: true, ForceAttemptHTTP2: false}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	req, err := http.NewRequest(http.MethodGet, "https://"+l.httpsAddr()+path, nil)
	require.NoError(l.t, err)
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return outcome{err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return outcome{status: resp.StatusCode, body: string(b)}
}

// connEvents returns the connection events seen so far, waiting until at
// least n arrived.
func (l *lb) connEvents(n int) []emulator.ConnectionEvent {
	l.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		l.mu.Lock()
		got := append([]emulator.ConnectionEvent(nil), l.conn...)
		l.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			require.GreaterOrEqual(l.t, len(got), n, "connection events")
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// lastConn waits for the connection event of the most recent connection to
// the HTTPS listener (index 0).
func (l *lb) lastConn(after int) emulator.ConnectionEvent {
	l.t.Helper()
	evs := l.connEvents(after + 1)
	return evs[len(evs)-1]
}

func (l *lb) connCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conn)
}

func (l *lb) requests() []accesslog.Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]accesslog.Entry(nil), l.reqs...)
}

// echoBackend answers with its name and the request headers as JSON.
func echoBackend(t *testing.T, name string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"name": name, "host": r.Host, "headers": r.Header})
	}))
	t.Cleanup(srv.Close)
	return srv
}

type echo struct {
	Name    string      `json:"name"`
	Host    string      `json:"host"`
	Headers http.Header `json:"headers"`
}

func decodeEcho(t *testing.T, body string) echo {
	t.Helper()
	var e echo
	require.NoError(t, json.Unmarshal([]byte(body), &e), body)
	return e
}

// readLog returns the lines of a log file once it has at least n lines (the
// file writer is asynchronous).
func readLog(t *testing.T, file string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(file)
		// Complete lines only: a read can land in the middle of a write.
		var lines []string
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			lines = strings.Split(string(b[:i]), "\n")
		}
		if len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d lines, want %d:\n%s", file, len(lines), n, b)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testWriter sends the emulator's operational log to the test log, shown
// when a test fails or with -v.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func x509Pool(t *testing.T, pemCerts []byte) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pemCerts))
	return pool
}

func httpGet(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// serveConfig writes text as DIR/albmtls.yaml, starts the emulator it
// describes with its log in the test log, and shuts it down at cleanup.
func serveConfig(t *testing.T, dir string, text []byte) *emulator.Server {
	t.Helper()
	file := filepath.Join(dir, "albmtls.yaml")
	require.NoError(t, os.WriteFile(file, text, 0o644))
	cfg, err := config.Load(file)
	require.NoError(t, err)
	srv, err := emulator.New(cfg, emulator.Options{Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	require.NoError(t, err)
	require.NoError(t, srv.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
	})
	return srv
}

// serveEach runs serve on every connection ln accepts, in its own
// goroutine, until the test ends and ln is closed: the raw-socket targets
// that record or script the exact bytes.
func serveEach(t *testing.T, ln net.Listener, serve func(net.Conn)) {
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
}
