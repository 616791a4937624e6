package conformance

import (
	"context"
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/pki/pkitest"
)

// Helpers that reach into a generated config map.
func emulationOf(cfg map[string]any) map[string]any { return cfg["emulation"].(map[string]any) }
func httpsListenerOf(cfg map[string]any) map[string]any {
	return cfg["listeners"].([]any)[0].(map[string]any)
}
func trustStoreOf(cfg map[string]any) map[string]any {
	return cfg["trust_stores"].([]any)[0].(map[string]any)
}

func failing(rep *Report) []string {
	var names []string
	for _, r := range rep.Results {
		if r.Status == StatusFail {
			names = append(names, r.Name)
		}
	}
	sort.Strings(names)
	return names
}

func resultOf(t *testing.T, rep *Report, name string) *Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no result for %s", name)
	return nil
}

// TestBrokenEmulatorTurnsScenariosRed breaks one emulator behaviour at a
// time through the generated configs and checks that exactly the scenarios
// pinning that behaviour fail, with a message that names the difference.
// This is what shows the harness catches regressions.
func TestBrokenEmulatorTurnsScenariosRed(t *testing.T) {
	pkiDir := pkitest.Dir(t)
	cases := []struct {
		name    string
		run     string
		mutate  func(map[string]any)
		failing []string
		message map[string]string // scenario -> substring of its failure
	}{
		{
			name: "stripping of client-sent mTLS headers disabled",
			run:  "spoof",
			mutate: func(cfg map[string]any) {
				emulationOf(cfg)["strip_client_headers"] = false
			},
			failing: []string{"off-strips-spoofed-mtls-headers", "passthrough-replaces-spoofed-mtls-headers",
				"passthrough-strips-spoofed-chain-without-certificate", "strips-spoofed-default-name-after-rename",
				"verify-replaces-spoofed-mtls-headers"},
			message: map[string]string{
				"off-strips-spoofed-mtls-headers": "target_headers_absent.X-Amzn-Mtls-Clientcert-Subject: expected (absent), saw CN=member,OU=Engineering,O=Example Corp",
			},
		},
		{
			name: "CRLs not loaded",
			run:  "revoked|stale-crl|runtime-revocation",
			mutate: func(cfg map[string]any) {
				trustStoreOf(cfg)["revocations"] = []any{}
			},
			failing: []string{"verify-applies-stale-crl", "verify-ignore-expiry-still-rejects-revoked-client",
				"verify-rejects-client-of-revoked-intermediate", "verify-rejects-revoked-client", "verify-rejects-revoked-client-tls12"},
			message: map[string]string{
				"verify-rejects-revoked-client": "connection_log.tls_verify_status: expected Failed:ClientCertCrlHit, saw Success",
			},
		},
		{
			name: "expiry always ignored",
			run:  "expired|not-yet-valid",
			mutate: func(cfg map[string]any) {
				ma := httpsListenerOf(cfg)["mutual_authentication"].(map[string]any)
				if ma["mode"] == "verify" {
					ma["ignore_client_certificate_expiry"] = true
				}
			},
			failing: []string{"verify-rejects-expired-client", "verify-rejects-not-yet-valid-client"},
			message: map[string]string{
				"verify-rejects-expired-client": "handshake: expected rejected, saw accepted (HTTP 200)",
			},
		},
		{
			name: "X-Forwarded-For removed",
			run:  "^xff-",
			mutate: func(cfg map[string]any) {
				l := httpsListenerOf(cfg)
				attrs, _ := l["attributes"].(map[string]any)
				if attrs == nil {
					attrs = map[string]any{}
					l["attributes"] = attrs
				}
				attrs["routing.http.xff_header_processing.mode"] = "remove"
			},
			failing: []string{"xff-append-with-client-port", "xff-appends-client-address", "xff-appends-to-incoming-header", "xff-preserve-forwards-client-header"},
			message: map[string]string{
				"xff-appends-to-incoming-header": "target_headers.X-Forwarded-For: expected 203.0.113.9, 127.0.0.1, saw (absent)",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			started := time.Now()
			rep, err := Run(context.Background(), Options{
				PKIDir: pkiDir, Run: regexp.MustCompile(tc.run),
				Mutate: func(_ string, cfg map[string]any) { tc.mutate(cfg) },
			})
			require.NoError(t, err)
			assert.Equal(t, tc.failing, failing(rep))
			for name, want := range tc.message {
				assert.Contains(t, resultOf(t, rep, name).Message(), want)
			}
			assert.True(t, rep.Failed())
			t.Logf("%d scenarios in %s", len(rep.Results), time.Since(started).Round(time.Millisecond))
		})
	}
}

// TestSetBreaksLikeMutate: --set reaches the same keys as Mutate.
func TestSetBreaksLikeMutate(t *testing.T) {
	set, err := ParseSetting("emulation.strip_client_headers=false")
	require.NoError(t, err)
	rep, err := Run(context.Background(), Options{PKIDir: pkitest.Dir(t), Run: regexp.MustCompile("^off-strips"), Set: []Setting{set}})
	require.NoError(t, err)
	assert.Equal(t, []string{"off-strips-spoofed-mtls-headers", "off-strips-underscore-mtls-header-variants"}, failing(rep),
		"with stripping off, the exact names and their variants get through")
	assert.Contains(t, resultOf(t, rep, "off-strips-spoofed-mtls-headers").Config, "strip_client_headers: false")
}

// TestLoadErrorScenarios: a setup ALB refuses but the emulator loads, or
// refuses for another reason, fails the scenario and says what happened.
func TestLoadErrorScenarios(t *testing.T) {
	pkiDir := pkitest.Dir(t)
	run := func(t *testing.T, rewrite func(string) string) *Result {
		rep, err := Run(context.Background(), Options{
			PKIDir: pkiDir, Run: regexp.MustCompile("^truststore-refuses-der-crl$"),
			Mutate: func(_ string, cfg map[string]any) {
				revs := trustStoreOf(cfg)["revocations"].([]any)
				for i, f := range revs {
					revs[i] = rewrite(f.(string))
				}
			},
		})
		require.NoError(t, err)
		return resultOf(t, rep, "truststore-refuses-der-crl")
	}
	t.Run("the setup loads", func(t *testing.T) {
		r := run(t, func(string) string { return pkiDir + "/crl/intermediate.crl.pem" })
		assert.Equal(t, StatusFail, r.Status)
		assert.Equal(t, "load_error: expected the setup refused with InvalidRevocationContent, saw the emulator started", r.Message())
	})
	t.Run("refused for another reason", func(t *testing.T) {
		r := run(t, func(f string) string { return f + ".missing" })
		assert.Equal(t, StatusFail, r.Status)
		c := r.Steps[0].Checks[0]
		assert.Equal(t, "InvalidRevocationContent", c.Expected)
		assert.Contains(t, c.Seen, "RevocationContentNotFound", "the actual refusal is shown")
	})
}

func TestRunRejectsAnUnmatchedRegexp(t *testing.T) {
	_, err := Run(context.Background(), Options{PKIDir: pkitest.Dir(t), Run: regexp.MustCompile("^no-such-scenario$")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `no scenario matches --run "^no-such-scenario$"`)
}
