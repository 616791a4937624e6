package accesslog

import (
	"bytes"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/awsarn"
	"github.com/albmtls/albmtls/internal/golden"
)

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return v
}

type goldenCase struct {
	name   string
	layout Layout
	entry  Entry
	spec   string // the real line this case reproduces, if any
}

func forwardEntry(t testing.TB) Entry {
	return Entry{
		Type:                   TypeHTTPS,
		Time:                   mustTime(t, "2026-09-17T05:19:57.006409Z"),
		ELB:                    awsarn.LoadBalancerResourceID("mc-alb-public", "0780e6e7d84abe76"),
		Client:                 netip.MustParseAddrPort("3.172.65.112:48058"),
		Target:                 netip.MustParseAddrPort("10.0.10.189:80"),
		RequestProcessingTime:  0,
		TargetProcessingTime:   55 * time.Millisecond,
		ResponseProcessingTime: 0,
		ELBStatusCode:          200,
		TargetStatusCode:       200,
		ReceivedBytes:          360,
		SentBytes:              199,
		RequestMethod:          "HEAD",
		RequestURL:             RequestURL("https", "petclinic.mission-critical.site", 443, "/petclinic/vets"),
		RequestProto:           "HTTP/1.1",
		UserAgent:              "curl/8.5.0",
		SSLCipher:              "TLS_AES_128_GCM_SHA256",
		SSLProtocol:            "TLSv1.3",
		TargetGroupARN:         "arn:…:targetgroup/mc-tg-web/5ae742de9f467369",
		TraceID:                "Root=1-6aab787c-27aaf3f93f32ff1f5a67dc16",
		DomainName:             "petclinic.mission-critical.site",
		ChosenCertARN:          SessionReused,
		MatchedRulePriority:    10,
		RequestCreationTime:    mustTime(t, "2026-09-17T05:19:56.950000Z"),
		ActionsExecuted:        []string{"forward"},
		TargetPortList:         []netip.AddrPort{netip.MustParseAddrPort("10.0.10.189:80")},
		TargetStatusCodeList:   []int{200},
		ConnTraceID:            "TID_f412ec94f0d7274a995f1719b4f4f35e",
		NodeIP:                 netip.MustParseAddr("3.34.116.99"),
	}
}

func goldenCases(t testing.TB) []goldenCase {
	malformed := Entry{
		Type:                   TypeHTTP,
		Time:                   mustTime(t, "2025-03-01T10:03:17.218099Z"),
		ELB:                    awsarn.LoadBalancerResourceID("MyALB1", "240dbdc5244653c9"),
		Client:                 netip.MustParseAddrPort("205.210.31.158:61084"),
		RequestProcessingTime:  NotDispatched,
		TargetProcessingTime:   NotDispatched,
		ResponseProcessingTime: NotDispatched,
		ELBStatusCode:          400,
		ReceivedBytes:          0,
		SentBytes:              272,
		RequestURL:             RequestURL("http", "myalb1-878688131.us-east-1.elb.amazonaws.com", 80, ""),
		MatchedRulePriority:    NoRulePriority,
		RequestCreationTime:    mustTime(t, "2025-03-01T10:03:16.682000Z"),
		ConnTraceID:            "TID_6cfb27fd2ef25c42932bd6e0ff56d631",
	}
	fixed := Entry{
		Type:                   TypeHTTPS,
		Time:                   mustTime(t, "2026-02-05T23:58:32.578204Z"),
		ELB:                    awsarn.LoadBalancerResourceID("defang-project-stack7d0286", "c9b3756e8ef89456"),
		Client:                 netip.MustParseAddrPort("11.22.33.44:34025"),
		RequestProcessingTime:  NotDispatched,
		TargetProcessingTime:   NotDispatched,
		ResponseProcessingTime: NotDispatched,
		ELBStatusCode:          404,
		ReceivedBytes:          842,
		SentBytes:              1023,
		RequestMethod:          "POST",
		RequestURL:             RequestURL("https", "11.22.33.44", 443, "/"),
		RequestProto:           "HTTP/1.1",
		UserAgent:              "Mozilla/5.0 …",
		SSLCipher:              "ECDHE-RSA-AES128-GCM-SHA256",
		SSLProtocol:            "TLSv1.2",
		TraceID:                "Root=1-69852ea8-7429674e211c223e3c211c6d",
		ChosenCertARN:          "arn:aws:acm:us-test-2:123456789012:certificate/be524858-3414-4e98-be52-240358d85b1c",
		MatchedRulePriority:    DefaultRulePriority,
		RequestCreationTime:    mustTime(t, "2026-02-05T23:58:32.493000Z"),
		ActionsExecuted:        []string{"fixed-response"},
		ConnTraceID:            "TID_ba88f3bfb4f5c249b7d9f74348a70697",
	}
	// The emulator's default form of the same requests: all 34 fields.
	fixed34 := fixed
	fixed34.NodeIP = netip.MustParseAddr("127.0.0.1")

	// A hostile client: quotes, backslash and control bytes in the request
	// and user agent, IPv6 addresses, a redirect and an h2 request.
	hostile := forwardEntry(t)
	hostile.Type = TypeH2
	hostile.Client = netip.MustParseAddrPort("[2001:db8::7]:50000")
	hostile.Target = netip.AddrPort{}
	hostile.RequestMethod = "GET"
	hostile.RequestURL = RequestURL("https", "gitlab.dev.singlecell.gi.ucsc.edu", 443, `/QUOTE_EXPERIMENT?bar="`)
	hostile.RequestProto = "HTTP/2.0"
	hostile.UserAgent = "evil\" \"x\\y\n\x7f"
	hostile.ELBStatusCode, hostile.TargetStatusCode = 301, 0
	hostile.ActionsExecuted = []string{"waf", "redirect"}
	hostile.RedirectURL = "https://example.com:443/new?a=1"
	hostile.TargetPortList, hostile.TargetStatusCodeList = nil, nil
	hostile.MatchedRulePriority = RuleEvaluationError
	hostile.ErrorReason = "RuleEvaluationFailed"

	return []goldenCase{
		{"real-forward-34+2", Layout{Fields: 34, Unreleased: 2}, forwardEntry(t), specForward},
		{"real-malformed-30", Layout{Fields: 30}, malformed, specMalformed},
		{"real-fixed-response-33", Layout{Fields: 33}, fixed, specFixedResponse},
		{"default-forward", Layout{}, forwardEntry(t), ""},
		{"default-fixed-response", Layout{}, fixed34, ""},
		{"hostile-client", Layout{}, hostile, ""},
	}
}

func TestGoldenLines(t *testing.T) {
	var got bytes.Buffer
	for _, c := range goldenCases(t) {
		line := c.entry.AppendLayout(nil, c.layout)
		if c.spec != "" {
			assert.Equal(t, c.spec, string(line), "%s must reproduce alb-behaviour §7 byte for byte", c.name)
		}
		got.WriteString(c.name + "\t")
		got.Write(line)
		got.WriteByte('\n')
	}
	golden.Assert(t, filepath.Join("testdata", "lines.golden"), got.Bytes())
}

func TestParseLineRoundTrip(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			line := string(c.entry.AppendLayout(nil, c.layout))
			e, err := ParseLine(line)
			require.NoError(t, err)
			assert.Equal(t, line, string(e.AppendLayout(nil, c.layout)))
			want := c.entry
			want.Time = want.Time.UTC()
			want.RequestCreationTime = want.RequestCreationTime.UTC()
			if c.layout.Fields != 0 && c.layout.Fields < 34 {
				want.NodeIP = netip.Addr{}
			}
			assert.Equal(t, want, e)
		})
	}
}

func TestEscaping(t *testing.T) {
	// The observed form (DataBiosphere/azul PR #4920): a " in the URL is \x22.
	e := Entry{
		RequestMethod: "GET",
		RequestURL:    RequestURL("https", "gitlab.dev.singlecell.gi.ucsc.edu", 443, `/QUOTE_EXPERIMENT?bar="`),
		RequestProto:  "HTTP/2.0",
		UserAgent:     "curl/7.85.0",
	}
	line := string(e.AppendTo(nil))
	assert.Contains(t, line, `"GET https://gitlab.dev.singlecell.gi.ucsc.edu:443/QUOTE_EXPERIMENT?bar=\x22 HTTP/2.0" "curl/7.85.0"`)

	tests := []struct{ in, want string }{
		{"plain ascii; (KHTML, like Gecko)", "plain ascii; (KHTML, like Gecko)"},
		{`a"b`, `a\x22b`},
		{`a\b`, `a\x5Cb`},
		{"a\nb\rc\td", `a\x0Ab\x0Dc\x09d`},
		{"del\x7f", `del\x7F`},
		{"ünïcode …", "ünïcode …"},
		{`literal \x22 stays`, `literal \x5Cx22 stays`},
	}
	for _, tt := range tests {
		got := string(appendEscaped(nil, tt.in))
		assert.Equal(t, tt.want, got)
		assert.Equal(t, tt.in, unescape(got), "unescape reverses %q", tt.in)
		assert.NotContains(t, got, "\n")
	}
}

func TestParseLineTolerance(t *testing.T) {
	e, err := ParseLine(specForward + ` "-" future-field` + "\n")
	require.NoError(t, err)
	assert.Equal(t, "HEAD", e.RequestMethod)
	assert.Equal(t, netip.MustParseAddr("3.34.116.99"), e.NodeIP)

	// Brackets around IPv6 are accepted on input.
	line := strings.Replace(specMalformed, "205.210.31.158:61084", "[2001:db8::1]:443", 1)
	e, err = ParseLine(line)
	require.NoError(t, err)
	assert.Equal(t, netip.MustParseAddrPort("[2001:db8::1]:443"), e.Client)
	assert.Equal(t, "", e.RequestMethod)
	assert.Equal(t, "http://myalb1-878688131.us-east-1.elb.amazonaws.com:80-", e.RequestURL)
	assert.Equal(t, NoRulePriority, e.MatchedRulePriority)
}

func TestParseLineErrors(t *testing.T) {
	fields := strings.Fields(specMalformed)
	tests := map[string]string{
		"too few fields": strings.Join(fields[:12], " "),
		"bad time":       strings.Replace(specMalformed, "2025-03-01T10:03:17.218099Z", "yesterday", 1),
		"bad client":     strings.Replace(specMalformed, "205.210.31.158:61084", "205.210.31.158", 1),
		"bad duration":   strings.Replace(specMalformed, " -1 -1 -1 ", " -1 slow -1 ", 1),
		"bad status":     strings.Replace(specMalformed, " 400 ", " 4000 ", 1),
		"bad bytes":      strings.Replace(specMalformed, " 0 272 ", " zero 272 ", 1),
		"bad priority":   strings.Replace(specFixedResponse, `" 0 2026`, `" 50001 2026`, 1),
		"bad node ip":    strings.Replace(specForward, "3.34.116.99", "node", 1),
		"unclosed quote": strings.TrimSuffix(specFixedResponse, `"`),
	}
	for name, line := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ParseLine(line)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "parse access log line")
		})
	}
}

func TestHelpers(t *testing.T) {
	assert.Equal(t, "https://[::1]:8443/a?b", RequestURL("https", "::1", 8443, "/a?b"))
}

func TestAppendToDoesNotAllocate(t *testing.T) {
	cases := goldenCases(t)
	buf := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(100, func() {
		for i := range cases {
			buf = cases[i].entry.AppendTo(buf[:0])
		}
	})
	assert.Zero(t, allocs)
}

func BenchmarkAppendTo(b *testing.B) {
	e := forwardEntry(b)
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendTo(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkParseLine(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseLine(specForward); err != nil {
			b.Fatal(err)
		}
	}
}
