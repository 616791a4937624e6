// Package verify makes ALB's client-certificate decision in verify mode:
// given the certificates a client sent and the trust store, it returns
// exactly one of ALB's connection-log codes (alb-behaviour §3) and a sentence saying
// which certificate failed which check.
//
// It implements the order of s2n-tls and AWS-LC (s2n-semantics.md §1, §8,
// §9) itself instead of using x509.Certificate.Verify, whose answers differ
// (merged time errors, now == notAfter accepted, anyEKU, no leaf key usage,
// no partial chains, no CRLs). The order, first failure wins:
//
//  1. Certificate message larger than 64 KiB → ClientCertMaxSizeExceeded
//  2. no certificate → Options.MissingCertificate (UnmappedConnectionError)
//  3. per certificate sent, up to the depth limit: unparseable →
//     ClientCertInvalid; key not RSA 2048–8192 or ECDSA P-256/384/521, or an
//     X.509v1 leaf → ClientCertTypeUnsupported
//  4. more than 4 certificates sent → ClientCertMaxChainDepthExceeded
//  5. no path to a trust store certificate (any bundle certificate is an
//     anchor) → ClientCertUntrusted; a certificate sent as an issuer that is
//     not a valid CA, or exceeds a pathLen → ClientCertUntrusted
//  6. CRLs for every chain certificate, leaf first, anchor included:
//     unusable CRL → ClientCertCrlProcessingError (ClientCertUntrusted when
//     its issuer lacks cRLSign); serial listed → ClientCertCrlHit
//  7. signatures and validity, anchor down: bad signature →
//     ClientCertUntrusted; notBefore > now → ClientCertNotYetValid;
//     notAfter ≤ now → ClientCertExpired
//  8. purpose, every certificate but the anchor: EKU without clientAuth,
//     leaf keyUsage without digitalSignature or keyAgreement →
//     ClientCertPurposeInvalid
//
// docs/verification.md has the full table with the basis of each mapping.
package verify

import (
	"fmt"
	"strings"

	"github.com/albmtls/albmtls/emulator/alb"
)

// Code is an ALB client-certificate verification result, as logged in the
// connection log's tls_verify_status field (alb-behaviour §3, [DOC: CL]).
//
//	Code                             ALB's description                                   Emitted for (basis)
//	Success                          —                                                   verified chain (DOC)
//	ClientCertMaxChainDepthExceeded  maximum client certificate chain depth exceeded     > 4 certificates sent (INF, alb-behaviour §S1.6)
//	ClientCertMaxSizeExceeded        maximum client certificate size exceeded            Certificate message > 64 KiB (INF, alb-behaviour §S7)
//	ClientCertCrlHit                 client certificate has been revoked by the CA       a chain serial in its issuer's CRL (INF, alb-behaviour §S1.4)
//	ClientCertCrlProcessingError     CRL processing error                                unusable CRL; missing CRL with the "fail" knob (INF)
//	ClientCertUntrusted              client certificate is untrusted                     no path, bad signature, invalid CA (INF, alb-behaviour §S1.2)
//	ClientCertNotYetValid            client certificate is not yet valid                 notBefore > now, any chain cert (INF, alb-behaviour §S1.3)
//	ClientCertExpired                client certificate is expired                       notAfter ≤ now, any chain cert (INF, alb-behaviour §S1.3)
//	ClientCertTypeUnsupported        client certificate type is unsupported              key type or size, v1 leaf (INF, alb-behaviour §1.3)
//	ClientCertInvalid                client certificate is invalid                       unparseable DER (INF, alb-behaviour §S9)
//	ClientCertPurposeInvalid         client certificate purpose is invalid               EKU / key usage (INF, alb-behaviour §S1.5)
//	ClientCertRejected               rejected by custom server validation                never by this package (no custom validation)
//	UnmappedConnectionError          unmapped runtime connection error                   no certificate (knob), other TLS failures (INF)
//	ClientCertIncompatible           incompatible with the listener's security policy    never by this package (policy checks are elsewhere)
type Code string

// The ALB codes (alb-behaviour §3). Success is logged as "Success", every other code
// as "Failed:<Code>".
const (
	Success                         Code = alb.VerifySuccess
	ClientCertMaxChainDepthExceeded Code = "ClientCertMaxChainDepthExceeded"
	ClientCertMaxSizeExceeded       Code = "ClientCertMaxSizeExceeded"
	ClientCertCrlHit                Code = "ClientCertCrlHit"
	ClientCertCrlProcessingError    Code = "ClientCertCrlProcessingError"
	ClientCertUntrusted             Code = "ClientCertUntrusted"
	ClientCertNotYetValid           Code = "ClientCertNotYetValid"
	ClientCertExpired               Code = "ClientCertExpired"
	ClientCertTypeUnsupported       Code = "ClientCertTypeUnsupported"
	ClientCertInvalid               Code = "ClientCertInvalid"
	ClientCertPurposeInvalid        Code = "ClientCertPurposeInvalid"
	ClientCertRejected              Code = "ClientCertRejected"
	UnmappedConnectionError         Code = "UnmappedConnectionError"
	ClientCertIncompatible          Code = "ClientCertIncompatible"
)

// Codes lists every code in the order of alb-behaviour §3, Success first.
var Codes = []Code{
	Success, ClientCertMaxChainDepthExceeded, ClientCertMaxSizeExceeded, ClientCertCrlHit,
	ClientCertCrlProcessingError, ClientCertUntrusted, ClientCertNotYetValid, ClientCertExpired,
	ClientCertTypeUnsupported, ClientCertInvalid, ClientCertPurposeInvalid, ClientCertRejected,
	UnmappedConnectionError, ClientCertIncompatible,
}

var descriptions = map[Code]string{
	Success:                         "client certificate verified",
	ClientCertMaxChainDepthExceeded: "The maximum client certificate chain depth has been exceeded",
	ClientCertMaxSizeExceeded:       "The maximum client certificate size has been exceeded",
	ClientCertCrlHit:                "Client certificate has been revoked by the CA",
	ClientCertCrlProcessingError:    "CRL processing error",
	ClientCertUntrusted:             "Client certificate is untrusted",
	ClientCertNotYetValid:           "Client certificate is not yet valid",
	ClientCertExpired:               "Client certificate is expired",
	ClientCertTypeUnsupported:       "Client certificate type is unsupported",
	ClientCertInvalid:               "Client certificate is invalid",
	ClientCertPurposeInvalid:        "Client certificate purpose is invalid",
	ClientCertRejected:              "Client certificate is rejected by custom server validation",
	UnmappedConnectionError:         "Unmapped runtime connection error",
	ClientCertIncompatible:          "Client certificate is incompatible with the chosen listener security policy",
}

// LogValue is the code as the connection log writes it: "Success" or
// "Failed:<Code>".
func (c Code) LogValue() string {
	if c == Success {
		return alb.VerifySuccess
	}
	return alb.VerifyFailedPrefix + string(c)
}

// Description is ALB's documented description of the code (alb-behaviour §3).
func (c Code) Description() string { return descriptions[c] }

// Valid reports whether c is one of ALB's codes.
func (c Code) Valid() bool {
	_, ok := descriptions[c]
	return ok
}

// ParseCode accepts a code as written in config or in a log ("ClientCertExpired"
// or "Failed:ClientCertExpired") and rejects anything else, listing the valid
// codes.
func ParseCode(s string) (Code, error) {
	c := Code(strings.TrimPrefix(s, alb.VerifyFailedPrefix))
	if c.Valid() && !(c == Success && s != string(Success)) {
		return c, nil
	}
	names := make([]string, len(Codes))
	for i, v := range Codes {
		names[i] = string(v)
	}
	return "", fmt.Errorf("unknown ALB verification code %q; valid codes: %s", s, strings.Join(names, ", "))
}
