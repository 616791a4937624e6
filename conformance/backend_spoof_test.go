package conformance

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// cgiBackend is a deliberately naive CGI-style backend: it builds its
// environment the way Python's wsgiref does (HTTP_ + the name upper-cased,
// '-' turned into '_', lines that land on one variable joined with ","),
// then admits a request whose subject variable names the organisation.
// It is what a Flask or Django view reading
// request.environ["HTTP_X_AMZN_MTLS_CLIENTCERT_SUBJECT"] does.
func cgiBackend(t *testing.T, o, ou string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env := map[string]string{}
		keys := make([]string, 0, len(r.Header))
		for k := range r.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			name := "HTTP_" + strings.ToUpper(strings.ReplaceAll(k, "-", "_"))
			for _, v := range r.Header[k] {
				if old, ok := env[name]; ok {
					v = old + "," + v
				}
				env[name] = v
			}
		}
		subject := env["HTTP_X_AMZN_MTLS_CLIENTCERT_SUBJECT"]
		switch {
		case subject == "":
			w.WriteHeader(http.StatusUnauthorized)
		case strings.Contains(subject, "O="+o) && strings.Contains(subject, "OU="+ou):
			w.WriteHeader(http.StatusOK)
		default:
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestBackendModeCatchesACGIStyleBackend: a backend that folds '_' onto '-'
// and reads any line of the subject header passes the ordinary cases but
// fails every spoof probe a leaky ALB would let through, each with the
// explanation and the fix.
func TestBackendModeCatchesACGIStyleBackend(t *testing.T) {
	pkiDir := pkitest.Dir(t)
	set, err := pki.Load(pkiDir)
	require.NoError(t, err)
	srv := cgiBackend(t, set.Organization().O, set.Organization().OU)
	rep, err := RunBackend(context.Background(), Options{PKIDir: pkiDir}, srv.URL+"/", nil)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"backend/" + CaseDuplicateSpoofFirst,
		"backend/" + CaseDuplicateSpoofLast,
		"backend/" + CaseSpoofedNameVariants,
		"backend/spoofed-subject",
	}, failing(rep))
	for _, r := range rep.Results {
		if r.Status == StatusFail {
			continue
		}
		assert.Equal(t, StatusPass, r.Status, r.Name)
	}
	msg := resultOf(t, rep, "backend/"+CaseSpoofedNameVariants).Message()
	assert.Contains(t, msg, "status: expected 4xx, saw 200")
	assert.Contains(t, msg, "your backend read X_Amzn_Mtls_Clientcert_Subject")
	assert.Contains(t, msg, "CGI-style servers")
	assert.Contains(t, msg, "routing.http.drop_invalid_header_fields.enabled")
	dup := resultOf(t, rep, "backend/"+CaseDuplicateSpoofFirst).Message()
	assert.Contains(t, dup, "two X-Amzn-Mtls-Clientcert-Subject lines")
	assert.Contains(t, dup, "refuse a request in which an mTLS header appears more than once")
	// Passing cases carry no advice.
	assert.Empty(t, resultOf(t, rep, "backend/member").Message())
}

// TestBackendModeProbesAfterRename: with a header rename in the
// expectations the harness also sends the original names; a backend that
// still reads them (the CGI one) fails with the rename explained.
func TestBackendModeProbesAfterRename(t *testing.T) {
	pkiDir := pkitest.Dir(t)
	set, err := pki.Load(pkiDir)
	require.NoError(t, err)
	srv := cgiBackend(t, set.Organization().O, set.Organization().OU)
	e, err := ParseBackendExpect("expect.yaml", []byte(`mode: verify
attributes:
  routing.http.request.x_amzn_mtls_clientcert_subject.header_name: X-Client-Subject
cases:
  outsider: {status: 4xx}
`))
	require.NoError(t, err)
	rep, err := RunBackend(context.Background(), Options{PKIDir: pkiDir}, srv.URL+"/", e)
	require.NoError(t, err)
	r := resultOf(t, rep, "backend/"+CaseSpoofedOriginalName)
	require.Equal(t, StatusFail, r.Status)
	assert.Contains(t, r.Message(), "X-Amzn-Mtls-Clientcert-Subject")
	assert.Contains(t, r.Message(), "X-Client-Subject")
	list, err := backendScenarios(e, set, "/")
	require.NoError(t, err)
	var sent []string
	for _, s := range list {
		if s.Name == "backend/"+CaseSpoofedNameVariants {
			for k := range s.Steps[0].Request.Headers {
				sent = append(sent, k)
			}
		}
	}
	assert.Contains(t, sent, "X_Client_Subject", "the renamed name's variant is sent")
	assert.Contains(t, sent, "X_Amzn_Mtls_Clientcert_Subject", "and the default name's")

	// spoof_probes: false leaves only the listed cases.
	e, err = ParseBackendExpect("expect.yaml", []byte("spoof_probes: false\ncases:\n  member: {status: 200}\n"))
	require.NoError(t, err)
	rep, err = RunBackend(context.Background(), Options{PKIDir: pkiDir}, srv.URL+"/", e)
	require.NoError(t, err)
	assert.Len(t, rep.Results, 1)
}
