package verify

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/albmtls/albmtls/emulator/alb"
	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/emulator/truststore"
)

// Result is the outcome of one verification.
type Result struct {
	// Code is the ALB code for the connection log.
	Code Code
	// Leaf is the client's certificate, nil if none was sent or it could
	// not be parsed.
	Leaf *x509.Certificate
	// Chain is the path built, leaf first and trust anchor last; nil when
	// no path to the trust store was found (or before that step failed).
	Chain []*x509.Certificate
	// Reason says in one sentence which certificate failed which check;
	// empty on success.
	Reason string
}

// Verifier decides client certificates against a trust store. It is safe
// for concurrent use. Every call reads the trust store snapshot anew, so
// revocations added at runtime apply to the next handshake; the only thing
// it caches is which exact certificate paths had their signatures verified
// under the current snapshot (see sigCache): validity, CRLs and purpose are
// checked on every call.
type Verifier struct {
	store func() *truststore.Store
	opts  Options
	sigs  *sigCache
}

// New returns a verifier that reads the current trust store snapshot from
// store on every call (e.g. (*truststore.Live).Current), so reloads and
// runtime revocations need no new verifier. Zero options are ALB's
// defaults; call Options.Validate first to reject bad knob values.
func New(store func() *truststore.Store, opts Options) *Verifier {
	opts = opts.withDefaults()
	return &Verifier{store: store, opts: opts, sigs: newSigCache(opts.SignatureCacheSize)}
}

// Options returns the verifier's options with the defaults filled in.
func (v *Verifier) Options() Options { return v.opts }

// CertificateMessageSize is the length of the body of the Certificate
// handshake message that carries raw, as s2n measures it against its
// 64 KiB cap (alb-behaviour §S7): TLS 1.2 = 3 + Σ(3+len); TLS 1.3 = 1 (empty request
// context) + 3 + Σ(3+len+2), assuming empty per-entry extensions.
func CertificateMessageSize(tlsVersion uint16, lens func(yield func(int) bool)) int {
	n := 3
	per := 3
	if tlsVersion >= tls.VersionTLS13 {
		n, per = 4, 5
	}
	for l := range lens {
		n += per + l
	}
	return n
}

// Verify decides a client chain as received: DER certificates, leaf first.
// tlsVersion is the negotiated version (tls.VersionTLS12 or 13), which
// changes how the message size is counted.
func (v *Verifier) Verify(tlsVersion uint16, raw [][]byte) Result {
	size := CertificateMessageSize(tlsVersion, func(yield func(int) bool) {
		for _, r := range raw {
			if !yield(len(r)) {
				return
			}
		}
	})
	if r, done := v.preflight(size, len(raw)); done {
		return r
	}
	// s2n parses at most max_depth certificates; the rest are never looked
	// at, so a bad fifth certificate is reported as too deep (alb-behaviour §S1.6).
	n := min(len(raw), v.opts.MaxChainDepth)
	certs := make([]*x509.Certificate, n)
	for i := range n {
		if len(raw[i]) == 0 {
			return Result{Code: ClientCertInvalid, Leaf: certs[0],
				Reason: fmt.Sprintf("certificate %d of %d sent by the client is empty", i+1, len(raw))}
		}
		c, err := x509.ParseCertificate(raw[i])
		if err != nil {
			return Result{Code: ClientCertInvalid, Leaf: certs[0],
				Reason: fmt.Sprintf("certificate %d of %d sent by the client cannot be parsed: %v", i+1, len(raw), err)}
		}
		certs[i] = c
		if r, bad := v.keyCheck(i, c); bad {
			r.Leaf = certs[0]
			return r
		}
	}
	if len(raw) > v.opts.MaxChainDepth {
		return v.tooDeep(certs[0], len(raw))
	}
	return v.decide(certs)
}

// VerifyParsed decides a chain the TLS stack has already parsed
// (tls.ConnectionState.PeerCertificates), so the handshake path does not
// parse twice. Go's stack refuses unparseable certificates itself; see
// CodeForHandshakeError.
func (v *Verifier) VerifyParsed(tlsVersion uint16, certs []*x509.Certificate) Result {
	size := CertificateMessageSize(tlsVersion, func(yield func(int) bool) {
		for _, c := range certs {
			if !yield(len(c.Raw)) {
				return
			}
		}
	})
	if r, done := v.preflight(size, len(certs)); done {
		if len(certs) > 0 {
			r.Leaf = certs[0]
		}
		return r
	}
	for i, c := range certs[:min(len(certs), v.opts.MaxChainDepth)] {
		if r, bad := v.keyCheck(i, c); bad {
			r.Leaf = certs[0]
			return r
		}
	}
	if len(certs) > v.opts.MaxChainDepth {
		return v.tooDeep(certs[0], len(certs))
	}
	return v.decide(certs)
}

// preflight applies the checks made before any certificate is parsed:
// message size (alb-behaviour §S7: on the handshake header, before anything else) and
// an empty certificate list (alb-behaviour §10.1).
func (v *Verifier) preflight(size, count int) (Result, bool) {
	if size > v.opts.MaxCertificateMessageSize {
		return Result{Code: ClientCertMaxSizeExceeded, Reason: fmt.Sprintf(
			"the client's Certificate message is %d bytes, over the %d-byte limit", size, v.opts.MaxCertificateMessageSize)}, true
	}
	if count == 0 {
		return Result{Code: v.opts.MissingCertificate, Reason: "the client sent no certificate"}, true
	}
	return Result{}, false
}

// keyCheck applies ALB's key rule to one certificate sent (alb-behaviour §1.3
// "Supported public keys" [DOC]); the brief places it before the depth
// check, as s2n checks each certificate as it reads it (alb-behaviour §S1.1 step 3c).
// An X.509v1 leaf is refused too: "X.509v1 client certificates are not
// supported" [DOC: MA], mapped to ClientCertTypeUnsupported (alb-behaviour §3 [INF]).
func (v *Verifier) keyCheck(i int, c *x509.Certificate) (Result, bool) {
	if desc, ok := alb.SupportedPublicKey(c.PublicKey); !ok {
		return Result{Code: ClientCertTypeUnsupported, Reason: fmt.Sprintf(
			"%s has a key of type %s; ALB supports %s", position(i, c), desc, alb.SupportedKeys)}, true
	}
	if i == 0 && c.Version < 3 {
		return Result{Code: ClientCertTypeUnsupported, Reason: fmt.Sprintf(
			"%s is X.509v%d; ALB does not support X.509v1 client certificates", position(i, c), c.Version)}, true
	}
	return Result{}, false
}

func (v *Verifier) tooDeep(leaf *x509.Certificate, n int) Result {
	return Result{Code: ClientCertMaxChainDepthExceeded, Leaf: leaf, Reason: fmt.Sprintf(
		"the client sent %d certificates; the maximum chain depth is %d", n, v.opts.MaxChainDepth)}
}

// decide runs the checks of X509_verify_cert and s2n's intent check on a
// parsed chain whose size, keys and depth have passed.
func (v *Verifier) decide(certs []*x509.Certificate) Result {
	st := v.store()
	leaf := certs[0]
	if st == nil || len(st.CACertificates) == 0 {
		return Result{Code: ClientCertUntrusted, Leaf: leaf, Reason: "the trust store is empty"}
	}
	now := v.opts.Now().Truncate(time.Second)
	// The path becomes Result.Chain: one allocation, the only one on the
	// success path besides the signature checks' own.
	path, untrusted, r := buildPath(make([]*x509.Certificate, 0, maxPath), st, certs, v.opts.MaxChainDepth, now)
	if r.Code != "" {
		r.Leaf = leaf
		return r
	}
	for _, check := range [...]func([]*x509.Certificate, int, *truststore.Store, time.Time) Result{
		v.checkExtensions, v.checkRevocation, v.checkSignaturesAndTime, v.checkPurpose,
	} {
		if r := check(path, untrusted, st, now); r.Code != "" {
			r.Leaf, r.Chain = leaf, path
			return r
		}
	}
	return Result{Code: Success, Leaf: leaf, Chain: path}
}

// name renders a certificate's subject as ALB's headers do (RFC 2253,
// OpenSSL style), for reasons.
func name(c *x509.Certificate) string {
	if s, err := certfmt.DN(c.RawSubject); err == nil && s != "" {
		return s
	}
	return "serial " + certfmt.Serial(c)
}

// position names the i-th certificate the client sent.
func position(i int, c *x509.Certificate) string {
	if i == 0 {
		return "the leaf " + name(c)
	}
	return fmt.Sprintf("certificate %d sent (%s)", i+1, name(c))
}
