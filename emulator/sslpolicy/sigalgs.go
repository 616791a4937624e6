package sslpolicy

import (
	"crypto/tls"
	"strings"
)

// Signature schemes in the CertificateRequest.
//
// ALB's TLS library, s2n-tls, lists a policy's signature_preferences in the
// CertificateRequest (alb-behaviour §S5.2, §S5.3); Go's crypto/tls lists its
// own, fixed, list, and no tls.Config field or GODEBUG replaces it (Go
// 1.26: handshake_server.go and handshake_server_tls13.go call
// supportedSignatureAlgorithms(version), which only GODEBUG=tlssha1=1
// widens, by the two SHA-1 schemes, in TLS 1.2). The CertificateRequest is
// covered by the Finished MACs (and encrypted in TLS 1.3), so it cannot be
// rewritten from outside crypto/tls either. These tables are what each side
// sends, so that tests and docs/ssl-policies.md can show the difference
// byte for byte instead of hiding it.

// S2N20140601 is s2n_signature_preferences_20140601, the list of s2n's
// classic ELB policies (ELBSecurityPolicy-2016-08, TLS-1-1-2017-01,
// TLS-1-2-2017-01, TLS-1-2-Ext-2018-06, FS-*), in s2n's order
// (alb-behaviour §S5.3). Source: s2n tls/s2n_security_policies.c.
var S2N20140601 = []tls.SignatureScheme{
	tls.PKCS1WithSHA256, tls.PKCS1WithSHA384, tls.PKCS1WithSHA512, 0x0301, // rsa_pkcs1_sha224
	tls.ECDSAWithP256AndSHA256, tls.ECDSAWithP384AndSHA384, tls.ECDSAWithP521AndSHA512, 0x0303, // ecdsa_sha224
	tls.PKCS1WithSHA1, tls.ECDSAWithSHA1,
}

// S2N20200207 is s2n_signature_preferences_20200207 (identical to
// 20201021), 16 schemes: the only s2n list that fits the 45-byte TLS 1.3
// CertificateRequest observed on ELBSecurityPolicy-TLS13-1-2-2021-06
// (alb-behaviour §2.3, §S5.3; inferred for the TLS13-*-2021-06 family).
var S2N20200207 = []tls.SignatureScheme{
	0x0809, 0x080a, 0x080b, // rsa_pss_pss_sha256/384/512
	tls.PSSWithSHA256, tls.PSSWithSHA384, tls.PSSWithSHA512, // rsa_pss_rsae_*
	tls.PKCS1WithSHA256, tls.PKCS1WithSHA384, tls.PKCS1WithSHA512, 0x0301,
	tls.ECDSAWithP256AndSHA256, tls.ECDSAWithP384AndSHA384, tls.ECDSAWithP521AndSHA512, 0x0303,
	tls.PKCS1WithSHA1, tls.ECDSAWithSHA1,
}

// S2NSignatureSchemes returns the s2n signature list ALB most likely sends
// under the named policy, and false where no public source says (FIPS,
// PQ, RFC 9151 and CNSA policies: alb-behaviour §10.11). The TLS13-*-2021-06
// policies are not named in s2n's tree; their list is inferred from the
// observed message size.
func S2NSignatureSchemes(policy string) ([]tls.SignatureScheme, bool) {
	name := strings.TrimPrefix(policy, "ELBSecurityPolicy-")
	switch {
	case strings.Contains(name, "FIPS"), strings.Contains(name, "PQ"), strings.Contains(name, "RFC9151"):
		return nil, false
	case strings.HasPrefix(name, "TLS13-") && strings.HasSuffix(name, "-2021-06"):
		return S2N20200207, true
	case name == "2016-08", name == "TLS-1-0-2015-04", name == "TLS-1-0-2015-05",
		name == "TLS-1-1-2017-01", name == "TLS-1-2-2017-01", name == "TLS-1-2-Ext-2018-06",
		strings.HasPrefix(name, "FS-"):
		return S2N20140601, true
	}
	return nil, false
}

// GoCertificateRequestSchemes is the signature_algorithms list Go 1.26's
// server sends in a CertificateRequest, which is also the list of schemes
// it accepts in the client's CertificateVerify. TLS 1.3 drops PKCS#1 v1.5
// and SHA-1; TLS 1.2 drops SHA-1 unless GODEBUG=tlssha1=1. Go's TLS 1.3
// message also carries status_request, signed_certificate_timestamp and a
// signature_algorithms_cert extension with GoCertificateSchemes.
func GoCertificateRequestSchemes(version uint16) []tls.SignatureScheme {
	if version >= tls.VersionTLS13 {
		return []tls.SignatureScheme{
			tls.PSSWithSHA256, tls.ECDSAWithP256AndSHA256, tls.Ed25519, tls.PSSWithSHA384,
			tls.PSSWithSHA512, tls.ECDSAWithP384AndSHA384, tls.ECDSAWithP521AndSHA512,
		}
	}
	return []tls.SignatureScheme{
		tls.PSSWithSHA256, tls.ECDSAWithP256AndSHA256, tls.Ed25519, tls.PSSWithSHA384, tls.PSSWithSHA512,
		tls.PKCS1WithSHA256, tls.PKCS1WithSHA384, tls.PKCS1WithSHA512,
		tls.ECDSAWithP384AndSHA384, tls.ECDSAWithP521AndSHA512,
	}
}

// GoCertificateSchemes is Go's signature_algorithms_cert list (TLS 1.3):
// all twelve schemes it knows, SHA-1 and PKCS#1 included.
var GoCertificateSchemes = []tls.SignatureScheme{
	tls.PSSWithSHA256, tls.ECDSAWithP256AndSHA256, tls.Ed25519, tls.PSSWithSHA384, tls.PSSWithSHA512,
	tls.PKCS1WithSHA256, tls.PKCS1WithSHA384, tls.PKCS1WithSHA512,
	tls.ECDSAWithP384AndSHA384, tls.ECDSAWithP521AndSHA512, tls.PKCS1WithSHA1, tls.ECDSAWithSHA1,
}

// S2NCertificateRequest is the CertificateRequest handshake message s2n
// builds with no CA names and no OCSP (alb-behaviour §S5.2), header
// included: TLS 1.3, an empty context and one signature_algorithms
// extension; TLS 1.2, certificate_types rsa_sign and ecdsa_sign, the
// schemes, an empty certificate_authorities. It is what a client of a real
// ALB with AdvertiseTrustStoreCaNames=off reads. The schemes are sent as
// given: s2n's filter by protocol version keeps all of these lists' schemes
// at TLS 1.2 and 1.3 (alb-behaviour §S5.2).
func S2NCertificateRequest(version uint16, schemes []tls.SignatureScheme) []byte {
	list := make([]byte, 0, 2+2*len(schemes))
	list = append(list, byte(len(schemes)*2>>8), byte(len(schemes)*2))
	for _, s := range schemes {
		list = append(list, byte(s>>8), byte(s))
	}
	var body []byte
	if version >= tls.VersionTLS13 {
		ext := append([]byte{0x00, 0x0d, byte(len(list) >> 8), byte(len(list))}, list...)
		body = append([]byte{0x00, byte(len(ext) >> 8), byte(len(ext))}, ext...)
	} else {
		body = []byte{0x02, 0x01, 0x40}
		if version == tls.VersionTLS12 { // TLS 1.0 and 1.1 have no list
			body = append(body, list...)
		}
		body = append(body, 0x00, 0x00)
	}
	return append([]byte{0x0d, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
}
