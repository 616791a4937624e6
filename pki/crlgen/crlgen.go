// Package crlgen writes large signed CRLs quickly (hundreds of thousands of
// entries in well under a second), for benchmarks and quota tests: it builds
// the DER with cryptobyte and signs the TBSCertList directly, where
// x509.CreateRevocationList would allocate per entry.
package crlgen

import (
	"crypto"
	"crypto/ecdsa"
	cryptorand "crypto/rand"
	"crypto/rsa"
	_ "crypto/sha1" // SignWith with crypto.SHA1
	_ "crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Spec describes a large CRL for Build.
type Spec struct {
	// Entries is the number of pseudo-random serials to list.
	Entries int
	// Seed makes the serials reproducible (same seed, same serials).
	Seed uint64
	// SerialBytes is the length of each pseudo-random serial (default 16,
	// as real CAs use; the first byte is kept in 0x01..0x7f so each is a
	// positive, minimally encoded INTEGER of exactly that length).
	SerialBytes int
	// Extra serials are listed after the pseudo-random ones, e.g. the
	// serial of a certificate a test expects to be revoked.
	Extra []*big.Int
	// ThisUpdate and NextUpdate default to Now-1h and Now+24h.
	ThisUpdate, NextUpdate time.Time
	// Number is the CRL number (default 1).
	Number *big.Int
}

// Serial returns the i-th pseudo-random serial Build lists for spec,
// so tests can pick a listed one without re-parsing the CRL.
func (spec Spec) Serial(i int) *big.Int {
	n := spec.serialBytes()
	r := rand.New(rand.NewPCG(spec.Seed, 0x616c626d746c73))
	buf := make([]byte, n)
	for j := 0; j <= i; j++ {
		fill(r, buf)
	}
	return new(big.Int).SetBytes(buf)
}

func (spec Spec) serialBytes() int {
	if spec.SerialBytes > 0 {
		return spec.SerialBytes
	}
	return 16
}

func fill(r *rand.Rand, buf []byte) {
	for i := 0; i < len(buf); i += 8 {
		v := r.Uint64()
		for j := i; j < len(buf) && j < i+8; j++ {
			buf[j] = byte(v)
			v >>= 8
		}
	}
	buf[0] = buf[0]&0x7f | 0x01
}

var (
	oidExtAuthorityKeyID = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidExtCRLNumber      = asn1.ObjectIdentifier{2, 5, 29, 20}
)

// Build writes a signed DER CRL (v2, SHA-256 with the issuer's ECDSA or
// RSA key, authorityKeyIdentifier and cRLNumber extensions) listing
// spec.Entries serials, directly with cryptobyte: 500,000 entries take
// well under a second, where x509.CreateRevocationList takes many. It has
// no testing dependency so the benchmark tooling can write the same file.
func Build(issuer *x509.Certificate, key crypto.Signer, spec Spec) ([]byte, error) {
	if issuer == nil || key == nil {
		return nil, errors.New("crlgen: Build needs the issuer certificate and its key")
	}
	ai, err := SignatureAlgorithm(key)
	if err != nil {
		return nil, err
	}
	now := time.Now().Truncate(time.Second)
	thisUpdate, nextUpdate := spec.ThisUpdate, spec.NextUpdate
	if thisUpdate.IsZero() {
		thisUpdate = now.Add(-time.Hour)
	}
	if nextUpdate.IsZero() {
		nextUpdate = now.Add(24 * time.Hour)
	}
	number := spec.Number
	if number == nil {
		number = big.NewInt(1)
	}
	revoked := now.Add(-time.Minute).UTC()
	r := rand.New(rand.NewPCG(spec.Seed, 0x616c626d746c73))
	serial := make([]byte, spec.serialBytes())

	// The entries are written once into a buffer of their final size, so
	// the builder below copies them once more at most.
	var entries cryptobyte.Builder
	entries.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for i := 0; i < spec.Entries; i++ {
			fill(r, serial)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(serial) })
				b.AddASN1UTCTime(revoked)
			})
		}
		for _, s := range spec.Extra {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1BigInt(s)
				b.AddASN1UTCTime(revoked)
			})
		}
	})
	revokedSeq, err := entries.Bytes()
	if err != nil {
		return nil, fmt.Errorf("truststoretest: encoding CRL entries: %w", err)
	}
	var tb cryptobyte.Builder
	tb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1) // v2
		b.AddBytes(ai)
		b.AddBytes(issuer.RawSubject)
		b.AddASN1UTCTime(thisUpdate.UTC())
		b.AddASN1UTCTime(nextUpdate.UTC())
		if spec.Entries > 0 || len(spec.Extra) > 0 {
			b.AddBytes(revokedSeq)
		}
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				if len(issuer.SubjectKeyId) > 0 {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(oidExtAuthorityKeyID)
						b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) {
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
								b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) {
									b.AddBytes(issuer.SubjectKeyId)
								})
							})
						})
					})
				}
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(oidExtCRLNumber)
					b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) { b.AddASN1BigInt(number) })
				})
			})
		})
	})
	tbs, err := tb.Bytes()
	if err != nil {
		return nil, fmt.Errorf("truststoretest: encoding tbsCertList: %w", err)
	}
	return Sign(tbs, ai, key)
}

// signatureOIDs are the AlgorithmIdentifier OIDs by hash, for ECDSA and
// RSA (PKCS #1 v1.5) keys. SHA-1 is there for tests of CRLs signed the old way.
var signatureOIDs = map[crypto.Hash]struct{ ecdsa, rsa asn1.ObjectIdentifier }{
	crypto.SHA256: {asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}},
	crypto.SHA1:   {asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}},
}

// SignatureAlgorithm returns the DER AlgorithmIdentifier for SHA-256 with the
// key's algorithm.
func SignatureAlgorithm(key crypto.Signer) ([]byte, error) {
	return SignatureAlgorithmFor(key, crypto.SHA256)
}

// SignatureAlgorithmFor returns the DER AlgorithmIdentifier for hash h
// (SHA-256 or SHA-1) with the key's algorithm.
func SignatureAlgorithmFor(key crypto.Signer, h crypto.Hash) ([]byte, error) {
	oids, ok := signatureOIDs[h]
	if !ok {
		return nil, fmt.Errorf("crlgen: hash %v is not supported: use SHA-256 or SHA-1", h)
	}
	var b cryptobyte.Builder
	switch key.Public().(type) {
	case *ecdsa.PublicKey:
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oids.ecdsa) })
	case *rsa.PublicKey:
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oids.rsa)
			b.AddASN1NULL()
		})
	default:
		return nil, errors.New("crlgen: only ECDSA and RSA signers are supported")
	}
	return b.Bytes()
}

// Sign signs tbs with SHA-256 and wraps it a TBS structure as SEQUENCE { tbs, algorithm, signature },
// the shape of both Certificate and CertificateList.
func Sign(tbs, ai []byte, key crypto.Signer) ([]byte, error) {
	return SignWith(tbs, ai, key, crypto.SHA256)
}

// SignWith is Sign with hash h; ai must name the same hash.
func SignWith(tbs, ai []byte, key crypto.Signer, h crypto.Hash) ([]byte, error) {
	if !h.Available() {
		return nil, fmt.Errorf("crlgen: hash %v is not available", h)
	}
	d := h.New()
	d.Write(tbs)
	sig, err := key.Sign(cryptorand.Reader, d.Sum(nil), h)
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		b.AddBytes(ai)
		b.AddASN1BitString(sig)
	})
	return b.Bytes()
}
