// Package certfmt renders client-certificate facts in the exact text formats
// ALB uses in its mTLS request headers and connection logs (alb-behaviour §4.1): the
// serial number as OpenSSL prints it, distinguished names as OpenSSL's RFC 2253
// output, the validity window in ISO 8601, and certificates as URL-encoded PEM.
// It also holds DecodePEMURL, the way a backend should read those headers.
package certfmt

import (
	"crypto/x509"
	"math/big"
	"time"
)

// Serial returns the certificate's serial number as ALB sends it in
// X-Amzn-Mtls-Clientcert-Serial-Number and logs it in connection logs: what
// `openssl x509 -noout -serial` prints, uppercase hex, two digits per byte of
// the magnitude, no sign byte (alb-behaviour §4.1 rule 1). It returns "" for a nil
// certificate or serial.
func Serial(c *x509.Certificate) string {
	if c == nil {
		return ""
	}
	return SerialNumber(c.SerialNumber)
}

// SerialNumber formats a serial number held as a big.Int (a CRL entry, say)
// the same way as Serial: 0 prints "00" and a negative serial gets a leading
// '-' before the magnitude, as OpenSSL's i2a_ASN1_INTEGER does. (ALB's own
// handling of negative serials is [UNK], alb-behaviour §4.1.) Unlike OpenSSL it never
// breaks a serial longer than 35 bytes with a backslash-newline: a header
// value cannot hold one.
func SerialNumber(n *big.Int) string {
	if n == nil {
		return ""
	}
	var stack [64]byte
	var mag []byte
	if size := (n.BitLen() + 7) / 8; size <= len(stack) {
		mag = n.FillBytes(stack[:size])
	} else {
		mag = n.Bytes()
	}
	if len(mag) == 0 {
		return "00"
	}
	var outStack [1 + 2*len(stack)]byte
	out := outStack[:0]
	if n.Sign() < 0 {
		out = append(out, '-')
	}
	for _, b := range mag {
		out = append(out, hexDigits[b>>4], hexDigits[b&0xf])
	}
	return string(out)
}

// validityLayout is ISO 8601 in UTC with second precision, as in
// X-Amzn-Mtls-Clientcert-Validity.
const validityLayout = "2006-01-02T15:04:05Z"

// Validity returns the value of X-Amzn-Mtls-Clientcert-Validity,
// "NotBefore=2023-09-21T01:50:17Z;NotAfter=2024-09-20T01:50:17Z" (alb-behaviour §4.1
// rule 3). It returns "" for a nil certificate.
func Validity(c *x509.Certificate) string {
	if c == nil {
		return ""
	}
	var buf [64]byte
	out := append(buf[:0], "NotBefore="...)
	out = c.NotBefore.UTC().AppendFormat(out, validityLayout)
	out = append(out, ";NotAfter="...)
	out = c.NotAfter.UTC().AppendFormat(out, validityLayout)
	return string(out)
}

// FormatTime formats one instant the way Validity does, for logs and tests
// that need a single bound.
func FormatTime(t time.Time) string {
	return t.UTC().Format(validityLayout)
}
