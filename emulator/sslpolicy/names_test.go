package sslpolicy

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCipherName(t *testing.T) {
	tests := []struct {
		id   uint16
		want string
	}{
		{0, ""},
		{tls.TLS_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256"}, // alb-behaviour §7 real line
		{tls.TLS_CHACHA20_POLY1305_SHA256, "TLS_CHACHA20_POLY1305_SHA256"},
		{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256"}, // alb-behaviour §6.3
		{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256"},
		{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, "ECDHE-ECDSA-AES128-SHA256"},
		{tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, "ECDHE-RSA-AES256-SHA"},
		{tls.TLS_RSA_WITH_AES_128_CBC_SHA, "AES128-SHA"},
		{tls.TLS_RSA_WITH_AES_128_CBC_SHA256, "AES128-SHA256"},
		{tls.TLS_RSA_WITH_AES_256_GCM_SHA384, "AES256-GCM-SHA384"},
		{0xC024, "ECDHE-ECDSA-AES256-SHA384"},
		{0x003D, "AES256-SHA256"},
		{0x1305, "0x1305"}, // unknown: Go's fallback
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, CipherName(tt.id))
		})
	}
}

func TestCipherTableAgreesWithIANANames(t *testing.T) {
	// Every name maps back to its ID, and every ID Go knows carries the same
	// algorithms as our OpenSSL name: a typo in an ID or a name fails here.
	checked := 0
	for _, c := range cipherTable {
		id, ok := CipherID(c.name)
		require.True(t, ok, c.name)
		assert.Equal(t, c.id, id, c.name)
		assert.Equal(t, c.name, CipherName(c.id))
		iana := tls.CipherSuiteName(c.id)
		if strings.HasPrefix(iana, "0x") {
			continue // Go does not know this suite (e.g. 0xC024)
		}
		assert.Equal(t, c.name, openSSLName(iana), "IANA %s", iana)
		checked++
	}
	assert.Greater(t, checked, 20)
	_, ok := CipherID("NOT-A-SUITE")
	assert.False(t, ok)
}

// openSSLName converts an IANA suite name to OpenSSL's spelling, independently
// of the table under test.
func openSSLName(iana string) string {
	s := strings.TrimPrefix(iana, "TLS_")
	kx, enc, found := strings.Cut(s, "_WITH_")
	if !found {
		return iana // TLS 1.3 suites keep their IANA names
	}
	r := strings.NewReplacer(
		"AES_128_GCM_", "AES128-GCM-", "AES_256_GCM_", "AES256-GCM-",
		"AES_128_CBC_", "AES128-", "AES_256_CBC_", "AES256-",
		"3DES_EDE_CBC_SHA", "DES-CBC3-SHA", "RC4_128_", "RC4-",
		"CHACHA20_POLY1305_SHA256", "CHACHA20-POLY1305")
	enc = r.Replace(enc)
	if kx == "RSA" {
		return enc
	}
	return strings.ReplaceAll(kx, "_", "-") + "-" + enc
}

func TestVersionName(t *testing.T) {
	tests := []struct {
		v    uint16
		want string
	}{
		{0, ""},
		{0x0300, "SSLv3"},
		{tls.VersionTLS10, "TLSv1"},
		{tls.VersionTLS11, "TLSv1.1"},
		{tls.VersionTLS12, "TLSv1.2"},
		{tls.VersionTLS13, "TLSv1.3"},
		{0x0305, "0x0305"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, VersionName(tt.v), "version %#04x", tt.v)
	}
}

func TestKeyExchangeName(t *testing.T) {
	tests := []struct {
		id   tls.CurveID
		want string
	}{
		{0, ""},
		{tls.CurveP256, "secp256r1"}, // the observed value, alb-behaviour §6.3
		{tls.CurveP384, "secp384r1"},
		{tls.CurveP521, "secp521r1"},
		{tls.X25519, "x25519"},
		{tls.X25519MLKEM768, "X25519MLKEM768"},
		{tls.SecP256r1MLKEM768, "SecP256r1MLKEM768"},
		{tls.SecP384r1MLKEM1024, "SecP384r1MLKEM1024"},
		{tls.CurveID(0x0200), "CurveID(512)"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, KeyExchangeName(tt.id))
	}
}

func BenchmarkNames(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = CipherName(tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
		_ = VersionName(tls.VersionTLS12)
		_ = KeyExchangeName(tls.CurveP256)
	}
}
