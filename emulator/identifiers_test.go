package emulator_test

import (
	"crypto/tls"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/accesslog"
)

// TestIdentifiersFollowOneRule: the load balancer ID in the logs and
// /healthz, the target group ARN in the access log and the trust store ARN
// of the admin API are all derived by awsarn's one rule, SHA-256 of
// "albmtls:KIND:ACCOUNT:NAME" (docs/logs.md "Synthesised identifiers"). The
// values are written out so that a change of the rule shows here.
func TestIdentifiersFollowOneRule(t *testing.T) {
	web := echoBackend(t, "web-1")
	l := startLB(t, params{Action: forwardWeb, Targets: []string{web.Listener.Addr().String()}})
	require.NoError(t, l.get("valid", tls.VersionTLS13, "/", nil).err)

	code, body := adminGet(t, l, "/healthz")
	require.Equal(t, 200, code)
	var health struct{ LoadBalancer string }
	require.NoError(t, json.Unmarshal([]byte(body), &health))
	assert.Equal(t, "app/test-alb/8a1f2a080b349d06", health.LoadBalancer)

	code, body = adminGet(t, l, "/trust-stores")
	require.Equal(t, 200, code)
	var ts struct {
		TrustStores []struct{ Name, TrustStoreArn string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &ts))
	require.Len(t, ts.TrustStores, 1)
	assert.Equal(t, "arn:aws:elasticloadbalancing:eu-west-1:123456789012:truststore/ts/94c3a73bd76aae0b", ts.TrustStores[0].TrustStoreArn)

	e, err := accesslog.ParseLine(readLog(t, filepath.Join(l.dir, "logs/access.log"), 1)[0])
	require.NoError(t, err)
	assert.Equal(t, "app/test-alb/8a1f2a080b349d06", e.ELB)
	assert.Equal(t, "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/12c68660c175e6ac", e.TargetGroupARN)
	assert.Regexp(t, `^arn:aws:acm:eu-west-1:123456789012:certificate/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, e.ChosenCertARN)
}
