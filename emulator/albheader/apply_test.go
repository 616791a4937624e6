package albheader

import (
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/albmtls/albmtls/emulator/connfacts"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var traceNow = time.Unix(0x67891234, 0)

const traceRand = "12456789abcdef0123456789"

func TestXForwardedFor(t *testing.T) {
	v4 := netip.MustParseAddrPort("12.34.56.78:8080")
	v6 := netip.MustParseAddrPort("[2001:db8:85a3::8a2e:370:7348]:8080")
	mapped := netip.MustParseAddrPort("[::ffff:192.0.2.1]:443")
	zoned := netip.AddrPortFrom(netip.MustParseAddr("fe80::1%eth0"), 9)
	for _, tc := range []struct {
		name     string
		mode     XFFMode
		port     bool
		client   netip.AddrPort
		incoming []string
		want     []string
	}{
		{"append, no incoming", XFFAppend, false, v4, nil, []string{"12.34.56.78"}},
		{"append to incoming", XFFAppend, false, v4, []string{"127.0.0.4"}, []string{"127.0.0.4, 12.34.56.78"}},
		{"append to several lines", XFFAppend, false, v4, []string{"10.0.0.1, 10.0.0.2", " 10.0.0.3 ", ""}, []string{"10.0.0.1, 10.0.0.2, 10.0.0.3, 12.34.56.78"}},
		{"append with port", XFFAppend, true, v4, nil, []string{"12.34.56.78:8080"}},
		{"append ipv6", XFFAppend, false, v6, nil, []string{"2001:db8:85a3::8a2e:370:7348"}},
		{"append ipv6 with port", XFFAppend, true, v6, nil, []string{"[2001:db8:85a3::8a2e:370:7348]:8080"}},
		{"ipv4-mapped address unmapped", XFFAppend, true, mapped, nil, []string{"192.0.2.1:443"}},
		{"zone dropped", XFFAppend, false, zoned, nil, []string{"fe80::1"}},
		{"append, unknown client", XFFAppend, false, netip.AddrPort{}, []string{"1.1.1.1"}, []string{"1.1.1.1"}},
		{"empty mode is append", "", false, v4, nil, []string{"12.34.56.78"}},
		{"preserve", XFFPreserve, true, v4, []string{"1.1.1.1", "2.2.2.2"}, []string{"1.1.1.1", "2.2.2.2"}},
		{"preserve, none incoming", XFFPreserve, false, v4, nil, nil},
		{"remove", XFFRemove, true, v4, []string{"1.1.1.1"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := DefaultOptions()
			opts.XFFMode, opts.XFFClientPort = tc.mode, tc.port
			h := http.Header{}
			for _, v := range tc.incoming {
				h.Add(XForwardedFor, v)
			}
			require.NoError(t, Apply(h, &Conn{Client: tc.client}, &opts, traceNow, fixedRand(traceRand)))
			assert.Equal(t, tc.want, h.Values(XForwardedFor))
		})
	}
}

func TestXFFCount(t *testing.T) {
	h := http.Header{}
	assert.Equal(t, 0, XFFCount(h))
	h.Add(XForwardedFor, "1.1.1.1, 2.2.2.2")
	h.Add(XForwardedFor, "3.3.3.3,,  ")
	assert.Equal(t, 3, XFFCount(h))

	addrs := make([]string, MaxXFFAddresses+1)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("10.0.0.%d", i)
	}
	h.Set(XForwardedFor, strings.Join(addrs, ", "))
	assert.Greater(t, XFFCount(h), MaxXFFAddresses, "31 addresses: ALB answers 463")
	h.Set(XForwardedFor, strings.Join(addrs[:30], ", "))
	assert.Equal(t, MaxXFFAddresses, XFFCount(h))
}

func TestTraceID(t *testing.T) {
	const self = "1-67891234-12456789abcdef0123456789"
	for _, tc := range []struct {
		name, incoming, want string
		big                  bool
	}{
		{"none", "", "Root=" + self, false},
		{"root", "Root=1-67891233-abcdef012345678912345678", "Self=" + self + ";Root=1-67891233-abcdef012345678912345678", false},
		{"root and custom field", "Root=1-67891233-abcdef012345678912345678;CalledFrom=app",
			"Self=" + self + ";Root=1-67891233-abcdef012345678912345678;CalledFrom=app", false},
		{"self updated in place", "Self=1-00000001-000000000000000000000000;Root=1-67891233-abcdef012345678912345678;CalledFrom=app",
			"Self=" + self + ";Root=1-67891233-abcdef012345678912345678;CalledFrom=app", false},
		{"spaces and empty fields", " Root=1-67891233-abcdef012345678912345678 ; ;Sampled=1;", "Self=" + self + ";Root=1-67891233-abcdef012345678912345678;Sampled=1", false},
		{"custom fields only", "CalledFrom=app", "Root=" + self + ";CalledFrom=app", false},
		{"headers over 7 KB", "Root=1-67891233-abcdef012345678912345678", "Root=" + self, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.incoming != "" {
				h.Set(TraceID, tc.incoming)
			}
			if tc.big {
				h.Set("Cookie", strings.Repeat("c", traceRewriteSize))
			}
			opts := DefaultOptions()
			require.NoError(t, Apply(h, &Conn{}, &opts, traceNow, fixedRand(traceRand)))
			assert.Equal(t, []string{tc.want}, h.Values(TraceID))
		})
	}

	// With crypto/rand, ids have the documented shape and differ.
	opts := DefaultOptions()
	ch := NewConnHeaders(&Conn{}, &opts)
	seen := map[string]bool{}
	for range 3 {
		h := http.Header{}
		require.NoError(t, ch.Apply(h, time.Unix(1740918553, 0), nil))
		id := h.Get(TraceID)
		assert.Regexp(t, `^Root=1-67c44f19-[0-9a-f]{24}$`, id)
		assert.False(t, seen[id], "trace ids repeat")
		seen[id] = true
	}

	var id [traceIDLen]byte
	err := newTraceID(&id, traceNow, errReader{})
	require.ErrorContains(t, err, "randomness for X-Amzn-Trace-Id")
	require.Error(t, ch.Apply(http.Header{}, traceNow, errReader{}))
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestForwardedProtoAndPort(t *testing.T) {
	opts := DefaultOptions()
	h := http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Port": {"443"}}
	require.NoError(t, Apply(h, &Conn{Scheme: "http", ListenerPort: 80}, &opts, traceNow, fixedRand(traceRand)))
	assert.Equal(t, []string{"http"}, h.Values(XForwardedProto))
	assert.Equal(t, []string{"80"}, h.Values(XForwardedPort))
}

func TestTLSHeaders(t *testing.T) {
	conn := Conn{Mode: ModeOff, Scheme: "https", TLS: connfacts.NewTLS(tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 0)}
	for _, tc := range []struct {
		name                string
		enabled             bool
		plain               bool
		wantVersion, wantCS string
	}{
		{"disabled by default", false, false, "", ""},
		{"enabled, OpenSSL names", true, false, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"},
		{"plain HTTP has no TLS headers", true, true, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := DefaultOptions()
			opts.TLSHeaders = tc.enabled
			c := conn
			if tc.plain {
				c.TLS, c.Scheme = connfacts.TLS{}, "http"
			}
			h := http.Header{}
			require.NoError(t, Apply(h, &c, &opts, traceNow, fixedRand(traceRand)))
			assert.Equal(t, tc.wantVersion, h.Get(TLSVersion))
			assert.Equal(t, tc.wantCS, h.Get(TLSCipherSuite))
		})
	}
}

// TestModes checks which mTLS headers each mode sends (alb-behaviour §4.1).
func TestModes(t *testing.T) {
	pki := newPKI(t)
	chain := [][]byte{pki.leaf.Raw, pki.intermediate.Raw}
	verifyNames := []string{ClientCertSerialNumber, ClientCertIssuer, ClientCertSubject, ClientCertValidity, ClientCertLeaf}
	for _, tc := range []struct {
		name string
		conn Conn
		want []string
	}{
		{"verify", Conn{Mode: ModeVerify, Cert: connfacts.NewCert(pki.leaf, chain)}, verifyNames},
		{"verify, leaf parsed from the chain", Conn{Mode: ModeVerify, Cert: connfacts.NewCert(nil, chain)}, verifyNames},
		{"verify, unparseable chain", Conn{Mode: ModeVerify, Cert: connfacts.NewCert(nil, [][]byte{{0x30, 0x00}})}, nil},
		{"verify, no certificate", Conn{Mode: ModeVerify}, nil},
		{"passthrough", Conn{Mode: ModePassthrough, Cert: connfacts.NewCert(nil, chain)}, []string{ClientCert}},
		{"passthrough, no certificate: header absent, not empty", Conn{Mode: ModePassthrough}, nil},
		{"off", Conn{Mode: ModeOff, Cert: connfacts.NewCert(pki.leaf, chain)}, nil},
		{"unknown mode is off", Conn{Mode: "Verify", Cert: connfacts.NewCert(pki.leaf, chain)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := DefaultOptions()
			h := http.Header{}
			require.NoError(t, Apply(h, &tc.conn, &opts, traceNow, fixedRand(traceRand)))
			var got []string
			for _, n := range DefaultNames().list() {
				if _, ok := h[n]; ok {
					got = append(got, n)
				}
			}
			assert.ElementsMatch(t, tc.want, got)
		})
	}
}

// TestSpoofedHeadersNeverSurvive sends every identity header name, default
// and renamed, in several casings, in every mode and configuration: with
// stripping on (the default) no client value reaches the target.
func TestSpoofedHeadersNeverSurvive(t *testing.T) {
	pki := newPKI(t)
	renamed, err := OptionsFromAttributes(renamedAttributes)
	require.NoError(t, err)
	names := append(DefaultNames().list(), renamed.Names.list()...)
	var raw strings.Builder
	raw.WriteString("GET / HTTP/1.1\nHost: a\n")
	for i, n := range names {
		for j, variant := range []string{n, strings.ToLower(n), strings.ToUpper(n)} {
			fmt.Fprintf(&raw, "%s: spoof-%d-%d\n", variant, i, j)
		}
	}
	raw.WriteString("\n")

	for _, mode := range []string{ModeOff, ModePassthrough, ModeVerify} {
		for _, withCert := range []bool{false, true} {
			for _, attrs := range []map[string]string{nil, renamedAttributes} {
				name := fmt.Sprintf("%s/cert=%v/renamed=%v", mode, withCert, attrs != nil)
				t.Run(name, func(t *testing.T) {
					opts, err := OptionsFromAttributes(attrs)
					require.NoError(t, err)
					opts.TLSHeaders = true
					conn := Conn{Mode: mode, Scheme: "https", ListenerPort: 443, TLS: connfacts.NewTLS(tls.VersionTLS13, tls.TLS_AES_128_GCM_SHA256, 0)}
					if withCert {
						conn.Cert = connfacts.NewCert(pki.leaf, [][]byte{pki.leaf.Raw})
					}
					req := parseRequest(t, raw.String())
					// A handler may also see non-canonical keys (set by code).
					req.Header["x-amzn-mtls-clientcert-subject"] = []string{"spoof-raw-key"}
					require.NoError(t, Apply(req.Header, &conn, &opts, traceNow, fixedRand(traceRand)))
					// Every name that is an identity header in this configuration.
					protected := append(opts.Names.list(), DefaultNames().list()...)
					for k, vs := range req.Header {
						if !containsFold(protected, k) {
							continue
						}
						for _, v := range vs {
							assert.NotContains(t, v, "spoof", "%s: %s survived", name, k)
						}
					}
					assert.Positive(t, len(req.Header), "the request kept its other headers")
				})
			}
		}
	}

	// With stripping off, the client's value reaches the target wherever ALB
	// sets no header of that name: the rehearsal the knob exists for.
	opts := DefaultOptions()
	opts.StripClientHeaders = false
	h := http.Header{ClientCertSubject: {"spoof"}}
	require.NoError(t, Apply(h, &Conn{Mode: ModePassthrough}, &opts, traceNow, fixedRand(traceRand)))
	assert.Equal(t, "spoof", h.Get(ClientCertSubject))
	// ... and ALB's own value still replaces a spoofed one it does set.
	h = http.Header{ClientCertSubject: {"spoof"}}
	require.NoError(t, Apply(h, &Conn{Mode: ModeVerify, Cert: connfacts.NewCert(pki.leaf, nil)}, &opts, traceNow, fixedRand(traceRand)))
	assert.NotContains(t, h.Values(ClientCertSubject), "spoof")
	assert.Len(t, h.Values(ClientCertSubject), 1)

	// A rename frees the default name when StripDefaultNames is off.
	opts, err = OptionsFromAttributes(map[string]string{AttrClientCertSubjectName: "X-Client-Subject"})
	require.NoError(t, err)
	opts.StripDefaultNames = false
	h = http.Header{ClientCertSubject: {"spoof"}, "X-Client-Subject": {"spoof"}}
	require.NoError(t, Apply(h, &Conn{Mode: ModeOff}, &opts, traceNow, fixedRand(traceRand)))
	assert.Equal(t, "spoof", h.Get(ClientCertSubject))
	assert.Empty(t, h.Get("X-Client-Subject"))
}

// TestConnHeadersReuse applies one connection's headers to many requests: the
// values are the same and requests do not share value storage.
func TestConnHeadersReuse(t *testing.T) {
	pki := newPKI(t)
	opts := DefaultOptions()
	ch := NewConnHeaders(&Conn{Mode: ModeVerify, Cert: connfacts.NewCert(pki.leaf, nil), Scheme: "https", ListenerPort: 443}, &opts)
	h1, h2 := http.Header{}, http.Header{}
	require.NoError(t, ch.Apply(h1, traceNow, nil))
	require.NoError(t, ch.Apply(h2, traceNow, nil))
	assert.Equal(t, h1.Get(ClientCertSubject), h2.Get(ClientCertSubject))
	h1[ClientCertSubject][0] = "changed"
	h1.Add(ClientCertSerialNumber, "appended")
	assert.NotEqual(t, "changed", h2.Get(ClientCertSubject))
	assert.Len(t, h2.Values(ClientCertSerialNumber), 1)
	h3 := http.Header{}
	require.NoError(t, ch.Apply(h3, traceNow, nil))
	assert.Equal(t, h2.Get(ClientCertSubject), h3.Get(ClientCertSubject))
}
