package backend_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/backend"
	"github.com/albmtls/albmtls/emulator/albheader"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// TestRenamedHeaders: behind a listener that renames mTLS headers, the
// backend reads the renamed ones once told, and names the renamed header
// when it is missing.
func TestRenamedHeaders(t *testing.T) {
	leaf := client(t, "valid")
	renamed := with(verifyHeaders(t, leaf), func(h http.Header) {
		h.Set("X-Client-Subject", h.Get(albheader.ClientCertSubject))
		h.Del(albheader.ClientCertSubject)
		h.Set("X-Client-Chain", "unused")
	})
	byShort, err := backend.NamesFromAttributes(map[string]string{"subject": "X-Client-Subject"})
	require.NoError(t, err)
	byKey, err := backend.NamesFromAttributes(map[string]string{albheader.AttrClientCertSubjectName: "X-Client-Subject"})
	require.NoError(t, err)
	assert.Equal(t, byShort, byKey)
	assert.Equal(t, "X-Client-Subject", byKey.ClientCertSubject)
	assert.Equal(t, albheader.ClientCertIssuer, byKey.ClientCertIssuer)

	tests := []struct {
		name   string
		names  albheader.Names
		header http.Header
		status int
		error  string
	}{
		{"told the rename", byKey, renamed, http.StatusOK, ""},
		{"not told", albheader.Names{}, renamed, http.StatusBadRequest, albheader.ClientCertSubject + " is missing"},
		{"told, default name sent", byKey, verifyHeaders(t, leaf), http.StatusBadRequest, "X-Client-Subject is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := backend.New(backend.Config{Name: "web-1", Names: tt.names})
			require.NoError(t, err)
			req := httptest.NewRequest(http.MethodGet, "/?format=json", nil)
			req.Header = tt.header
			rec := httptest.NewRecorder()
			b.ServeHTTP(rec, req)
			var rep backend.Report
			require.NoError(t, json.NewDecoder(rec.Body).Decode(&rep))
			assert.Equal(t, tt.status, rec.Code, rep.Error)
			assert.Contains(t, rep.Error, tt.error)
			if tt.status == http.StatusOK {
				assert.Equal(t, backend.ModeVerify, rep.Mode)
				assert.Contains(t, rep.Headers, backend.Header{Name: "X-Client-Subject", Value: tt.header.Get("X-Client-Subject")})
			}
		})
	}
}

func TestNamesFromAttributesErrors(t *testing.T) {
	for _, attrs := range []map[string]string{
		{albheader.AttrTLSVersionName: "X-V"},
		{"routing.http.xff_header_processing.mode": "append"},
	} {
		_, err := backend.NamesFromAttributes(attrs)
		assert.ErrorContains(t, err, "is not an mTLS header rename attribute")
	}
}

func client(t *testing.T, name string) *pki.Leaf {
	t.Helper()
	l, ok := pkitest.Standard(t).Client(name)
	require.True(t, ok, name)
	return l
}
