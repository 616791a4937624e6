package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"slices"
	"strings"
	"time"
)

// ALB limits that decide expectations (spec §1.2 quotas, s2n §7, §1.6).
const (
	// MaxCertificateMessage is the largest Certificate handshake message
	// body ALB accepts, in bytes.
	MaxCertificateMessage = 64 * 1024
	// MaxChainDepth is how many certificates a client may send.
	MaxChainDepth = 4
)

// Outcome strings, as the connection log's tls_verify_status field.
const (
	outcomeSuccess = "Success"
	failed         = "Failed:"
)

// CertificateMessageSize is the size of the TLS 1.3 Certificate message
// body that carries chain: a one-byte empty request context, a three-byte
// list length, and per certificate a three-byte length, the DER and a
// two-byte empty extensions block. TLS 1.2 needs a few bytes less.
func CertificateMessageSize(chain [][]byte) int {
	n := 1 + 3
	for _, c := range chain {
		n += 3 + len(c) + 2
	}
	return n
}

// albKeySupported applies spec §1.3: RSA 2048-8192 or ECDSA P-256/384/521.
func albKeySupported(pub any) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		bits := k.N.BitLen()
		return bits >= 2048 && bits <= 8192
	case *ecdsa.PublicKey:
		return k.Curve == elliptic.P256() || k.Curve == elliptic.P384() || k.Curve == elliptic.P521()
	}
	return false
}

// verifyCase is what the prediction needs to know about one client.
type verifyCase struct {
	wire    []*x509.Certificate // what the client sends, leaf first
	wireDER [][]byte
	// path is the verified chain from the leaf up to the trust anchor,
	// anchor last; nil when no path to the trust store exists.
	path []*x509.Certificate
	// revokedBy maps a certificate in path (by index) to the CRL file that
	// lists it, for the certificates that some CRL of the set revokes.
	revokedBy map[int]string
	now       time.Time
}

// predict applies the brief's verification order (s2n §9, first failure
// wins) and returns the tls_verify_status ALB logs. loaded says which CRL
// files are in the trust store; ignoreExpiry skips both time checks (the
// brief's reading of ignore_client_certificate_expiry, s2n §1.4 [INF]).
func (vc verifyCase) predict(loaded func(crlFile string) bool, ignoreExpiry bool) string {
	if CertificateMessageSize(vc.wireDER) > MaxCertificateMessage {
		return failed + "ClientCertMaxSizeExceeded"
	}
	for _, c := range vc.wire {
		if !albKeySupported(c.PublicKey) {
			return failed + "ClientCertTypeUnsupported"
		}
	}
	if len(vc.wire) > MaxChainDepth {
		return failed + "ClientCertMaxChainDepthExceeded"
	}
	if vc.path == nil {
		return failed + "ClientCertUntrusted"
	}
	// CRLs are checked leaf first, anchor included (s2n §1.3 step 5).
	for i := range vc.path {
		if f, ok := vc.revokedBy[i]; ok && loaded(f) {
			return failed + "ClientCertCrlHit"
		}
	}
	if !ignoreExpiry {
		// Top-down, notBefore before notAfter for each certificate, and
		// valid iff notBefore <= now < notAfter (s2n §1.3 step 6).
		for i := len(vc.path) - 1; i >= 0; i-- {
			c := vc.path[i]
			if vc.now.Before(c.NotBefore) {
				return failed + "ClientCertNotYetValid"
			}
			if !vc.now.Before(c.NotAfter) {
				return failed + "ClientCertExpired"
			}
		}
	}
	// Intent: every chain certificate but the anchor (s2n §1.5).
	for i, c := range vc.path[:len(vc.path)-1] {
		if len(c.ExtKeyUsage)+len(c.UnknownExtKeyUsage) > 0 && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
			return failed + "ClientCertPurposeInvalid"
		}
		if i == 0 && c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageKeyAgreement) == 0 {
			return failed + "ClientCertPurposeInvalid"
		}
	}
	return outcomeSuccess
}

// expect builds the manifest's expectations, assuming every CRL of the set
// is loaded, as in Manifest.TrustStore. note is appended to the computed notes.
func (vc verifyCase) expect(note string) *Expect {
	all := func(string) bool { return true }
	e := &Expect{
		Verify:             vc.predict(all, false),
		VerifyIgnoreExpiry: vc.predict(all, true),
		Passthrough:        outcomeSuccess,
	}
	// Passthrough checks nothing of the chain, but the emulator keeps s2n's
	// 64 KiB cap on every handshake message (s2n §7; the knob
	// emulation.passthrough_size_limit turns it off).
	if CertificateMessageSize(vc.wireDER) > MaxCertificateMessage {
		e.Passthrough = failed + "ClientCertMaxSizeExceeded"
	}
	var required []string
	for _, f := range vc.revokedBy {
		if !slices.Contains(required, f) {
			required = append(required, f)
		}
	}
	slices.Sort(required)
	var notes []string
	if len(required) > 0 && e.Verify == failed+"ClientCertCrlHit" {
		e.RequiresCRLs = required
		without := vc.predict(func(f string) bool { return !slices.Contains(required, f) }, false)
		notes = append(notes, "needs "+strings.Join(required, " and ")+" in the trust store's revocations; without it the outcome is "+without)
	}
	if e.Verify == failed+"ClientCertNotYetValid" && e.VerifyIgnoreExpiry == outcomeSuccess {
		notes = append(notes, "assumes ignore_client_certificate_expiry also skips the notBefore check (the brief's reading of s2n §1.4 [INF])")
	}
	if note != "" {
		notes = append(notes, note)
	}
	e.Note = strings.Join(notes, "; ")
	return e
}
