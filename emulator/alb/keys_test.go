package alb_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/alb"
)

// SupportedPublicKey is the key rule of alb-behaviour §1.3 that the trust
// store, verify and the pki oracle all apply.
func TestSupportedPublicKey(t *testing.T) {
	ec := func(c elliptic.Curve) any {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		require.NoError(t, err)
		return &k.PublicKey
	}
	rsaKey := func(bits int) any {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		require.NoError(t, err)
		return &k.PublicKey
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	cases := []struct {
		key  any
		desc string
		ok   bool
	}{
		{ec(elliptic.P224()), "ECDSA P-224", false},
		{ec(elliptic.P256()), "ECDSA P-256", true},
		{ec(elliptic.P384()), "ECDSA P-384", true},
		{ec(elliptic.P521()), "ECDSA P-521", true},
		{rsaKey(1024), "RSA 1024", false},
		{rsaKey(alb.MinRSABits), "RSA 2048", true},
		{edPub, "Ed25519", false},
		{"not a key", "string", false},
	}
	for _, c := range cases {
		desc, ok := alb.SupportedPublicKey(c.key)
		assert.Equal(t, c.desc, desc)
		assert.Equal(t, c.ok, ok, c.desc)
	}
}
