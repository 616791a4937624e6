package verify

import (
	"fmt"

	"github.com/albmtls/albmtls/internal/enum"
)

// CRLMissingPolicies lists the values of emulation.crl_missing_for_issuer.
var CRLMissingPolicies = []CRLMissingPolicy{CRLMissingSkip, CRLMissingFail}

// UnmarshalText reads emulation.crl_missing_for_issuer; "" stays unset.
func (p *CRLMissingPolicy) UnmarshalText(b []byte) (err error) {
	*p, err = enum.ParseKnob(string(b), CRLMissingPolicies...)
	return err
}

// StaleCRLPolicies lists the values of emulation.stale_crl.
var StaleCRLPolicies = []StaleCRLPolicy{StaleCRLApply, StaleCRLFail}

// UnmarshalText reads emulation.stale_crl; "" stays unset.
func (p *StaleCRLPolicy) UnmarshalText(b []byte) (err error) {
	*p, err = enum.ParseKnob(string(b), StaleCRLPolicies...)
	return err
}

// ExpiryScope is emulation.ignore_expiry_scope: which certificates
// ignore_client_certificate_expiry exempts from the time checks (alb-behaviour §10
// item 9 [UNK]).
type ExpiryScope string

const (
	// ExpiryScopeChain (default): every certificate of the chain, as s2n's
	// time-check switch does.
	ExpiryScopeChain ExpiryScope = "chain"
	// ExpiryScopeLeaf: the client certificate only (Options.IgnoreExpiryLeafOnly).
	ExpiryScopeLeaf ExpiryScope = "leaf"
)

// ExpiryScopes lists the values of emulation.ignore_expiry_scope.
var ExpiryScopes = []ExpiryScope{ExpiryScopeChain, ExpiryScopeLeaf}

// UnmarshalText reads emulation.ignore_expiry_scope; "" stays unset.
func (s *ExpiryScope) UnmarshalText(b []byte) (err error) {
	*s, err = enum.ParseKnob(string(b), ExpiryScopes...)
	return err
}

// UnmarshalText reads a code as ParseCode does; "" stays unset. Whether a
// setting may be Success is its owner's rule (FailureCode).
func (c *Code) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*c = ""
		return nil
	}
	v, err := ParseCode(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// FailureCode is the error for a setting that must name a failure code
// (the emulation knobs that choose the code of a rejection), or nil.
func FailureCode(c Code) error {
	if c == Success {
		return fmt.Errorf("%q is not a failure code: use one of the Failed: codes of the connection log", c)
	}
	return nil
}
