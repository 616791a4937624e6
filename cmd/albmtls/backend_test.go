package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/backend"
	"github.com/albmtls/albmtls/emulator/albheader"
	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// TestBackendBinary runs `albmtls backend` as a passthrough target with the
// trust store's files and the O/OU rule on /members/, and stops it with
// SIGTERM.
func TestBackendBinary(t *testing.T) {
	dir := pkitest.Dir(t)
	set, err := pki.Load(dir)
	require.NoError(t, err)
	cmd, out, stderr := startProcess(t, t.TempDir(), "backend", "--name", "web-9", "--listen", "127.0.0.1:0",
		"--ca", filepath.Join(dir, "ca", "bundle.pem"), "--crl", filepath.Join(dir, "crl", "intermediate.crl.pem"),
		"--crl", filepath.Join(dir, "crl", "root.crl"), "--require-subject-o", "Example Corp",
		"--require-subject-ou", "Engineering", "--require-path-prefix", "/members/")
	line := readUntil(t, out, "serving", stderr)[0]
	base, ok := strings.CutPrefix(line, "backend web-9 serving ")
	require.True(t, ok, line)

	get := func(path, client string) (int, backend.Report) {
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		require.NoError(t, err)
		req.Header.Set("Accept", "application/json")
		if client != "" {
			leaf, ok := set.Client(client)
			require.True(t, ok)
			req.Header.Set(albheader.ClientCert, certfmt.PEMURLEncode(leaf.Chain, certfmt.EqualsLiteral))
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var rep backend.Report
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&rep))
		return resp.StatusCode, rep
	}
	resp, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "ok\n", string(body))

	tests := []struct {
		path, client string
		status       int
		errPart      string
	}{
		{"/", "valid", 200, ""},
		{"/", "revoked", 403, "is revoked by the CRL of"},
		{"/", "revoked-intermediate", 403, "is revoked by the CRL of"},
		{"/", "untrusted", 403, "unknown authority"},
		{"/members/", "member", 200, ""},
		{"/members/", "outsider", 403, `the subject has O "Outsider Ltd"`},
		{"/members/", "valid", 403, "the subject has O (none)"},
	}
	for _, tt := range tests {
		status, rep := get(tt.path, tt.client)
		assert.Equal(t, tt.status, status, "%s %s: %s", tt.client, tt.path, rep.Error)
		assert.Equal(t, "web-9", rep.Instance)
		if tt.errPart != "" {
			assert.Contains(t, rep.Error, tt.errPart, tt.client)
		}
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), stderr.String())
}

func TestBackendErrors(t *testing.T) {
	dir := pkitest.Dir(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"crl without ca", []string{"--crl", filepath.Join(dir, "crl", "root.crl")}, "--crl needs --ca"},
		{"missing ca", []string{"--ca", filepath.Join(dir, "nope.pem")}, "--ca: open "},
		{"missing crl", []string{"--ca", filepath.Join(dir, "ca", "bundle.pem"), "--crl", "nope.crl"}, "--crl: open nope.crl"},
		{"leaf as ca", []string{"--ca", filepath.Join(dir, "clients", "valid.pem")}, "is not a CA"},
		{"busy address", []string{"--listen", busy.Addr().String()}, "--listen " + busy.Addr().String() + ": bind: address already in use"},
		{"empty name", []string{"--name", ""}, "a name is required"},
		{"header name without =", []string{"--header-name", "subject"}, `--header-name "subject": want KEY=NAME`},
		{"header name unknown key", []string{"--header-name", "tls-version=X-V"}, `"tls-version" is not an mTLS header rename attribute; use one of clientcert, issuer, leaf, serial-number, subject, validity`},
		{"header name twice", []string{"--header-name", "subject=A", "--header-name", "subject=B"}, "subject is renamed twice"},
		{"header name invalid", []string{"--header-name", "subject=X Client"}, `"X Client" is not a valid header name`},
		{"header names clash", []string{"--header-name", "subject=X-Id", "--header-name", "issuer=X-Id"}, "X-Id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(append([]string{"backend"}, tt.args...)...)
			want := 2 // a bad flag value or an unreadable --ca/--crl
			if tt.name == "busy address" {
				want = 1 // the command started and failed
			}
			assert.Equal(t, want, code)
			assert.Contains(t, stderr, tt.want)
		})
	}
}

// TestBackendHeaderNamePassesRenameConformance: behind a listener that
// renames the subject header (the --expect example of docs/conformance.md),
// the sample backend started with --header-name passes the backend
// conformance cases, spoof probes included; without the flag it answers
// 400 to member.
func TestBackendHeaderNamePassesRenameConformance(t *testing.T) {
	var example string
	for _, b := range docBlocks(t, filepath.Join("..", "..", "docs", "conformance.md"), "## In front of your backend", "yaml") {
		if strings.Contains(b, "header_name: X-Client-Subject") {
			example = b
		}
	}
	require.NotEmpty(t, example, "docs/conformance.md should show an --expect file with a header rename")
	expect := filepath.Join(t.TempDir(), "expect.yaml")
	require.NoError(t, os.WriteFile(expect, []byte(example), 0o644))
	pkiDir := pkitest.Dir(t)
	base := []string{"backend", "--name", "web-1", "--listen", "127.0.0.1:0", "--require-subject-o", "Example Corp",
		"--require-subject-ou", "Engineering", "--require-path-prefix", "/members/"}
	for _, tt := range []struct {
		name string
		args []string
		code int
	}{
		{"told the rename", append(slices.Clone(base), "--header-name", "subject=X-Client-Subject"), 0},
		{"not told", base, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr, _ := startBackendCLI(t, tt.args)
			code, stdout, stderr := runConformanceCLI("--pki", pkiDir, "--backend", "http://"+addr+"/", "--expect", expect, "-q")
			assert.Equal(t, tt.code, code, "%s\n%s", stdout, stderr)
			if tt.code != 0 {
				assert.Regexp(t, `backend/member +FAIL .*saw 400`, stdout)
			}
		})
	}
}
