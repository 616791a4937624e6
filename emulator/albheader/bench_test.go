package albheader

import (
	"crypto/tls"
	"github.com/albmtls/albmtls/emulator/connfacts"
	"net/http"
	"net/netip"
	"testing"
	"time"
)

// benchRequest is a typical browser request arriving at the listener.
func benchRequest() http.Header {
	return http.Header{
		"Accept":          {"text/html,application/xhtml+xml"},
		"Accept-Encoding": {"gzip, deflate, br"},
		"Accept-Language": {"en-US,en;q=0.9"},
		"Cookie":          {"session=0123456789abcdef"},
		"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64)"},
		"X-Forwarded-For": {"198.51.100.9"},
	}
}

func benchConn(b *testing.B, mode string) *Conn {
	pki := newPKI(b)
	return &Conn{
		Mode: mode, Cert: connfacts.NewCert(pki.leaf, [][]byte{pki.leaf.Raw, pki.intermediate.Raw}),
		TLS:    connfacts.NewTLS(tls.VersionTLS13, tls.TLS_AES_128_GCM_SHA256, 0),
		Client: netip.MustParseAddrPort("203.0.113.7:51234"), ListenerPort: 443, Scheme: "https",
	}
}

// BenchmarkConnHeadersApply is the per-request cost on a kept-alive
// connection: strip, set, X-Forwarded-*, trace id. Each iteration clones the
// incoming header (as the proxy does); BenchmarkHeaderClone is that part
// alone.
func BenchmarkConnHeadersApply(b *testing.B) {
	for _, mode := range []string{ModeOff, ModePassthrough, ModeVerify} {
		b.Run(mode, func(b *testing.B) {
			opts := DefaultOptions()
			opts.TLSHeaders = true
			ch := NewConnHeaders(benchConn(b, mode), &opts)
			base, now := benchRequest(), time.Now()
			b.ReportAllocs()
			for b.Loop() {
				if err := ch.Apply(base.Clone(), now, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkHeaderClone(b *testing.B) {
	base := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		_ = base.Clone()
	}
}

// BenchmarkNewConnHeaders is the per-connection cost: formatting the
// certificate values (connfacts.NewCert, as the listener does once per
// connection) and the header set.
func BenchmarkNewConnHeaders(b *testing.B) {
	for _, mode := range []string{ModePassthrough, ModeVerify} {
		b.Run(mode, func(b *testing.B) {
			opts := DefaultOptions()
			c := benchConn(b, mode)
			leaf, chain := c.Cert.Leaf, c.Cert.Chain
			b.ReportAllocs()
			for b.Loop() {
				c.Cert = connfacts.NewCert(leaf, chain)
				_ = NewConnHeaders(c, &opts)
			}
		})
	}
}

func BenchmarkResponseApply(b *testing.B) {
	o, err := ResponseOptionsFromAttributes(map[string]string{
		AttrStrictTransportSecurity: "max-age=31536000", AttrXFrameOptions: "DENY", AttrServerEnabled: "false",
	})
	if err != nil {
		b.Fatal(err)
	}
	base := http.Header{"Server": {"nginx"}, "Content-Type": {"text/html"}}
	b.ReportAllocs()
	for b.Loop() {
		o.Apply(base.Clone())
	}
}
