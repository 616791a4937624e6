package suggest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"mode", "mod", 1}, {"kitten", "sitting", 3}, {"", "abc", 3}, {"same", "same", 0}} {
		assert.Equal(t, c.d, Distance(c.a, c.b), "%q %q", c.a, c.b)
		assert.Equal(t, c.d, Distance(c.b, c.a), "symmetric")
	}
}

func TestClosest(t *testing.T) {
	keys := []string{"mode", "trust_store", "advertise_trust_store_ca_names"}
	assert.Equal(t, "mode", Closest("mod", keys, 2))
	assert.Equal(t, "trust_store", Closest("Trust_Stor", keys, 2), "case-insensitive")
	assert.Equal(t, "", Closest("completely-different", keys, 2))
	assert.Equal(t, "mode", Closest("completely-different", keys[:1], -1), "any distance")
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"SslPolicy":                     "ssl_policy",
		"MutualAuthentication":          "mutual_authentication",
		"TrustStoreArn":                 "trust_store_arn",
		"Port":                          "port",
		"HTTPCode":                      "http_code",
		"HealthCheckIntervalSeconds":    "health_check_interval_seconds",
		"CaCertificatesBundleS3Bucket":  "ca_certificates_bundle_s3_bucket",
		"ssl_policy":                    "ssl_policy",
		"trustStoreArn":                 "trust_store_arn",
		"IgnoreClientCertificateExpiry": "ignore_client_certificate_expiry",
	} {
		if got := SnakeCase(in); got != want {
			t.Errorf("SnakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}
