package accesslog

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/albmtls/albmtls/emulator/connlog"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// doc27 is the shape of a production line written before classification
// existed (2019-2020): the 27 fields of the older AWS documentation's
// example (alb-behaviour §7), authenticate then forward.
const doc27 = `https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2018-07-02T22:22:48.364000Z "authenticate,forward" "-" "-" "10.0.0.1:80" "200"`

// TestParseLineEveryLayout reads a line of every field count ALB has
// written (alb-behaviour §7, §9.5): 27 (before classification), 29
// (classification), 30 (conn_trace_id), 33 (transforms), 34 (ip_address)
// and 36 (two unreleased trailing fields), plus an unknown 37th.
func TestParseLineEveryLayout(t *testing.T) {
	forward34 := strings.TrimSuffix(specForward, ` "-" "-"`)
	tests := []struct {
		name   string
		line   string
		fields int
		check  func(t *testing.T, e Entry)
	}{
		{"27 fields, before classification", doc27, 27, func(t *testing.T, e Entry) {
			assert.Equal(t, "GET", e.RequestMethod)
			assert.Equal(t, []string{"authenticate", "forward"}, e.ActionsExecuted)
			assert.Equal(t, []netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:80")}, e.TargetPortList)
			assert.Equal(t, []int{200}, e.TargetStatusCodeList)
			assert.Equal(t, 1, e.MatchedRulePriority)
			assert.Empty(t, e.Classification)
			assert.Empty(t, e.ConnTraceID)
		}},
		{"29 fields, classification", doc27 + ` "Acceptable" "HeaderWithInvalidCharacters"`, 29, func(t *testing.T, e Entry) {
			assert.Equal(t, "Acceptable", e.Classification)
			assert.Equal(t, "HeaderWithInvalidCharacters", e.ClassificationReason)
			assert.Empty(t, e.ConnTraceID)
		}},
		{"30 fields, conn_trace_id", specMalformed, 30, func(t *testing.T, e Entry) {
			assert.Equal(t, 400, e.ELBStatusCode)
			assert.Equal(t, "TID_6cfb27fd2ef25c42932bd6e0ff56d631", e.ConnTraceID)
			assert.False(t, e.NodeIP.IsValid())
		}},
		{"33 fields, transforms", specFixedResponse, 33, func(t *testing.T, e Entry) {
			assert.Equal(t, []string{"fixed-response"}, e.ActionsExecuted)
			assert.Equal(t, "TID_ba88f3bfb4f5c249b7d9f74348a70697", e.ConnTraceID)
		}},
		{"34 fields, ip_address", forward34, 34, func(t *testing.T, e Entry) {
			assert.Equal(t, netip.MustParseAddr("3.34.116.99"), e.NodeIP)
		}},
		{"36 fields, two unreleased", specForward, 36, func(t *testing.T, e Entry) {
			assert.Equal(t, netip.MustParseAddr("3.34.116.99"), e.NodeIP)
			assert.Equal(t, "HEAD", e.RequestMethod)
		}},
		{"37 fields, a future one", specForward + ` "new-value"`, 37, func(t *testing.T, e Entry) {
			assert.Equal(t, "TID_f412ec94f0d7274a995f1719b4f4f35e", e.ConnTraceID)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Len(t, splitFields(t, tc.line), tc.fields, "the test line itself")
			e, err := ParseLine(tc.line)
			require.NoError(t, err)
			tc.check(t, e)
		})
	}
}

// TestParseLineTooShort: below the oldest layout the parser accepts, the
// error names the count and the minimum.
func TestParseLineTooShort(t *testing.T) {
	line := strings.TrimSuffix(doc27, ` "200"`)
	require.Len(t, splitFields(t, line), 26)
	_, err := ParseLine(line)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("26 fields, want at least %d", MinFields))
}

func splitFields(t *testing.T, line string) []string {
	t.Helper()
	f, err := connlog.SplitFields(line, nil)
	require.NoError(t, err)
	return f
}
