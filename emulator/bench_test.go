package emulator_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/bench/loadgen"
	"github.com/albmtls/albmtls/bench/servers"
	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/truststore/truststoretest"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// The benchmarks of this file measure the emulator end to end, through its
// real listener, with the load generator of `albmtls bench` (bench/loadgen)
// as the client, each next to its baseline in the same run:
//
//	BenchmarkHandshake   full mTLS handshakes per second in verify mode
//	                     (ECDSA P-256 client, TLS 1.3, a new connection per
//	                     request, fixed-response action) with an empty CRL
//	                     and with a 500,000-entry CRL, against the ceiling:
//	                     a bare crypto/tls server doing the same handshake
//	                     and answering by itself
//	BenchmarkKeepAlive   kept-alive requests through the emulator to a local
//	                     backend, against the same client on the backend
//	                     directly; allocs/op minus the direct run's is what
//	                     the emulator allocates per proxied request
//
// Client, server and backend share the machine's cores, as in make bench.

// benchConcurrency is the load generator's worker count in these
// benchmarks: enough to keep two cores busy through the handshake's
// round trips.
const benchConcurrency = 8

const benchConfig = `load_balancer: {name: bench-alb}
trust_stores:
  - name: ts
    ca_certificates_bundle: ca/bundle.pem
    revocations: [{{.CRL}}]
target_groups:
  - name: web
    targets: ["{{.Backend}}"]
    health_check: {enabled: false}
listeners:
  - port: 0
    protocol: HTTPS
    ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-06
    certificates: [{certificate: server/server-chain.pem, private_key: server/server-key.pem}]
    mutual_authentication: {mode: verify, trust_store: ts}
    default_action: {{.Action}}
emulation: {watch_interval: 0s}
`

// benchEnv is the PKI on disk, its CRL variants and the client.
type benchEnv struct {
	dir    string
	set    *pki.Set
	client tls.Certificate
	crls   map[string]string // variant → file relative to dir
}

func newBenchEnv(b testing.TB) *benchEnv {
	b.Helper()
	e := &benchEnv{dir: pkitest.Dir(b), crls: map[string]string{}}
	var err error
	if e.set, err = pki.Load(e.dir); err != nil {
		b.Fatal(err)
	}
	valid, _ := e.set.Client("valid")
	e.client = valid.TLSCertificate()
	inter := e.set.Intermediate
	for name, entries := range map[string]int{"emptyCRL": 0, "500kCRL": 500_000} {
		der, err := truststoretest.BuildCRL(inter.Cert, inter.Key, truststoretest.CRLSpec{
			Entries: entries, ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(24 * time.Hour),
		})
		if err != nil {
			b.Fatal(err)
		}
		rel := "crl/bench-" + name + ".crl.pem"
		if err := os.WriteFile(filepath.Join(e.dir, rel), pki.EncodeCRLPEM(der), 0o644); err != nil {
			b.Fatal(err)
		}
		e.crls[name] = rel
	}
	return e
}

// start runs the emulator in verify mode with the CRL variant and the
// action, and returns its HTTPS URL.
func (e *benchEnv) start(b testing.TB, crl, backend, action string) string {
	b.Helper()
	var buf bytes.Buffer
	err := template.Must(template.New("").Parse(benchConfig)).Execute(&buf, map[string]string{
		"CRL": e.crls[crl], "Backend": backend, "Action": action,
	})
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Parse(filepath.Join(e.dir, "bench-"+crl+".yaml"), buf.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	srv, err := emulator.New(cfg, emulator.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv.Listeners()[0].URL() + "/"
}

// ceiling runs the bare crypto/tls server and returns its URL.
func (e *benchEnv) ceiling(b testing.TB) string {
	b.Helper()
	tc, err := servers.CeilingTLS(filepath.Join(e.dir, "server/server-chain.pem"),
		filepath.Join(e.dir, "server/server-key.pem"), filepath.Join(e.dir, "ca/bundle.pem"))
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = servers.Serve(ctx, ln, servers.Ceiling(), tc)
	}()
	b.Cleanup(func() { cancel(); <-done })
	return "https://" + ln.Addr().String() + "/"
}

// drive sends b.N requests to url with the load generator and reports the
// rate under unit.
func (e *benchEnv) drive(b *testing.B, url string, mode loadgen.Mode, unit string) {
	b.Helper()
	cfg := loadgen.Config{
		URL: url, Mode: mode, Concurrency: benchConcurrency, Duration: loadgen.MaxDuration,
		Certificate: &e.client, ServerLeaf: e.set.Server.Cert.Raw,
	}
	// One short run first: connections, caches and the GC settle, and a
	// broken setup fails before the measurement.
	warm := cfg
	warm.Requests = 50
	if res, err := loadgen.Run(context.Background(), warm); err != nil || res.Errors > 0 {
		b.Fatalf("warm-up against %s: %v %v", url, err, res)
	}
	cfg.Requests = int64(b.N)
	b.ReportAllocs()
	b.ResetTimer()
	res, err := loadgen.Run(context.Background(), cfg)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if res.Errors > 0 {
		b.Fatalf("%d errors: %v", res.Errors, res.ErrorKinds)
	}
	b.ReportMetric(float64(res.Requests)/b.Elapsed().Seconds(), unit)
	b.ReportMetric(float64(res.P99.Microseconds()), "p99-µs")
}

// The listener's default actions in these benchmarks.
const (
	fixedOKAction = `{type: fixed-response, fixed_response: {status_code: "200", content_type: text/plain, message_body: ok}}`
	forwardAction = `{type: forward, target_group: web}`
)

// BenchmarkHandshake: full mTLS handshakes per second through the
// emulator's listener with an empty and a 500,000-entry CRL, and the bare
// crypto/tls ceiling. The CRL's cost is 1 - 500kCRL/emptyCRL; the
// emulator's own cost is 1 - emptyCRL/ceiling.
func BenchmarkHandshake(b *testing.B) {
	e := newBenchEnv(b)
	b.Run("ceiling", func(b *testing.B) {
		e.drive(b, e.ceiling(b), loadgen.ModeHandshake, "handshakes/s")
	})
	for _, crl := range []string{"emptyCRL", "500kCRL"} {
		b.Run(crl, func(b *testing.B) {
			e.drive(b, e.start(b, crl, "127.0.0.1:1", fixedOKAction), loadgen.ModeHandshake, "handshakes/s")
		})
	}
}

// BenchmarkKeepAlive: kept-alive requests per second through the emulator
// (verify mode, forward action) to a local backend, and the same client
// on the backend directly.
func BenchmarkKeepAlive(b *testing.B) {
	e := newBenchEnv(b)
	backend := httptest.NewServer(servers.Backend())
	b.Cleanup(backend.Close)
	b.Run("direct", func(b *testing.B) {
		e.drive(b, backend.URL+"/", loadgen.ModeKeepAlive, "requests/s")
	})
	b.Run("emulator", func(b *testing.B) {
		url := e.start(b, "emptyCRL", backend.Listener.Addr().String(), forwardAction)
		e.drive(b, url, loadgen.ModeKeepAlive, "requests/s")
	})
}

// TestBenchmarkServers sends a few requests to each server the benchmarks
// measure, with the response check of make bench, so a broken benchmark
// setup fails make test rather than make bench.
func TestBenchmarkServers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 500,000-entry CRL")
	}
	e := newBenchEnv(t)
	backend := httptest.NewServer(servers.Backend())
	t.Cleanup(backend.Close)
	for name, url := range map[string]string{
		"ceiling":          e.ceiling(t),
		"emptyCRL":         e.start(t, "emptyCRL", "127.0.0.1:1", fixedOKAction),
		"500kCRL":          e.start(t, "500kCRL", "127.0.0.1:1", fixedOKAction),
		"emulator-forward": e.start(t, "emptyCRL", backend.Listener.Addr().String(), forwardAction),
	} {
		res, err := loadgen.Run(context.Background(), loadgen.Config{
			URL: url, Mode: loadgen.ModeHandshake, Concurrency: 2, Requests: 10,
			Certificate: &e.client, ServerLeaf: e.set.Server.Cert.Raw,
		})
		require.NoError(t, err, name)
		assert.Equal(t, int64(10), res.Requests, "%s: %v", name, res.ErrorKinds)
		if name == "emulator-forward" {
			assert.Contains(t, res.FirstHeaders, "CN=valid", "the backend saw the client certificate subject")
		}
	}
}
