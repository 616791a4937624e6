package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/internal/testbin"
	"github.com/albmtls/albmtls/internal/testtool"
	"github.com/albmtls/albmtls/pki"
)

// runCLI runs the CLI in-process and returns the exit status and outputs.
func runCLI(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestPKIInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	code, stdout, stderr := runCLI("pki", "init", "--out", dir)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "wrote the test PKI to "+dir+": 9 CAs, 2 CRLs, 1 server, 14 clients")
	assert.Contains(t, stdout, filepath.Join(dir, "ca/bundle.pem"))
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	assert.GreaterOrEqual(t, len(lines), 4, "one progress line per step")
	for _, l := range lines {
		assert.True(t, strings.HasPrefix(l, "pki: "), "progress line %q", l)
		assert.NotContains(t, l, "[INFO]", "cfssl's logging is silenced")
	}
	set, err := pki.Load(dir)
	require.NoError(t, err)
	assert.Equal(t, pki.ECDSAP256, set.KeyType())

	code, _, stderr = runCLI("pki", "init", "--out", dir)
	assert.Equal(t, 2, code, "an existing PKI without --force is a usage error")
	assert.Contains(t, stderr, "already holds a PKI")

	code, stdout, stderr = runCLI("pki", "init", "--out", dir, "--force", "--quiet", "--key-type", "ecdsa-p384", "--org", "Acme", "--org-unit", "Ops")
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, stderr, "--quiet silences progress")
	assert.NotEmpty(t, stdout)
	set, err = pki.Load(dir)
	require.NoError(t, err)
	assert.Equal(t, pki.ECDSAP384, set.KeyType())
	assert.Equal(t, pki.BaseDN{O: "Acme", OU: "Ops"}, set.Organization())
}

func TestPKIInitErrors(t *testing.T) {
	foreign := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(foreign, "keep.txt"), nil, 0o644))
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no --out", []string{"pki", "init"}, `required flag(s) "out" not set`},
		{"bad key type", []string{"pki", "init", "--out", filepath.Join(t.TempDir(), "x"), "--key-type", "rsa-512"},
			`--key-type: unknown key type "rsa-512": valid values are ecdsa-p256`},
		{"foreign directory", []string{"pki", "init", "--out", foreign, "--force"}, "does not look like a PKI"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(tc.args...)
			assert.Equal(t, 2, code, "usage error")
			assert.Contains(t, stderr, tc.wantErr)
		})
	}
}

func TestPKIIssueAndRevoke(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	code, _, stderr := runCLI("pki", "init", "--out", dir, "-q")
	require.Equal(t, 0, code, stderr)

	code, stdout, stderr := runCLI("pki", "issue", "--pki", dir, "--name", "alice", "--cn", "alice", "--o", "Example Corp", "--ou", "Engineering",
		"--attr", "0.9.2342.19200300.100.1.1=alice42", "--dns", "alice.example", "--email", "alice@example.com", "--not-after", "+30d")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "issued alice (serial ")
	assert.Contains(t, stdout, filepath.Join(dir, "clients/alice-chain.pem"))
	assert.Contains(t, stdout, "expected in verify mode: Success")

	set, err := pki.Load(dir)
	require.NoError(t, err)
	alice, ok := set.Client("alice")
	require.True(t, ok)
	assert.Equal(t, "UID=alice42,CN=alice,OU=Engineering,O=Example Corp", mustRFC2253(t, alice.Cert.RawSubject))
	assert.Equal(t, []string{"alice.example"}, alice.Cert.DNSNames)
	assert.WithinDuration(t, time.Now().Add(30*24*time.Hour), alice.Cert.NotAfter, time.Minute)

	code, _, stderr = runCLI("pki", "issue", "--pki", dir, "--name", "web", "--cn", "web", "--eku", "server", "--key-type", "rsa-2048", "--ku", "digital-signature,key-encipherment")
	require.Equal(t, 0, code, stderr)

	code, stdout, stderr = runCLI("pki", "revoke", "--pki", dir, "alice", "web")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "revoked alice (serial "+certfmt.SerialNumber(alice.Cert.SerialNumber)+") on the CRL of intermediate")
	assert.Contains(t, stdout, "CRL number 2, 3 revoked")

	m := readManifest(t, dir)
	a, _ := m.Artefact("alice")
	assert.Equal(t, "Failed:ClientCertCrlHit", a.Expect.Verify)
	w, _ := m.Artefact("web")
	assert.Equal(t, pki.RSA2048, w.KeyType)
	assert.Equal(t, "Failed:ClientCertCrlHit", w.Expect.Verify, "revocation is checked before purpose")
}

func mustRFC2253(t *testing.T, raw []byte) string {
	t.Helper()
	s, err := certfmt.DN(raw)
	require.NoError(t, err)
	return s
}

func readManifest(t *testing.T, dir string) pki.Manifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	require.NoError(t, err)
	var m pki.Manifest
	require.NoError(t, json.Unmarshal(data, &m))
	return m
}

// TestPKIIssueRevokeBadInput: every bad input gets one clear error and
// leaves the PKI directory untouched.
func TestPKIIssueRevokeBadInput(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	code, _, stderr := runCLI("pki", "init", "--out", dir, "-q")
	require.Equal(t, 0, code, stderr)
	notPKI := t.TempDir()
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"issue into a directory that is not a PKI", []string{"pki", "issue", "--pki", notPKI, "--name", "x", "--cn", "x"}, notPKI + " has no manifest.json"},
		{"issue into a missing directory", []string{"pki", "issue", "--pki", filepath.Join(notPKI, "nope"), "--name", "x", "--cn", "x"}, "no such file or directory"},
		{"issue an existing name", []string{"pki", "issue", "--pki", dir, "--name", "valid", "--cn", "x"}, `name "valid" is already used`},
		{"issue an unsafe name", []string{"pki", "issue", "--pki", dir, "--name", "../x", "--cn", "x"}, "invalid client name"},
		{"bad --not-before", []string{"pki", "issue", "--pki", dir, "--name", "x", "--cn", "x", "--not-before", "yesterday"}, "--not-before: \"yesterday\": want RFC 3339"},
		{"empty window", []string{"pki", "issue", "--pki", dir, "--name", "x", "--cn", "x", "--not-before", "+1d", "--not-after", "-1d"}, "validity window is empty"},
		{"bad --eku", []string{"pki", "issue", "--pki", dir, "--name", "x", "--cn", "x", "--eku", "client,teleport"}, `unknown extended key usage "teleport": valid values are none, client, server`},
		{"bad --ku", []string{"pki", "issue", "--pki", dir, "--name", "x", "--cn", "x", "--ku", "sign"}, `unknown key usage "sign"`},
		{"bad --attr", []string{"pki", "issue", "--pki", dir, "--name", "x", "--cn", "x", "--attr", "uid=bob"}, "want OID=VALUE"},
		{"bad --ip", []string{"pki", "issue", "--pki", dir, "--name", "x", "--cn", "x", "--ip", "300.1.1.1"}, "is not an IP address"},
		{"unknown issuer", []string{"pki", "issue", "--pki", dir, "--name", "x", "--cn", "x", "--issuer", "nobody"}, `unknown issuing CA "nobody"`},
		{"revoke an unknown name", []string{"pki", "revoke", "--pki", dir, "valid", "nobody"}, `unknown name "nobody": valid names are root`},
		{"revoke the root", []string{"pki", "revoke", "--pki", dir, "root"}, `"root" is self-signed`},
		{"revoke nothing", []string{"pki", "revoke", "--pki", dir}, "requires at least 1 arg"},
		{"revoke in a directory that is not a PKI", []string{"pki", "revoke", "--pki", notPKI, "valid"}, "has no manifest.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, dir)
			code, stdout, stderr := runCLI(tc.args...)
			assert.Equal(t, 2, code, "a bad flag, argument or --pki is a usage error")
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, tc.wantErr)
			msg := strings.TrimSuffix(stderr, "Run 'albmtls pki issue --help' for usage.\n")
			msg = strings.TrimSuffix(msg, "Run 'albmtls pki revoke --help' for usage.\n")
			assert.Equal(t, 1, strings.Count(msg, "\n"), "one error line (and the --help hint): %q", stderr)
			assert.Equal(t, before, snapshot(t, dir), "the PKI directory is unchanged")
		})
	}
	entries, err := os.ReadDir(notPKI)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing written into a directory that is not a PKI")
}

// snapshot maps every file under dir to its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		files[p] = string(data)
		return err
	}))
	return files
}

// TestPKIInitBinaryWithOpenSSL runs the real binary's `pki init` and checks
// every client certificate with the real `openssl verify`.
func TestPKIInitBinaryWithOpenSSL(t *testing.T) {
	opensslBin := testtool.Need(t, "openssl")
	dir := filepath.Join(t.TempDir(), "pki")
	out, err := testbin.Command(t, "pki", "init", "--out", dir).CombinedOutput()
	require.NoError(t, err, "%s", out)

	// An empty CRL of revoked-intermediate-ca lets -crl_check_all reach the
	// root CRL's entry (OpenSSL, like s2n, wants a CRL for every CA).
	set, err := pki.Load(dir)
	require.NoError(t, err)
	ri, _ := set.CA("revoked-intermediate-ca")
	riCRL, err := ri.CRL(pki.CRLRequest{})
	require.NoError(t, err)
	riCRLFile := filepath.Join(t.TempDir(), "ri.crl.pem")
	require.NoError(t, os.WriteFile(riCRLFile, pki.EncodeCRLPEM(riCRL), 0o644))

	for _, tc := range []struct {
		name    string
		extra   []string
		wantErr string // "" = verifies
	}{
		{name: "valid", extra: []string{"-purpose", "sslclient"}},
		{name: "valid-rsa", extra: []string{"-purpose", "sslclient"}},
		{name: "member"},
		{name: "outsider"},
		{name: "revoked"},
		{name: "revoked", extra: []string{"-crl_check", "-CRLfile", "crl/intermediate.crl.pem"}, wantErr: "certificate revoked"},
		{name: "valid", extra: []string{"-crl_check", "-CRLfile", "crl/intermediate.crl.pem"}},
		{name: "revoked-intermediate"},
		{name: "revoked-intermediate", extra: []string{"-crl_check_all", "-CRLfile", "crl/intermediate.crl.pem", "-CRLfile", "crl/root.crl.pem", "-CRLfile", riCRLFile},
			wantErr: "error 23 at 1 depth lookup: certificate revoked"},
		{name: "expired", wantErr: "certificate has expired"},
		{name: "not-yet-valid", wantErr: "certificate is not yet valid"},
		{name: "untrusted", wantErr: "unable to get local issuer certificate"},
		{name: "self-signed", wantErr: "self-signed certificate"},
		{name: "server-purpose"},
		{name: "server-purpose", extra: []string{"-purpose", "sslclient"}, wantErr: "unsuitable certificate purpose"},
		{name: "weak-rsa"},
		{name: "deep-chain"},
		{name: "oversized"},
	} {
		t.Run(tc.name+strings.Join(tc.extra, " "), func(t *testing.T) {
			args := append([]string{"verify", "-CAfile", "ca/bundle.pem", "-untrusted", "clients/" + tc.name + "-chain.pem"}, tc.extra...)
			args = append(args, "clients/"+tc.name+".pem")
			cmd := exec.Command(opensslBin, args...)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if tc.wantErr == "" {
				require.NoError(t, err, "%s", out)
				assert.Contains(t, string(out), ": OK")
				return
			}
			require.Error(t, err, "%s", out)
			assert.Contains(t, string(out), tc.wantErr)
		})
	}

	// Sizes and counts that openssl verify does not check.
	for name, want := range map[string]int{"deep-chain": 5, "oversized": 2, "revoked-intermediate": 2, "self-signed": 1, "valid": 2} {
		data, err := os.ReadFile(filepath.Join(dir, "clients", name+"-chain.pem"))
		require.NoError(t, err)
		assert.Equal(t, want, strings.Count(string(data), "-----BEGIN CERTIFICATE-----"), name)
	}
	text, err := exec.Command(opensslBin, "x509", "-in", filepath.Join(dir, "clients/weak-rsa.pem"), "-noout", "-text").CombinedOutput()
	require.NoError(t, err)
	assert.Contains(t, string(text), "Public-Key: (1024 bit)")
	// The server certificate verifies for every SAN the brief lists.
	for _, host := range [][]string{{"-verify_hostname", "localhost"}, {"-verify_hostname", "alb"}, {"-verify_ip", "127.0.0.1"}, {"-verify_ip", "::1"}} {
		args := append([]string{"verify", "-purpose", "sslserver", "-CAfile", "ca/bundle.pem", "-untrusted", "server/server-chain.pem"}, host...)
		cmd := exec.Command(opensslBin, append(args, "server/server.pem")...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%v: %s", host, out)
	}
}

// TestPKIIssueRevokeBinary runs issue and revoke with the real binary and
// checks the result with openssl.
func TestPKIIssueRevokeBinary(t *testing.T) {
	opensslBin := testtool.Need(t, "openssl")
	dir := filepath.Join(t.TempDir(), "pki")
	out, err := testbin.Command(t, "pki", "init", "--out", dir, "--quiet").CombinedOutput()
	require.NoError(t, err, "%s", out)
	out, err = testbin.Command(t, "pki", "issue", "--pki", dir, "--name", "carol", "--cn", "carol", "--o", "Example Corp").CombinedOutput()
	require.NoError(t, err, "%s", out)

	verify := func() (string, error) {
		cmd := exec.Command(opensslBin, "verify", "-crl_check", "-CRLfile", "crl/intermediate.crl.pem", "-CAfile", "ca/bundle.pem",
			"-untrusted", "clients/carol-chain.pem", "clients/carol.pem")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	got, err := verify()
	require.NoError(t, err, got)

	out, err = testbin.Command(t, "pki", "revoke", "--pki", dir, "carol").CombinedOutput()
	require.NoError(t, err, "%s", out)
	got, err = verify()
	require.Error(t, err)
	assert.Contains(t, got, "certificate revoked")

	for _, f := range []string{"crl/intermediate.crl.pem", "crl/intermediate.crl"} {
		args := []string{"crl", "-in", filepath.Join(dir, f), "-noout", "-crlnumber"}
		if !strings.HasSuffix(f, ".pem") {
			args = append(args, "-inform", "der")
		}
		out, err := exec.Command(opensslBin, args...).CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Equal(t, "crlNumber=0x02", strings.TrimSpace(string(out)), f)
	}
	a, ok := readManifest(t, dir).Artefact("carol")
	require.True(t, ok)
	assert.Equal(t, "Failed:ClientCertCrlHit", a.Expect.Verify)
}
