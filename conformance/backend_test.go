package conformance

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/backend"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// sampleBackend is `albmtls backend --require-subject-o "Example Corp"
// --require-subject-ou Engineering` (with the PKI's CA for passthrough).
func sampleBackend(t *testing.T, pkiDir string) *httptest.Server {
	t.Helper()
	set, err := pki.Load(pkiDir)
	require.NoError(t, err)
	trust, err := backend.LoadTrust(set.Bundle(), pki.EncodeCRLPEM(set.CRL("intermediate")), pki.EncodeCRLPEM(set.CRL("root")))
	require.NoError(t, err)
	b, err := backend.New(backend.Config{Name: "web-1", RequireO: set.Organization().O, RequireOU: set.Organization().OU, Trust: trust})
	require.NoError(t, err)
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	return srv
}

// TestBackendModeSampleBackendPasses: the sample authz backend does what
// every backend behind an ALB must, in both modes.
func TestBackendModeSampleBackendPasses(t *testing.T) {
	pkiDir := pkitest.Dir(t)
	srv := sampleBackend(t, pkiDir)
	for _, mode := range []string{"verify", "passthrough"} {
		t.Run(mode, func(t *testing.T) {
			rep, err := RunBackend(context.Background(), Options{PKIDir: pkiDir}, srv.URL+"/", DefaultBackendExpect(mode))
			require.NoError(t, err)
			for _, r := range rep.Results {
				assert.Equal(t, StatusPass, r.Status, "%s: %s\n%s", r.Name, r.Message(), Detail(r))
			}
			assert.Len(t, rep.Results, map[string]int{"verify": 7, "passthrough": 8}[mode], "the ordinary cases and three spoof probes")
			assert.Contains(t, rep.Target, "behind the in-process emulator (mode "+mode+")")
		})
	}
}

// TestBackendModeCatchesANaiveBackend: a backend that admits every request
// fails every refusal case, each with the status it gave.
func TestBackendModeCatchesANaiveBackend(t *testing.T) {
	naive := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer naive.Close()
	rep, err := RunBackend(context.Background(), Options{PKIDir: pkitest.Dir(t)}, naive.URL, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"backend/duplicate-headers-spoof-first", "backend/duplicate-headers-spoof-last", "backend/missing-headers",
		"backend/outsider", "backend/spoofed-name-variants", "backend/spoofed-subject"}, failing(rep))
	assert.Equal(t, "status: expected 403, saw 200", resultOf(t, rep, "backend/outsider").Message())
	assert.Equal(t, "status: expected 4xx, saw 200", resultOf(t, rep, "backend/spoofed-subject").Message())
	assert.Equal(t, StatusPass, resultOf(t, rep, "backend/member").Status)
}

func TestBackendExpectFile(t *testing.T) {
	pkiDir := pkitest.Dir(t)
	srv := sampleBackend(t, pkiDir)
	t.Run("custom cases", func(t *testing.T) {
		e, err := ParseBackendExpect("expect.yaml", []byte(`mode: verify
cases:
  member: {status: 200, body_contains: web-1}
  valid: {status: 403}
  revoked: {handshake: rejected}
`))
		require.NoError(t, err)
		rep, err := RunBackend(context.Background(), Options{PKIDir: pkiDir}, srv.URL, e)
		require.NoError(t, err)
		assert.Empty(t, failing(rep))
		assert.Len(t, rep.Results, 6, "three listed cases and three spoof probes")
	})
	t.Run("unknown case", func(t *testing.T) {
		e, err := ParseBackendExpect("expect.yaml", []byte("cases:\n  member: {status: 200}\n  membr: {status: 200}\n"))
		require.NoError(t, err)
		_, err = RunBackend(context.Background(), Options{PKIDir: pkiDir}, srv.URL, e)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `expect.yaml:3: cases.membr: "membr" is neither a client of the PKI nor a built-in case (did you mean "member"?)`)
	})
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", "mode: verify\ncases:\n  member: {statuss: 200}\n", `expect.yaml:3: cases.member.statuss: unknown key "statuss" (did you mean "status"?)`},
		{"bad mode", "mode: strict\ncases: {member: {status: 200}}\n", `expect.yaml:1: mode: "strict" is not valid`},
		{"no status", "cases:\n  member: {body_contains: x}\n", "expect.yaml:2: cases.member.status: missing"},
		{"bad status", "cases:\n  member: {status: 2x}\n", `expect.yaml:2: "2x" is not an HTTP status`},
		{"rejected with status", "cases:\n  revoked: {handshake: rejected, status: 403}\n", "never reaches the backend"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseBackendExpect("expect.yaml", []byte(tc.yaml))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := RunBackend(context.Background(), Options{PKIDir: pkiDir}, "ftp://x", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "want the backend's URL")
}

// TestBackendModeUnreachable: a backend that is down gives 502 from the
// ALB, which fails the cases with what was seen.
func TestBackendModeUnreachable(t *testing.T) {
	rep, err := RunBackend(context.Background(), Options{PKIDir: pkitest.Dir(t)}, "http://"+freeAddr(t)+"/", nil)
	require.NoError(t, err)
	assert.Equal(t, "status: expected 2xx, saw 502", resultOf(t, rep, "backend/member").Message())
}
