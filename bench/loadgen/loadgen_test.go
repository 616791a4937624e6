package loadgen_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/bench/loadgen"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// mtlsServer is an HTTPS test server that requires a client certificate,
// never resumes sessions, and answers with h.
func mtlsServer(t *testing.T, h http.Handler) (*httptest.Server, tls.Certificate, []byte) {
	t.Helper()
	set := pkitest.Standard(t)
	client, ok := set.Client("valid")
	require.True(t, ok)
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{
		Certificates:           []tls.Certificate{set.Server.TLSCertificate()},
		ClientAuth:             tls.RequireAnyClientCert,
		SessionTicketsDisabled: true,
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, client.TLSCertificate(), set.Server.Cert.Raw
}

func ok(w http.ResponseWriter, r *http.Request) {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		w.Header().Set("X-Seen-Subject", r.TLS.PeerCertificates[0].Subject.String())
	}
	_, _ = w.Write([]byte("ok"))
}

func TestHandshakeModeOpensOneConnectionPerRequest(t *testing.T) {
	srv, cert, leaf := mtlsServer(t, http.HandlerFunc(ok))
	var checked atomic.Int64
	res, err := loadgen.Run(context.Background(), loadgen.Config{
		URL: srv.URL + "/x", Mode: loadgen.ModeHandshake, Concurrency: 3, Requests: 30,
		Certificate: &cert, ServerLeaf: leaf,
		Check: func(r *http.Response) error {
			checked.Add(1)
			if !strings.Contains(r.Header.Get("X-Seen-Subject"), "CN=valid") {
				return errors.New("no subject")
			}
			return nil
		},
	})
	require.NoError(t, err)
	assert.Equal(t, int64(30), res.Requests)
	assert.Zero(t, res.Errors, res.ErrorKinds)
	assert.Equal(t, int64(30), res.Handshakes, "a full handshake per request")
	assert.False(t, res.DidResume)
	assert.Equal(t, uint16(tls.VersionTLS13), res.TLSVersion)
	assert.Equal(t, tls.X25519, res.CurveID)
	assert.Equal(t, int64(9), checked.Load(), "the first 3 responses of each of 3 workers")
	assert.Positive(t, res.RPS)
	assert.Positive(t, res.P50)
	assert.LessOrEqual(t, res.P50, res.P99)
	assert.LessOrEqual(t, res.P99, res.Max)
	assert.Equal(t, "200 OK", res.FirstStatus)
}

func TestKeepAliveModeReusesConnections(t *testing.T) {
	srv, cert, leaf := mtlsServer(t, http.HandlerFunc(ok))
	res, err := loadgen.Run(context.Background(), loadgen.Config{
		URL: srv.URL, Mode: loadgen.ModeKeepAlive, Concurrency: 4, Requests: 200,
		Certificate: &cert, ServerLeaf: leaf,
	})
	require.NoError(t, err)
	assert.Equal(t, int64(200), res.Requests)
	assert.Zero(t, res.Errors, res.ErrorKinds)
	assert.Equal(t, int64(4), res.Handshakes, "one connection per worker")
}

func TestKeepAliveReconnectsWhenTheServerCloses(t *testing.T) {
	srv, cert, _ := mtlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		ok(w, r)
	}))
	res, err := loadgen.Run(context.Background(), loadgen.Config{
		URL: srv.URL, Mode: loadgen.ModeKeepAlive, Concurrency: 2, Requests: 10, Certificate: &cert,
	})
	require.NoError(t, err)
	assert.Equal(t, int64(10), res.Requests)
	assert.Zero(t, res.Errors, res.ErrorKinds)
	assert.Equal(t, int64(10), res.Handshakes)
}

func TestNon2xxAndFailedChecksAreErrors(t *testing.T) {
	srv, cert, _ := mtlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusBadGateway)
	}))
	res, err := loadgen.Run(context.Background(), loadgen.Config{
		URL: srv.URL, Mode: loadgen.ModeKeepAlive, Concurrency: 2, Requests: 10, Certificate: &cert,
	})
	require.NoError(t, err)
	assert.Zero(t, res.Requests)
	assert.Equal(t, int64(10), res.Errors)
	assert.Equal(t, map[string]int64{"status 502": 10}, res.ErrorKinds)

	srv2, cert2, _ := mtlsServer(t, http.HandlerFunc(ok))
	res, err = loadgen.Run(context.Background(), loadgen.Config{
		URL: srv2.URL, Mode: loadgen.ModeKeepAlive, Concurrency: 1, Requests: 5, Certificate: &cert2,
		CheckFirst: 2, Check: func(*http.Response) error { return errors.New("wrong header") },
	})
	require.NoError(t, err)
	assert.Equal(t, int64(3), res.Requests, "only the first 2 responses are checked")
	assert.Equal(t, map[string]int64{"check: wrong header": 2}, res.ErrorKinds)
}

func TestPinnedLeafMismatchFailsTheHandshake(t *testing.T) {
	srv, cert, _ := mtlsServer(t, http.HandlerFunc(ok))
	res, err := loadgen.Run(context.Background(), loadgen.Config{
		URL: srv.URL, Concurrency: 1, Requests: 2, Certificate: &cert, ServerLeaf: []byte("other"),
	})
	require.NoError(t, err)
	assert.Equal(t, int64(2), res.Errors)
	for k := range res.ErrorKinds {
		assert.Contains(t, k, "handshake: ")
		assert.Contains(t, k, "pinned")
	}
}

func TestKeepAliveFailsToStartWithoutAServer(t *testing.T) {
	srv, cert, _ := mtlsServer(t, http.HandlerFunc(ok))
	url := srv.URL
	srv.Close()
	_, err := loadgen.Run(context.Background(), loadgen.Config{URL: url, Mode: loadgen.ModeKeepAlive, Concurrency: 2, Certificate: &cert})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "opening 2 keep-alive connections")
}

func TestDurationStopsTheRun(t *testing.T) {
	srv, cert, _ := mtlsServer(t, http.HandlerFunc(ok))
	res, err := loadgen.Run(context.Background(), loadgen.Config{
		URL: srv.URL, Mode: loadgen.ModeKeepAlive, Concurrency: 2, Duration: 200 * time.Millisecond, Certificate: &cert,
	})
	require.NoError(t, err)
	assert.Positive(t, res.Requests)
	assert.Less(t, res.Elapsed, 5*time.Second)
}

func TestConfigErrors(t *testing.T) {
	cases := map[string]struct {
		cfg  loadgen.Config
		want string
	}{
		"remote address":  {loadgen.Config{URL: "https://192.0.2.10:443/"}, "not a loopback address"},
		"remote v6":       {loadgen.Config{URL: "https://[2001:db8::1]/"}, "not a loopback address"},
		"scheme":          {loadgen.Config{URL: "ftp://127.0.0.1/"}, "scheme must be https"},
		"mode":            {loadgen.Config{URL: "https://127.0.0.1/", Mode: "burst"}, `"burst" is not a load mode`},
		"concurrency":     {loadgen.Config{URL: "https://127.0.0.1/", Concurrency: 100000}, "concurrency 100000 out of range"},
		"duration":        {loadgen.Config{URL: "https://127.0.0.1/", Duration: time.Hour}, "duration 1h0m0s out of range"},
		"negative count":  {loadgen.Config{URL: "https://127.0.0.1/", Requests: -1}, "negative"},
		"unparsable URL":  {loadgen.Config{URL: "https://[::1"}, "URL"},
		"no address host": {loadgen.Config{URL: "https://no-such-host.invalid/"}, "no-such-host.invalid"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := loadgen.Run(context.Background(), tc.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestPlainHTTPBaseline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(ok))
	t.Cleanup(srv.Close)
	url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	res, err := loadgen.Run(context.Background(), loadgen.Config{URL: url, Mode: loadgen.ModeKeepAlive, Concurrency: 2, Requests: 20})
	require.NoError(t, err)
	assert.Equal(t, int64(20), res.Requests)
	assert.Zero(t, res.Handshakes)
}

func TestMerge(t *testing.T) {
	srv, cert, _ := mtlsServer(t, http.HandlerFunc(ok))
	run := func(n int64) *loadgen.Result {
		res, err := loadgen.Run(context.Background(), loadgen.Config{URL: srv.URL, Mode: loadgen.ModeKeepAlive, Concurrency: 2, Requests: n, Certificate: &cert})
		require.NoError(t, err)
		return res
	}
	a, b := run(30), run(50)
	m := loadgen.Merge(a, b)
	assert.Equal(t, int64(80), m.Requests)
	assert.Equal(t, int64(4), m.Handshakes)
	assert.Equal(t, a.Elapsed+b.Elapsed, m.Elapsed)
	assert.InDelta(t, 80/m.Elapsed.Seconds(), m.RPS, 1e-6)
	assert.Equal(t, max(a.Max, b.Max), m.Max)
	assert.LessOrEqual(t, min(a.P50, b.P50), m.P50)
	assert.GreaterOrEqual(t, max(a.P50, b.P50), m.P50)
	assert.Equal(t, loadgen.ModeKeepAlive, m.Mode)
	assert.Zero(t, loadgen.Merge().Requests)
}
