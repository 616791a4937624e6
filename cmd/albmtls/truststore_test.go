package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/testbin"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// runTrustStoreCLI runs the CLI in-process (its own helper, so this file
// does not depend on other command tests).
func runTrustStoreCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestTrustStoreCheck(t *testing.T) {
	dir := pkitest.Dir(t)
	p := func(rel string) string { return filepath.Join(dir, rel) }
	blank := filepath.Join(t.TempDir(), "blank.pem")
	bundle, err := os.ReadFile(p("ca/bundle.pem"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(blank, append([]byte("\n"), bundle...), 0o644))

	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"PKI bundle and PEM CRLs pass",
			[]string{"truststore", "check", p("ca/bundle.pem"), "--crl", p("crl/intermediate.crl.pem"), "--crl", p("crl/root.crl.pem")},
			0, []string{"OK: ALB would accept this trust store: 2 CA certificates, 2 revocation lists"}},
		{"DER CRL fails with ALB's error name",
			[]string{"truststore", "check", p("ca/bundle.pem"), "--crl", p("crl/intermediate.crl")},
			1, []string{p("crl/intermediate.crl") + ": InvalidRevocationContent: the CRL is DER (binary)",
				"albmtls crl convert", "FAIL: ALB would refuse this trust store: 1 error"}},
		{"blank line fails with the line number",
			[]string{"truststore", "check", blank},
			1, []string{blank + ":1: InvalidCaCertificatesBundle: blank line in the bundle"}},
		{"a CRL from outside the bundle fails",
			[]string{"truststore", "check", p("ca/intermediate.pem"), "--crl", p("crl/root.crl.pem")},
			1, []string{"InvalidRevocationContent: issued by"}},
		{"a raised quota is honoured",
			[]string{"truststore", "check", p("ca/bundle.pem"), "--crl", p("crl/intermediate.crl.pem"), "--max-revocation-entries", "1000000"},
			0, []string{"OK:"}},
		{"a lowered quota refuses",
			[]string{"truststore", "check", p("ca/bundle.pem"), "--crl", p("crl/intermediate.crl.pem"), "--crl", p("crl/root.crl.pem"),
				"--max-revocation-entries", "1"},
			1, []string{"TooManyTrustStoreRevocationEntries: the trust store would hold 2 revocation entries; the quota is 1"}},
		{"a directory as bundle",
			[]string{"truststore", "check", dir},
			1, []string{"CaCertificatesBundleNotFound", "is a directory"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runTrustStoreCLI(tc.args...)
			assert.Equal(t, tc.code, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
			for _, c := range tc.contains {
				assert.Contains(t, out, c)
			}
			assert.Empty(t, errOut, "findings go to stdout, nothing else is printed")
		})
	}
}

func TestTrustStoreCheckJSON(t *testing.T) {
	dir := pkitest.Dir(t)
	code, out, _ := runTrustStoreCLI("truststore", "check", filepath.Join(dir, "ca/bundle.pem"),
		"--crl", filepath.Join(dir, "crl/intermediate.crl"), "--json")
	assert.Equal(t, 1, code)
	var r struct {
		Accepted bool `json:"accepted"`
		Findings []struct {
			Rule     string `json:"rule"`
			ALBError string `json:"alb_error"`
			Fatal    bool   `json:"fatal"`
		} `json:"findings"`
		CACertificates int `json:"ca_certificates"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	assert.False(t, r.Accepted)
	assert.Equal(t, 2, r.CACertificates)
	require.Len(t, r.Findings, 1)
	assert.Equal(t, "InvalidRevocationContent", r.Findings[0].ALBError)
	assert.True(t, r.Findings[0].Fatal)
}

func TestTrustStoreCheckUsage(t *testing.T) {
	code, _, errOut := runTrustStoreCLI("truststore", "check")
	assert.Equal(t, 2, code, "a missing argument is a usage error")
	assert.Contains(t, errOut, "accepts 1 arg(s), received 0")
}

// TestTrustStoreCheckBinary runs the real binary, as CI scripts do, and
// checks the exit status.
func TestTrustStoreCheckBinary(t *testing.T) {
	dir := pkitest.Dir(t)
	ok := testbin.Command(t, "truststore", "check", filepath.Join(dir, "ca/bundle.pem"), "--crl", filepath.Join(dir, "crl/intermediate.crl.pem"))
	out, err := ok.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.True(t, strings.HasPrefix(string(out), "OK: "), "%s", out)

	bad := testbin.Command(t, "truststore", "check", filepath.Join(dir, "ca/bundle.pem"), "--crl", filepath.Join(dir, "crl/intermediate.crl"))
	out, err = bad.CombinedOutput()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "want exit status 1, got %v\n%s", err, out)
	assert.Equal(t, 1, ee.ExitCode())
	assert.Contains(t, string(out), "InvalidRevocationContent")
}
