package truststore

import (
	"fmt"
	"strings"
	"time"

	"github.com/albmtls/albmtls/emulator/alb"
)

// ALB API error names (ELBv2 API model, alb-behaviour §1.2). Findings carry them so
// that a refusal reads as it would from `aws elbv2 create-trust-store` or
// `add-trust-store-revocations`.
const (
	// ErrInvalidCaCertificatesBundle is CreateTrustStore / ModifyTrustStore's
	// "ca certificate bundle is in an invalid format, or corrupt".
	ErrInvalidCaCertificatesBundle = "InvalidCaCertificatesBundle"
	// ErrCaCertificatesBundleNotFound is returned when the bundle object
	// does not exist; the emulator uses it for an unreadable bundle file.
	ErrCaCertificatesBundleNotFound = "CaCertificatesBundleNotFound"
	// ErrInvalidRevocationContent is AddTrustStoreRevocations' "revocation
	// file is an invalid format, or uses an incorrect algorithm".
	ErrInvalidRevocationContent = "InvalidRevocationContent"
	// ErrRevocationContentNotFound is returned when the revocation object
	// does not exist; the emulator uses it for an unreadable CRL file.
	ErrRevocationContentNotFound = "RevocationContentNotFound"
	// ErrTooManyTrustStoreRevocationEntries is AddTrustStoreRevocations'
	// error when the trust store would exceed its revocation-entry quota.
	ErrTooManyTrustStoreRevocationEntries = "TooManyTrustStoreRevocationEntries"
	// ErrRevocationIDNotFound is Describe/RemoveTrustStoreRevocations' error
	// for an unknown revocation ID.
	ErrRevocationIDNotFound = "RevocationIdNotFound"
)

// Quota names used as the ALBError of findings for which the ELBv2 API
// documents no error shape (alb-behaviour §1.2 "Quotas"). They name the quota as the
// Service Quotas console does; the error a real ALB returns is not
// documented (Basis "INF").
const (
	QuotaCACertificatesPerTrustStore = "CaCertificatesPerTrustStore"
	QuotaCACertificateSize           = "CaCertificateSize"
	QuotaCASubjectSize               = "CaCertificatesSubjectSize"
	QuotaRevocationListFileSize      = "RevocationListFileSize"
	QuotaRevocationListsPerStore     = "RevocationListsPerTrustStore"
)

// Basis values say where a rule comes from (alb-behaviour §0).
const (
	BasisDOC = "DOC" // stated in AWS documentation or the API model
	BasisINF = "INF" // inferred; see the rule's comment
)

// Finding is one problem in a bundle or CRL file. Fatal findings make ALB
// refuse the upload (and Load fail); the others are warnings.
type Finding struct {
	// Rule is a stable identifier of the check, e.g. "bundle-blank-line".
	Rule string `json:"rule"`
	// ALBError is ALB's API error name, or a quota name where ALB documents
	// none; empty for warnings that ALB does not report at all.
	ALBError string `json:"alb_error,omitempty"`
	File     string `json:"file"`
	// Line is 1-based; 0 when the finding is about the whole file.
	Line    int    `json:"line,omitempty"`
	Problem string `json:"problem"`
	Fix     string `json:"fix,omitempty"`
	Fatal   bool   `json:"fatal"`
	// Basis is BasisDOC or BasisINF: whether ALB documents this rule.
	Basis string `json:"basis"`
}

// String formats the finding as `FILE:LINE: ALBError: problem; fix`, the
// form compilers use, so editors can jump to the line.
func (f Finding) String() string {
	var b strings.Builder
	b.WriteString(f.File)
	if f.Line > 0 {
		fmt.Fprintf(&b, ":%d", f.Line)
	}
	b.WriteString(": ")
	switch {
	case !f.Fatal && f.ALBError != "":
		b.WriteString("warning: " + f.ALBError + ": ")
	case !f.Fatal:
		b.WriteString("warning: ")
	default:
		b.WriteString(f.ALBError + ": ")
	}
	b.WriteString(f.Problem)
	if f.Fix != "" {
		b.WriteString("; " + f.Fix)
	}
	return b.String()
}

// HasFatal reports whether any finding would make ALB refuse the upload.
func HasFatal(fs []Finding) bool {
	for _, f := range fs {
		if f.Fatal {
			return true
		}
	}
	return false
}

// LoadError is the error of Load, Live.AddRevocations and Live.Reload: the
// findings that made the trust store unacceptable (fatal ones first in
// file order), plus any warnings seen on the way.
type LoadError struct {
	TrustStore string
	Findings   []Finding
}

// Error names the first fatal finding and how many more there are.
func (e *LoadError) Error() string {
	var first *Finding
	n := 0
	for i := range e.Findings {
		if e.Findings[i].Fatal {
			if first == nil {
				first = &e.Findings[i]
			}
			n++
		}
	}
	if first == nil {
		return fmt.Sprintf("trust store %q: refused without a fatal finding", e.TrustStore)
	}
	msg := fmt.Sprintf("trust store %q: %s", e.TrustStore, first)
	if n > 1 {
		msg += fmt.Sprintf(" (and %d more problems)", n-1)
	}
	return msg
}

// ALBError returns the API error name of the first fatal finding, for the
// admin API's error responses.
func (e *LoadError) ALBError() string {
	for _, f := range e.Findings {
		if f.Fatal {
			return f.ALBError
		}
	}
	return ""
}

// RevocationIDNotFoundError is returned for revocation IDs the trust store
// does not hold (ELBv2 RevocationIdNotFound).
type RevocationIDNotFoundError struct {
	TrustStore string
	IDs        []int64 // the unknown IDs
	Known      []int64 // the IDs that exist, to help the caller
}

// Error lists the unknown and the existing IDs.
func (e *RevocationIDNotFoundError) Error() string {
	return fmt.Sprintf("trust store %q: %s: revocation ID(s) %v not found; existing IDs: %v (IDs are never reused)",
		e.TrustStore, ErrRevocationIDNotFound, e.IDs, e.Known)
}

// ALBError returns "RevocationIdNotFound".
func (e *RevocationIDNotFoundError) ALBError() string { return ErrRevocationIDNotFound }

// Limits are the quotas and knobs applied when checking files. The zero
// value means ALB's documented defaults (alb-behaviour §1.2 "Quotas").
type Limits struct {
	// MaxCACertificates is "CA certificates per trust store" (default
	// alb.DefaultMaxCACertificates).
	MaxCACertificates int
	// MaxRevocationEntries is "Revocation entries per trust store"
	// (default alb.DefaultMaxRevocationEntries).
	MaxRevocationEntries int
	// MaxRevocationLists is "Revocation lists per trust store" (default
	// alb.DefaultMaxRevocationLists).
	MaxRevocationLists int
	// AcceptBadCRLSignature keeps a CRL whose signature does not verify
	// with its issuer's key, as a warning instead of a refusal. Whether ALB
	// checks the signature at upload is [UNK] (alb-behaviour §10.7); with this
	// knob the CRL is loaded as unusable and every handshake that needs it
	// fails with ClientCertCrlProcessingError (alb-behaviour §S1.4, S2N_ERR_CRL_SIGNATURE).
	AcceptBadCRLSignature bool
	// Now is the clock for expiry warnings; nil means time.Now.
	Now func() time.Time
}

func (l Limits) maxCAs() int {
	if l.MaxCACertificates > 0 {
		return l.MaxCACertificates
	}
	return alb.DefaultMaxCACertificates
}

func (l Limits) maxEntries() int {
	if l.MaxRevocationEntries > 0 {
		return l.MaxRevocationEntries
	}
	return alb.DefaultMaxRevocationEntries
}

func (l Limits) maxLists() int {
	if l.MaxRevocationLists > 0 {
		return l.MaxRevocationLists
	}
	return alb.DefaultMaxRevocationLists
}

func (l Limits) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}
