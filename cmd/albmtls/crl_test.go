package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/internal/testbin"
	"github.com/albmtls/albmtls/internal/testtool"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

func openssl(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(testtool.Need(t, "openssl"), args...).Output()
	require.NoError(t, err, "openssl %v", args)
	return out
}

// TestCRLConvertMatchesOpenSSL converts both ways with the real binary and
// compares byte for byte with `openssl crl`.
func TestCRLConvertMatchesOpenSSL(t *testing.T) {
	set := pkitest.Standard(t)
	require.NoError(t, set.Revoke("valid", "member"), "a CRL with several entries")
	tmp := t.TempDir()
	der := filepath.Join(tmp, "in.crl")
	require.NoError(t, os.WriteFile(der, set.CRL("intermediate"), 0o644))

	pemOut := filepath.Join(tmp, "out.crl.pem")
	out, err := testbin.Command(t, "crl", "convert", der, pemOut).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), der+" (der) -> "+pemOut+" (pem), CRL number 2, 3 revoked")
	got, err := os.ReadFile(pemOut)
	require.NoError(t, err)
	assert.Equal(t, string(openssl(t, "crl", "-inform", "der", "-in", der, "-outform", "pem")), string(got), "DER -> PEM as openssl does it")

	derOut := filepath.Join(tmp, "back.crl")
	out, err = testbin.Command(t, "crl", "convert", pemOut, derOut).CombinedOutput()
	require.NoError(t, err, "%s", out)
	back, err := os.ReadFile(derOut)
	require.NoError(t, err)
	assert.Equal(t, openssl(t, "crl", "-inform", "pem", "-in", pemOut, "-outform", "der"), back, "PEM -> DER as openssl does it")
	assert.Equal(t, set.CRL("intermediate"), back, "the round trip is lossless")

	// openssl reads what we wrote.
	text := string(openssl(t, "crl", "-in", pemOut, "-noout", "-text"))
	valid, _ := set.Client("valid")
	assert.Contains(t, text, "Serial Number: "+certfmt.SerialNumber(valid.Cert.SerialNumber))
}

func TestCRLConvertInProcess(t *testing.T) {
	ca := pkitest.NewCA(t)
	der := pkitest.CRL(t, ca, pkitest.Client(t, ca, "x"))
	tmp := t.TempDir()
	pemFile := filepath.Join(tmp, "a.pem")
	require.NoError(t, os.WriteFile(pemFile, pki.EncodeCRLPEM(der), 0o644))

	// --to pem on a PEM input re-encodes it (a normalising copy).
	out := filepath.Join(tmp, "norm.pem")
	code, stdout, stderr := runCLI("crl", "convert", "--to", "pem", pemFile, out)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "(pem) -> "+out+" (pem)")
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, pki.EncodeCRLPEM(der), data)

	// "-" writes to standard output.
	code, stdout, stderr = runCLI("crl", "convert", pemFile, "-")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, string(der), stdout)

	code, _, stderr = runCLI("crl", "convert", "--to", "txt", pemFile, out)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, `--to "txt": valid values are pem and der`)
}

func TestCRLConvertStdin(t *testing.T) {
	ca := pkitest.NewCA(t)
	der := pkitest.CRL(t, ca)
	out := filepath.Join(t.TempDir(), "out.pem")
	cmd := testbin.Command(t, "crl", "convert", "-", out)
	cmd.Stdin = bytes.NewReader(der)
	res, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", res)
	assert.Contains(t, string(res), "standard input (der)")
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, pki.EncodeCRLPEM(der), data)
}

// TestCRLConvertBadInput: garbage, truncated and wrong-type inputs get one
// error naming the file and the problem, and no output file.
func TestCRLConvertBadInput(t *testing.T) {
	ca := pkitest.NewCA(t)
	der := pkitest.CRL(t, ca)
	tmp := t.TempDir()
	for _, tc := range []struct {
		name    string
		content []byte
		wantErr string
	}{
		{"garbage", []byte("this is not a CRL\n"), "not a CRL: neither PEM"},
		{"empty", nil, "empty input"},
		{"truncated DER", der[:len(der)-10], "invalid DER CRL (truncated or corrupt?)"},
		{"truncated PEM", pki.EncodeCRLPEM(der)[:100], "malformed PEM"},
		{"certificate PEM", ca.CertPEM, "this is a certificate, not a CRL"},
		{"certificate DER", ca.Cert.Raw, "this is a DER certificate, not a CRL"},
		{"private key", ca.KeyPEM, "this is a private key, not a CRL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := filepath.Join(tmp, strings.ReplaceAll(tc.name, " ", "-"))
			require.NoError(t, os.WriteFile(in, tc.content, 0o644))
			out := filepath.Join(tmp, "out-"+filepath.Base(in))
			code, stdout, stderr := runCLI("crl", "convert", in, out)
			assert.Equal(t, 2, code, "an input that is no CRL is an input error")
			assert.Empty(t, stdout)
			assert.Equal(t, "albmtls: "+in+": ", stderr[:len("albmtls: "+in+": ")], "the error names the file")
			assert.Contains(t, stderr, tc.wantErr)
			assert.Equal(t, 1, strings.Count(stderr, "\n"))
			_, err := os.Stat(out)
			assert.True(t, os.IsNotExist(err), "no output file on error")
		})
	}
	for _, tc := range []struct {
		name, in, wantErr string
	}{
		{"missing file", filepath.Join(tmp, "nope.crl"), "no such file or directory"},
		{"directory", tmp, "is a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI("crl", "convert", tc.in, filepath.Join(tmp, "out"))
			assert.Equal(t, 2, code, "an unreadable input is an input error")
			assert.Contains(t, stderr, tc.wantErr)
			assert.Contains(t, stderr, tc.in)
		})
	}
	// A failed conversion never replaces an existing output.
	existing := filepath.Join(tmp, "existing.pem")
	require.NoError(t, os.WriteFile(existing, []byte("keep me"), 0o644))
	bad := filepath.Join(tmp, "bad")
	require.NoError(t, os.WriteFile(bad, []byte("junk"), 0o644))
	code, _, _ := runCLI("crl", "convert", bad, existing)
	assert.Equal(t, 2, code)
	data, err := os.ReadFile(existing)
	require.NoError(t, err)
	assert.Equal(t, "keep me", string(data))
	code, _, stderr := runCLI("crl", "convert", bad)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "accepts 2 arg(s)")
}
