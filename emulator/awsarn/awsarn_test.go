package awsarn_test

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/albmtls/albmtls/emulator/awsarn"
)

// The derived IDs are part of albmtls's output: they appear in log lines,
// S3 object keys and the admin API, and in golden files elsewhere
// (app/test-alb/8a1f2a080b349d06 in emulator/testdata/every-client.golden).
// A change here changes every user's log lines, so each value is pinned.
func TestDerivedIdentifiers(t *testing.T) {
	const region, account = "eu-west-1", "123456789012"
	lbID := awsarn.LoadBalancerID(account, "test-alb")
	cases := []struct {
		name, got, want string
	}{
		{"load balancer ID", lbID, "8a1f2a080b349d06"},
		{"load balancer ID, other name", awsarn.LoadBalancerID(account, "demo-alb"), "81177edcc44fbe72"},
		{"load balancer ID, other account", awsarn.LoadBalancerID("210987654321", "demo-alb"), "d7a774f4ae47d959"},
		{"resource ID (elb log field)", awsarn.LoadBalancerResourceID("test-alb", lbID), "app/test-alb/8a1f2a080b349d06"},
		{"load balancer ARN", awsarn.LoadBalancer(region, account, "test-alb", lbID),
			"arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/test-alb/8a1f2a080b349d06"},
		{"listener ID", awsarn.ListenerID(account, "test-alb", 8443), "cf780ea16cac9329"},
		{"listener ARN", awsarn.Listener(region, account, "test-alb", lbID, awsarn.ListenerID(account, "test-alb", 8443)),
			"arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/test-alb/8a1f2a080b349d06/cf780ea16cac9329"},
		{"target group ID", awsarn.TargetGroupID(account, "web"), "12c68660c175e6ac"},
		{"target group ARN", awsarn.TargetGroup("us-east-1", account, "web", "0123456789abcdef"),
			"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef"},
		{"target group ARN, derived ID", awsarn.TargetGroup(region, account, "web", awsarn.TargetGroupID(account, "web")),
			"arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/12c68660c175e6ac"},
		{"trust store ID", awsarn.TrustStoreID(account, "demo"), "afc90bdc55cd7a51"},
		{"trust store ARN", awsarn.TrustStore("us-east-1", account, "demo", awsarn.TrustStoreID(account, "demo")),
			"arn:aws:elasticloadbalancing:us-east-1:123456789012:truststore/demo/afc90bdc55cd7a51"},
		{"certificate ID", awsarn.CertificateID([]byte("certificate DER")), "6417800d-640b-46b3-a69a-a19b2f628253"},
		{"certificate ARN", awsarn.Certificate("us-east-1", account, awsarn.CertificateID([]byte("certificate DER"))),
			"arn:aws:acm:us-east-1:123456789012:certificate/6417800d-640b-46b3-a69a-a19b2f628253"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.got, c.name)
	}
}

// Resources of different kinds, names or accounts never share an ID: the
// kind is part of the hashed input.
func TestDerivedIDsAreDistinct(t *testing.T) {
	const account = "123456789012"
	ids := map[string]string{
		"load balancer web":       awsarn.LoadBalancerID(account, "web"),
		"target group web":        awsarn.TargetGroupID(account, "web"),
		"trust store web":         awsarn.TrustStoreID(account, "web"),
		"listener web:443":        awsarn.ListenerID(account, "web", 443),
		"listener web:8443":       awsarn.ListenerID(account, "web", 8443),
		"target group api":        awsarn.TargetGroupID(account, "api"),
		"target group web, other": awsarn.TargetGroupID("210987654321", "web"),
	}
	seen := map[string]string{}
	for what, id := range ids {
		assert.Regexp(t, `^[0-9a-f]{16}$`, id, what)
		if other, dup := seen[id]; dup {
			t.Errorf("%s and %s share the ID %s", what, other, id)
		}
		seen[id] = what
	}
	cert := awsarn.CertificateID([]byte("certificate DER"))
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, cert, "a version-4 UUID like ACM's")
	assert.NotEqual(t, cert, awsarn.CertificateID([]byte("other DER")))
}

func TestCertificateARNRoundTrip(t *testing.T) {
	id := awsarn.NewCertificateID()
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, id)
	assert.NotEqual(t, id, awsarn.NewCertificateID(), "two imports get two IDs")
	arn := awsarn.Certificate("eu-west-1", "123456789012", id)
	p, ok := awsarn.ParseCertificate(arn)
	assert.True(t, ok)
	assert.Equal(t, awsarn.CertificateParts{Partition: "aws", Region: "eu-west-1", Account: "123456789012", ID: id}, p)
	for _, bad := range []string{
		"",
		"arn:aws:acm:eu-west-1:123456789012:certificate/" + strings.ToUpper(id),
		"arn:aws:acm:eu-west-1:123456789012:certificate/1234",
		"arn:aws:acm:eu-west-1:1234:certificate/" + id,
		"arn:aws:acm:nowhere:123456789012:certificate/" + id,
		"arn:aws:acm-pca:eu-west-1:123456789012:certificate/" + id,
		"arn:aws:acm:eu-west-1:123456789012:key/" + id,
		"arn:gcp:acm:eu-west-1:123456789012:certificate/" + id,
	} {
		_, ok := awsarn.ParseCertificate(bad)
		assert.False(t, ok, bad)
	}
}

func TestParse(t *testing.T) {
	a, err := awsarn.Parse("arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/test-alb/8a1f2a080b349d06/cf780ea16cac9329")
	if assert.NoError(t, err) {
		assert.Equal(t, awsarn.ARN{Partition: "aws", Service: "elasticloadbalancing", Region: "eu-west-1", Account: "123456789012",
			Resource: "listener/app/test-alb/8a1f2a080b349d06/cf780ea16cac9329"}, a)
		assert.Equal(t, "listener", a.Type())
	}
	for _, bad := range []string{"", "arn:aws:elasticloadbalancing", "nra:aws:s:r:a:res", "arn:aws::r:a:res", "arn:aws:s:r:a:"} {
		_, err := awsarn.Parse(bad)
		assert.Error(t, err, bad)
	}
}

func TestNewID(t *testing.T) {
	a, err := awsarn.NewID(rand.Reader)
	assert.NoError(t, err)
	b, _ := awsarn.NewID(rand.Reader)
	assert.Regexp(t, `^[0-9a-f]{16}$`, a)
	assert.NotEqual(t, a, b)
	_, err = awsarn.NewID(strings.NewReader("short"))
	assert.Error(t, err)
}
