package backend_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/backend"
	"github.com/albmtls/albmtls/emulator/albheader"
	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"

	"github.com/albmtls/albmtls/internal/fuzzedit"
)

// fuzzHeader is one header of a valid ALB request that FuzzInspect edits.
type fuzzHeader struct {
	passthrough bool // the passthrough shape (the chain alone), else verify
	name        string
}

var fuzzHeaders = []fuzzHeader{
	{true, albheader.ClientCert},
	{false, albheader.ClientCertLeaf},
	{false, albheader.ClientCertSerialNumber},
	{false, albheader.ClientCertValidity},
	{false, albheader.ClientCertSubject},
	{false, albheader.ClientCertIssuer},
}

// newFuzzBackend is the backend both targets call: it verifies chains
// (with CRLs) and authorizes on the test PKI's base DN, so every branch of
// Inspect is reachable; the base requests are the "member" client's.
func newFuzzBackend(f testing.TB) (*backend.Backend, map[string]string, map[string]string) {
	set := pkitest.Standard(f)
	valid, _ := set.Client("member")
	trust, err := backend.LoadTrust(set.Bundle(), pki.EncodeCRLPEM(set.CRL("intermediate")), set.CRL("root"))
	require.NoError(f, err)
	org := set.Organization()
	b, err := backend.New(backend.Config{Name: "web-1", Trust: trust, RequireO: org.O, RequireOU: org.OU})
	require.NoError(f, err)
	subject, err := certfmt.DN(valid.Cert.RawSubject)
	require.NoError(f, err)
	issuer, err := certfmt.DN(valid.Cert.RawIssuer)
	require.NoError(f, err)
	pass := map[string]string{albheader.ClientCert: certfmt.PEMURLEncode(valid.Chain, certfmt.EqualsLiteral)}
	verify := map[string]string{
		albheader.ClientCertLeaf:         certfmt.PEMURLEncode(valid.Chain[:1], certfmt.EqualsPercent),
		albheader.ClientCertSerialNumber: certfmt.Serial(valid.Cert),
		albheader.ClientCertValidity:     certfmt.Validity(valid.Cert),
		albheader.ClientCertSubject:      subject,
		albheader.ClientCertIssuer:       issuer,
	}
	return b, pass, verify
}

// checkInspect serves one request: whatever the mTLS headers hold, the
// answer is 200, 400 or 403 with a reason, never a panic or a 500.
func checkInspect(t *testing.T, b *backend.Backend, req *http.Request) {
	rec := httptest.NewRecorder()
	b.ServeHTTP(rec, req)
	switch rec.Code {
	case http.StatusOK:
	case http.StatusBadRequest, http.StatusForbidden:
		if b.Inspect(req).Error == "" {
			t.Fatalf("status %d without a reason", rec.Code)
		}
	default:
		t.Fatalf("status %d, want 200, 400 or 403", rec.Code)
	}
}

// The unedited requests FuzzInspect starts from are accepted, so its
// edits explore the neighbourhood of a valid chain, not of a rejected one.
func TestFuzzInspectBaseIsValid(t *testing.T) {
	b, pass, verify := newFuzzBackend(t)
	for _, base := range []map[string]string{pass, verify} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		for name, v := range base {
			req.Header.Set(name, v)
		}
		rep := b.Inspect(req)
		require.Equal(t, http.StatusOK, rep.Status, rep.Error)
		require.NotNil(t, rep.Authorization)
		require.True(t, rep.Authorization.OK)
	}
}

// maxInsert and maxRaw bound what the targets look at. The engine
// minimises every input that finds new coverage, for up to a minute
// (-fuzzminimizetime) and in time quadratic in its length; an input of a few
// hundred bytes held a worker for seconds with no exec counted. Longer
// inputs are skipped, so they are never kept.
const (
	maxInsert = 96
	maxRaw    = 256
)

// FuzzInspect edits one header of a valid passthrough or verify request in
// place: field picks the header, and the bytes from off to off+cut are
// replaced by insert. The valid chain (2 KB of PEM-URL text) lives in the
// target, not in the input, so every input the fuzzer keeps is a few bytes
// and minimising it is cheap; carrying the chain in the input made the
// engine spend its whole budget minimising it (docs/fuzzing.md).
func FuzzInspect(f *testing.F) {
	b, pass, verify := newFuzzBackend(f)
	f.Add(uint8(0), uint16(0), uint16(0), "")             // valid passthrough
	f.Add(uint8(1), uint16(0), uint16(0), "")             // valid verify
	f.Add(uint8(0), uint16(40), uint16(3), "%zz")         // bad escape in the chain
	f.Add(uint8(1), uint16(70), uint16(8), "AAAA")        // corrupt DER in the leaf
	f.Add(uint8(2), uint16(0), uint16(2), "-")            // serial
	f.Add(uint8(3), uint16(10), uint16(0), ";NotAfter=x") // validity
	f.Add(uint8(4), uint16(0), uint16(200), "CN=admin")   // a subject outside the base DN
	f.Add(uint8(0), uint16(1000), uint16(1000), "-----END%20CERTIFICATE-----%0A")
	f.Fuzz(func(t *testing.T, field uint8, off, cut uint16, insert string) {
		if len(insert) > maxInsert {
			return // see maxInsert
		}
		h := fuzzHeaders[int(field)%len(fuzzHeaders)]
		base := verify
		if h.passthrough {
			base = pass
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		for name, v := range base {
			if name == h.name {
				v = fuzzedit.SpliceString(v, int(off), int(cut), insert)
			}
			if v != "" {
				req.Header.Set(name, v)
			}
		}
		checkInspect(t, b, req)
	})
}

// FuzzInspectRaw sets the chain, leaf and serial headers to arbitrary
// values; its seeds are short on purpose (see FuzzInspect).
func FuzzInspectRaw(f *testing.F) {
	b, _, verify := newFuzzBackend(f)
	f.Add("", "", "")
	f.Add("-----BEGIN%20CERTIFICATE-----%0AMAA=%0A-----END%20CERTIFICATE-----%0A", "", "")
	f.Add("", "-----BEGIN%20CERTIFICATE-----%0AMIIB%0A-----END%20CERTIFICATE-----%0A", "0A")
	f.Add("-----BEGIN%20CERTIFICATE-----%0A%zz", "%", "zz")
	f.Fuzz(func(t *testing.T, chain, leaf, serial string) {
		if len(chain)+len(leaf)+len(serial) > maxRaw {
			return // see maxInsert
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if chain != "" {
			req.Header.Set(albheader.ClientCert, chain)
		}
		if leaf != "" {
			req.Header.Set(albheader.ClientCertLeaf, leaf)
			req.Header.Set(albheader.ClientCertSerialNumber, serial)
			req.Header.Set(albheader.ClientCertValidity, verify[albheader.ClientCertValidity])
			req.Header.Set(albheader.ClientCertSubject, "CN=x")
			req.Header.Set(albheader.ClientCertIssuer, "CN=y")
		}
		checkInspect(t, b, req)
	})
}
