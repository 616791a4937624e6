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
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/crlgen"
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
// On a machine shared with other work, run one after the other the
// sub-benchmarks drift with its load; the interleaved sub-benchmarks
// alternate the servers in rounds and report the ratios to quote.

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
emulation: {watch_interval: 0s{{.Emulation}}}
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
		der, err := crlgen.Build(inter.Cert, inter.Key, crlgen.Spec{
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
	return e.startWith(b, crl, backend, action, "")
}

// startWith is start with more emulation: keys (", key: value" each).
func (e *benchEnv) startWith(b testing.TB, crl, backend, action, emulation string) string {
	b.Helper()
	var buf bytes.Buffer
	err := template.Must(template.New("").Parse(benchConfig)).Execute(&buf, map[string]string{
		"CRL": e.crls[crl], "Backend": backend, "Action": action, "Emulation": emulation,
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

// config is the load generator's configuration for url.
func (e *benchEnv) config(url string, mode loadgen.Mode) loadgen.Config {
	return loadgen.Config{
		URL: url, Mode: mode, Concurrency: benchConcurrency, Duration: loadgen.MaxDuration,
		Certificate: &e.client, ServerLeaf: e.set.Server.Cert.Raw,
	}
}

// run sends n requests and fails the benchmark on any error.
func (e *benchEnv) run(b *testing.B, url string, mode loadgen.Mode, n int) *loadgen.Result {
	b.Helper()
	cfg := e.config(url, mode)
	cfg.Requests = int64(n)
	res, err := loadgen.Run(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	if res.Errors > 0 {
		b.Fatalf("%s: %d errors: %v", url, res.Errors, res.ErrorKinds)
	}
	return res
}

// drive sends b.N requests to url and reports the rate under unit.
func (e *benchEnv) drive(b *testing.B, url string, mode loadgen.Mode, unit string) {
	b.Helper()
	e.run(b, url, mode, 50) // warm-up: connections, caches and the GC settle
	b.ReportAllocs()
	b.ResetTimer()
	res := e.run(b, url, mode, b.N)
	b.StopTimer()
	b.ReportMetric(float64(res.Requests)/b.Elapsed().Seconds(), unit)
	b.ReportMetric(float64(res.P99.Microseconds()), "p99-µs")
}

// interleave sends b.N requests in all, split over the servers in
// alternating rounds (A B C A B C …), so that a change of the machine's
// load hits every server alike, and reports each server's rate under
// NAME-unit and, for each pair {i, j} of ratios, rate(i)/rate(j).
func (e *benchEnv) interleave(b *testing.B, mode loadgen.Mode, unit string, names, urls []string, ratios ...[2]int) {
	b.Helper()
	const rounds = 6
	for _, u := range urls {
		e.run(b, u, mode, 50)
	}
	per := max(b.N/(rounds*len(urls)), 1)
	elapsed := make([]time.Duration, len(urls))
	count := make([]int64, len(urls))
	b.ResetTimer()
	for range rounds {
		for i, u := range urls {
			res := e.run(b, u, mode, per)
			elapsed[i] += res.Elapsed
			count[i] += res.Requests
		}
	}
	b.StopTimer()
	rate := func(i int) float64 { return float64(count[i]) / elapsed[i].Seconds() }
	for i, name := range names {
		b.ReportMetric(rate(i), name+"-"+unit)
	}
	for _, r := range ratios {
		b.ReportMetric(rate(r[0])/rate(r[1]), "ratio-"+names[r[0]]+"/"+names[r[1]])
	}
}

// The listener's default actions in these benchmarks.
const (
	fixedOKAction = `{type: fixed-response, fixed_response: {status_code: "200", content_type: text/plain, message_body: ok}}`
	forwardAction = `{type: forward, target_group: web}`
)

// BenchmarkHandshake: full mTLS handshakes per second through the
// emulator's listener with an empty and a 500,000-entry CRL, the same
// with the chain-check cache off (emulation.chain_check_cache: 0), and the
// bare crypto/tls ceiling, one after the other, then interleaved: the
// interleaved ratios are the figures to quote on a shared machine: the
// CRL's cost is 1 - ratio-500kCRL/emptyCRL, ratio-emptyCRL/ceiling is
// how close the emulator comes to a bare crypto/tls server, and
// ratio-emptyCRL/nocache is what the chain-check cache gains.
func BenchmarkHandshake(b *testing.B) {
	e := newBenchEnv(b)
	names := []string{"ceiling", "emptyCRL", "500kCRL", "nocache"}
	urls := []string{e.ceiling(b),
		e.start(b, "emptyCRL", "127.0.0.1:1", fixedOKAction),
		e.start(b, "500kCRL", "127.0.0.1:1", fixedOKAction),
		e.startWith(b, "emptyCRL", "127.0.0.1:1", fixedOKAction, ", chain_check_cache: 0")}
	for i, name := range names {
		b.Run(name, func(b *testing.B) { e.drive(b, urls[i], loadgen.ModeHandshake, "handshakes/s") })
	}
	b.Run("interleaved", func(b *testing.B) {
		e.interleave(b, loadgen.ModeHandshake, "hs/s", names, urls, [2]int{2, 1}, [2]int{1, 0}, [2]int{1, 3}, [2]int{3, 0})
	})
}

// BenchmarkKeepAlive: kept-alive requests per second through the emulator
// (verify mode, forward action) to a local backend, and the same client
// on the backend directly; then both interleaved.
func BenchmarkKeepAlive(b *testing.B) {
	e := newBenchEnv(b)
	backend := httptest.NewServer(servers.Backend())
	b.Cleanup(backend.Close)
	direct := backend.URL + "/"
	// emulator: the emulator with Go's net/http server as its HTTP/1.x
	// front end (emulation.http1_front_end: net/http), the baseline of
	// albmtls, its own front end and direct forward (the default).
	emu := e.startWith(b, "emptyCRL", backend.Listener.Addr().String(), forwardAction, ", http1_front_end: net/http")
	own := e.startWith(b, "emptyCRL", backend.Listener.Addr().String(), forwardAction, ", http1_front_end: albmtls")
	b.Run("direct", func(b *testing.B) { e.drive(b, direct, loadgen.ModeKeepAlive, "requests/s") })
	b.Run("emulator", func(b *testing.B) { e.drive(b, emu, loadgen.ModeKeepAlive, "requests/s") })
	b.Run("albmtls", func(b *testing.B) { e.drive(b, own, loadgen.ModeKeepAlive, "requests/s") })
	b.Run("interleaved", func(b *testing.B) {
		e.interleave(b, loadgen.ModeKeepAlive, "req/s", []string{"direct", "emulator", "albmtls"}, []string{direct, emu, own},
			[2]int{1, 0}, [2]int{2, 1})
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
