package truststoretest

import (
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/albmtls/albmtls/pki/crlgen"
)

// RawCRL describes a CRL field by field, including shapes that
// x509.CreateRevocationList refuses to write (v1, SHA-1, negative or
// non-canonical serials, arbitrary critical extensions), for crafted test
// cases and the parser's differential tests.
type RawCRL struct {
	// V1 omits the version field (a version-1 CRL).
	V1 bool
	// Hash is the signature hash (default SHA-256; SHA-1 allowed).
	Hash crypto.Hash
	// Issuer is the raw issuer Name (default the signer's subject).
	Issuer []byte
	// ThisUpdate defaults to Now-1h; NextUpdate to Now+24h unless
	// NoNextUpdate.
	ThisUpdate, NextUpdate time.Time
	NoNextUpdate           bool
	// GeneralizedTime writes the times as GeneralizedTime.
	GeneralizedTime bool
	Entries         []RawEntry
	// Extensions are the crlExtensions, written as given.
	Extensions []pkix.Extension
}

// RawEntry is one revokedCertificates entry.
type RawEntry struct {
	// Serial is the INTEGER's content octets as written (may be negative
	// or non-minimal); when nil, SerialInt is encoded.
	Serial     []byte
	SerialInt  *big.Int
	Time       time.Time // default Now-1m
	Extensions []pkix.Extension
}

// Craft writes and signs the CRL described by spec with the issuer's key.
func Craft(issuer *Cert, spec RawCRL) ([]byte, error) {
	h := spec.Hash
	if h == 0 {
		h = crypto.SHA256
	}
	ai, err := crlgen.SignatureAlgorithmFor(issuer.Key, h)
	if err != nil {
		return nil, err
	}
	name := spec.Issuer
	if name == nil {
		name = issuer.Cert.RawSubject
	}
	thisUpdate, nextUpdate := spec.ThisUpdate, spec.NextUpdate
	if thisUpdate.IsZero() {
		thisUpdate = Now.Add(-time.Hour)
	}
	if nextUpdate.IsZero() {
		nextUpdate = Now.Add(24 * time.Hour)
	}
	addTime := func(b *cryptobyte.Builder, t time.Time) {
		if spec.GeneralizedTime {
			b.AddASN1GeneralizedTime(t.UTC())
		} else {
			b.AddASN1UTCTime(t.UTC())
		}
	}
	var tb cryptobyte.Builder
	tb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if !spec.V1 {
			b.AddASN1Int64(1)
		}
		b.AddBytes(ai)
		b.AddBytes(name)
		addTime(b, thisUpdate)
		if !spec.NoNextUpdate {
			addTime(b, nextUpdate)
		}
		if len(spec.Entries) > 0 {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, e := range spec.Entries {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						if e.Serial != nil {
							b.AddASN1(cbasn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(e.Serial) })
						} else {
							b.AddASN1BigInt(e.SerialInt)
						}
						t := e.Time
						if t.IsZero() {
							t = Now.Add(-time.Minute)
						}
						addTime(b, t)
						if len(e.Extensions) > 0 {
							addExtensions(b, e.Extensions)
						}
					})
				}
			})
		}
		if len(spec.Extensions) > 0 {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				addExtensions(b, spec.Extensions)
			})
		}
	})
	tbs, err := tb.Bytes()
	if err != nil {
		return nil, err
	}
	return crlgen.SignWith(tbs, ai, issuer.Key, h)
}

func addExtensions(b *cryptobyte.Builder, exts []pkix.Extension) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, e := range exts {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(e.Id)
				if e.Critical {
					b.AddASN1Boolean(true)
				}
				b.AddASN1OctetString(e.Value)
			})
		}
	})
}

// Ext builds an extension whose value is the DER of v.
func Ext(id asn1.ObjectIdentifier, critical bool, v any) pkix.Extension {
	der, err := asn1.Marshal(v)
	if err != nil {
		panic(err) // programming error in a test
	}
	return pkix.Extension{Id: id, Critical: critical, Value: der}
}
