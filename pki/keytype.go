package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"strings"
)

// KeyType names a key algorithm and size. It is a string so that it reads
// the same in flags, the manifest and error messages.
//
//	ecdsa-p256  ECDSA on secp256r1: ALB-supported, fast (the default)
//	ecdsa-p384  ECDSA on secp384r1: ALB-supported
//	ecdsa-p521  ECDSA on secp521r1: ALB-supported
//	rsa-1024    RSA 1024: rejected by ALB (ClientCertTypeUnsupported)
//	rsa-2048    RSA 2048: ALB-supported
//	rsa-3072    RSA 3072: ALB-supported
//	rsa-4096    RSA 4096: ALB-supported
//	rsa-8192    RSA 8192: ALB-supported, very slow to generate
//	ed25519     Ed25519: rejected by ALB (ClientCertTypeUnsupported)
type KeyType string

// The key types the PKI can create.
const (
	ECDSAP256 KeyType = "ecdsa-p256"
	ECDSAP384 KeyType = "ecdsa-p384"
	ECDSAP521 KeyType = "ecdsa-p521"
	RSA1024   KeyType = "rsa-1024"
	RSA2048   KeyType = "rsa-2048"
	RSA3072   KeyType = "rsa-3072"
	RSA4096   KeyType = "rsa-4096"
	RSA8192   KeyType = "rsa-8192"
	Ed25519   KeyType = "ed25519"
)

// DefaultKeyType is used wherever a request leaves KeyType empty: ECDSA
// P-256 keys take microseconds, so a whole PKI is built in milliseconds.
const DefaultKeyType = ECDSAP256

// KeyTypes lists every valid KeyType in a stable order, for help texts and
// error messages.
func KeyTypes() []KeyType {
	return []KeyType{ECDSAP256, ECDSAP384, ECDSAP521, RSA1024, RSA2048, RSA3072, RSA4096, RSA8192, Ed25519}
}

// ParseKeyType turns a flag or manifest value into a KeyType. The error lists
// the valid values so that a typo is fixed in one attempt.
func ParseKeyType(s string) (KeyType, error) {
	for _, kt := range KeyTypes() {
		if string(kt) == strings.ToLower(strings.TrimSpace(s)) {
			return kt, nil
		}
	}
	return "", fmt.Errorf("unknown key type %q: valid values are %s", s, keyTypeList())
}

func keyTypeList() string {
	names := make([]string, 0, len(KeyTypes()))
	for _, kt := range KeyTypes() {
		names = append(names, string(kt))
	}
	return strings.Join(names, ", ")
}

// ALBSupported reports whether ALB accepts a client certificate key of this
// type: RSA 2048-8192 or ECDSA P-256/384/521 (alb-behaviour §1.3).
func (kt KeyType) ALBSupported() bool {
	switch kt {
	case ECDSAP256, ECDSAP384, ECDSAP521, RSA2048, RSA3072, RSA4096, RSA8192:
		return true
	}
	return false
}

func (kt KeyType) orDefault() KeyType {
	if kt == "" {
		return DefaultKeyType
	}
	return kt
}

// Generate creates a fresh private key of this type. Keys come from the
// standard library rather than cfssl's csr.KeyRequest because cfssl refuses
// RSA keys under 2048 bits, which the failure catalogue needs (weak-rsa).
func (kt KeyType) Generate() (crypto.Signer, error) {
	switch kt.orDefault() {
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case ECDSAP521:
		return ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case RSA1024:
		return rsa.GenerateKey(rand.Reader, 1024)
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case RSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	case RSA8192:
		return rsa.GenerateKey(rand.Reader, 8192)
	case Ed25519:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	return nil, fmt.Errorf("cannot generate key of unknown type %q: valid values are %s", kt, keyTypeList())
}

// KeyTypeOf names the type of a public key, so that loaded certificates can
// be described and checked against ALB's list. It returns "" for key types
// the PKI does not create (DSA, RSA of an odd size, other curves).
func KeyTypeOf(pub crypto.PublicKey) KeyType {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return ECDSAP256
		case elliptic.P384():
			return ECDSAP384
		case elliptic.P521():
			return ECDSAP521
		}
	case *rsa.PublicKey:
		kt := KeyType(fmt.Sprintf("rsa-%d", k.N.BitLen()))
		if _, err := ParseKeyType(string(kt)); err == nil {
			return kt
		}
	case ed25519.PublicKey:
		return Ed25519
	}
	return ""
}
