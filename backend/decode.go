package backend

// This file depends on the standard library only, so that you can copy it
// into your own service: it is the whole of what a target needs to read the
// certificates ALB forwards.

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// DecodeCertificates reads X-Amzn-Mtls-Clientcert (passthrough mode: the
// client's chain, leaf first) or X-Amzn-Mtls-Clientcert-Leaf (verify mode:
// the leaf alone).
//
// ALB writes each certificate as PEM and percent-encodes it like Python's
// urllib.parse.quote(pem, safe="+=/"): space is %20, newline %0A, and the
// base64 characters '+', '/' and '=' stay literal (alb-behaviour §4.1 rule 4; its own
// example shows '=' as %3D, which this reads too). So the value must be
// decoded with RFC 3986 percent-decoding, url.PathUnescape in Go. Form
// decoding (url.QueryUnescape, Java's URLDecoder, PHP's urldecode) turns
// every '+' of the base64 into a space and corrupts the certificate (spec
// §9.1); the error below says so when it sees the damage.
//
// Errors describe the value, fit for a 400 answer.
func DecodeCertificates(value string) ([]*x509.Certificate, error) {
	if value == "" {
		return nil, errors.New("the header is empty")
	}
	text, err := url.PathUnescape(value) // RFC 3986: '+' stays '+'
	if err != nil {
		return nil, fmt.Errorf("not valid percent-encoding: %w", err)
	}
	// Base64 has no spaces: one in a base64 line is a '+' that form
	// decoding turned into ' ' before this function saw the value.
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "-----") && strings.Contains(line, " ") {
			return nil, errors.New("a base64 line holds a space: the value was decoded as a form, turning '+' into space; decode with RFC 3986 percent-decoding (Go: url.PathUnescape)")
		}
	}
	rest := []byte(text)
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is a %q, not a CERTIFICATE", len(certs)+1, block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("certificate %d is not valid PEM", len(certs)+1)
	}
	if len(certs) == 0 {
		return nil, errors.New("the header holds no PEM certificate")
	}
	return certs, nil
}
