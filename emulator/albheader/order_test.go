package albheader

import (
	"crypto/tls"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/albmtls/albmtls/emulator/connfacts"
)

// TestOrder pins ALB's order up to Host and after it (alb-behaviour §4.1):
// X-Forwarded-*, the mTLS headers in the EID capture's order (renamed ones
// in the same place), the TLS headers; the trace id after Host. With
// "sorted" there is no order.
func TestOrder(t *testing.T) {
	pki := newPKI(t)
	chain := [][]byte{pki.leaf.Raw, pki.intermediate.Raw}
	tlsFacts := connfacts.NewTLS(tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 0)
	xf := []string{XForwardedFor, XForwardedProto, XForwardedPort}
	for _, tc := range []struct {
		name   string
		conn   Conn
		rename bool
		want   []string
	}{
		{"verify", Conn{Mode: ModeVerify, Cert: connfacts.NewCert(pki.leaf, chain), TLS: tlsFacts},
			false, append(xf[:3:3], ClientCertSerialNumber, ClientCertIssuer, ClientCertSubject, ClientCertValidity, ClientCertLeaf, TLSVersion, TLSCipherSuite)},
		{"verify, renamed subject", Conn{Mode: ModeVerify, Cert: connfacts.NewCert(pki.leaf, chain), TLS: tlsFacts},
			true, append(xf[:3:3], ClientCertSerialNumber, ClientCertIssuer, "X-Client-Subject", ClientCertValidity, ClientCertLeaf, TLSVersion, TLSCipherSuite)},
		{"passthrough", Conn{Mode: ModePassthrough, Cert: connfacts.NewCert(pki.leaf, chain), TLS: tlsFacts},
			false, append(xf[:3:3], ClientCert, TLSVersion, TLSCipherSuite)},
		{"off", Conn{Mode: ModeOff}, false, xf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := DefaultOptions()
			opts.TLSHeaders = true
			if tc.rename {
				opts.Names.ClientCertSubject = "x-client-subject"
			}
			before, after, ok := NewConnHeaders(&tc.conn, &opts).Order()
			assert.True(t, ok)
			assert.Equal(t, tc.want, before)
			assert.Equal(t, []string{TraceID}, after)
			opts.Order = OrderSorted
			_, _, ok = NewConnHeaders(&tc.conn, &opts).Order()
			assert.False(t, ok)
		})
	}
}
