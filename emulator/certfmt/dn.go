package certfmt

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// DN formats a DER-encoded distinguished name (x509.Certificate.RawSubject or
// RawIssuer) exactly as OpenSSL's X509_NAME_print_ex with XN_FLAG_RFC2253
// does, which is what ALB puts in X-Amzn-Mtls-Clientcert-Subject and -Issuer
// (alb-behaviour §4.1 rule 2; checked against `openssl x509 -nameopt RFC2253`):
//
//   - attributes in reverse DER order, including inside a multi-valued RDN,
//     separated by ',' between RDNs and '+' inside one, with no spaces;
//   - attribute types by OpenSSL's short name (CN, O, emailAddress, DC, …);
//     an OID missing from OpenSSL's table prints dotted, with its value as
//     '#' and the uppercase hex of the value's DER;
//   - , + " \ < > ; escaped with '\', and so are a leading '#' or space and a
//     trailing space;
//   - control characters and every byte of a non-ASCII character's UTF-8
//     encoding as \XX;
//   - string types decoded by their width (BMPString two bytes a character,
//     UniversalString four, T61String and the other one-byte types as
//     Latin-1); value types that are not strings print as '#' and hex DER.
//
// Malformed DER is an error; DN never panics, whatever the input.
func DN(rawRDNSequence []byte) (string, error) {
	in := cryptobyte.String(rawRDNSequence)
	var rdns cryptobyte.String
	if !in.ReadASN1(&rdns, cbasn1.SEQUENCE) || !in.Empty() {
		return "", errors.New("certfmt: distinguished name is not one DER SEQUENCE of RDNs: pass x509.Certificate.RawSubject or RawIssuer")
	}
	var stack [16]attribute
	attrs := stack[:0]
	for set := 0; !rdns.Empty(); set++ {
		var rdn cryptobyte.String
		if !rdns.ReadASN1(&rdn, cbasn1.SET) {
			return "", fmt.Errorf("certfmt: RDN %d of the distinguished name is not a DER SET", set+1)
		}
		for !rdn.Empty() {
			var atv, oid, value cryptobyte.String
			var tag cbasn1.Tag
			if !rdn.ReadASN1(&atv, cbasn1.SEQUENCE) ||
				!atv.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER) ||
				!atv.ReadAnyASN1Element(&value, &tag) || !atv.Empty() {
				return "", fmt.Errorf("certfmt: RDN %d of the distinguished name holds a malformed AttributeTypeAndValue", set+1)
			}
			if !validOID(oid) {
				return "", fmt.Errorf("certfmt: RDN %d of the distinguished name has a malformed attribute type OID", set+1)
			}
			attrs = append(attrs, attribute{set: set, oid: oid, tag: tag, tlv: value})
		}
	}

	out := make([]byte, 0, len(rawRDNSequence)+len(rawRDNSequence)/2)
	for i := len(attrs) - 1; i >= 0; i-- { // XN_FLAG_DN_REV: last attribute first
		a := attrs[i]
		if i < len(attrs)-1 {
			if attrs[i+1].set == a.set {
				out = append(out, '+')
			} else {
				out = append(out, ',')
			}
		}
		var err error
		if out, err = appendAttribute(out, a); err != nil {
			return "", fmt.Errorf("certfmt: RDN %d of the distinguished name: %w", a.set+1, err)
		}
	}
	return string(out), nil
}

type attribute struct {
	set int
	oid []byte
	tag cbasn1.Tag
	tlv []byte // the value's whole DER element
}

func appendAttribute(out []byte, a attribute) ([]byte, error) {
	sn, known := shortNames()[string(a.oid)]
	if !known {
		// XN_FLAG_DUMP_UNKNOWN_FIELDS: dotted OID (cut to 79 characters,
		// OpenSSL's buffer) and the value as hex DER whatever its type.
		name := dottedOID(a.oid)
		if len(name) > 79 {
			name = name[:79]
		}
		out = append(out, name...)
		out = append(out, '=')
		return appendDump(out, a)
	}
	out = append(out, sn...)
	out = append(out, '=')
	content := a.tlv[headerLen(a.tlv):]
	switch a.tag {
	case cbasn1.UTF8String:
		// Printed one byte at a time (no UTF-8 conversion), so every byte of
		// a multi-byte character becomes \XX.
		return appendEscaped(out, content, 1, false)
	case 18, cbasn1.PrintableString, cbasn1.T61String, 21, cbasn1.IA5String,
		cbasn1.UTCTime, cbasn1.GeneralizedTime, 25, 26, cbasn1.GeneralString:
		return appendEscaped(out, content, 1, true)
	case 28: // UniversalString
		return appendEscaped(out, content, 4, true)
	case 30: // BMPString
		return appendEscaped(out, content, 2, true)
	default: // ASN1_STRFLGS_DUMP_UNKNOWN
		return appendDump(out, a)
	}
}

// appendDump writes '#' and the hex of the value's DER as OpenSSL re-encodes
// it: unchanged, except that a BIT STRING has its unused bits cleared.
func appendDump(out []byte, a attribute) ([]byte, error) {
	if a.tag != cbasn1.BIT_STRING {
		return appendHexDump(out, a.tlv), nil
	}
	content := a.tlv[headerLen(a.tlv):]
	if len(content) == 0 || content[0] > 7 {
		return nil, errors.New("BIT STRING value has no valid unused-bits octet")
	}
	out = appendHexDump(out, a.tlv)
	if len(content) > 1 {
		last := content[len(content)-1] & (0xff << content[0])
		out[len(out)-2], out[len(out)-1] = hexDigits[last>>4], hexDigits[last&0xf]
	}
	return out, nil
}

// Character classes of OpenSSL's char_type table that RFC 2253 output uses.
const (
	escAlways = 1 << iota // , + " \ < > ; → backslash
	escFirst              // '#' and space at the start → backslash
	escLast               // space at the end → backslash
	escHex                // control characters → \XX
)

var charClass = func() (t [128]uint8) {
	for c := 0; c < 0x20; c++ {
		t[c] = escHex
	}
	t[0x7f] = escHex
	for _, c := range `,+"\<>;` {
		t[c] = escAlways
	}
	t['#'] = escFirst
	t[' '] = escFirst | escLast
	return t
}()

const hexDigits = "0123456789ABCDEF"

// appendEscaped is OpenSSL's do_buf/do_esc_char with ASN1_STRFLGS_RFC2253:
// the value is read in characters of width bytes; with toUTF8 each character
// is converted to UTF-8 first (characters UTF-8 cannot hold are dropped, as
// UTF8_putc fails for them).
func appendEscaped(out, content []byte, width int, toUTF8 bool) ([]byte, error) {
	if len(content)%width != 0 {
		return nil, fmt.Errorf("string of %d bytes is not a whole number of %d-byte characters", len(content), width)
	}
	n := len(content) / width
	for i := 0; i < n; i++ {
		var c uint32
		for _, b := range content[i*width : (i+1)*width] {
			c = c<<8 | uint32(b)
		}
		var pos uint8
		if i == 0 {
			pos = escFirst
		}
		if i == n-1 { // replaces escFirst for a one-character value, as in OpenSSL
			pos = escLast
		}
		if c < 0x80 {
			out = appendChar(out, byte(c), pos)
			continue
		}
		if !toUTF8 {
			out = append(out, '\\', hexDigits[c>>4], hexDigits[c&0xf])
			continue
		}
		if c > utf8.MaxRune || (c >= 0xd800 && c <= 0xdfff) {
			continue
		}
		var buf [utf8.UTFMax]byte
		for _, b := range buf[:utf8.EncodeRune(buf[:], rune(c))] {
			out = append(out, '\\', hexDigits[b>>4], hexDigits[b&0xf])
		}
	}
	return out, nil
}

func appendChar(out []byte, c byte, pos uint8) []byte {
	class := charClass[c]
	switch {
	case class&(escAlways|pos) != 0:
		return append(out, '\\', c)
	case class&escHex != 0:
		return append(out, '\\', hexDigits[c>>4], hexDigits[c&0xf])
	default:
		return append(out, c)
	}
}

func appendHexDump(out, der []byte) []byte {
	out = append(out, '#')
	for _, b := range der {
		out = append(out, hexDigits[b>>4], hexDigits[b&0xf])
	}
	return out
}

// headerLen returns the length of the tag and length octets of a DER element
// that cryptobyte has already validated.
func headerLen(tlv []byte) int {
	if tlv[1] < 0x80 {
		return 2
	}
	return 2 + int(tlv[1]&0x7f)
}

// validOID applies OpenSSL's c2i_ASN1_OBJECT rules: not empty, no leading
// 0x80 in a subidentifier, and the last octet ends a subidentifier.
func validOID(oid []byte) bool {
	if len(oid) == 0 || oid[len(oid)-1]&0x80 != 0 {
		return false
	}
	for i, b := range oid {
		if b == 0x80 && (i == 0 || oid[i-1]&0x80 == 0) {
			return false
		}
	}
	return true
}

// dottedOID is OBJ_obj2txt(no_name=1): arcs of any size, the first
// subidentifier split into two arcs (X.690 §8.19.4).
func dottedOID(oid []byte) string {
	out := make([]byte, 0, 3*len(oid))
	first := true
	for len(oid) > 0 {
		end := 0
		for oid[end]&0x80 != 0 {
			end++
		}
		sub := oid[:end+1]
		oid = oid[end+1:]
		if len(sub) <= 8 { // fits in 56 bits
			var v uint64
			for _, b := range sub {
				v = v<<7 | uint64(b&0x7f)
			}
			if first {
				switch {
				case v < 40:
					out = append(out, '0', '.')
				case v < 80:
					out = append(out, '1', '.')
					v -= 40
				default:
					out = append(out, '2', '.')
					v -= 80
				}
			} else {
				out = append(out, '.')
			}
			out = strconv.AppendUint(out, v, 10)
		} else {
			v := new(big.Int)
			for _, b := range sub {
				v.Lsh(v, 7).Or(v, big.NewInt(int64(b&0x7f)))
			}
			if first { // a first subidentifier this large is always 2.x
				out = append(out, '2', '.')
				v.Sub(v, big.NewInt(80))
			} else {
				out = append(out, '.')
			}
			out = v.Append(out, 10)
		}
		first = false
	}
	return string(out)
}
