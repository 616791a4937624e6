package verify

import "strings"

// Go's crypto/tls refuses some client certificates inside the handshake,
// before VerifyConnection or VerifyPeerCertificate run
// (handshake_server.go processCertsFromClient, conn.go readHandshake). The
// errors are plain strings, so they are recognised by their text.
var handshakeErrors = []struct {
	text string
	code Code
}{
	// x509.ParseCertificate failed on some certificate sent.
	{"tls: failed to parse client certificate", ClientCertInvalid},
	// An RSA key over Go's 8192-bit limit (tlsmaxrsasize); ALB's is 8192 too.
	{"tls: client sent certificate containing RSA key larger than", ClientCertTypeUnsupported},
	// The leaf's key is not ECDSA, RSA or Ed25519 (e.g. DSA, X25519).
	{"tls: client certificate contains an unsupported public key", ClientCertTypeUnsupported},
	// The Certificate message exceeded Go's 256 KiB cap (ALB's is 64 KiB).
	{"exceeds maximum of 262144 bytes", ClientCertMaxSizeExceeded},
	// CertificateVerify failures: s2n maps them to no certificate code
	// (alb-behaviour §S9), so UnmappedConnectionError, but they are about the client
	// certificate.
	{"tls: invalid signature by the client certificate", UnmappedConnectionError},
	{"tls: client certificate used with invalid signature algorithm", UnmappedConnectionError},
}

// missingCertificate is Go's error under RequireAnyClientCert when the
// client sends no certificate.
const missingCertificate = "tls: client didn't provide a certificate"

// CodeForHandshakeError maps a server handshake error to the ALB code when
// Go's TLS stack refused the client certificate itself. The bool is false
// when the error is not about the client certificate (no shared cipher,
// protocol version, network errors…); the caller then logs
// UnmappedConnectionError as ALB does for other TLS failures (alb-behaviour §3). A
// missing certificate maps to UnmappedConnectionError; use the Verifier
// method to honour Options.MissingCertificate.
func CodeForHandshakeError(err error) (Code, bool) {
	if err == nil {
		return "", false
	}
	msg := err.Error()
	if strings.Contains(msg, missingCertificate) {
		return UnmappedConnectionError, true
	}
	for _, h := range handshakeErrors {
		if strings.Contains(msg, h.text) {
			return h.code, true
		}
	}
	return "", false
}

// CodeForHandshakeError is the package function with this verifier's
// MissingCertificate code.
func (v *Verifier) CodeForHandshakeError(err error) (Code, bool) {
	if err != nil && strings.Contains(err.Error(), missingCertificate) {
		return v.opts.MissingCertificate, true
	}
	return CodeForHandshakeError(err)
}
