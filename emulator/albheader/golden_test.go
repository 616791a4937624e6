package albheader

import (
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"github.com/albmtls/albmtls/emulator/connfacts"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/internal/golden"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// spoofedRequest is what a hostile client sends: every mTLS and TLS header
// name, in odd casings, plus the renamed names used by the "renamed" case,
// and spellings a CGI-style target folds onto them (issue 19).
const spoofedRequest = `
GET /whoami HTTP/1.1
Host: app.example.com
User-Agent: curl/8.5.0
Accept: */*
x-amzn-mtls-clientcert-serial-number: spoof-01
X-AMZN-MTLS-CLIENTCERT-ISSUER: spoof CN=Evil CA
X-Amzn-Mtls-Clientcert-Subject: spoof CN=admin
x-amzn-mtls-clientcert-validity: spoof NotBefore=2000-01-01T00:00:00Z;NotAfter=2100-01-01T00:00:00Z
X-Amzn-Mtls-Clientcert-Leaf: spoof-leaf
x-amzn-mtls-clientcert: spoof-chain
X-Amzn-Tls-Version: spoof SSLv3
x-amzn-tls-cipher-suite: spoof NULL-MD5
X-Client-Subject: spoof renamed subject
x-client-cert-chain: spoof renamed chain
X-Forwarded-For: 127.0.0.4
X-Forwarded-Proto: spoof-gopher
X-Forwarded-Port: 1
X-Amzn-Trace-Id: Root=1-67891233-abcdef012345678912345678;CalledFrom=app
X_Amzn_Mtls_Clientcert_Subject: spoof underscore CN=admin
X-Amzn_Mtls-Clientcert_Leaf: spoof mixed leaf
x_amzn_mtls_clientcert: spoof underscore chain
X.Amzn.Tls.Version: spoof dotted SSLv3
X_Client_Subject: spoof underscore renamed subject
X_Forwarded_For: 10.66.66.66
X_Custom_Header: not an owned name

`

var renamedAttributes = map[string]string{
	AttrClientCertSerialNumberName: "X-Client-Serial",
	AttrClientCertIssuerName:       "X-Client-Issuer",
	AttrClientCertSubjectName:      "x-client-subject",
	AttrClientCertValidityName:     "X-Client-Validity",
	AttrClientCertLeafName:         "X-Client-Leaf",
	AttrClientCertName:             "X-Client-Cert-Chain",
	AttrTLSVersionName:             "X-TLS-Version",
	AttrTLSCipherSuiteName:         "X-TLS-Cipher",
	AttrTLSVersionAndCipherSuite:   "true",
	AttrXFFClientPort:              "true",
}

// TestGoldenHeaderSets records the full header set a target receives in each
// mode, for a client that tries to spoof every identity header. The
// certificates are built with deterministic randomness so PEM values are
// stable; their DNs and serial are checked against the openssl binary.
func TestGoldenHeaderSets(t *testing.T) {
	cryptotest.SetGlobalRandom(t, 20231126)
	pki := newPKI(t)

	// The leaf's values must be what OpenSSL prints (alb-behaviour §4.1, §11).
	subject, issuer, serial := pkitest.OpenSSLView(t, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.leaf.Raw}))
	wantSubject, err := certfmt.DN(pki.leaf.RawSubject)
	require.NoError(t, err)
	wantIssuer, err := certfmt.DN(pki.leaf.RawIssuer)
	require.NoError(t, err)
	require.Equal(t, subject, wantSubject)
	require.Equal(t, issuer, wantIssuer)
	require.Equal(t, serial, certfmt.Serial(pki.leaf))

	v4 := netip.MustParseAddrPort("203.0.113.7:51234")
	v6 := netip.MustParseAddrPort("[2001:db8::7348]:8080")
	chain := [][]byte{pki.leaf.Raw, pki.intermediate.Raw}
	now := time.Unix(0x67c44f19, 0)
	tls13 := func(c *Conn) { c.TLS = connfacts.NewTLS(tls.VersionTLS13, tls.TLS_AES_128_GCM_SHA256, 0) }
	tls12 := func(c *Conn) {
		c.TLS = connfacts.NewTLS(tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 0)
	}

	for _, tc := range []struct {
		file  string
		about string
		conn  Conn
		tls   func(*Conn)
		attrs map[string]string
		opts  func(*Options)
	}{
		{"verify.golden", "verify mode, default attributes",
			Conn{Mode: ModeVerify, Cert: connfacts.NewCert(pki.leaf, chain), Client: v4}, tls13, nil, nil},
		{"verify-tls-headers.golden", "verify mode, TLS 1.2, x_amzn_tls_version_and_cipher_suite enabled, xff_client_port enabled",
			Conn{Mode: ModeVerify, Cert: connfacts.NewCert(pki.leaf, chain), Client: v6}, tls12,
			map[string]string{AttrTLSVersionAndCipherSuite: "true", AttrXFFClientPort: "true"}, nil},
		{"passthrough.golden", "passthrough mode, the client sends leaf and intermediate",
			Conn{Mode: ModePassthrough, Cert: connfacts.NewCert(nil, chain), Client: v4}, tls13, nil, nil},
		{"passthrough-no-certificate.golden", "passthrough mode, the client sends no certificate",
			Conn{Mode: ModePassthrough, Client: v4}, tls13, nil, nil},
		{"off.golden", "mTLS off, TLS headers enabled",
			Conn{Mode: ModeOff, Client: v6}, tls13, map[string]string{AttrTLSVersionAndCipherSuite: "true"}, nil},
		{"renamed.golden", "verify mode, all eight headers renamed, '=' as %3D",
			Conn{Mode: ModeVerify, Cert: connfacts.NewCert(pki.leaf, chain), Client: v4}, tls12, renamedAttributes,
			func(o *Options) { o.Equals = certfmt.EqualsPercent }},
		{"renamed-passthrough.golden", "passthrough mode, all eight headers renamed",
			Conn{Mode: ModePassthrough, Cert: connfacts.NewCert(nil, chain), Client: v4}, tls12, renamedAttributes, nil},
		{"no-strip.golden", "passthrough mode without a certificate, client header stripping turned off (knob)",
			Conn{Mode: ModePassthrough, Client: v4}, tls13, nil, func(o *Options) { o.StripClientHeaders = false }},
		{"variants-forwarded.golden", "verify mode, all eight headers renamed, strip_header_name_variants off (knob): variants reach the target",
			Conn{Mode: ModeVerify, Cert: connfacts.NewCert(pki.leaf, chain), Client: v4}, tls13, renamedAttributes,
			func(o *Options) { o.StripNameVariants = false }},
		{"drop-invalid-header-fields.golden", "mTLS off, routing.http.drop_invalid_header_fields.enabled true, variants knob off",
			Conn{Mode: ModeOff, Client: v4}, tls13, map[string]string{AttrDropInvalidHeaderFields: "true"},
			func(o *Options) { o.StripNameVariants = false }},
	} {
		t.Run(tc.file, func(t *testing.T) {
			opts, err := OptionsFromAttributes(tc.attrs)
			require.NoError(t, err)
			if tc.opts != nil {
				tc.opts(&opts)
			}
			conn := tc.conn
			conn.ListenerPort, conn.Scheme = 443, "https"
			tc.tls(&conn)
			req := parseRequest(t, spoofedRequest)
			before := dumpHeader(req.Header)
			require.NoError(t, Apply(req.Header, &conn, &opts, now, fixedRand("5bfebbe508241e857d7e84b9")))

			var b strings.Builder
			fmt.Fprintf(&b, "# %s\n# client %s, listener port 443\n", tc.about, conn.Client)
			if len(tc.attrs) > 0 {
				fmt.Fprintf(&b, "# attributes: %v\n", tc.attrs)
			}
			fmt.Fprintf(&b, "\n## request headers as the client sent them\n%s\n## headers forwarded to the target\n%s", before, dumpHeader(req.Header))
			golden.Assert(t, filepath.Join("testdata", tc.file), b.String())

			if opts.StripClientHeaders {
				protected := append(append(opts.Names.list(), DefaultNames().list()...), XForwardedProto, XForwardedPort)
				for _, name := range protected {
					for _, v := range req.Header.Values(name) {
						assert.NotContains(t, v, "spoof", "spoofed %s survived", name)
					}
				}
			}
			if opts.StripNameVariants || opts.DropInvalidHeaderFields {
				// No spelling that a CGI-style target folds onto an owned
				// name survives, and no client X_Forwarded_For either.
				env := cgiEnviron(req.Header)
				owned := []string{XForwardedFor}
				if opts.StripClientHeaders {
					owned = append(append(owned, opts.Names.list()...), DefaultNames().list()...)
				}
				for _, name := range owned {
					k := "HTTP_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
					assert.NotContains(t, env[k], "spoof", "%s reaches a CGI-style target", k)
					assert.NotContains(t, env[k], "10.66.66.66", "%s reaches a CGI-style target", k)
				}
			}
			// A backend that decodes the headers gets the client's certificates.
			names := opts.Names
			switch conn.Mode {
			case ModeVerify:
				certs, err := certfmt.DecodePEMURL(req.Header.Get(names.ClientCertLeaf))
				require.NoError(t, err)
				require.Len(t, certs, 1)
				assert.Equal(t, pki.leaf.Raw, certs[0].Raw)
				assert.Equal(t, subject, req.Header.Get(names.ClientCertSubject))
				assert.Equal(t, issuer, req.Header.Get(names.ClientCertIssuer))
				assert.Equal(t, serial, req.Header.Get(names.ClientCertSerialNumber))
			case ModePassthrough:
				if conn.Cert == nil {
					if opts.StripClientHeaders {
						assert.Empty(t, req.Header.Values(names.ClientCert), "no certificate: no header")
					}
					break
				}
				certs, err := certfmt.DecodePEMURL(req.Header.Get(names.ClientCert))
				require.NoError(t, err)
				require.Len(t, certs, len(conn.Cert.Chain))
				for i := range certs {
					assert.Equal(t, conn.Cert.Chain[i], certs[i].Raw)
				}
			}
		})
	}
}
