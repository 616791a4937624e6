//lint:file-ignore SA1008 the tests build headers under the exact, non-canonical names a client or an HTTP/2 peer can send

package albheader

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/connfacts"
)

// cgiEnviron is what a CGI-style target makes of a request's headers: Python
// WSGI (wsgiref, Django, Flask), PHP $_SERVER, Rack and FastCGI upper-case
// the name, turn '-' (PHP also '.', Apache 2.2 anything else) into '_' and
// prefix HTTP_; lines that fold onto one variable are joined with ",", as
// wsgiref does.
func cgiEnviron(h http.Header) map[string]string {
	env := map[string]string{}
	for k, vs := range h {
		var b strings.Builder
		b.WriteString("HTTP_")
		for i := 0; i < len(k); i++ {
			c := k[i]
			switch {
			case 'a' <= c && c <= 'z':
				b.WriteByte(c - 'a' + 'A')
			case 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
				b.WriteByte(c)
			default:
				b.WriteByte('_')
			}
		}
		for _, v := range vs {
			if old, ok := env[b.String()]; ok {
				env[b.String()] = old + "," + v
			} else {
				env[b.String()] = v
			}
		}
	}
	return env
}

// variantSpellings are client-sent spellings that a CGI-style target folds
// onto a header the emulator owns, and are not that header's own name.
var variantSpellings = []string{
	"X_Amzn_Mtls_Clientcert_Subject",
	"X_Amzn_Mtls_Clientcert",
	"X_Amzn_Mtls_Clientcert_Leaf",
	"X-Amzn_Mtls-Clientcert_Subject",
	"x_amzn_mtls_clientcert_serial_number",
	"X_AMZN_MTLS_CLIENTCERT_ISSUER",
	"X_Amzn_Mtls_Clientcert_Validity",
	"X.Amzn.Mtls.Clientcert.Subject", // PHP folds '.' onto '_' too
	"X_Amzn_Tls_Version",
	"x-amzn_tls-cipher_suite",
	"X_Client_Subject", // renamed subject header (renamedAttributes)
	"X_Client_Cert_Chain",
	"X_Tls_Version",
	"X_Forwarded_For",
	"X_Forwarded_Proto",
	"X_Forwarded_Port",
	"X_Amzn_Trace_Id",
}

// TestNameVariantsNeverReachACGITarget is issue 19 item 1: in every mode,
// with default and renamed names, no client value reaches a CGI-style
// target's variable for a header the emulator owns.
func TestNameVariantsNeverReachACGITarget(t *testing.T) {
	pki := newPKI(t)
	var raw strings.Builder
	raw.WriteString("GET / HTTP/1.1\nHost: a\nX_Custom_Header: kept\nX-Amzn-Mtls-Clientcert-Subjects: kept\nX_Amzn_Mtls_Clientcert__Subject: kept\n")
	for i, n := range variantSpellings {
		fmt.Fprintf(&raw, "%s: spoof-%d\n", n, i)
	}
	raw.WriteString("\n")
	for _, mode := range []string{ModeOff, ModePassthrough, ModeVerify} {
		for _, attrs := range []map[string]string{nil, renamedAttributes} {
			t.Run(fmt.Sprintf("%s/renamed=%v", mode, attrs != nil), func(t *testing.T) {
				opts, err := OptionsFromAttributes(attrs)
				require.NoError(t, err)
				conn := Conn{Mode: mode, Scheme: "https", ListenerPort: 443, TLS: connfacts.NewTLS(tls.VersionTLS13, tls.TLS_AES_128_GCM_SHA256, 0)}
				if mode != ModeOff {
					conn.Cert = connfacts.NewCert(pki.leaf, [][]byte{pki.leaf.Raw})
				}
				req := parseRequest(t, raw.String())
				require.NoError(t, Apply(req.Header, &conn, &opts, traceNow, fixedRand(traceRand)))
				owned := http.Header{}
				for _, n := range append(append(opts.Names.list(), DefaultNames().list()...), XForwardedFor, XForwardedProto, XForwardedPort, TraceID) {
					owned.Set(n, "")
				}
				env := cgiEnviron(req.Header)
				for k := range cgiEnviron(owned) {
					assert.NotContains(t, env[k], "spoof", "a CGI-style target reads %s = %q", k, env[k])
				}
				for _, k := range []string{"X_Custom_Header", "X-Amzn-Mtls-Clientcert-Subjects", "X_Amzn_Mtls_Clientcert__Subject"} {
					assert.Equal(t, []string{"kept"}, req.Header[http.CanonicalHeaderKey(k)], "%s folds onto no owned header", k)
				}
			})
		}
	}
}

// TestNameVariantsKnob: strip_header_name_variants off rehearses an ALB that
// forwards the variants (their fate on ALB is [UNK]); the exact names are
// still stripped, by strip_client_headers.
func TestNameVariantsKnob(t *testing.T) {
	opts, err := OptionsFromAttributes(map[string]string{AttrClientCertSubjectName: "X-Client-Subject"})
	require.NoError(t, err)
	assert.True(t, opts.StripNameVariants, "on by default")
	opts.StripNameVariants = false
	h := http.Header{
		"X_Amzn_Mtls_Clientcert_Subject": {"spoof"},
		"X_Client_Subject":               {"spoof"},
		"X_Forwarded_For":                {"spoof"},
		ClientCertSubject:                {"spoof"},
		"X-Client-Subject":               {"spoof"},
	}
	require.NoError(t, Apply(h, &Conn{Mode: ModeOff}, &opts, traceNow, fixedRand(traceRand)))
	assert.Equal(t, []string{"spoof"}, h["X_Amzn_Mtls_Clientcert_Subject"])
	assert.Equal(t, []string{"spoof"}, h["X_Client_Subject"])
	assert.Equal(t, []string{"spoof"}, h["X_Forwarded_For"])
	assert.Empty(t, h.Values(ClientCertSubject))
	assert.Empty(t, h.Values("X-Client-Subject"))
}

// TestDropInvalidHeaderFields is routing.http.drop_invalid_header_fields.enabled:
// when true, header fields whose names are not [-A-Za-z0-9]+ are removed,
// whatever they are; false (ALB's default) forwards them.
func TestDropInvalidHeaderFields(t *testing.T) {
	for _, tc := range []struct {
		value   string
		want    bool
		wantErr string
	}{
		{"", false, ""},
		{"false", false, ""},
		{"true", true, ""},
		{"yes", false, `routing.http.drop_invalid_header_fields.enabled: "yes" is not a boolean: use true or false`},
	} {
		opts, err := OptionsFromAttributes(map[string]string{AttrDropInvalidHeaderFields: tc.value})
		if tc.wantErr != "" {
			assert.ErrorContains(t, err, tc.wantErr)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.want, opts.DropInvalidHeaderFields, tc.value)
	}
	for _, variants := range []bool{true, false} {
		opts, err := OptionsFromAttributes(map[string]string{AttrDropInvalidHeaderFields: "true"})
		require.NoError(t, err)
		opts.StripNameVariants = variants
		h := http.Header{
			"X_Custom":                       {"dropped"},
			"X.Dotted":                       {"dropped"},
			"X_Amzn_Mtls_Clientcert_Subject": {"dropped"},
			"X-Good-9":                       {"kept"},
			"Accept":                         {"kept"},
		}
		require.NoError(t, Apply(h, &Conn{Mode: ModeOff}, &opts, traceNow, fixedRand(traceRand)))
		for k, vs := range h {
			assert.NotEqual(t, []string{"dropped"}, vs, "%s survived (variants=%v)", k, variants)
		}
		assert.Equal(t, "kept", h.Get("X-Good-9"))
		assert.Equal(t, "kept", h.Get("Accept"))
	}
	// Off: an invalid name that folds onto nothing the emulator owns passes.
	opts := DefaultOptions()
	h := http.Header{"X_Custom": {"kept"}}
	require.NoError(t, Apply(h, &Conn{Mode: ModeOff}, &opts, traceNow, fixedRand(traceRand)))
	assert.Equal(t, []string{"kept"}, h["X_Custom"], "Get would canonicalise the key")
}

func TestFoldEqual(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"X-Amzn-Mtls-Clientcert", "X_AMZN_MTLS_CLIENTCERT", true},
		{"X-Amzn-Mtls-Clientcert", "x.amzn-mtls_clientcert", true},
		{"X-Amzn-Mtls-Clientcert", "X-Amzn-Mtls-Clientcert-Leaf", false},
		{"X-Amzn-Mtls-Clientcert", "X-Amzn-Mtls-Clientcerq", false},
		{"X-A", "XaA", false},
		{"X-A", "X-A", true},
	} {
		assert.Equal(t, tc.want, foldEqual(tc.a, tc.b), "%s vs %s", tc.a, tc.b)
	}
}

// TestClientCopies: with stripping off, a client's copy of a header the
// load balancer sets is replaced (the default) or kept beside ALB's line,
// first or last (emulation.client_header_duplicates, [UNK] alb-behaviour §10.4).
func TestClientCopies(t *testing.T) {
	pki := newPKI(t)
	for _, tc := range []struct {
		copies Copies
		want   func(alb string) []string
	}{
		{"", func(alb string) []string { return []string{alb} }},
		{CopiesReplace, func(alb string) []string { return []string{alb} }},
		{CopiesClientFirst, func(alb string) []string { return []string{"spoof", alb} }},
		{CopiesClientLast, func(alb string) []string { return []string{alb, "spoof"} }},
	} {
		opts := DefaultOptions()
		opts.StripClientHeaders, opts.ClientCopies = false, tc.copies
		h := http.Header{ClientCertSubject: {"spoof"}}
		require.NoError(t, Apply(h, &Conn{Mode: ModeVerify, Cert: connfacts.NewCert(pki.leaf, nil)}, &opts, traceNow, fixedRand(traceRand)))
		alb := h.Values(ClientCertSubject)[len(h.Values(ClientCertSubject))-1]
		if tc.copies == CopiesClientLast {
			alb = h.Values(ClientCertSubject)[0]
		}
		assert.NotEqual(t, "spoof", alb)
		assert.Equal(t, tc.want(alb), h.Values(ClientCertSubject), string(tc.copies))
	}
	// With stripping on the client's copy is gone whatever the knob says.
	opts := DefaultOptions()
	opts.ClientCopies = CopiesClientFirst
	h := http.Header{ClientCertSubject: {"spoof"}}
	require.NoError(t, Apply(h, &Conn{Mode: ModeVerify, Cert: connfacts.NewCert(pki.leaf, nil)}, &opts, traceNow, fixedRand(traceRand)))
	assert.Len(t, h.Values(ClientCertSubject), 1)
	assert.NotEqual(t, "spoof", h.Get(ClientCertSubject))
}

// TestApplyLines: ApplyLines leaves the same request as Apply, less the
// connection's headers, which it returns as the header lines net/http's
// Header.Write renders from Apply's map (the bytes ForwardDirect writes
// ahead of Host); the trace id and X-Forwarded-* stay in the map. Where
// the client's copies stay beside ALB's (stripping off, copies first or
// last) the lines are nil and the map is Apply's.
func TestApplyLines(t *testing.T) {
	pki := newPKI(t)
	chain := [][]byte{pki.leaf.Raw, pki.intermediate.Raw}
	verify := Conn{Mode: ModeVerify, Cert: connfacts.NewCert(pki.leaf, chain), TLS: connfacts.TLS{Version: tls.VersionTLS13, Protocol: "TLSv1.3", Cipher: "TLS_AES_128_GCM_SHA256"},
		Client: netip.MustParseAddrPort("192.0.2.7:4711"), ListenerPort: 443, Scheme: "https"}
	passthrough := verify
	passthrough.Mode = ModePassthrough
	for _, tc := range []struct {
		name   string
		conn   Conn
		strip  bool
		copies Copies
		nil    bool // the lines are nil: Apply's map
	}{
		{"verify", verify, true, "", false},
		{"passthrough", passthrough, true, "", false},
		{"off", Conn{Mode: ModeOff, Client: verify.Client, Scheme: "https"}, true, "", false},
		{"stripping off, replaced", verify, false, CopiesReplace, false},
		{"stripping off, client first", verify, false, CopiesClientFirst, true},
		{"stripping off, client last", verify, false, CopiesClientLast, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := DefaultOptions()
			opts.TLSHeaders = true
			opts.StripClientHeaders, opts.ClientCopies = tc.strip, tc.copies
			ch := NewConnHeaders(&tc.conn, &opts)
			client := func() http.Header {
				return http.Header{"Accept": {"*/*"}, ClientCertSubject: {"spoof"}, ClientCert: {"spoof"},
					XForwardedFor: {"198.51.100.1"}, TraceID: {"Root=1-5759e988-bd862e3fe1be46a994272793"}}
			}
			want := client()
			require.NoError(t, ch.Apply(want, traceNow, fixedRand(traceRand)))
			got := client()
			lines, err := ch.ApplyLines(got, traceNow, fixedRand(traceRand))
			require.NoError(t, err)
			if tc.nil {
				assert.Nil(t, lines)
				assert.Equal(t, want, got)
				return
			}
			var rendered bytes.Buffer
			conn := http.Header{}
			for _, k := range ch.keys {
				conn[k] = want[k]
				delete(want, k)
			}
			require.NoError(t, conn.Write(&rendered))
			assert.Equal(t, want, got, "the map less the connection's headers")
			assert.ElementsMatch(t, lineSet(rendered.String()), lineSet(string(lines)), "the lines Header.Write renders")
			assert.Equal(t, len(ch.keys), strings.Count(string(lines), "\r\n"), "one line per header, in ALB's order")
			for i, k := range ch.keys {
				assert.True(t, strings.HasPrefix(strings.Split(string(lines), "\r\n")[i], k+": "), "line %d is %s", i, k)
			}
		})
	}
}

// lineSet splits rendered header lines, for comparing them out of order.
func lineSet(s string) []string { return strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n") }

// TestAppendLine: a value as Header.Write writes it.
func TestAppendLine(t *testing.T) {
	for _, v := range []string{"plain", "  padded\t", "CN=a\r\nInjected: 1", "\r\nlead and tail\n", ""} {
		var want bytes.Buffer
		require.NoError(t, http.Header{"X-Test": {v}}.Write(&want))
		assert.Equal(t, want.String(), string(appendLine(nil, "X-Test", v)), "%q", v)
	}
	assert.Empty(t, appendLine(nil, "Bad Name", "v"), "an invalid name is not written")
}
