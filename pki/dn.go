package pki

import (
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf16"
)

// shortNames are OpenSSL's short names for the attribute types a client
// certificate subject commonly carries.
var shortNames = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.4":                    "SN",
	"2.5.4.5":                    "serialNumber",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.9":                    "street",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.12":                   "title",
	"2.5.4.13":                   "description",
	"2.5.4.15":                   "businessCategory",
	"2.5.4.17":                   "postalCode",
	"2.5.4.41":                   "name",
	"2.5.4.42":                   "GN",
	"2.5.4.43":                   "initials",
	"2.5.4.44":                   "generationQualifier",
	"2.5.4.46":                   "dnQualifier",
	"2.5.4.65":                   "pseudonym",
	"2.5.4.97":                   "organizationIdentifier",
	"1.2.840.113549.1.9.1":       "emailAddress",
	"0.9.2342.19200300.100.1.1":  "UID",
	"0.9.2342.19200300.100.1.25": "DC",
	"1.3.6.1.4.1.311.60.2.1.1":   "jurisdictionL",
	"1.3.6.1.4.1.311.60.2.1.2":   "jurisdictionST",
	"1.3.6.1.4.1.311.60.2.1.3":   "jurisdictionC",
}

// RFC2253 formats a DER-encoded Name (a certificate's RawSubject or
// RawIssuer) the way ALB writes the X-Amzn-Mtls-Clientcert-Subject and
// -Issuer headers, which is OpenSSL's `-nameopt RFC2253` (spec §4.1 rule 2):
// RDNs in reverse order, "," between RDNs and "+" inside one, OpenSSL short
// names, RFC 2253 escaping, bytes >= 0x80 as \XX, and unknown attribute
// types as OID=#hex. The manifest uses it so that its subjects match the
// headers byte for byte.
func RFC2253(rawName []byte) (string, error) {
	// Values stay raw so that string types and unknown values can be
	// printed as OpenSSL does.
	var raw []rawATVSET
	rest, err := asn1.Unmarshal(rawName, &raw)
	if err != nil {
		return "", fmt.Errorf("parsing distinguished name: %w", err)
	}
	if len(rest) != 0 {
		return "", fmt.Errorf("parsing distinguished name: %d bytes of trailing data", len(rest))
	}
	var b strings.Builder
	for i := len(raw) - 1; i >= 0; i-- {
		if i != len(raw)-1 {
			b.WriteByte(',')
		}
		for j, atv := range raw[i] {
			if j > 0 {
				b.WriteByte('+')
			}
			b.WriteString(formatATV(atv))
		}
	}
	return b.String(), nil
}

type rawATV struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// rawATVSET is one RDN; encoding/asn1 reads a slice type whose name ends
// in SET as an ASN.1 SET OF.
type rawATVSET []rawATV

func formatATV(atv rawATV) string {
	name, known := shortNames[atv.Type.String()]
	if !known {
		return atv.Type.String() + "=#" + strings.ToUpper(hex.EncodeToString(atv.Value.FullBytes))
	}
	s, ok := decodeString(atv.Value)
	if !ok {
		return name + "=#" + strings.ToUpper(hex.EncodeToString(atv.Value.FullBytes))
	}
	return name + "=" + escape2253(s)
}

// decodeString converts the ASN.1 string types to UTF-8.
func decodeString(v asn1.RawValue) (string, bool) {
	if v.Class != asn1.ClassUniversal {
		return "", false
	}
	switch v.Tag {
	case asn1.TagUTF8String, asn1.TagPrintableString, asn1.TagIA5String, asn1.TagNumericString:
		return string(v.Bytes), true
	case asn1.TagT61String: // OpenSSL treats T61 as Latin-1
		r := make([]rune, len(v.Bytes))
		for i, c := range v.Bytes {
			r[i] = rune(c)
		}
		return string(r), true
	case asn1.TagBMPString:
		if len(v.Bytes)%2 != 0 {
			return "", false
		}
		u := make([]uint16, len(v.Bytes)/2)
		for i := range u {
			u[i] = uint16(v.Bytes[2*i])<<8 | uint16(v.Bytes[2*i+1])
		}
		return string(utf16.Decode(u)), true
	}
	return "", false
}

// escape2253 applies RFC 2253 escaping plus OpenSSL's ESC_CTRL and ESC_MSB.
func escape2253(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80 || c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, "\\%02X", c)
		case strings.IndexByte(",+\"\\<>;", c) >= 0:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '#' && i == 0:
			b.WriteString("\\#")
		case c == ' ' && (i == 0 || i == len(s)-1):
			b.WriteString("\\ ")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
