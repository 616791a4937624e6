package verify

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"slices"
	"time"

	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/emulator/truststore"
)

// checkRevocation is AWS-LC's check_revocation with CRL_CHECK_ALL (alb-behaviour §S1.3
// step 5, §2): every certificate of the path, leaf first and the anchor
// included, against the CRLs of its issuer. It runs before signatures and
// validity, so a revoked and expired certificate is ClientCertCrlHit.
func (v *Verifier) checkRevocation(path []*x509.Certificate, _ int, st *truststore.Store, now time.Time) Result {
	for i, c := range path {
		var issuer *x509.Certificate
		switch {
		case i+1 < len(path):
			issuer = path[i+1]
		case selfIssued(c):
			issuer = c // a root's own CRL
		}
		var r truststore.Revocation
		if issuer != nil {
			r = st.LookupCert(c, issuer)
		}
		if !r.Checked {
			if v.opts.CRLMissingForIssuer == CRLMissingFail {
				return Result{Code: ClientCertCrlProcessingError, Reason: fmt.Sprintf(
					"no CRL from the issuer of %s (%s) is in the trust store", role(path, i), dnOf(c.RawIssuer))}
			}
			continue // the default: a CA without a CRL is not checked
		}
		// AWS-LC check_crl order: issuer keyUsage, scope, time, signature,
		// then cert_crl: critical extensions, serial.
		if r.Unusable == truststore.UnusableIssuerNoCRLSign || r.Unusable == truststore.UnusableScope {
			return unusable(path, i, r)
		}
		if v.opts.StaleCRL == StaleCRLFail && r.CRL.Stale(now) {
			return Result{Code: ClientCertCrlProcessingError, Reason: fmt.Sprintf(
				"CRL revocation ID %d of %s, needed for %s, is stale (nextUpdate %s)",
				r.RevocationID, name(r.CRL.Issuer), role(path, i), certfmt.FormatTime(r.CRL.NextUpdate))}
		}
		if r.Unusable != truststore.Usable {
			return unusable(path, i, r)
		}
		if r.Revoked {
			return Result{Code: ClientCertCrlHit, Reason: fmt.Sprintf(
				"serial %s of %s is listed in CRL revocation ID %d of %s",
				certfmt.Serial(c), role(path, i), r.RevocationID, name(r.CRL.Issuer))}
		}
	}
	return Result{}
}

// unusable maps an unusable CRL: s2n reports a CRL issuer without cRLSign
// as CERT_UNTRUSTED and every other CRL failure as a CRL error (alb-behaviour §S1.4).
func unusable(path []*x509.Certificate, i int, r truststore.Revocation) Result {
	code := ClientCertCrlProcessingError
	if r.Unusable == truststore.UnusableIssuerNoCRLSign {
		code = ClientCertUntrusted
	}
	return Result{Code: code, Reason: fmt.Sprintf("CRL revocation ID %d, needed for %s, cannot be used: %s",
		r.RevocationID, role(path, i), r.Reason)}
}

// checkSignaturesAndTime is AWS-LC's internal_verify (alb-behaviour §S1.3 step 6):
// from the anchor down, each certificate's signature by the one above
// (the anchor's own is not checked), then its validity, notBefore before
// notAfter. So an expired intermediate is reported before a bad leaf
// signature. A path whose signatures all verified before under the same
// trust store snapshot skips the signature checks (sigCache), never the
// validity ones; the outcome is the same, as only successes are cached.
func (v *Verifier) checkSignaturesAndTime(path []*x509.Certificate, _ int, st *truststore.Store, now time.Time) Result {
	var key [sha256.Size]byte
	cached := false
	if v.sigs != nil && len(path) > 1 {
		key = pathKey(path)
		cached = v.sigs.verified(st, key)
	}
	for i := len(path) - 1; i >= 0; i-- {
		c := path[i]
		if i < len(path)-1 && !cached {
			parent := path[i+1]
			if err := parent.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
				return Result{Code: ClientCertUntrusted, Reason: fmt.Sprintf(
					"the signature of %s does not verify with the key of %s: %v", role(path, i), name(parent), err)}
			}
			if i == 0 { // the last signature of the path: all verified
				v.sigs.remember(st, key)
			}
		}
		skip := v.opts.IgnoreClientCertificateExpiry && (i == 0 || !v.opts.IgnoreExpiryLeafOnly)
		if (!skip || v.opts.IgnoreExpiryKeepsNotBefore) && c.NotBefore.After(now) {
			return Result{Code: ClientCertNotYetValid, Reason: fmt.Sprintf(
				"%s is not valid before %s", role(path, i), certfmt.FormatTime(c.NotBefore))}
		}
		if !skip && !now.Before(c.NotAfter) {
			return Result{Code: ClientCertExpired, Reason: fmt.Sprintf(
				"%s expired at %s", role(path, i), certfmt.FormatTime(c.NotAfter))}
		}
	}
	return Result{}
}

var oidNetscapeCertType = asn1.ObjectIdentifier{2, 16, 840, 1, 113730, 1, 1}

// checkPurpose is s2n's intent check, X509_check_purpose(SSL_CLIENT) on
// every certificate of the path but the anchor (alb-behaviour §S1.5): an EKU, if
// present, must include clientAuth (anyExtendedKeyUsage alone does not);
// the leaf's keyUsage, if present, must allow digitalSignature or
// keyAgreement, and its Netscape cert type, if present, SSL client; a CA
// must pass check_ca.
func (v *Verifier) checkPurpose(path []*x509.Certificate, _ int, _ *truststore.Store, _ time.Time) Result {
	for i, c := range path[:len(path)-1] {
		if (len(c.ExtKeyUsage) > 0 || len(c.UnknownExtKeyUsage) > 0) && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
			return Result{Code: ClientCertPurposeInvalid, Reason: fmt.Sprintf(
				"the extended key usage of %s does not include clientAuth", role(path, i))}
		}
		if i > 0 {
			if !isCA(c) {
				return Result{Code: ClientCertPurposeInvalid, Reason: fmt.Sprintf(
					"%s is not a valid CA (%s)", role(path, i), notCAReason(c))}
			}
			continue
		}
		if kuRejects(c, x509.KeyUsageDigitalSignature|x509.KeyUsageKeyAgreement) {
			return Result{Code: ClientCertPurposeInvalid, Reason: fmt.Sprintf(
				"the key usage of %s allows neither digitalSignature nor keyAgreement", role(path, i))}
		}
		if nsRejectsClient(c) {
			return Result{Code: ClientCertPurposeInvalid, Reason: fmt.Sprintf(
				"the Netscape certificate type of %s does not include SSL client", role(path, i))}
		}
	}
	return Result{}
}

// nsRejectsClient is AWS-LC's ns_reject(x, NS_SSL_CLIENT).
func nsRejectsClient(c *x509.Certificate) bool {
	for _, e := range c.Extensions {
		if !e.Id.Equal(oidNetscapeCertType) {
			continue
		}
		var bits asn1.BitString
		if _, err := asn1.Unmarshal(e.Value, &bits); err != nil {
			return true
		}
		return bits.At(0) == 0 // bit 0 = SSL client (0x80)
	}
	return false
}
