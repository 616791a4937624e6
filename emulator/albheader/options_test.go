package albheader

import (
	"net/http"
	"strings"
	"testing"

	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/emulator/connfacts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultOptions(t *testing.T) {
	o, err := OptionsFromAttributes(nil)
	require.NoError(t, err)
	assert.Equal(t, DefaultOptions(), o)
	assert.True(t, o.StripClientHeaders)
	assert.True(t, o.StripDefaultNames)
	assert.Equal(t, XFFAppend, o.XFFMode)
	assert.False(t, o.TLSHeaders)
	assert.False(t, o.XFFClientPort)
	assert.Equal(t, certfmt.EqualsLiteral, o.Equals)
	assert.Equal(t, ClientCertSubject, o.Names.ClientCertSubject)
}

func TestOptionsFromAttributes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		attrs   map[string]string
		check   func(t *testing.T, o Options)
		wantErr string
	}{
		{"rename subject", map[string]string{AttrClientCertSubjectName: "X-Client-Subject"}, func(t *testing.T, o Options) {
			assert.Equal(t, "X-Client-Subject", o.Names.ClientCertSubject)
			assert.Equal(t, ClientCertIssuer, o.Names.ClientCertIssuer)
		}, ""},
		{"every rename", renamedAttributes, func(t *testing.T, o Options) {
			assert.Equal(t, Names{"X-Client-Cert-Chain", "X-Client-Serial", "X-Client-Issuer", "x-client-subject",
				"X-Client-Validity", "X-Client-Leaf", "X-TLS-Version", "X-TLS-Cipher"}, o.Names)
			assert.True(t, o.TLSHeaders)
			assert.True(t, o.XFFClientPort)
		}, ""},
		{"empty value keeps the default", map[string]string{AttrClientCertLeafName: "", AttrXFFHeaderProcessingMode: "", AttrTLSVersionAndCipherSuite: ""},
			func(t *testing.T, o Options) { assert.Equal(t, DefaultOptions(), o) }, ""},
		{"unknown keys are ignored", map[string]string{"routing.http.response.server.enabled": "false", "idle_timeout.timeout_seconds": "5"},
			func(t *testing.T, o Options) { assert.Equal(t, DefaultOptions(), o) }, ""},
		{"xff preserve", map[string]string{AttrXFFHeaderProcessingMode: "preserve"}, func(t *testing.T, o Options) {
			assert.Equal(t, XFFPreserve, o.XFFMode)
		}, ""},
		{"xff remove", map[string]string{AttrXFFHeaderProcessingMode: "remove"}, func(t *testing.T, o Options) {
			assert.Equal(t, XFFRemove, o.XFFMode)
		}, ""},
		{"tls headers off explicitly", map[string]string{AttrTLSVersionAndCipherSuite: "false"}, func(t *testing.T, o Options) {
			assert.False(t, o.TLSHeaders)
		}, ""},
		{"header name with a space", map[string]string{AttrClientCertSubjectName: "X Client"}, nil,
			"routing.http.request.x_amzn_mtls_clientcert_subject.header_name: \"X Client\" is not a valid header name"},
		{"header name with a colon", map[string]string{AttrTLSVersionName: "X-TLS:"}, nil, "RFC 7230 token"},
		{"header name with non-ascii", map[string]string{AttrClientCertName: "X-Zertifikat-Ä"}, nil, "not a valid header name"},
		{"header name too long", map[string]string{AttrClientCertName: "X" + strings.Repeat("a", 1024)}, nil, "at most 1024"},
		{"two headers, one name", map[string]string{AttrClientCertSubjectName: "X-Client", AttrClientCertIssuerName: "x-client"}, nil,
			"attributes routing.http.request.x_amzn_mtls_clientcert_issuer.header_name and routing.http.request.x_amzn_mtls_clientcert_subject.header_name both name"},
		{"rename onto another default", map[string]string{AttrClientCertSubjectName: ClientCertIssuer}, nil, "both name the header"},
		{"rename onto X-Forwarded-For", map[string]string{AttrClientCertLeafName: "x-forwarded-for"}, nil, "which the load balancer sets itself"},
		{"rename onto a CGI spelling of X-Forwarded-For", map[string]string{AttrClientCertLeafName: "X_Forwarded_For"}, nil, "which the load balancer sets itself"},
		{"two renames one CGI variable", map[string]string{AttrClientCertSubjectName: "X-Client-Id", AttrClientCertIssuerName: "X_Client_Id"}, nil, "both name the header"},
		{"bad boolean", map[string]string{AttrTLSVersionAndCipherSuite: "True"}, nil,
			`routing.http.x_amzn_tls_version_and_cipher_suite.enabled: "True" is not a boolean: use true or false`},
		{"bad client port boolean", map[string]string{AttrXFFClientPort: "yes"}, nil, "routing.http.xff_client_port.enabled"},
		{"bad xff mode", map[string]string{AttrXFFHeaderProcessingMode: "Append"}, nil,
			`routing.http.xff_header_processing.mode: albheader: "Append" is not an X-Forwarded-For processing mode: use append, preserve or remove`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := OptionsFromAttributes(tc.attrs)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			tc.check(t, o)
		})
	}
}

func TestKeys(t *testing.T) {
	keys := Keys()
	assert.Len(t, keys, 12)
	for _, k := range append(keys, ResponseKeys()...) {
		assert.True(t, IsKey(k), k)
		assert.Regexp(t, `^[a-zA-Z0-9._]{1,256}$`, k, "ListenerAttributeKey pattern")
	}
	assert.Len(t, ResponseKeys(), 11)
	assert.False(t, IsKey("routing.http.request.x_amzn_mtls_clientcert_subject.header_value"))
	for _, r := range renames {
		assert.True(t, strings.HasPrefix(r.key, "routing.http.request.") && strings.HasSuffix(r.key, ".header_name"), r.key)
	}
}

func TestStripSet(t *testing.T) {
	o, err := OptionsFromAttributes(map[string]string{AttrClientCertSubjectName: "x-client-subject"})
	require.NoError(t, err)
	set := o.stripSet()
	assert.Len(t, set, 9, "eight default names and one renamed")
	assert.Contains(t, set, "X-Client-Subject")
	assert.Contains(t, set, ClientCertSubject)

	o.StripDefaultNames = false
	set = o.stripSet()
	assert.Len(t, set, 8)
	assert.NotContains(t, set, ClientCertSubject, "a rename frees the default name when StripDefaultNames is off")

	o.StripClientHeaders = false
	assert.Empty(t, o.stripSet())
}

// TestPreparedFollowsOptions: NewConnHeaders reuses what it derives from
// the options (strip sets, canonical names) across connections, keyed by
// the options' content, so the same Options value changed between two
// connections (as a reload does) gives the second connection the new
// names and strip sets, and changing it back gives the first ones again.
func TestPreparedFollowsOptions(t *testing.T) {
	pki := newPKI(t)
	conn := &Conn{Mode: ModeVerify, Cert: connfacts.NewCert(pki.leaf, [][]byte{pki.leaf.Raw}), Scheme: "https"}
	opts := DefaultOptions()
	forward := func() http.Header {
		t.Helper()
		h := http.Header{ClientCertSubject: {"CN=forged"}, "X-Client-Subject": {"CN=forged too"}}
		require.NoError(t, NewConnHeaders(conn, &opts).Apply(h, traceNow, fixedRand(traceRand)))
		return h
	}
	for _, step := range []struct {
		name                string
		rename              string // the subject header's name; "" is the default
		stripDefault        bool
		wantDefault, wantXC []string
	}{
		{"defaults", "", true, []string{conn.Cert.Subject}, []string{"CN=forged too"}},
		{"renamed", "x-client-subject", true, nil, []string{conn.Cert.Subject}},
		{"renamed, default name freed", "x-client-subject", false, []string{"CN=forged"}, []string{conn.Cert.Subject}},
		{"defaults again", "", true, []string{conn.Cert.Subject}, []string{"CN=forged too"}},
	} {
		opts.Names.ClientCertSubject, opts.StripDefaultNames = step.rename, step.stripDefault
		h := forward()
		assert.Equal(t, step.wantDefault, h[ClientCertSubject], step.name)
		assert.Equal(t, step.wantXC, h["X-Client-Subject"], step.name)
	}
}

func TestParseXFFMode(t *testing.T) {
	for in, want := range map[string]XFFMode{"": XFFAppend, "append": XFFAppend, "preserve": XFFPreserve, "remove": XFFRemove} {
		got, err := ParseXFFMode(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := ParseXFFMode("replace")
	require.ErrorContains(t, err, "append, preserve or remove")
}
