package verify

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"time"

	"github.com/albmtls/albmtls/emulator/truststore"
)

// maxPath is the path capacity allocated up front: the default depth
// limit (4) plus one store certificate above it, and room to spare.
const maxPath = 8

// buildPath builds the chain as AWS-LC's X509_verify_cert does (alb-behaviour §S1.3):
// from the leaf, each issuer is looked up in the trust store first and only
// then among the certificates the client sent; once a store certificate is
// in the path only the store is searched, up to a self-signed certificate.
// Building stops when the path holds depth+1 certificates. Any store
// certificate makes the path trusted (X509_V_FLAG_PARTIAL_CHAIN, alb-behaviour §S1.2);
// so does a leaf that is itself in the store. It returns the path, the
// number of certificates in it the client sent (the "untrusted" ones, a
// prefix), or a failure.
func buildPath(path []*x509.Certificate, st *truststore.Store, wire []*x509.Certificate, depth int, now time.Time) ([]*x509.Certificate, int, Result) {
	x := wire[0]
	path = append(path, x)
	untrusted, inStore := 1, false
	var used uint64 // wire certificates already in the path (bit i = wire[i])
	for len(path) <= depth && !selfSigned(x) {
		if iss := pick(st.CAsBySubject(x.RawIssuer), x, now, nil, 0); iss != nil {
			path, x, inStore = append(path, iss), iss, true
			continue
		}
		if inStore {
			break
		}
		iss := pick(wire[1:], x, now, &used, 1)
		if iss == nil {
			break
		}
		path, x = append(path, iss), iss
		untrusted++
	}
	if inStore {
		return path, untrusted, Result{}
	}
	if st.Contains(wire[0]) { // lookup_cert_match on the leaf
		return path[:1], 0, Result{}
	}
	top := path[len(path)-1]
	var reason string
	switch {
	case len(path) == 1 && selfIssued(top):
		reason = fmt.Sprintf("the leaf %s is self-signed and not in the trust store", name(top))
	case selfSigned(top):
		reason = fmt.Sprintf("the chain ends at the self-signed %s, which is not in the trust store", name(top))
	default:
		reason = fmt.Sprintf("no issuer of %s (issuer %s) is in the trust store or among the certificates sent",
			name(top), dnOf(top.RawIssuer))
	}
	return path, untrusted, Result{Code: ClientCertUntrusted, Chain: nil, Reason: reason}
}

// pick returns the issuer of x among candidates as AWS-LC's find_issuer and
// get1_issuer do: the first time-valid candidate that X509_check_issued
// accepts, else the last one accepted. With used non-nil, candidates are
// wire certificates (index offset by base) and each serves once.
func pick(candidates []*x509.Certificate, x *x509.Certificate, now time.Time, used *uint64, base int) *x509.Certificate {
	var found *x509.Certificate
	foundIdx := -1
	for i, c := range candidates {
		if used != nil && (i+base >= 64 || *used&(1<<(i+base)) != 0) {
			continue
		}
		if c == x || bytes.Equal(c.Raw, x.Raw) || !issued(c, x) {
			continue
		}
		found, foundIdx = c, i
		if timeValid(c, now) {
			break
		}
	}
	if found != nil && used != nil {
		*used |= 1 << (foundIdx + base)
	}
	return found
}

// issued is X509_check_issued: the issuer's subject is x's issuer name
// (compared as DER bytes, a simplification of AWS-LC's canonical
// comparison), x's authorityKeyIdentifier matches the issuer's
// subjectKeyIdentifier when both are present, and the issuer's keyUsage, if
// present, allows keyCertSign.
func issued(issuer, x *x509.Certificate) bool {
	if !bytes.Equal(issuer.RawSubject, x.RawIssuer) {
		return false
	}
	if len(x.AuthorityKeyId) > 0 && len(issuer.SubjectKeyId) > 0 && !bytes.Equal(x.AuthorityKeyId, issuer.SubjectKeyId) {
		return false
	}
	return !kuRejects(issuer, x509.KeyUsageCertSign)
}

// selfSigned is AWS-LC's EXFLAG_SS: self-issued, AKID matching its own
// SKID, and keyUsage (if any) allowing keyCertSign. The signature itself is
// not checked.
func selfSigned(c *x509.Certificate) bool {
	if !bytes.Equal(c.RawSubject, c.RawIssuer) {
		return false
	}
	if len(c.AuthorityKeyId) > 0 && len(c.SubjectKeyId) > 0 && !bytes.Equal(c.AuthorityKeyId, c.SubjectKeyId) {
		return false
	}
	return !kuRejects(c, x509.KeyUsageCertSign)
}

func selfIssued(c *x509.Certificate) bool { return bytes.Equal(c.RawSubject, c.RawIssuer) }

var oidKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 15}

// kuRejects is AWS-LC's ku_reject: a keyUsage extension is present and
// lacks every bit of want.
func kuRejects(c *x509.Certificate, want x509.KeyUsage) bool {
	if c.KeyUsage&want != 0 {
		return false
	}
	if c.KeyUsage != 0 {
		return true
	}
	for _, e := range c.Extensions { // present but empty
		if e.Id.Equal(oidKeyUsage) {
			return true
		}
	}
	return false
}

// isCA is AWS-LC's check_ca (alb-behaviour §S1.3): keyUsage, if present, allows
// keyCertSign, and basicConstraints says CA:TRUE, or the certificate is a
// self-signed X.509v1 root.
func isCA(c *x509.Certificate) bool {
	if kuRejects(c, x509.KeyUsageCertSign) {
		return false
	}
	if c.BasicConstraintsValid {
		return c.IsCA
	}
	return c.Version == 1 && selfSigned(c)
}

func timeValid(c *x509.Certificate, now time.Time) bool {
	return !c.NotBefore.After(now) && now.Before(c.NotAfter)
}

// pathLen is basicConstraints pathLenConstraint, -1 when absent.
func pathLen(c *x509.Certificate) int {
	if c.MaxPathLen > 0 || c.MaxPathLenZero {
		return c.MaxPathLen
	}
	return -1
}

// Critical extensions AWS-LC handles that Go leaves in
// UnhandledCriticalExtensions (X509_supported_extension).
var awslcHandled = []asn1.ObjectIdentifier{
	{2, 5, 29, 36},                // policyConstraints
	{2, 5, 29, 33},                // policyMappings
	{2, 5, 29, 54},                // inhibitAnyPolicy
	{2, 16, 840, 1, 113730, 1, 1}, // netscape-cert-type
	{2, 5, 29, 32},                // certificatePolicies
	{2, 5, 29, 30},                // nameConstraints
	{2, 5, 29, 17},                // subjectAltName
}

func unhandledCritical(c *x509.Certificate) asn1.ObjectIdentifier {
next:
	for _, oid := range c.UnhandledCriticalExtensions {
		for _, h := range awslcHandled {
			if oid.Equal(h) {
				continue next
			}
		}
		return oid
	}
	return nil
}

// checkExtensions is AWS-LC's check_chain_extensions over the certificates
// the client sent (alb-behaviour §S1.3 step 3): no unhandled critical extension; every
// one above the leaf a CA (→ INVALID_CA); pathLenConstraint respected.
// All of these are ClientCertUntrusted in s2n's mapping (alb-behaviour §S1.2), except
// the critical extension, whose code is a knob.
func (v *Verifier) checkExtensions(path []*x509.Certificate, untrusted int, _ *truststore.Store, _ time.Time) Result {
	plen := 0
	for i := range untrusted {
		c := path[i]
		if oid := unhandledCritical(c); oid != nil {
			return Result{Code: v.opts.UnhandledCriticalExtension, Reason: fmt.Sprintf(
				"%s has the unhandled critical extension %s", role(path, i), oid)}
		}
		if i > 0 && !isCA(c) {
			return Result{Code: ClientCertUntrusted, Reason: fmt.Sprintf(
				"%s signs another certificate but is not a valid CA (%s)", role(path, i), notCAReason(c))}
		}
		if pl := pathLen(c); i > 1 && !selfIssued(c) && pl >= 0 && plen > pl+1 {
			return Result{Code: ClientCertUntrusted, Reason: fmt.Sprintf(
				"%s has pathLenConstraint %d but %d CA certificates below it", role(path, i), pl, plen-1)}
		}
		if !selfIssued(c) {
			plen++
		}
	}
	return Result{}
}

func notCAReason(c *x509.Certificate) string {
	switch {
	case kuRejects(c, x509.KeyUsageCertSign):
		return "keyUsage without keyCertSign"
	case c.Version == 1:
		return "X.509v1 and not self-signed"
	case !c.BasicConstraintsValid:
		return "no basicConstraints"
	default:
		return "basicConstraints CA:FALSE"
	}
}

// role names path[i] by its place in the chain.
func role(path []*x509.Certificate, i int) string {
	switch {
	case i == 0:
		return "the leaf " + name(path[0])
	case i == len(path)-1:
		return "the trust anchor " + name(path[i])
	default:
		return "the intermediate " + name(path[i])
	}
}

func dnOf(raw []byte) string {
	c := &x509.Certificate{RawSubject: raw}
	return name(c)
}
