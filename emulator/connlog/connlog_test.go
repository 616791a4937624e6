package connlog

import (
	"bytes"
	"net/netip"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/awsarn"
	"github.com/albmtls/albmtls/internal/golden"
)

// The example lines of alb-behaviour §6.3, copied verbatim. The golden file must hold
// exactly these (plus the emulator's 15-field forms of the documented ones).
const (
	specVerifySuccess = `2023-10-04T17:05:15.514108Z 203.0.113.1 36280 443 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 4.036 "CN=amazondomains.com,O=endEntity,L=Seattle,ST=Washington,C=US" NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z FEF257372D5C14D4 Success TID_3180a73013c8ca4bac2f731159d4b0fe`
	specVerifyFailure = `2023-10-04T17:05:15.514108Z 203.0.113.1 36280 443 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 - "CN=amazondomains.com,O=endEntity,L=Seattle,ST=Washington,C=US" NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z FEF257372D5C14D4 Failed:ClientCertUntrusted TID_1c71a68d70587445ad5127ff8b2687d7`
	specOffHTTPS      = `2026-09-23T07:11:27.691358Z 49.36.71.40 64326 443 TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 0.337 "-" - - Success TID_9f39d9aa6a47774d97089313f949866b secp256r1 app/k8s-tileserver-617dd1df30/98e3a879de9d6b42 3.228.177.57`
	specPlainHTTP     = `2026-09-23T07:11:32.882572Z 147.185.132.159 61814 80 - - - "-" - - - TID_14bdaac20df9aa4ca3139b3168e4e071 - app/k8s-tileserver-617dd1df30/98e3a879de9d6b42 3.228.177.57`
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return v
}

type goldenCase struct {
	name   string
	fields int
	entry  Entry
	spec   string // the reference line this case reproduces, if any
}

func goldenCases(t *testing.T) []goldenCase {
	verified := Entry{
		Time:             mustTime(t, "2023-10-04T17:05:15.514108Z"),
		Client:           netip.MustParseAddrPort("203.0.113.1:36280"),
		ListenerPort:     443,
		TLSProtocol:      "TLSv1.2",
		TLSCipher:        "ECDHE-RSA-AES128-GCM-SHA256",
		HandshakeLatency: 4036 * time.Millisecond,
		Subject:          "CN=amazondomains.com,O=endEntity,L=Seattle,ST=Washington,C=US",
		Validity:         "NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z",
		Serial:           "FEF257372D5C14D4",
		VerifyStatus:     StatusSuccess,
		TraceID:          "TID_3180a73013c8ca4bac2f731159d4b0fe",
	}
	failed := verified
	failed.HandshakeLatency = NoLatency
	failed.VerifyStatus = StatusFailed("ClientCertUntrusted")
	failed.TraceID = "TID_1c71a68d70587445ad5127ff8b2687d7"

	elb := awsarn.LoadBalancerResourceID("k8s-tileserver-617dd1df30", "98e3a879de9d6b42")
	node := netip.MustParseAddr("3.228.177.57")

	// The emulator writes the documented examples with the three newer fields.
	verified15 := verified
	verified15.KeyExchange, verified15.ELB, verified15.NodeIP = "secp256r1", elb, node
	failed15 := failed
	failed15.KeyExchange, failed15.ELB, failed15.NodeIP = "secp256r1", elb, node

	return []goldenCase{
		{"verify-success-12", LegacyFields, verified, specVerifySuccess},
		{"verify-failure-12", LegacyFields, failed, specVerifyFailure},
		{"mtls-off-https", Fields, Entry{
			Time:             mustTime(t, "2026-09-23T07:11:27.691358Z"),
			Client:           netip.MustParseAddrPort("49.36.71.40:64326"),
			ListenerPort:     443,
			TLSProtocol:      "TLSv1.2",
			TLSCipher:        "ECDHE-ECDSA-AES128-GCM-SHA256",
			HandshakeLatency: 337 * time.Millisecond,
			VerifyStatus:     StatusSuccess,
			TraceID:          "TID_9f39d9aa6a47774d97089313f949866b",
			KeyExchange:      "secp256r1",
			ELB:              elb,
			NodeIP:           node,
		}, specOffHTTPS},
		{"plain-http", Fields, Entry{
			Time:             mustTime(t, "2026-09-23T07:11:32.882572Z"),
			Client:           netip.MustParseAddrPort("147.185.132.159:61814"),
			ListenerPort:     80,
			HandshakeLatency: NoLatency,
			TraceID:          "TID_14bdaac20df9aa4ca3139b3168e4e071",
			ELB:              elb,
			NodeIP:           node,
		}, specPlainHTTP},
		{"verify-success-15", Fields, verified15, ""},
		{"verify-failure-15", Fields, failed15, ""},
		{"ipv6-client-escaped-subject", Fields, Entry{
			Time:             mustTime(t, "2026-01-02T03:04:05.000001Z"),
			Client:           netip.MustParseAddrPort("[2001:db8::1]:50000"),
			ListenerPort:     8443,
			TLSProtocol:      "TLSv1.3",
			TLSCipher:        "TLS_AES_128_GCM_SHA256",
			HandshakeLatency: 2 * time.Millisecond,
			Subject:          `CN=Smith\, John \"Q\",O=Acme Inc.,C=US`,
			Validity:         "NotBefore=2025-01-01T00:00:00Z;NotAfter=2027-01-01T00:00:00Z",
			Serial:           "03A5B1",
			VerifyStatus:     StatusFailed("ClientCertExpired"),
			TraceID:          "TID_00000000000000000000000000000001",
			KeyExchange:      "X25519MLKEM768",
			ELB:              awsarn.LoadBalancerResourceID("demo-alb", awsarn.LoadBalancerID("123456789012", "demo-alb")),
			NodeIP:           netip.MustParseAddr("127.0.0.1"),
		}, ""},
	}
}

func TestGoldenLines(t *testing.T) {
	cases := goldenCases(t)
	var got bytes.Buffer
	for _, c := range cases {
		line := c.entry.AppendFields(nil, c.fields)
		if c.spec != "" {
			assert.Equal(t, c.spec, string(line), "%s must reproduce alb-behaviour §6.3 byte for byte", c.name)
		}
		got.WriteString(c.name + "\t")
		got.Write(line)
		got.WriteByte('\n')
	}
	golden.Assert(t, filepath.Join("testdata", "lines.golden"), got.Bytes())
}

func TestSubjectEscaping(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `"-"`},
		{`CN=a\,b,O=x`, `"CN=a\,b,O=x"`},       // RFC 2253: unchanged
		{`CN=M\C3\84NNIK`, `"CN=M\C3\84NNIK"`}, // OpenSSL hex escapes: unchanged
		{`CN=a\"b`, `"CN=a\"b"`},               // escaped quote: unchanged
		{`CN=a"b`, `"CN=a\"b"`},                // bare quote: escaped
		{"CN=a\nb", `"CN=a\0Ab"`},              // control byte: escaped
		{`CN=trailing\`, `"CN=trailing\\"`},    // lone trailing backslash: escaped
	}
	for _, tt := range tests {
		e := Entry{Subject: tt.in}
		got := string(e.appendField(nil, 8))
		assert.Equal(t, tt.want, got, "subject %q", tt.in)
		var buf []string
		f, err := SplitFields(got+" next", buf)
		require.NoError(t, err)
		assert.Len(t, f, 2, "the subject stays one field")
	}
}

func TestParseLineRoundTrip(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			line := string(c.entry.AppendFields(nil, c.fields))
			e, err := ParseLine(line)
			require.NoError(t, err)
			assert.Equal(t, line, string(e.AppendFields(nil, c.fields)))
			if c.fields == Fields {
				want := c.entry
				want.Time = want.Time.UTC()
				assert.Equal(t, want, e)
			}
		})
	}
}

func TestParseLineTolerance(t *testing.T) {
	// Extra trailing fields (alb-behaviour §6.2: "an additional trailing "-"").
	e, err := ParseLine(specOffHTTPS + ` - "-" future` + "\n")
	require.NoError(t, err)
	assert.Equal(t, "app/k8s-tileserver-617dd1df30/98e3a879de9d6b42", e.ELB)
	assert.Equal(t, 337*time.Millisecond, e.HandshakeLatency)
	assert.Equal(t, "", e.Subject)

	// The 12-field format leaves the newer fields empty.
	e, err = ParseLine(specVerifyFailure)
	require.NoError(t, err)
	assert.Equal(t, NoLatency, e.HandshakeLatency)
	assert.Equal(t, "Failed:ClientCertUntrusted", e.VerifyStatus)
	assert.False(t, e.NodeIP.IsValid())
	assert.Equal(t, "", e.KeyExchange)
}

func TestParseLineErrors(t *testing.T) {
	tests := map[string]string{
		"too few fields":   `2023-10-04T17:05:15.514108Z 203.0.113.1 36280 443`,
		"bad time":         strings.Replace(specPlainHTTP, "2026-09-23T07:11:32.882572Z", "2026-09-23 07:11:32", 1),
		"bad ip":           strings.Replace(specPlainHTTP, "147.185.132.159", "not-an-ip", 1),
		"bad port":         strings.Replace(specPlainHTTP, " 61814 ", " 99999 ", 1),
		"bad latency":      strings.Replace(specOffHTTPS, " 0.337 ", " fast ", 1),
		"negative latency": strings.Replace(specOffHTTPS, " 0.337 ", " -0.337 ", 1),
		"unclosed quote":   strings.Replace(specOffHTTPS, `"-"`, `"-`, 1),
		"bad node ip":      strings.Replace(specPlainHTTP, "3.228.177.57", "node", 1),
	}
	for name, line := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ParseLine(line)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "parse connection log")
		})
	}
}

func TestAppendSeconds(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0.000"},
		{337 * time.Millisecond, "0.337"},
		{4036 * time.Millisecond, "4.036"},
		{1499 * time.Microsecond, "0.001"},
		{1500 * time.Microsecond, "0.002"},
		{999600 * time.Microsecond, "1.000"},
		{61 * time.Second, "61.000"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, string(AppendSeconds(nil, tt.d)))
		back, err := ParseSeconds(tt.want)
		require.NoError(t, err)
		assert.InDelta(t, tt.d, back, float64(time.Millisecond/2))
	}
}

func TestNewTraceID(t *testing.T) {
	id := NewTraceID(bytes.NewReader(bytes.Repeat([]byte{0xab}, 16)))
	assert.Equal(t, "TID_abababababababababababababababab", id)

	re := regexp.MustCompile(`^TID_[0-9a-f]{32}$`)
	a, b := NewTraceID(nil), NewTraceID(nil)
	assert.Regexp(t, re, a)
	assert.NotEqual(t, a, b)
	// A short reader falls back to crypto/rand instead of a predictable ID.
	assert.Regexp(t, re, NewTraceID(strings.NewReader("short")))
}

func TestAppendToDoesNotAllocate(t *testing.T) {
	cases := goldenCases(t)
	buf := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(100, func() {
		for i := range cases {
			buf = cases[i].entry.AppendTo(buf[:0])
		}
	})
	assert.Zero(t, allocs)
}

func BenchmarkAppendTo(b *testing.B) {
	e := Entry{
		Time:             time.Date(2026, 9, 23, 7, 11, 27, 691358000, time.UTC),
		Client:           netip.MustParseAddrPort("49.36.71.40:64326"),
		ListenerPort:     443,
		TLSProtocol:      "TLSv1.2",
		TLSCipher:        "ECDHE-RSA-AES128-GCM-SHA256",
		HandshakeLatency: 4036 * time.Millisecond,
		Subject:          "CN=amazondomains.com,O=endEntity,L=Seattle,ST=Washington,C=US",
		Validity:         "NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z",
		Serial:           "FEF257372D5C14D4",
		VerifyStatus:     StatusSuccess,
		TraceID:          "TID_3180a73013c8ca4bac2f731159d4b0fe",
		KeyExchange:      "secp256r1",
		ELB:              "app/k8s-tileserver-617dd1df30/98e3a879de9d6b42",
		NodeIP:           netip.MustParseAddr("3.228.177.57"),
	}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendTo(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkParseLine(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseLine(specOffHTTPS); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewTraceID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = NewTraceID(nil)
	}
}
