package backend_test

import (
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/backend"
	"github.com/albmtls/albmtls/emulator/albheader"
	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// verifyHeaders are the five headers a verify-mode ALB sends for leaf,
// in the emulator's exact encoding.
func verifyHeaders(t *testing.T, leaf *pki.Leaf) http.Header {
	t.Helper()
	subject, err := certfmt.DN(leaf.Cert.RawSubject)
	require.NoError(t, err)
	issuer, err := certfmt.DN(leaf.Cert.RawIssuer)
	require.NoError(t, err)
	h := http.Header{}
	h.Set(albheader.ClientCertSerialNumber, certfmt.Serial(leaf.Cert))
	h.Set(albheader.ClientCertIssuer, issuer)
	h.Set(albheader.ClientCertSubject, subject)
	h.Set(albheader.ClientCertValidity, certfmt.Validity(leaf.Cert))
	h.Set(albheader.ClientCertLeaf, certfmt.PEMURLEncode([][]byte{leaf.Cert.Raw}, certfmt.EqualsLiteral))
	h.Set(albheader.XForwardedFor, "203.0.113.7")
	h.Set(albheader.XForwardedProto, "https")
	h.Set(albheader.XForwardedPort, "443")
	h.Set(albheader.TraceID, "Root=1-67c44f19-5bfebbe508241e857d7e84b9")
	return h
}

// passthroughHeaders is what a passthrough-mode ALB sends: the chain.
func passthroughHeaders(leaf *pki.Leaf, eq certfmt.EqualsEncoding) http.Header {
	h := http.Header{}
	h.Set(albheader.ClientCert, certfmt.PEMURLEncode(leaf.Chain, eq))
	h.Set(albheader.XForwardedProto, "https")
	return h
}

func with(h http.Header, f func(http.Header)) http.Header {
	h = h.Clone()
	f(h)
	return h
}

func TestInspect(t *testing.T) {
	set := pkitest.Standard(t)
	client := func(name string) *pki.Leaf {
		l, ok := set.Client(name)
		require.True(t, ok, name)
		return l
	}
	crls := [][]byte{pki.EncodeCRLPEM(set.CRL("intermediate")), set.CRL("root")} // PEM and DER
	trust, err := backend.LoadTrust(set.Bundle(), crls...)
	require.NoError(t, err)
	org := set.Organization()

	plain := backend.Config{Name: "web-1"}
	verified := backend.Config{Name: "web-1", Trust: trust}
	authz := backend.Config{Name: "web-2", Trust: trust, RequireO: org.O, RequireOU: org.OU}
	authzNoTrust := backend.Config{Name: "web-2", RequireO: org.O, RequireOU: org.OU}

	member := verifyHeaders(t, client("member"))
	tests := []struct {
		name    string
		cfg     backend.Config
		header  http.Header
		status  int
		mode    backend.Mode
		errPart string
		subject string
		path    string // default /orders?id=1
	}{
		// Verify mode: the ALB checked the chain; the headers are read.
		{name: "verify: member", cfg: plain, header: member, status: 200, mode: backend.ModeVerify, subject: "CN=member,OU=Engineering,O=Example Corp"},
		{name: "verify: member, authorized", cfg: authz, header: member, status: 200, mode: backend.ModeVerify},
		{name: "verify: outsider is refused by O/OU", cfg: authz, header: verifyHeaders(t, client("outsider")), status: 403, mode: backend.ModeVerify,
			errPart: `not authorized: the subject has O "Outsider Ltd" and OU "Sales", not the organisation's base DN (O=Example Corp, OU=Engineering)`},
		{name: "verify: valid has no O at all", cfg: authz, header: verifyHeaders(t, client("valid")), status: 403, errPart: "the subject has O (none) and OU (none)"},
		{name: "verify: only O required", cfg: backend.Config{Name: "w", RequireO: org.O}, header: verifyHeaders(t, client("outsider")), status: 403, errPart: "base DN (O=Example Corp)"},
		{name: "verify: %3D in the leaf", cfg: plain, status: 200, mode: backend.ModeVerify, header: with(member, func(h http.Header) {
			h.Set(albheader.ClientCertLeaf, certfmt.PEMURLEncode([][]byte{client("member").Cert.Raw}, certfmt.EqualsPercent))
		})},
		{name: "verify: lower-case serial", cfg: plain, status: 200, header: with(member, func(h http.Header) {
			h.Set(albheader.ClientCertSerialNumber, strings.ToLower(h.Get(albheader.ClientCertSerialNumber)))
		})},

		// Malformed verify-mode headers: 400 with the reason.
		{name: "verify: leaf not PEM", cfg: plain, status: 400, errPart: "X-Amzn-Mtls-Clientcert-Leaf: certificate 1 is not valid PEM", header: with(member, func(h http.Header) {
			h.Set(albheader.ClientCertLeaf, "garbage")
		})},
		{name: "verify: leaf form-decoded", cfg: plain, status: 400, errPart: "turning '+' into space", header: with(member, func(h http.Header) {
			h.Set(albheader.ClientCertLeaf, strings.ReplaceAll(h.Get(albheader.ClientCertLeaf), "+", " "))
		})},
		{name: "verify: leaf holds a chain", cfg: plain, status: 400, errPart: "holds 2 certificates", header: with(member, func(h http.Header) {
			h.Set(albheader.ClientCertLeaf, certfmt.PEMURLEncode(client("member").Chain, certfmt.EqualsLiteral))
		})},
		{name: "verify: header missing", cfg: plain, status: 400, errPart: "X-Amzn-Mtls-Clientcert-Validity is missing", header: with(member, func(h http.Header) {
			h.Del(albheader.ClientCertValidity)
		})},
		{name: "verify: header twice", cfg: plain, status: 400, errPart: "X-Amzn-Mtls-Clientcert-Subject appears 2 times", header: with(member, func(h http.Header) {
			h.Add(albheader.ClientCertSubject, "CN=admin")
		})},
		{name: "verify: serial not hex", cfg: plain, status: 400, errPart: `"0x12" is not a hexadecimal serial number`, header: with(member, func(h http.Header) {
			h.Set(albheader.ClientCertSerialNumber, "0x12")
		})},
		{name: "verify: serial of another certificate", cfg: plain, status: 400, errPart: "but the leaf certificate's serial is", header: with(member, func(h http.Header) {
			h.Set(albheader.ClientCertSerialNumber, certfmt.Serial(client("valid").Cert))
		})},
		{name: "verify: validity malformed", cfg: plain, status: 400, errPart: "is not NotBefore=<time>;NotAfter=<time>", header: with(member, func(h http.Header) {
			h.Set(albheader.ClientCertValidity, "2024-01-01")
		})},
		{name: "verify: validity bad time", cfg: plain, status: 400, errPart: `NotAfter "soon" is not an ISO 8601 time`, header: with(member, func(h http.Header) {
			h.Set(albheader.ClientCertValidity, "NotBefore=2024-01-01T00:00:00Z;NotAfter=soon")
		})},
		{name: "verify: validity of another certificate", cfg: plain, status: 400, errPart: "does not match the leaf certificate", header: with(member, func(h http.Header) {
			h.Set(albheader.ClientCertValidity, certfmt.Validity(client("expired").Cert))
		})},
		{name: "both modes' headers", cfg: plain, status: 400, errPart: "an ALB listener sends one or the other", header: with(member, func(h http.Header) {
			h.Set(albheader.ClientCert, h.Get(albheader.ClientCertLeaf))
		})},

		// Passthrough mode: the backend verifies the chain itself.
		{name: "passthrough: valid, verified", cfg: verified, header: passthroughHeaders(client("valid"), certfmt.EqualsLiteral), status: 200, mode: backend.ModePassthrough, subject: "CN=valid"},
		{name: "passthrough: %3D form", cfg: verified, header: passthroughHeaders(client("valid-rsa"), certfmt.EqualsPercent), status: 200, mode: backend.ModePassthrough},
		{name: "passthrough: member, authorized", cfg: authz, header: passthroughHeaders(client("member"), certfmt.EqualsLiteral), status: 200},
		{name: "passthrough: outsider is refused by O/OU", cfg: authz, header: passthroughHeaders(client("outsider"), certfmt.EqualsLiteral), status: 403, errPart: "not authorized: the subject has O \"Outsider Ltd\""},
		{name: "passthrough: revoked", cfg: verified, header: passthroughHeaders(client("revoked"), certfmt.EqualsLiteral), status: 403, errPart: "client certificate rejected: CN=revoked (serial"},
		{name: "passthrough: revoked intermediate", cfg: verified, header: passthroughHeaders(client("revoked-intermediate"), certfmt.EqualsLiteral), status: 403, errPart: "is revoked by the CRL of CN=albmtls Test Root CA"},
		{name: "passthrough: untrusted", cfg: verified, header: passthroughHeaders(client("untrusted"), certfmt.EqualsLiteral), status: 403, errPart: "does not verify against the CA bundle: x509: certificate signed by unknown authority"},
		{name: "passthrough: self-signed", cfg: verified, header: passthroughHeaders(client("self-signed"), certfmt.EqualsLiteral), status: 403, errPart: "unknown authority"},
		{name: "passthrough: expired", cfg: verified, header: passthroughHeaders(client("expired"), certfmt.EqualsLiteral), status: 403, errPart: "certificate has expired or is not yet valid"},
		{name: "passthrough: server purpose", cfg: verified, header: passthroughHeaders(client("server-purpose"), certfmt.EqualsLiteral), status: 403, errPart: "incompatible key usage"},
		{name: "passthrough: unverified without --ca", cfg: plain, header: passthroughHeaders(client("revoked"), certfmt.EqualsLiteral), status: 200, mode: backend.ModePassthrough},
		{name: "passthrough: no authorization without --ca", cfg: authzNoTrust, header: passthroughHeaders(client("member"), certfmt.EqualsLiteral), status: 403, errPart: "the certificate was not verified, so its subject proves nothing"},
		{name: "passthrough: chain not PEM", cfg: verified, header: http.Header{albheader.ClientCert: {"%0A-----BEGIN"}}, status: 400, errPart: "X-Amzn-Mtls-Clientcert: certificate 1 is not valid PEM"},
		{name: "passthrough: chain header twice", cfg: verified, header: with(passthroughHeaders(client("valid"), certfmt.EqualsLiteral), func(h http.Header) {
			h.Add(albheader.ClientCert, h.Get(albheader.ClientCert))
		}), status: 400, errPart: "appears 2 times"},

		// The O/OU rule limited to a path prefix.
		{name: "prefix: outsider outside it", cfg: withPrefix(authz), header: verifyHeaders(t, client("outsider")), status: 200},
		{name: "prefix: outsider under it", cfg: withPrefix(authz), path: "/members/list", header: verifyHeaders(t, client("outsider")), status: 403, errPart: "not authorized"},
		{name: "prefix: member under it", cfg: withPrefix(authz), path: "/members/", header: member, status: 200},

		// No mTLS header.
		{name: "none", cfg: verified, header: http.Header{}, status: 200, mode: backend.ModeNone},
		{name: "none, authorization required", cfg: authz, header: http.Header{}, status: 403, errPart: "no client certificate was forwarded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := backend.New(tt.cfg)
			require.NoError(t, err)
			path := tt.path
			if path == "" {
				path = "/orders?id=1"
			}
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header = tt.header
			rep := b.Inspect(req)
			assert.Equal(t, tt.status, rep.Status, "error: %s", rep.Error)
			if tt.mode != "" {
				assert.Equal(t, tt.mode, rep.Mode)
			}
			if tt.errPart != "" {
				assert.Contains(t, rep.Error, tt.errPart)
			} else {
				assert.Empty(t, rep.Error)
			}
			if tt.subject != "" {
				require.NotNil(t, rep.Certificate)
				assert.Equal(t, tt.subject, rep.Certificate.Subject)
			}
			assert.Equal(t, tt.cfg.Name, rep.Instance)
		})
	}
}

func withPrefix(cfg backend.Config) backend.Config {
	cfg.RequirePathPrefix = "/members/"
	return cfg
}

func TestServeHTTP(t *testing.T) {
	set := pkitest.Standard(t)
	member, _ := set.Client("member")
	b, err := backend.New(backend.Config{Name: "web-2", RequireO: "Example Corp", RequireOU: "Engineering"})
	require.NoError(t, err)
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)

	get := func(path string, h http.Header) (*http.Response, string) {
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		require.NoError(t, err)
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(body)
	}

	t.Run("healthz", func(t *testing.T) {
		resp, body := get("/healthz", nil)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "ok\n", body)
	})
	t.Run("HTML by default", func(t *testing.T) {
		resp, body := get("/", verifyHeaders(t, member))
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
		assert.Contains(t, body, "<h1>web-2</h1>")
		assert.Contains(t, body, "<code>CN=member,OU=Engineering,O=Example Corp</code>")
		assert.Contains(t, body, "<code>X-Amzn-Mtls-Clientcert-Serial-Number</code>")
		assert.Contains(t, body, "<code>X-Forwarded-For</code>")
		assert.Contains(t, body, certfmt.Serial(member.Cert))
		assert.Contains(t, body, "Authorization: the subject carries the organisation&#39;s base DN (O=Example Corp, OU=Engineering)")
	})
	t.Run("403 explains, in HTML", func(t *testing.T) {
		outsider, _ := set.Client("outsider")
		resp, body := get("/", verifyHeaders(t, outsider))
		assert.Equal(t, 403, resp.StatusCode)
		assert.Contains(t, body, "403: not authorized: the subject has O &#34;Outsider Ltd&#34;")
	})
	t.Run("header values are escaped", func(t *testing.T) {
		resp, body := get("/", http.Header{"X-Amzn-Trace-Id": {"<script>alert(1)</script>"}})
		assert.Equal(t, 403, resp.StatusCode)
		assert.NotContains(t, body, "<script>alert")
		assert.Contains(t, body, "&lt;script&gt;")
	})
	for _, how := range []struct {
		name, path string
		header     http.Header
	}{
		{"Accept", "/", http.Header{"Accept": {"text/html;q=0.5, application/json"}}},
		{"format=json", "/x?format=json", http.Header{}},
	} {
		t.Run("JSON by "+how.name, func(t *testing.T) {
			h := verifyHeaders(t, member)
			for k, v := range how.header {
				h[k] = v
			}
			resp, body := get(how.path, h)
			assert.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			var rep backend.Report
			require.NoError(t, json.Unmarshal([]byte(body), &rep))
			assert.Equal(t, "web-2", rep.Instance)
			assert.Equal(t, backend.ModeVerify, rep.Mode)
			require.NotNil(t, rep.Certificate)
			assert.Equal(t, certfmt.Serial(member.Cert), rep.Certificate.Serial)
			assert.Equal(t, member.Cert.NotAfter.UTC(), rep.Certificate.NotAfter)
			assert.Equal(t, "ECDSA P-256", rep.Certificate.PublicKey)
			assert.Len(t, rep.Certificate.SHA256, 32*3-1)
			require.NotNil(t, rep.Authorization)
			assert.True(t, rep.Authorization.OK)
		})
	}
	t.Run("400 as JSON", func(t *testing.T) {
		h := with(verifyHeaders(t, member), func(h http.Header) { h.Set(albheader.ClientCertLeaf, "%zz") })
		h.Set("Accept", "application/json")
		resp, body := get("/", h)
		assert.Equal(t, 400, resp.StatusCode)
		var rep backend.Report
		require.NoError(t, json.Unmarshal([]byte(body), &rep))
		assert.Contains(t, rep.Error, "X-Amzn-Mtls-Clientcert-Leaf: not valid percent-encoding")
	})
}

func TestDescribeSANsAndKeys(t *testing.T) {
	set := pkitest.Standard(t)
	b, err := backend.New(backend.Config{Name: "web-1"})
	require.NoError(t, err)
	rsaLeaf, _ := set.Client("valid-rsa")
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header = passthroughHeaders(rsaLeaf, certfmt.EqualsLiteral)
	rep := b.Inspect(req)
	require.NotNil(t, rep.Certificate)
	assert.Equal(t, "RSA 2048", rep.Certificate.PublicKey)

	// A leaf with every kind of SAN, as the page lists them.
	ca := pkitest.Intermediate(t, pkitest.NewCA(t))
	leaf := pkitest.Issue(t, ca, pki.LeafRequest{
		Subject: pki.Name{CommonName: "sans"},
		SANs:    pki.SANs{DNSNames: []string{"app.example"}, EmailAddresses: []string{"a@example.com"}},
	})
	req.Header = passthroughHeaders(leaf, certfmt.EqualsLiteral)
	rep = b.Inspect(req)
	require.NotNil(t, rep.Certificate)
	assert.Equal(t, []string{"DNS:app.example", "email:a@example.com"}, rep.Certificate.SANs)
	assert.Len(t, rep.Chain, len(leaf.Chain)-1)
}

func TestLoadTrustErrors(t *testing.T) {
	set := pkitest.Standard(t)
	other := pkitest.NewCA(t)
	leaf, _ := set.Client("valid")
	tests := []struct {
		name    string
		bundle  []byte
		crls    [][]byte
		wantErr string
	}{
		{"empty bundle", nil, nil, "CA bundle: no PEM certificate found"},
		{"leaf in bundle", leaf.CertPEM, nil, "is not a CA"},
		{"garbage CRL", set.Bundle(), [][]byte{[]byte("nope")}, "CRL 1:"},
		{"CRL of another CA", set.Bundle(), [][]byte{pkitest.CRL(t, other)}, "not signed by a CA of the bundle"},
		{"certificate as CRL", set.Bundle(), [][]byte{leaf.CertPEM}, `PEM block is a "CERTIFICATE"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := backend.LoadTrust(tt.bundle, tt.crls...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
	// Trust is evaluated at the configured clock.
	trust, err := backend.LoadTrust(set.Bundle())
	require.NoError(t, err)
	expired, _ := set.Client("expired")
	chain := func(l *pki.Leaf) []*x509.Certificate {
		var out []*x509.Certificate
		for _, der := range l.Chain {
			c, err := x509.ParseCertificate(der)
			require.NoError(t, err)
			out = append(out, c)
		}
		return out
	}
	require.Error(t, trust.Verify(chain(expired), time.Now()))
	assert.NoError(t, trust.Verify(chain(expired), expired.Cert.NotAfter.Add(-time.Hour)))
}
