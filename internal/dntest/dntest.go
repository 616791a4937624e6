// Package dntest builds certificate names (X.501 Name, an RDNSequence) byte
// by byte for tests of the code that formats them: certfmt's RFC 2253
// printer and the albheader subject and issuer headers. Unlike pkix.Name it
// keeps attributes in the order given, writes any string tag (BMPString,
// T61String, UniversalString) or non-string value, multi-valued RDNs in any
// order and OIDs with arcs beyond 64 bits, which is what OpenSSL and ALB are
// compared on.
package dntest

import (
	"math/big"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Tags crypto/x509 has no constant for.
const (
	TagNumeric   = cbasn1.Tag(18)
	TagUniversal = cbasn1.Tag(28)
	TagBMP       = cbasn1.Tag(30)
)

// ATV is one AttributeTypeAndValue: a dotted OID and a value element (its
// tag and content octets, written as given).
type ATV struct {
	OID   string
	Tag   cbasn1.Tag
	Value []byte
}

// Raw is an attribute with any tag and content octets, e.g. a BIT STRING or
// a malformed BMPString.
func Raw(oid string, tag cbasn1.Tag, value []byte) ATV { return ATV{oid, tag, value} }

// UTF8 is a UTF8String attribute.
func UTF8(oid, s string) ATV { return ATV{oid, cbasn1.UTF8String, []byte(s)} }

// Printable is a PrintableString attribute (not checked for its alphabet).
func Printable(oid, s string) ATV { return ATV{oid, cbasn1.PrintableString, []byte(s)} }

// IA5 is an IA5String attribute.
func IA5(oid, s string) ATV { return ATV{oid, cbasn1.IA5String, []byte(s)} }

// T61 is a T61String (TeletexString) attribute of raw bytes.
func T61(oid string, b []byte) ATV { return ATV{oid, cbasn1.T61String, b} }

// BMP is a BMPString attribute: s in UCS-2, big-endian. It panics on a rune
// outside the Basic Multilingual Plane.
func BMP(oid, s string) ATV {
	var b []byte
	for _, r := range s {
		if r > 0xffff {
			panic("dntest.BMP: rune outside the BMP")
		}
		b = append(b, byte(r>>8), byte(r))
	}
	return ATV{oid, TagBMP, b}
}

// Universal is a UniversalString attribute: s in UCS-4, big-endian.
func Universal(oid, s string) ATV {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r>>24), byte(r>>16), byte(r>>8), byte(r))
	}
	return ATV{oid, TagUniversal, b}
}

// RDN groups attributes into one (multi-valued) RDN, in the order given.
func RDN(a ...ATV) []ATV { return a }

// Name encodes a Name; each argument is one RDN. The attributes of an RDN
// are written in the order given, so a test can also build unsorted SETs.
// It panics on an OID EncodeOID refuses.
func Name(rdns ...[]ATV) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, r := range rdns {
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
				for _, a := range r {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						der, ok := EncodeOID(a.OID)
						if !ok {
							panic("dntest.Name: bad OID " + a.OID)
						}
						b.AddASN1(cbasn1.OBJECT_IDENTIFIER, func(b *cryptobyte.Builder) { b.AddBytes(der) })
						b.AddASN1(a.Tag, func(b *cryptobyte.Builder) { b.AddBytes(a.Value) })
					})
				}
			})
		}
	})
	return b.BytesOrPanic()
}

// EncodeOID encodes a dotted OID's content octets, with arcs of any size
// (encoding/asn1 stops at 64 bits; the tests use larger ones).
func EncodeOID(dotted string) ([]byte, bool) {
	parts := strings.Split(dotted, ".")
	if len(parts) < 2 {
		return nil, false
	}
	arcs := make([]*big.Int, len(parts))
	for i, p := range parts {
		v, ok := new(big.Int).SetString(p, 10)
		if !ok {
			return nil, false
		}
		arcs[i] = v
	}
	first := new(big.Int).Mul(arcs[0], big.NewInt(40))
	first.Add(first, arcs[1])
	var out []byte
	for _, v := range append([]*big.Int{first}, arcs[2:]...) {
		var groups []byte
		x := new(big.Int).Set(v)
		for {
			groups = append([]byte{byte(new(big.Int).And(x, big.NewInt(0x7f)).Int64())}, groups...)
			x.Rsh(x, 7)
			if x.Sign() == 0 {
				break
			}
		}
		for i := range groups[:len(groups)-1] {
			groups[i] |= 0x80
		}
		out = append(out, groups...)
	}
	return out, true
}
