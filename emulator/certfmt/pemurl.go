package certfmt

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// EqualsEncoding chooses how '=' (base64 padding) is written in URL-encoded
// PEM. ALB's documentation says "+=/" are safe characters, yet its own
// passthrough example shows "%3D%3D" (alb-behaviour §9.2, [UNK] §10.5), so the emulator
// can produce either.
type EqualsEncoding int

const (
	// EqualsLiteral leaves '=' as is: the documented rule and the default.
	EqualsLiteral EqualsEncoding = iota
	// EqualsPercent writes '=' as %3D, as in the documentation's example.
	EqualsPercent
)

// String names the encoding as the configuration spells it.
func (e EqualsEncoding) String() string {
	switch e {
	case EqualsLiteral:
		return "literal"
	case EqualsPercent:
		return "percent"
	default:
		return fmt.Sprintf("EqualsEncoding(%d)", int(e))
	}
}

// ParseEqualsEncoding reads "literal" or "percent"; the config loader uses it.
func ParseEqualsEncoding(s string) (EqualsEncoding, error) {
	switch s {
	case "literal":
		return EqualsLiteral, nil
	case "percent":
		return EqualsPercent, nil
	}
	return 0, fmt.Errorf("certfmt: %q is not an '=' encoding: use literal (the documented '=' safe) or percent (%%3D, as in ALB's example)", s)
}

const (
	pemBeginURL = "-----BEGIN%20CERTIFICATE-----%0A"
	pemEndURL   = "-----END%20CERTIFICATE-----%0A"
	lineEndURL  = "%0A"
	pemLineLen  = 64 // base64 characters per PEM line
	pemLineRaw  = pemLineLen / 4 * 3
)

// PEMURLEncode returns the value of X-Amzn-Mtls-Clientcert (the chain, leaf
// first, in the order given) or, with one certificate, X-Amzn-Mtls-Clientcert-Leaf:
// each DER certificate as PEM (64-character lines, LF line ends, a final LF),
// percent-encoded except for A–Z a–z 0–9 - . _ ~ + = / — exactly Python's
// urllib.parse.quote(pem, safe="+=/") (alb-behaviour §4.1 rule 4, §11) — and the
// blocks concatenated. PEM holds only base64, '-', space and LF, so only space
// (%20), LF (%0A) and, with EqualsPercent, '=' (%3D) are ever encoded. It
// makes one allocation; it runs on every connection that sends a certificate.
func PEMURLEncode(ders [][]byte, eq EqualsEncoding) string {
	size := 0
	for _, der := range ders {
		n := base64.StdEncoding.EncodedLen(len(der))
		size += len(pemBeginURL) + n + len(lineEndURL)*((n+pemLineLen-1)/pemLineLen) + len(pemEndURL)
		if eq == EqualsPercent {
			size += 2 * padding(len(der))
		}
	}
	var out strings.Builder
	out.Grow(size)
	for _, der := range ders {
		out.WriteString(pemBeginURL)
		for len(der) > 0 {
			chunk := der[:min(len(der), pemLineRaw)]
			der = der[len(chunk):]
			var line [pemLineLen]byte
			n := base64.StdEncoding.EncodedLen(len(chunk))
			base64.StdEncoding.Encode(line[:n], chunk)
			if eq == EqualsPercent {
				for _, c := range line[:n] {
					if c == '=' {
						out.WriteString("%3D")
					} else {
						out.WriteByte(c)
					}
				}
			} else {
				out.Write(line[:n])
			}
			out.WriteString(lineEndURL)
		}
		out.WriteString(pemEndURL)
	}
	return out.String()
}

// padding is the number of '=' that base64 appends to n bytes.
func padding(n int) int {
	return (3 - n%3) % 3
}

// DecodePEMURL reads X-Amzn-Mtls-Clientcert or X-Amzn-Mtls-Clientcert-Leaf and
// returns the certificates in header order (leaf first). It is the reference
// for backends: decode with RFC 3986 percent-decoding, where a literal '+'
// stays '+'. Form decoding (url.QueryUnescape, Java's URLDecoder, PHP's
// urldecode) turns the '+' of base64 into a space and corrupts the
// certificate (alb-behaviour §9.1). %3D and %2B are accepted too. Each error says what
// is wrong, fit to be returned to the client in a 400.
func DecodePEMURL(s string) ([]*x509.Certificate, error) {
	if s == "" {
		return nil, errors.New("certfmt: the client certificate header is empty")
	}
	// PathUnescape decodes %XX and, unlike QueryUnescape, leaves '+' alone.
	text, err := url.PathUnescape(s)
	if err != nil {
		return nil, fmt.Errorf("certfmt: the client certificate header is not valid percent-encoding: %w", err)
	}
	const begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
	rest := []byte(text)
	var certs []*x509.Certificate
	for n := 1; ; n++ {
		rest = bytes.TrimLeft(rest, "\r\n")
		if len(rest) == 0 {
			break
		}
		if !bytes.HasPrefix(rest, []byte(begin)) {
			return nil, fmt.Errorf("certfmt: certificate %d in the header does not start with %q", n, begin)
		}
		// After BEGIN: END can overlap BEGIN's trailing dashes.
		i := bytes.Index(rest[len(begin):], []byte(end))
		if i < 0 {
			return nil, fmt.Errorf("certfmt: certificate %d in the header has no %q line", n, end)
		}
		i += len(begin)
		block := rest[:i+len(end)]
		rest = rest[i+len(end):]
		// Base64 has no spaces: one here is a '+' that form decoding ate.
		if bytes.IndexByte(block[len(begin):len(block)-len(end)], ' ') >= 0 {
			return nil, fmt.Errorf("certfmt: certificate %d in the header has a space in its base64: the value was decoded as a form, turning '+' into space; decode with RFC 3986 percent-decoding (Go: url.PathUnescape)", n)
		}
		p, _ := pem.Decode(block)
		if p == nil {
			return nil, fmt.Errorf("certfmt: certificate %d in the header is not valid PEM (bad base64?)", n)
		}
		cert, err := x509.ParseCertificate(p.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certfmt: certificate %d in the header: %w", n, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, errors.New("certfmt: the client certificate header holds no PEM certificate")
	}
	return certs, nil
}

// UnmarshalText reads emulation.clientcert_equals ("literal" or "percent");
// "" is the default, literal.
func (e *EqualsEncoding) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*e = EqualsLiteral
		return nil
	}
	v, err := ParseEqualsEncoding(string(b))
	if err != nil {
		return fmt.Errorf("%q is not valid; use literal or percent", b)
	}
	*e = v
	return nil
}

// MarshalText writes the encoding as the config spells it.
func (e EqualsEncoding) MarshalText() ([]byte, error) {
	switch e {
	case EqualsLiteral, EqualsPercent:
		return []byte(e.String()), nil
	}
	return nil, fmt.Errorf("certfmt: unknown '=' encoding %d", int(e))
}
