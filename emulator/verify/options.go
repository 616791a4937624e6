package verify

import (
	"fmt"
	"time"

	"github.com/albmtls/albmtls/emulator/alb"
)

// CRLMissingPolicy says what happens when a certificate of the chain has no
// CRL from its issuer in the trust store.
type CRLMissingPolicy string

const (
	// CRLMissingSkip (default, ""): a CA with no CRL in the trust store is
	// not checked (the product brief; ALB docs describe CRLs as optional).
	CRLMissingSkip CRLMissingPolicy = "skip"
	// CRLMissingFail: every certificate of the chain, anchor included, must
	// find its issuer's CRL, as s2n's CRL_CHECK_ALL does (alb-behaviour §S2) →
	// ClientCertCrlProcessingError.
	CRLMissingFail CRLMissingPolicy = "fail"
)

// StaleCRLPolicy says what happens with a CRL whose thisUpdate is in the
// future or whose nextUpdate has passed.
type StaleCRLPolicy string

const (
	// StaleCRLApply (default, ""): the CRL is used as if current, as s2n
	// does (alb-behaviour §S1.4, §S2: CRL time errors are forgiven).
	StaleCRLApply StaleCRLPolicy = "apply"
	// StaleCRLFail: a handshake that needs a stale CRL fails with
	// ClientCertCrlProcessingError, as an application using s2n's
	// s2n_crl_validate_* helpers would.
	StaleCRLFail StaleCRLPolicy = "fail"
)

// Options are the listener's mutual-authentication attribute and the knobs
// for behaviour ALB does not document ([UNK] in the spec). The zero value
// is ALB's documented behaviour and the reference's defaults.
type Options struct {
	// Now is the clock (default time.Now). Validity is compared at
	// one-second granularity, valid iff notBefore ≤ now < notAfter, as in
	// AWS-LC (alb-behaviour §S1.3).
	Now func() time.Time
	// IgnoreClientCertificateExpiry is the listener attribute (default
	// false, alb-behaviour §1.1).
	IgnoreClientCertificateExpiry bool
	// IgnoreExpiryKeepsNotBefore: with IgnoreClientCertificateExpiry, still
	// reject not-yet-valid certificates. Default false: both checks are
	// skipped, as the brief says and s2n's time-check switch does (s2n
	// §1.4); alb-behaviour §10.9 leaves it open.
	IgnoreExpiryKeepsNotBefore bool
	// IgnoreExpiryLeafOnly: with IgnoreClientCertificateExpiry, skip the
	// time checks of the leaf only. Default false: every certificate of the
	// chain, as s2n's switch does (alb-behaviour §10.9).
	IgnoreExpiryLeafOnly bool
	// MissingCertificate is the code for a client that sends no certificate
	// (default UnmappedConnectionError, alb-behaviour §10.1 [UNK]).
	MissingCertificate Code
	// CRLMissingForIssuer (default CRLMissingSkip, alb-behaviour §10.7 [UNK]).
	CRLMissingForIssuer CRLMissingPolicy
	// StaleCRL (default StaleCRLApply, alb-behaviour §S1.4).
	StaleCRL StaleCRLPolicy
	// UnhandledCriticalExtension is the code for a certificate sent with a
	// critical extension AWS-LC does not handle (default ClientCertUntrusted;
	// alb-behaviour §S9 gives "ClientCertInvalid or ClientCertUntrusted").
	UnhandledCriticalExtension Code
	// MaxChainDepth is the most certificates a client may send (default
	// alb.MaxChainDepth, the ALB quota, counted as s2n counts: leaf and any
	// root included, alb-behaviour §S1.6).
	MaxChainDepth int
	// MaxCertificateMessageSize is the largest Certificate handshake
	// message body in bytes (default alb.MaxCertificateMessage, 65536,
	// alb-behaviour §S7).
	MaxCertificateMessageSize int
	// SignatureCacheSize is how many verified chains the verifier
	// remembers per trust store generation, so that a client reconnecting
	// with the same chain skips the signature checks (not an ALB setting:
	// the outcome is the same, only faster; see sigCache). 0 is
	// DefaultSignatureCacheSize; a negative value turns the cache off.
	SignatureCacheSize int
}

// Validate rejects knob values outside their enumerations, listing the
// valid ones.
func (o Options) Validate() error {
	switch o.CRLMissingForIssuer {
	case "", CRLMissingSkip, CRLMissingFail:
	default:
		return fmt.Errorf("crl_missing_for_issuer %q: want %q or %q", o.CRLMissingForIssuer, CRLMissingSkip, CRLMissingFail)
	}
	switch o.StaleCRL {
	case "", StaleCRLApply, StaleCRLFail:
	default:
		return fmt.Errorf("stale CRL policy %q: want %q or %q", o.StaleCRL, StaleCRLApply, StaleCRLFail)
	}
	for name, c := range map[string]Code{"missing certificate code": o.MissingCertificate,
		"unhandled critical extension code": o.UnhandledCriticalExtension} {
		if c == "" {
			continue
		}
		if _, err := ParseCode(string(c)); err != nil || c == Success {
			return fmt.Errorf("%s: %w", name, orSuccess(err, c))
		}
	}
	if o.MaxChainDepth < 0 || o.MaxCertificateMessageSize < 0 {
		return fmt.Errorf("max chain depth %d and max certificate message size %d must not be negative",
			o.MaxChainDepth, o.MaxCertificateMessageSize)
	}
	return nil
}

func orSuccess(err error, c Code) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("%q would accept the connection; choose a failure code", c)
}

// withDefaults fills the zero values.
func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MissingCertificate == "" {
		o.MissingCertificate = UnmappedConnectionError
	}
	if o.CRLMissingForIssuer == "" {
		o.CRLMissingForIssuer = CRLMissingSkip
	}
	if o.StaleCRL == "" {
		o.StaleCRL = StaleCRLApply
	}
	if o.UnhandledCriticalExtension == "" {
		o.UnhandledCriticalExtension = ClientCertUntrusted
	}
	if o.MaxChainDepth == 0 {
		o.MaxChainDepth = alb.MaxChainDepth
	}
	if o.MaxCertificateMessageSize == 0 {
		o.MaxCertificateMessageSize = alb.MaxCertificateMessage
	}
	if o.SignatureCacheSize == 0 {
		o.SignatureCacheSize = DefaultSignatureCacheSize
	}
	return o
}
