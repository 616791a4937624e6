package alb

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"strings"
)

// The public keys ALB accepts in client and CA certificates
// (alb-behaviour §1.3 "Supported public keys"): RSA from MinRSABits to
// MaxRSABits, or ECDSA on P-256, P-384 or P-521.
const (
	MinRSABits = 2048
	MaxRSABits = 8192
)

// SupportedKeys describes the rule of SupportedPublicKey for messages.
const SupportedKeys = "RSA 2048-8192 and ECDSA P-256/P-384/P-521"

// SupportedPublicKey reports whether ALB accepts a certificate's public key
// (alb-behaviour §1.3) and describes the key ("RSA 1024", "ECDSA P-224",
// "Ed25519") for messages. The trust store applies it to CA certificates,
// verify to every certificate a client sends, and the pki oracle to predict
// ClientCertTypeUnsupported.
func SupportedPublicKey(pub any) (desc string, ok bool) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		bits := k.N.BitLen()
		return fmt.Sprintf("RSA %d", bits), bits >= MinRSABits && bits <= MaxRSABits
	case *ecdsa.PublicKey:
		if k.Curve == nil {
			return "ECDSA (no curve)", false
		}
		name := k.Curve.Params().Name
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return "ECDSA " + name, true
		}
		return "ECDSA " + name, false
	case ed25519.PublicKey:
		return "Ed25519", false
	default:
		return strings.TrimPrefix(fmt.Sprintf("%T", pub), "*"), false
	}
}
