package truststore

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"time"

	"github.com/albmtls/albmtls/emulator/alb"
	"github.com/albmtls/albmtls/internal/boundedio"
)

// Spec names a trust store's files, as the config's trust_stores entry
// does (ALB: CreateTrustStore with the bundle's S3 object, then
// AddTrustStoreRevocations per CRL).
type Spec struct {
	// Name follows ALB's rule: 1–32 characters, ^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$.
	Name            string
	BundleFile      string
	RevocationFiles []string
	// Limits are the quotas and knobs; the zero value is ALB's defaults.
	Limits Limits
}

// RevocationInfo describes one CRL of a trust store, shaped like ELBv2's
// DescribeTrustStoreRevocation plus what the emulator knows of the CRL.
type RevocationInfo struct {
	RevocationID           int64     `json:"RevocationId"`
	RevocationType         string    `json:"RevocationType"` // always "CRL" (alb-behaviour §1.2)
	NumberOfRevokedEntries int64     `json:"NumberOfRevokedEntries"`
	File                   string    `json:"File"`
	Issuer                 string    `json:"Issuer"`
	CRLNumber              string    `json:"CrlNumber,omitempty"` // hex
	ThisUpdate             time.Time `json:"ThisUpdate"`
	NextUpdate             time.Time `json:"NextUpdate,omitzero"`
	// Unusable says why handshakes needing this CRL fail; empty if usable.
	Unusable string `json:"Unusable,omitempty"`
}

// Revocation is the answer of Store.Lookup for one certificate.
type Revocation struct {
	// Checked: at least one CRL from the certificate's issuer is loaded.
	Checked bool
	// Revoked: a usable CRL from the issuer lists the serial.
	Revoked bool
	// RevocationID and CRL identify the CRL that lists the serial; when
	// Unusable is set, the CRL that cannot be applied; otherwise the first
	// CRL consulted (nil when Checked is false).
	RevocationID int64
	CRL          *CRL
	// Unusable is not Usable when a CRL from the issuer cannot be applied;
	// the handshake then fails whether or not the serial is listed (AWS-LC
	// checks the CRL before looking the serial up). Reason says why.
	Unusable Unusable
	Reason   string
}

// Store is an immutable snapshot of a trust store. Lookups are O(1) and
// safe for concurrent use; changes build a new Store (see Live).
type Store struct {
	// Name is the trust store's name.
	Name string
	// CACertificates are the bundle's certificates in file order
	// (exact duplicates dropped, as s2n does).
	CACertificates []*x509.Certificate

	revocations []storeRevocation              // ascending ID
	bySubject   map[string][]*x509.Certificate // raw subject → CAs
	byIssuer    map[string][]int               // CA raw subject → indexes in revocations
	total       int
	limits      Limits
	warnings    []Finding
}

type storeRevocation struct {
	id  int64
	crl *CRL
}

var nameRE = regexp.MustCompile(`^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$`)

// Load reads and checks a trust store's files and returns its snapshot,
// with revocation IDs 1, 2, … in file order (alb-behaviour §1.2 "Revocation IDs"
// [INF]). The error is a *LoadError naming ALB's error, the file, the line
// and the fix; a loaded store keeps its warnings (Store.Warnings).
func Load(spec Spec) (*Store, error) {
	fs, cas, revs := spec.check(true)
	if HasFatal(fs) {
		return nil, &LoadError{TrustStore: spec.Name, Findings: fatalFirst(fs)}
	}
	s := newStore(spec.Name, cas, revs, spec.Limits)
	s.warnings = fs
	return s, nil
}

// check reads and checks the files in order: the one implementation behind
// Load and Check.
func (spec Spec) check(name bool) ([]Finding, []*x509.Certificate, []storeRevocation) {
	var fs []Finding
	if name {
		fs = checkName(spec.Name)
	}
	cas, bf := spec.Limits.readBundle(spec.BundleFile)
	fs = append(fs, bf...)
	revs := make([]storeRevocation, 0, len(spec.RevocationFiles))
	for i, file := range spec.RevocationFiles {
		crl, cf := spec.Limits.readCRL(file, cas)
		fs = append(fs, cf...)
		if crl != nil {
			revs = append(revs, storeRevocation{id: int64(i + 1), crl: crl})
		}
	}
	fs = append(fs, spec.Limits.checkTotals(revs)...)
	return fs, cas, revs
}

func checkName(name string) []Finding {
	if len(name) >= 1 && len(name) <= 32 && nameRE.MatchString(name) {
		return nil
	}
	return []Finding{{Rule: "trust-store-name", ALBError: "ValidationError", File: "trust store name", Fatal: true, Basis: BasisDOC,
		Problem: fmt.Sprintf("%q is not a valid trust store name", name),
		Fix:     "use 1-32 letters, digits and single hyphens, not starting or ending with a hyphen"}}
}

// readBundle reads and checks the bundle file.
func (l Limits) readBundle(file string) ([]*x509.Certificate, []Finding) {
	data, err := boundedio.ReadFile(file, "CA certificates bundle", boundedio.MaxBundleFile)
	if errors.Is(err, boundedio.ErrTooLarge) {
		return nil, []Finding{{Rule: "bundle-file-too-large", ALBError: ErrInvalidCaCertificatesBundle, File: file, Fatal: true,
			Basis: BasisINF, Problem: err.Error(),
			Fix: "point ca_certificates_bundle at the PEM bundle (ALB: at most 25 CAs of 16 KB each by default)"}}
	}
	if err != nil {
		return nil, []Finding{{Rule: "bundle-unreadable", ALBError: ErrCaCertificatesBundleNotFound, File: file, Fatal: true,
			Basis: BasisDOC, Problem: fmt.Sprintf("cannot read the bundle: %v", err),
			Fix: "point ca_certificates_bundle at a readable PEM file"}}
	}
	cas, fs := l.CheckBundle(file, data)
	return dedupe(cas), fs
}

// readCRL reads a revocation file and checks it against the CAs. A bad
// signature is demoted to a warning when the limits allow it.
func (l Limits) readCRL(file string, cas []*x509.Certificate) (*CRL, []Finding) {
	notFound := func(err error) []Finding {
		return []Finding{{Rule: "crl-unreadable", ALBError: ErrRevocationContentNotFound, File: file, Fatal: true,
			Basis: BasisDOC, Problem: fmt.Sprintf("cannot read the revocation file: %v", err),
			Fix: "point revocations at readable PEM CRL files"}}
	}
	// A regular file over the quota is refused from its size without being
	// read; a device or FIFO is read up to the quota (boundedio).
	data, err := boundedio.ReadFile(file, "revocation file", alb.MaxRevocationFileSize)
	if errors.Is(err, boundedio.ErrTooLarge) {
		return nil, []Finding{{Rule: "crl-file-too-large", ALBError: QuotaRevocationListFileSize, File: file, Fatal: true,
			Basis:   BasisDOC,
			Problem: err.Error() + "; the revocation list file size quota is 50 MB",
			Fix:     "split the revocations across several CRLs (this quota is not adjustable)"}}
	}
	if err != nil {
		return nil, notFound(err)
	}
	return l.checkCRL(file, data, cas)
}

// checkCRL is ParseCRL plus the AcceptBadCRLSignature demotion.
func (l Limits) checkCRL(file string, data []byte, cas []*x509.Certificate) (*CRL, []Finding) {
	crl, fs := l.ParseCRL(file, data, cas)
	if l.AcceptBadCRLSignature {
		for i := range fs {
			if fs[i].Rule == "crl-bad-signature" {
				fs[i].Fatal = false
				fs[i].Fix = "loaded anyway (accept_bad_crl_signature); handshakes needing it fail with ClientCertCrlProcessingError"
			}
		}
	}
	if HasFatal(fs) {
		return nil, fs
	}
	return crl, fs
}

// checkTotals applies the per-trust-store quotas on CRLs; findings name
// the first file over the quota.
func (l Limits) checkTotals(revs []storeRevocation) []Finding {
	var fs []Finding
	if max := l.maxLists(); len(revs) > max {
		fs = append(fs, Finding{Rule: "crl-too-many-lists", ALBError: QuotaRevocationListsPerStore, File: revs[max].crl.File,
			Fatal: true, Basis: BasisINF,
			Problem: fmt.Sprintf("%d revocation lists; the quota is %d per trust store", len(revs), max),
			Fix:     "merge CRLs or remove old ones, or raise the quota (L-332EE142, adjustable)"})
	}
	total, max, first := 0, l.maxEntries(), ""
	for _, r := range revs {
		total += r.crl.Len()
		if total > max && first == "" {
			first = r.crl.File
		}
	}
	if first != "" {
		fs = append(fs, Finding{Rule: "crl-too-many-entries", ALBError: ErrTooManyTrustStoreRevocationEntries,
			File: first, Fatal: true, Basis: BasisDOC,
			Problem: fmt.Sprintf("the trust store would hold %d revocation entries; the quota is %d", total, max),
			Fix:     "remove revocation lists you no longer need, or raise the quota (L-37E1617B, adjustable)"})
	}
	return fs
}

// fatalFirst orders findings so the error message names a fatal one.
func fatalFirst(fs []Finding) []Finding {
	out := make([]Finding, 0, len(fs))
	for _, f := range fs {
		if f.Fatal {
			out = append(out, f)
		}
	}
	for _, f := range fs {
		if !f.Fatal {
			out = append(out, f)
		}
	}
	return out
}

func dedupe(cas []*x509.Certificate) []*x509.Certificate {
	out := cas[:0:0]
	for _, c := range cas {
		dup := false
		for _, o := range out {
			if bytes.Equal(o.Raw, c.Raw) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, c)
		}
	}
	return out
}

// newStore builds the indexes of a snapshot. revs must be in ID order; the
// CRLs are shared, not copied.
func newStore(name string, cas []*x509.Certificate, revs []storeRevocation, limits Limits) *Store {
	s := &Store{Name: name, CACertificates: cas, revocations: revs, limits: limits,
		bySubject: make(map[string][]*x509.Certificate, len(cas)),
		byIssuer:  make(map[string][]int, len(revs))}
	for _, c := range cas {
		s.bySubject[string(c.RawSubject)] = append(s.bySubject[string(c.RawSubject)], c)
	}
	for i, r := range revs {
		k := string(r.crl.Issuer.RawSubject)
		s.byIssuer[k] = append(s.byIssuer[k], i)
		s.total += r.crl.Len()
	}
	return s
}

// Warnings are the non-fatal findings of the files this snapshot was
// built from (expired CA, stale CRL, negative serials…).
func (s *Store) Warnings() []Finding { return s.warnings }

// CAsBySubject returns the bundle CAs whose raw DER subject is subject, for
// chain building (O(1); nil if none).
func (s *Store) CAsBySubject(subject []byte) []*x509.Certificate {
	return s.bySubject[string(subject)]
}

// Contains reports whether cert (byte for byte) is in the bundle; with
// PARTIAL_CHAIN any bundle certificate is a trust anchor (alb-behaviour §S1.2).
func (s *Store) Contains(cert *x509.Certificate) bool {
	for _, c := range s.bySubject[string(cert.RawSubject)] {
		if bytes.Equal(c.Raw, cert.Raw) {
			return true
		}
	}
	return false
}

// Subjects returns the bundle's raw DER subjects in bundle order, for the
// advertised CA names of a CertificateRequest.
func (s *Store) Subjects() [][]byte {
	out := make([][]byte, len(s.CACertificates))
	for i, c := range s.CACertificates {
		out[i] = c.RawSubject
	}
	return out
}

// TotalRevokedEntries is the sum of the CRLs' entries (ELBv2
// TotalRevokedEntries).
func (s *Store) TotalRevokedEntries() int { return s.total }

// Revocations describes the CRLs in revocation-ID order.
func (s *Store) Revocations() []RevocationInfo {
	out := make([]RevocationInfo, len(s.revocations))
	for i, r := range s.revocations {
		out[i] = describe(r)
	}
	return out
}

// CRL returns the CRL with the given revocation ID.
func (s *Store) CRL(id int64) (*CRL, bool) {
	for _, r := range s.revocations {
		if r.id == id {
			return r.crl, true
		}
	}
	return nil, false
}

func describe(r storeRevocation) RevocationInfo {
	ri := RevocationInfo{RevocationID: r.id, RevocationType: "CRL", NumberOfRevokedEntries: int64(r.crl.Len()),
		File: r.crl.File, Issuer: subjectString(r.crl.Issuer), ThisUpdate: r.crl.ThisUpdate, NextUpdate: r.crl.NextUpdate,
		Unusable: r.crl.UnusableReason}
	if r.crl.Number != nil {
		ri.CRLNumber = fmt.Sprintf("%X", r.crl.Number)
	}
	return ri
}

// Lookup answers whether serial, issued by issuer, is revoked by a CRL of
// this trust store. CRLs are matched to the issuer by subject and public
// key in O(1); with several CRLs from one issuer, any usable one that lists
// the serial revokes it [INF]. It does not allocate.
func (s *Store) Lookup(issuer *x509.Certificate, serial *big.Int) Revocation {
	return s.lookup(nil, issuer, serial)
}

// LookupCert is Lookup for cert, also applying the CRL's scope
// (issuingDistributionPoint onlyContainsUserCerts / onlyContainsCACerts).
func (s *Store) LookupCert(cert, issuer *x509.Certificate) Revocation {
	return s.lookup(cert, issuer, cert.SerialNumber)
}

func (s *Store) lookup(cert, issuer *x509.Certificate, serial *big.Int) Revocation {
	var res Revocation
	for _, i := range s.byIssuer[string(issuer.RawSubject)] {
		r := s.revocations[i]
		if !bytes.Equal(r.crl.Issuer.RawSubjectPublicKeyInfo, issuer.RawSubjectPublicKeyInfo) {
			continue
		}
		res.Checked = true
		u, reason := r.crl.Unusable, r.crl.UnusableReason
		if u == Usable && cert != nil && r.crl.ScopeExcludes(cert) {
			u, reason = UnusableScope, "its issuingDistributionPoint scope excludes this certificate"
		}
		if u != Usable {
			if res.Unusable == Usable || u < res.Unusable {
				res.Unusable, res.Reason, res.RevocationID, res.CRL = u, reason, r.id, r.crl
			}
			continue
		}
		if !res.Revoked && r.crl.Contains(serial) {
			res.Revoked = true
			if res.Unusable == Usable {
				res.RevocationID, res.CRL = r.id, r.crl
			}
		} else if res.CRL == nil {
			res.RevocationID, res.CRL = r.id, r.crl
		}
	}
	if res.Unusable != Usable {
		res.Revoked = false
	}
	return res
}
