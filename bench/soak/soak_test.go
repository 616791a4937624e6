package soak

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMetricValue(t *testing.T) {
	body := `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 13
go_goroutines_extra 99
albmtls_log_lines_dropped_total{log="access"} 934
albmtls_log_lines_dropped_total{log="connection"} 1.5e+03
`
	for _, tc := range []struct {
		series string
		want   float64
		err    string
	}{
		{"go_goroutines", 13, ""},
		{`albmtls_log_lines_dropped_total{log="access"}`, 934, ""},
		{`albmtls_log_lines_dropped_total{log="connection"}`, 1500, ""},
		{"go_gorout", 0, "not found"},
		{`albmtls_log_lines_dropped_total{log="s3"}`, 0, "not found"},
	} {
		t.Run(tc.series, func(t *testing.T) {
			v, err := metricValue(body, tc.series)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, v)
		})
	}
}

func TestVmRSS(t *testing.T) {
	for _, tc := range []struct {
		name, status string
		want         int64
		err          string
	}{
		{"linux", "Name:\talbmtls\nVmPeak:\t  100 kB\nVmRSS:\t   45908 kB\nRssAnon:\t 1 kB\n", 45908 << 10, ""},
		{"missing", "Name:\talbmtls\n", 0, "no VmRSS"},
		{"unit", "VmRSS:\t12 MB\n", 0, "want"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := vmRSS(tc.status)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, v)
		})
	}
}

func TestAccessURLs(t *testing.T) {
	log := `https 2026-12-02T01:37:00.000000Z app/soak-alb/0123456789abcdef 127.0.0.1:40000 127.0.0.1:9000 0.000 0.001 0.000 200 200 100 200 "GET https://soak.test:443/slow/3-7 HTTP/1.1" "-" TLS_AES_128_GCM_SHA256 TLSv1.3 - "Root=1-0" "-" "-" 0 - "forward" "-" "-" "127.0.0.1:9000" "200" "-" "-" TID_0
garbage line
https 2026-12-02T01:37:00.000000Z app/x 127.0.0.1:40000 - -1 -1 -1 400 - 0 0 "- https://soak.test:443- -" "-" - - -
`
	urls, bad := accessURLs(log)
	assert.Equal(t, []string{"https://soak.test:443/slow/3-7", "https://soak.test:443-"}, urls,
		"a malformed request is still an access-log line (ALB writes \"- URL- -\")")
	assert.Equal(t, 1, bad, "a line without a request field")
}

func TestRenderConfigIndentsEmulationLines(t *testing.T) {
	m := &material{bundle: "/p/ca/bundle.pem", interCRL: "/p/i.crl", rootCRL: "/p/r.crl", serverChain: "/p/s.pem", serverKey: "/p/k.pem"}
	b, err := renderConfig(emuConfig{Targets: []string{"127.0.0.1:1", "127.0.0.1:2"}, LogDir: "/l", material: m,
		Extra: "request_timeout: 5s\n\n  other: 1"})
	require.NoError(t, err)
	s := string(b)
	assert.Contains(t, s, `targets: ["127.0.0.1:1", "127.0.0.1:2"]`)
	assert.Contains(t, s, "watch_interval: 0s\n", "watching is off unless a phase asks")
	assert.Contains(t, s, "idle_timeout: 300s")
	assert.Contains(t, s, "handshake_timeout: 10s\n", "the emulator's default unless a phase shortens it")
	assert.Contains(t, s, "\n  request_timeout: 5s\n  other: 1\n")
	assert.Contains(t, s, "access: {file: /l/access.log}")
	assert.Contains(t, s, `address: 127.0.0.1`, "loopback only")
}

func TestSelectPhases(t *testing.T) {
	all, err := selectPhases(nil)
	require.NoError(t, err)
	assert.Len(t, all, 7)
	some, err := selectPhases([]string{"reload", "idle"})
	require.NoError(t, err)
	require.Len(t, some, 2)
	assert.Equal(t, "idle", some[0].name, "phases run in the suite's order")
	_, err = selectPhases([]string{"idle", "nope"})
	require.ErrorContains(t, err, `no phase "nope"`)
	assert.ErrorContains(t, err, "fd-exhaustion")
}

func TestReportTableAndVerdicts(t *testing.T) {
	rep := &Report{Machine: "test machine", Results: []Result{
		{Phase: "idle", Target: "held", Pass: true, Figures: []string{"held 10/10"}},
		{Phase: "reload", Target: "0 failed", Figures: []string{"requests 1 ok | 2 failed"}},
		{Phase: "sigterm", Target: "lines", Err: errors.New("boom")},
	}}
	assert.False(t, rep.Passed())
	var b bytes.Buffer
	rep.WriteTable(&b)
	out := b.String()
	assert.Contains(t, out, "| idle | held | **PASS** | held 10/10 |")
	assert.Contains(t, out, `| reload | 0 failed | **FAIL** | requests 1 ok \| 2 failed |`, "a | stays inside its cell")
	assert.Contains(t, out, "| sigterm | lines | **ERROR** | error: boom |")
	assert.Equal(t, 5, strings.Count(out, "\n|"), "header, separator and a row per phase")
	assert.True(t, (&Report{Results: []Result{{Pass: true}}}).Passed())
	assert.False(t, (&Report{}).Passed(), "an empty run passes nothing")
}

func TestLoadResultKinds(t *testing.T) {
	var l loadResult
	for range 3 {
		l.fail(errors.New("status 502"))
	}
	l.fail(errors.New("handshake: remote error"))
	assert.EqualValues(t, 4, l.failed)
	assert.Equal(t, "3 × status 502, 1 × handshake: remote error", l.kindsString())
}

func TestItoa(t *testing.T) {
	assert.Equal(t, "500", itoa(500))
	assert.Equal(t, "10,000", itoa(10000))
	assert.Equal(t, "1,234,567", itoa(1234567))
}
