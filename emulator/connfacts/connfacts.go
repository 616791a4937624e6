// Package connfacts holds the facts of one client connection in the text
// forms ALB writes them: the negotiated TLS parameters by their OpenSSL
// names and the client certificate's fields as the mTLS headers carry them.
// The listener fills them once, at the handshake; the connection log, the
// forwarded headers and the access log all read the same values, so they
// cannot disagree and no request formats a certificate again.
package connfacts

import (
	"crypto/tls"
	"crypto/x509"
	"sync"

	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/emulator/sslpolicy"
)

// TLS is what a handshake negotiated. The names are "" for a parameter the
// handshake did not reach (a failed handshake may know the version but not
// the group), so each consumer writes "-" or leaves its header out.
type TLS struct {
	Version     uint16
	CipherSuite uint16
	CurveID     tls.CurveID
	// Protocol is the version's name, e.g. TLSv1.2: connection log field 5,
	// access log ssl_protocol, X-Amzn-Tls-Version (alb-behaviour §4.2, §6.2, §7).
	Protocol string
	// Cipher is the suite's OpenSSL name, e.g. ECDHE-RSA-AES128-GCM-SHA256:
	// connection log field 6, ssl_cipher, X-Amzn-Tls-Cipher-Suite.
	Cipher string
	// KeyExchange is the group's name, e.g. secp256r1 (connection log field 13).
	KeyExchange string
}

// NewTLS names the negotiated parameters; zero values stay unnamed.
func NewTLS(version, suite uint16, curve tls.CurveID) TLS {
	t := TLS{Version: version, CipherSuite: suite, CurveID: curve}
	if version != 0 {
		t.Protocol = sslpolicy.VersionName(version)
		t.Cipher = sslpolicy.CipherName(suite)
	}
	if curve != 0 {
		t.KeyExchange = sslpolicy.KeyExchangeName(curve)
	}
	return t
}

// Cert is the client certificate a connection presented, with the fields
// ALB formats from it (alb-behaviour §4.1). The fields the connection log
// writes are formatted when the Cert is made; the issuer and the
// URL-encoded PEM forms, needed only by the headers of one mode, on first
// use.
type Cert struct {
	// Leaf is the parsed leaf; nil when the first certificate of Chain does
	// not parse (then the fields below are "").
	Leaf *x509.Certificate
	// Chain is the DER the client sent, leaf first, as sent.
	Chain [][]byte
	// Subject is the leaf's DN in OpenSSL's RFC 2253 form ("" if it does
	// not parse): X-Amzn-Mtls-Clientcert-Subject and connection log field 8.
	Subject string
	// Serial is X-Amzn-Mtls-Clientcert-Serial-Number and connection log field 10.
	Serial string
	// Validity is X-Amzn-Mtls-Clientcert-Validity and connection log field 9.
	Validity string

	issuerOnce        sync.Once
	issuer            string
	leafPEM, chainPEM pemOnce
}

// NewCert formats the fields of a client certificate. leaf is the parsed
// chain[0]; when nil it is parsed here. It returns nil when the client sent
// no certificate.
func NewCert(leaf *x509.Certificate, chain [][]byte) *Cert {
	if leaf == nil && len(chain) == 0 {
		return nil
	}
	if leaf == nil {
		leaf, _ = x509.ParseCertificate(chain[0]) // nil on failure: no fields
	}
	c := &Cert{Leaf: leaf, Chain: chain}
	if leaf != nil {
		// crypto/x509 parsed these names already, so DN does not fail on
		// them; were it to, "" is safer than a wrong value.
		c.Subject, _ = certfmt.DN(leaf.RawSubject)
		c.Serial = certfmt.Serial(leaf)
		c.Validity = certfmt.Validity(leaf)
	}
	return c
}

// Issuer is the leaf's issuer DN, formatted as Subject is, on first use:
// only verify mode's X-Amzn-Mtls-Clientcert-Issuer needs it.
func (c *Cert) Issuer() string {
	c.issuerOnce.Do(func() {
		if c.Leaf != nil {
			c.issuer, _ = certfmt.DN(c.Leaf.RawIssuer)
		}
	})
	return c.issuer
}

// LeafPEMURL is the leaf as URL-encoded PEM, X-Amzn-Mtls-Clientcert-Leaf
// (verify mode); "" without a parsed leaf.
func (c *Cert) LeafPEMURL(eq certfmt.EqualsEncoding) string {
	if c.Leaf == nil {
		return ""
	}
	return c.leafPEM.get(eq, func() string { return certfmt.PEMURLEncode([][]byte{c.Leaf.Raw}, eq) })
}

// ChainPEMURL is the chain as sent, leaf first, as URL-encoded PEM:
// X-Amzn-Mtls-Clientcert (passthrough mode).
func (c *Cert) ChainPEMURL(eq certfmt.EqualsEncoding) string {
	return c.chainPEM.get(eq, func() string { return certfmt.PEMURLEncode(c.Chain, eq) })
}

// pemOnce keeps the first encoding asked for: a listener uses one '='
// encoding, so a second, different one (after a reload) is rare and simply
// formatted again.
type pemOnce struct {
	once sync.Once
	eq   certfmt.EqualsEncoding
	s    string
}

func (p *pemOnce) get(eq certfmt.EqualsEncoding, format func() string) string {
	p.once.Do(func() { p.eq, p.s = eq, format() })
	if p.eq != eq {
		return format()
	}
	return p.s
}
