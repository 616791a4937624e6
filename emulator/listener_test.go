package emulator_test

import (
	"compress/gzip"
	"context"
	"crypto/tls"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// TestCertificateChosenBySNI: the first certificate is the default, the
// others are chosen by SNI (as on ALB), and chosen_cert_arn says which.
func TestCertificateChosenBySNI(t *testing.T) {
	dir := pkitest.Dir(t)
	set := pkitest.Standard(t)
	api := pkitest.Server(t, set.Intermediate, "api.example.test")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "api.pem"), api.CertPEM, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "api-key.pem"), api.KeyPEM, 0o600))
	file := filepath.Join(dir, "albmtls.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`listeners:
  - port: 0
    protocol: HTTPS
    certificates:
      - {certificate: server/server.pem, private_key: server/server-key.pem, arn: "arn:aws:acm:us-east-1:123456789012:certificate/default"}
      - {certificate: api.pem, private_key: api-key.pem, arn: "arn:aws:acm:us-east-1:123456789012:certificate/api"}
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
`), 0o644))
	cfg, err := config.Load(file)
	require.NoError(t, err)
	// The access-log callback may run after the client has read the
	// response (ALB-generated responses are written before they are
	// logged), so the slice is shared under a lock.
	var (
		mu   sync.Mutex
		arns []string
	)
	srv, err := emulator.New(cfg, emulator.Options{OnRequest: func(ev emulator.RequestEvent) {
		mu.Lock()
		defer mu.Unlock()
		arns = append(arns, ev.Entry.ChosenCertARN)
	}})
	require.NoError(t, err)
	require.NoError(t, srv.Start(context.Background()))
	defer srv.Shutdown(context.Background())
	pool := x509Pool(t, set.Bundle())
	for _, sni := range []string{"api.example.test", "localhost", ""} {
		c, err := tls.Dial("tcp", srv.Listeners()[0].Addr.String(), &tls.Config{RootCAs: pool, ServerName: sni, InsecureSkipVerify: sni == ""})
		require.NoError(t, err, sni)
		got := c.ConnectionState().PeerCertificates[0]
		if sni == "api.example.test" {
			assert.Equal(t, api.Cert.Raw, got.Raw)
		} else {
			assert.Equal(t, set.Server.Cert.Raw, got.Raw, "default certificate for %q", sni)
		}
		_, _ = c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
		_, _ = io.ReadAll(c)
		c.Close()
	}
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(arns) == 3 }, 5*time.Second, 10*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{
		"arn:aws:acm:us-east-1:123456789012:certificate/api",
		"arn:aws:acm:us-east-1:123456789012:certificate/default",
		"arn:aws:acm:us-east-1:123456789012:certificate/default",
	}, arns)
}

// TestNoResumptionWithMutualTLS: with mTLS (passthrough or verify) every
// connection is a full handshake (alb-behaviour §2.4); without mTLS a TLS 1.3
// client resumes, and the access log says session-reused (alb-behaviour §7).
func TestNoResumptionWithMutualTLS(t *testing.T) {
	for _, mode := range []string{"off", "passthrough", "verify"} {
		l := startLB(t, params{Mode: mode})
		cfg := l.tlsConfig("valid", tls.VersionTLS13)
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
		resumed := false
		for i := 0; i < 3; i++ {
			c, err := tls.Dial("tcp", l.httpsAddr(), cfg)
			require.NoError(t, err)
			_, _ = c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
			_, _ = io.ReadAll(c) // reading also processes the session ticket, if any
			resumed = resumed || c.ConnectionState().DidResume
			c.Close()
		}
		if mode == "off" {
			assert.True(t, resumed, "a listener without mTLS supports resumption")
			reqs := l.requests()
			assert.Equal(t, "session-reused", reqs[len(reqs)-1].ChosenCertARN)
		} else {
			assert.False(t, resumed, "no resumption in %s mode", mode)
		}
	}
}

// TestConnectionLogS3Layout: with logs.s3_layout_dir the connection and
// access logs are also delivered as gzip objects under ALB's key layout
// (alb-behaviour §6.1, §7), at the latest when the emulator shuts down.
func TestConnectionLogS3Layout(t *testing.T) {
	dir := pkitest.Dir(t)
	file := filepath.Join(dir, "albmtls.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`load_balancer: {name: s3-alb, account_id: "111122223333", region: eu-central-1, ip_address: 10.0.0.5}
listeners:
  - port: 0
    protocol: HTTP
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
logs:
  s3_layout_dir: s3
`), 0o644))
	cfg, err := config.Load(file)
	require.NoError(t, err)
	srv, err := emulator.New(cfg, emulator.Options{})
	require.NoError(t, err)
	require.NoError(t, srv.Start(context.Background()))
	resp, err := httpGet("http://" + srv.Listeners()[0].Addr.String() + "/")
	require.NoError(t, err)
	assert.Equal(t, 200, resp)
	require.NoError(t, srv.Shutdown(context.Background()))

	var objects []string
	require.NoError(t, filepath.WalkDir(filepath.Join(dir, "s3"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(filepath.Join(dir, "s3"), p)
			objects = append(objects, rel)
		}
		return err
	}))
	var conn, access string
	for _, o := range objects {
		base := filepath.Base(o)
		switch {
		case strings.HasPrefix(base, "conn_log_111122223333_elasticloadbalancing_eu-central-1_app.s3-alb."):
			conn = o
		case strings.HasPrefix(base, "111122223333_elasticloadbalancing_eu-central-1_app.s3-alb."):
			access = o
		}
	}
	require.NotEmpty(t, conn, "connection-log object among %v", objects)
	require.NotEmpty(t, access, "access-log object among %v", objects)
	assert.Regexp(t, `^AWSLogs/111122223333/elasticloadbalancing/eu-central-1/\d{4}/\d\d/\d\d/conn_log_111122223333_elasticloadbalancing_eu-central-1_app\.s3-alb\.[0-9a-f]{16}_\d{8}T\d{4}Z_10\.0\.0\.5_[0-9a-z]{8}\.log\.gz$`, conn)
	body := gunzip(t, filepath.Join(dir, "s3", conn))
	assert.Contains(t, body, " - - - \"-\" - - - TID_", "a plain HTTP connection line")
	assert.Contains(t, gunzip(t, filepath.Join(dir, "s3", access)), "\"fixed-response\"")
}

func gunzip(t *testing.T, file string) string {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	b, err := io.ReadAll(zr)
	require.NoError(t, err)
	return string(b)
}

// TestIPv4ClientsOnWildcardListenerAreLoggedAsIPv4: a listener on the
// unspecified address sees IPv4 clients as IPv4-mapped IPv6; the logs and
// X-Forwarded-For must carry the plain IPv4 address, as ALB writes it.
func TestIPv4ClientsOnWildcardListenerAreLoggedAsIPv4(t *testing.T) {
	dir := pkitest.Dir(t)
	file := filepath.Join(dir, "albmtls.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`listeners:
  - port: 0
    address: "::"
    protocol: HTTP
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
`), 0o644))
	cfg, err := config.Load(file)
	require.NoError(t, err)
	var clients []string
	srv, err := emulator.New(cfg, emulator.Options{OnConnection: func(ev emulator.ConnectionEvent) {
		clients = append(clients, ev.Entry.Client.Addr().String())
	}})
	require.NoError(t, err)
	require.NoError(t, srv.Start(context.Background()))
	defer srv.Shutdown(context.Background())
	_, port, _ := strings.Cut(srv.Listeners()[0].Addr.String(), "]:")
	code, err := httpGet("http://127.0.0.1:" + port + "/")
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	require.Eventually(t, func() bool { return len(clients) == 1 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, "127.0.0.1", clients[0])
}
