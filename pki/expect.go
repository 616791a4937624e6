package pki

import (
	"crypto/x509"
	"slices"
	"strings"
	"time"

	"github.com/albmtls/albmtls/emulator/alb"
	"github.com/albmtls/albmtls/emulator/verify"
)

// The oracle predicts outcomes by its own reading of the reference, but
// shares with the emulator the numbers (package alb: the 64 KiB message cap,
// chain depth 4, the key rule, alb-behaviour §1.2, §1.3, §S7) and the codes
// (verify.Code), so that the two can only disagree about logic.

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

// predict applies the brief's verification order (alb-behaviour §S9, first failure
// wins) and returns the tls_verify_status ALB logs. loaded says which CRL
// files are in the trust store; ignoreExpiry skips both time checks (the
// brief's reading of ignore_client_certificate_expiry, alb-behaviour §S1.4 [INF]).
func (vc verifyCase) predict(loaded func(crlFile string) bool, ignoreExpiry bool) verify.Code {
	if CertificateMessageSize(vc.wireDER) > alb.MaxCertificateMessage {
		return verify.ClientCertMaxSizeExceeded
	}
	for _, c := range vc.wire {
		if _, ok := alb.SupportedPublicKey(c.PublicKey); !ok {
			return verify.ClientCertTypeUnsupported
		}
	}
	if len(vc.wire) > alb.MaxChainDepth {
		return verify.ClientCertMaxChainDepthExceeded
	}
	if vc.path == nil {
		return verify.ClientCertUntrusted
	}
	// CRLs are checked leaf first, anchor included (alb-behaviour §S1.3 step 5).
	for i := range vc.path {
		if f, ok := vc.revokedBy[i]; ok && loaded(f) {
			return verify.ClientCertCrlHit
		}
	}
	if !ignoreExpiry {
		// Top-down, notBefore before notAfter for each certificate, and
		// valid iff notBefore <= now < notAfter (alb-behaviour §S1.3 step 6).
		for i := len(vc.path) - 1; i >= 0; i-- {
			c := vc.path[i]
			if vc.now.Before(c.NotBefore) {
				return verify.ClientCertNotYetValid
			}
			if !vc.now.Before(c.NotAfter) {
				return verify.ClientCertExpired
			}
		}
	}
	// Intent: every chain certificate but the anchor (alb-behaviour §S1.5).
	for i, c := range vc.path[:len(vc.path)-1] {
		if len(c.ExtKeyUsage)+len(c.UnknownExtKeyUsage) > 0 && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
			return verify.ClientCertPurposeInvalid
		}
		if i == 0 && c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageKeyAgreement) == 0 {
			return verify.ClientCertPurposeInvalid
		}
	}
	return verify.Success
}

// expect builds the manifest's expectations, assuming every CRL of the set
// is loaded, as in Manifest.TrustStore. note is appended to the computed notes.
func (vc verifyCase) expect(note string) *Expect {
	all := func(string) bool { return true }
	verified, ignoringExpiry := vc.predict(all, false), vc.predict(all, true)
	e := &Expect{
		Verify:             verified.LogValue(),
		VerifyIgnoreExpiry: ignoringExpiry.LogValue(),
		Passthrough:        verify.Success.LogValue(),
	}
	// Passthrough checks nothing of the chain, but the emulator keeps s2n's
	// 64 KiB cap on every handshake message (alb-behaviour §S7; the knob
	// emulation.passthrough_size_limit turns it off).
	if CertificateMessageSize(vc.wireDER) > alb.MaxCertificateMessage {
		e.Passthrough = verify.ClientCertMaxSizeExceeded.LogValue()
	}
	var required []string
	for _, f := range vc.revokedBy {
		if !slices.Contains(required, f) {
			required = append(required, f)
		}
	}
	slices.Sort(required)
	var notes []string
	if len(required) > 0 && verified == verify.ClientCertCrlHit {
		e.RequiresCRLs = required
		without := vc.predict(func(f string) bool { return !slices.Contains(required, f) }, false)
		notes = append(notes, "needs "+strings.Join(required, " and ")+" in the trust store's revocations; without it the outcome is "+without.LogValue())
	}
	if verified == verify.ClientCertNotYetValid && ignoringExpiry == verify.Success {
		notes = append(notes, "assumes ignore_client_certificate_expiry also skips the notBefore check (the brief's reading of alb-behaviour §S1.4 [INF])")
	}
	if note != "" {
		notes = append(notes, note)
	}
	e.Note = strings.Join(notes, "; ")
	return e
}
