package compare

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/bench/loadgen"
)

func TestConfigDefaultsAndErrors(t *testing.T) {
	c := Config{Exe: "albmtls"}
	require.NoError(t, c.defaults())
	assert.Equal(t, AllServers, c.Servers)
	assert.Equal(t, []string{"handshake-crl10", "handshake-crl500k", "keepalive"}, c.Scenarios)
	assert.Equal(t, 3, c.Rounds)
	assert.Equal(t, 5*time.Second, c.Duration)
	assert.Equal(t, time.Second, c.Warmup)
	assert.Equal(t, 32, c.Concurrency)
	assert.Equal(t, 5, c.Slices)

	c = Config{Exe: "albmtls", Warmup: -1}
	require.NoError(t, c.defaults())
	assert.Zero(t, c.Warmup, "a negative warm-up means none")

	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "Config.Exe"},
		{Config{Exe: "x", Servers: []string{Nginx}}, "must include albmtls"},
		{Config{Exe: "x", Servers: []string{ALBMTLS, "caddy"}}, `unknown server "caddy"`},
		{Config{Exe: "x", Scenarios: []string{"h2"}}, `unknown scenario "h2"; use some of handshake-crl10, handshake-crl500k, keepalive`},
	} {
		err := tc.cfg.defaults()
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
	}
}

// TestTemplatesAreValid renders each proxy's configuration over a real PKI
// and, where the proxy is installed, has it check the file.
func TestTemplatesAreValid(t *testing.T) {
	dir := t.TempDir()
	m, err := writeMaterial(dir, time.Now())
	require.NoError(t, err)
	for _, f := range []string{m.bundle, m.serverChain, m.serverKey, m.serverPEM, m.rootCRL, m.interCRL[crlSmall], m.combinedCRL[crlLarge]} {
		assert.FileExists(t, f)
	}
	pem, err := os.ReadFile(m.combinedCRL[crlSmall])
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(pem), "BEGIN X509 CRL"), "the intermediate's CRL, then the root's")

	data := map[string]any{
		"Dir": dir, "Listen": "127.0.0.1:1", "Address": "127.0.0.1", "Port": 1, "Backend": "127.0.0.1:2",
		"Bundle": m.bundle, "ServerChain": m.serverChain, "ServerKey": m.serverKey, "ServerPEM": m.serverPEM,
		"CRL": m.combinedCRL[crlSmall], "CRLs": []string{m.interCRL[crlSmall], m.rootCRL}, "User": nginxUser(),
	}
	for _, name := range []string{"albmtls.yaml", "nginx.conf", "haproxy.cfg"} {
		file, err := render(dir, name, data)
		require.NoError(t, err)
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		assert.NotContains(t, string(b), "<no value>", name)
		assert.Contains(t, string(b), m.bundle, name)
	}
	if nginx, err := lookPath("nginx"); err == nil {
		out, err := exec.Command(nginx, "-t", "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log")).CombinedOutput()
		assert.NoError(t, err, "nginx -t: %s", out)
	}
	if haproxy, err := lookPath("haproxy"); err == nil {
		out, err := exec.Command(haproxy, "-c", "-f", filepath.Join(dir, "haproxy.cfg")).CombinedOutput()
		assert.NoError(t, err, "haproxy -c: %s", out)
	}
}

func TestWaitListeningReportsAnEarlyExit(t *testing.T) {
	ps := &procs{}
	t.Cleanup(ps.stopAll)
	dir := t.TempDir()
	p, err := ps.start("broken", filepath.Join(dir, "log"), "/bin/sh", "-c", "echo 'bad config line 3' >&2; exit 2")
	require.NoError(t, err)
	err = p.waitListening(context.Background(), "127.0.0.1:1", 10*time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "broken exited before listening")
	assert.Contains(t, err.Error(), "bad config line 3")
}

func result(rps float64) *loadgen.Result {
	return &loadgen.Result{RPS: rps, P50: time.Millisecond, P99: 3 * time.Millisecond, Requests: int64(rps)}
}

// use is the CPU of n requests at server µs each, the backend at 60 µs,
// the load generator at 30 and 10 idle.
func use(n float64, server int) CPUUse {
	per := func(us int) time.Duration { return time.Duration(n * float64(us) * float64(time.Microsecond)) }
	return CPUUse{Server: per(server), Backend: per(60), LoadGen: per(30), Idle: per(10), OK: true}
}

func TestReportMediansRatiosAndTable(t *testing.T) {
	r := &Report{Rounds: 3, Servers: []string{ALBMTLS, Nginx}, Scenarios: Scenarios,
		Negotiated: map[string]string{}, Versions: map[string]string{}}
	hs10, hs500k, ka := Scenarios[0], Scenarios[1], Scenarios[2]
	// Round 2 is slower for everyone (the machine was busy): paired ratios
	// are unaffected, as they should be.
	// CPU seconds in proportion to the requests: albmtls 400 µs per
	// handshake against nginx's 800, 50 µs per kept-alive request against
	// 40.
	for round, f := range []float64{1, 0.5, 1} {
		r.add(hs10, ALBMTLS, round, result(1000*f), use(1000*f, 400))
		r.add(hs10, Nginx, round, result(500*f), use(500*f, 800))
		r.add(hs500k, ALBMTLS, round, result(990*f), CPUUse{})
		r.add(hs500k, Nginx, round, result(50*f), use(50*f, 8000))
		r.add(ka, ALBMTLS, round, result(8000*f), use(8000*f, 50))
		r.add(ka, Nginx, round, result(10000*f), use(10000*f, 40))
	}
	c := r.Cell(hs10.Name, ALBMTLS)
	assert.Equal(t, 1000.0, c.RPS)
	assert.Equal(t, 500.0, c.MinRPS)
	assert.Equal(t, 3, c.N)
	assert.InDelta(t, 2.0, r.Ratio(hs10.Name, Nginx), 1e-9)
	assert.InDelta(t, 0.8, r.Ratio(ka.Name, Nginx), 1e-9)
	assert.InDelta(t, 50*time.Microsecond, r.Cell(ka.Name, ALBMTLS).CPU, float64(time.Microsecond))
	assert.InDelta(t, 1.25, r.CPURatio(ka.Name, Nginx), 1e-3)
	assert.InDelta(t, 0.5, r.CPURatio(hs10.Name, Nginx), 1e-3)
	assert.Zero(t, r.CPURatio(hs500k.Name, Nginx), "albmtls's CPU unknown")
	assert.Zero(t, r.Ratio(ka.Name, HAProxy), "not measured")
	cost, ok := r.CRLCost(ALBMTLS)
	require.True(t, ok)
	assert.InDelta(t, 0.01, cost, 1e-9)
	cost, _ = r.CRLCost(Nginx)
	assert.InDelta(t, 0.9, cost, 1e-9)

	var b strings.Builder
	r.WriteTable(&b)
	out := b.String()
	for _, want := range []string{
		"| scenario | albmtls | nginx | albmtls/nginx |",
		"| handshakes/s, 10-entry CRL | 1,000 (±25%) | 500 (±25%) | 2.00 |",
		"| keep-alive requests/s | 8,000 (±25%) | 10,000 (±25%) | 0.80 |",
		"| handshake rate lost to the 500,000-entry CRL | 1.0% | 90.0% | |",
		"| keep-alive requests | 1.00ms / 3.00ms, 0 errors | 1.00ms / 3.00ms, 0 errors |",
		"| handshakes, 10-entry CRL: the server | 400.0 µs | 800.0 µs | 0.50 |",
		"| handshakes, 500,000-entry CRL: the server | – | 8000.0 µs | – |",
		"| keep-alive requests: the server | 50.0 µs | 40.0 µs | 1.25 |",
		"| keep-alive requests: the backend | 60.0 µs | 60.0 µs | |",
		"| keep-alive requests: the load generator | 30.0 µs | 30.0 µs | |",
		"| keep-alive requests: idle | 10.0 µs | 10.0 µs | |",
	} {
		assert.Contains(t, out, want)
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.4: "1,234,567", 12345: "12,345"} {
		assert.Equal(t, want, thousands(in))
	}
}

func TestSchedulerNote(t *testing.T) {
	missing := func(string) ([]byte, error) { return nil, fs.ErrNotExist }
	assert.Empty(t, schedulerNote(missing), "mainline Linux, or not Linux")
	packing := func(name string) ([]byte, error) {
		if name == "/proc/sys/kernel/sched_vcpu_pack" {
			return []byte("15\n"), nil
		}
		return nil, fs.ErrNotExist
	}
	assert.Equal(t, "; scheduler: kernel.sched_vcpu_pack = 15 (not in mainline Linux; see BENCHMARKS.md on idle time)", schedulerNote(packing))
}
