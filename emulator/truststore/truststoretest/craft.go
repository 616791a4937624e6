package truststoretest

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/albmtls/albmtls/pki/crlgen"
)

// V1 makes an X.509v1 certificate (no version field, no extensions) for
// key, issued by issuer, or self-signed when issuer is nil. Go cannot make
// these; AWS-LC treats a non-self-signed v1 CA as invalid (alb-behaviour §S1.4).
func V1(tb testing.TB, cn string, key crypto.Signer, issuer *Cert) *Cert {
	tb.Helper()
	subject, err := asn1.Marshal(testName(cn).ToRDNSequence())
	if err != nil {
		tb.Fatal(err)
	}
	issuerName, signer := subject, key
	if issuer != nil {
		issuerName, signer = issuer.Cert.RawSubject, issuer.Key
	}
	spki, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		tb.Fatal(err)
	}
	ai, err := crlgen.SignatureAlgorithm(signer)
	if err != nil {
		tb.Fatal(err)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(nextSerial())
		b.AddBytes(ai)
		b.AddBytes(issuerName)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1UTCTime(Now.Add(-time.Hour))
			b.AddASN1UTCTime(Now.Add(24 * time.Hour))
		})
		b.AddBytes(subject)
		b.AddBytes(spki)
	})
	tbs, err := b.Bytes()
	if err != nil {
		tb.Fatal(err)
	}
	der, err := crlgen.Sign(tbs, ai, signer)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("parsing v1 certificate: %v", err)
	}
	return &Cert{Cert: cert, Key: key}
}

// Tampered returns a copy of c whose signature no longer verifies (the
// last signature byte flipped); the DER still parses.
func Tampered(tb testing.TB, c *Cert) *Cert {
	tb.Helper()
	der := append([]byte(nil), c.Cert.Raw...)
	der[len(der)-1] ^= 0x01
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("parsing tampered certificate: %v", err)
	}
	return &Cert{Cert: cert, Key: c.Key}
}

// TamperedCRL returns a copy of a DER CRL whose signature no longer
// verifies.
func TamperedCRL(der []byte) []byte {
	out := append([]byte(nil), der...)
	out[len(out)-1] ^= 0x01
	return out
}

// SerialsOf returns the certificates' serial numbers.
func SerialsOf(certs ...*Cert) []*big.Int {
	out := make([]*big.Int, len(certs))
	for i, c := range certs {
		out[i] = c.Cert.SerialNumber
	}
	return out
}

// ReplaceSPKI re-signs c with issuer's key after swapping its
// subjectPublicKeyInfo for spki (DER), for key types Go cannot certify
// (X25519, DSA…). It returns the DER certificate.
func ReplaceSPKI(tb testing.TB, c *Cert, spki []byte, issuer *Cert) []byte {
	tb.Helper()
	tbs := cryptobyte.String(c.Cert.RawTBSCertificate)
	var fields cryptobyte.String
	if !tbs.ReadASN1(&fields, cbasn1.SEQUENCE) {
		tb.Fatal("truststoretest: malformed TBS")
	}
	ai, err := crlgen.SignatureAlgorithm(issuer.Key)
	if err != nil {
		tb.Fatal(err)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for i := 0; !fields.Empty(); i++ {
			var el cryptobyte.String
			var tag cbasn1.Tag
			if !fields.ReadAnyASN1Element(&el, &tag) {
				b.SetError(errors.New("truststoretest: malformed TBS field"))
				return
			}
			switch {
			case i == 2: // signature algorithm
				b.AddBytes(ai)
			case i == 6: // subjectPublicKeyInfo (after version, serial, sigalg, issuer, validity, subject)
				b.AddBytes(spki)
			default:
				b.AddBytes(el)
			}
		}
	})
	newTBS, err := b.Bytes()
	if err != nil {
		tb.Fatal(err)
	}
	der, err := crlgen.Sign(newTBS, ai, issuer.Key)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}
