package truststore

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// Live is a trust store that changes at runtime, as an ALB trust store
// does through AddTrustStoreRevocations, RemoveTrustStoreRevocations and
// ModifyTrustStore. Readers call Current on every handshake and get an
// immutable snapshot without locking; writers are serialised and publish a
// new snapshot atomically. Snapshots share their CRLs, so adding or
// removing one CRL never copies another's entries.
type Live struct {
	mu     sync.Mutex // serialises writers
	cur    atomic.Pointer[Store]
	spec   Spec
	nextID int64
	// fromSpec maps the IDs of CRLs loaded from spec files to the file,
	// which Reload re-reads; CRLs added at runtime are kept as they are.
	fromSpec map[int64]string
}

// NewLive loads the trust store and wraps it. Revocation IDs start at 1 in
// file order and are never reused for the life of the Live (alb-behaviour §1.2
// "Revocation IDs" [DOC: CFG]; the start value is [INF]).
func NewLive(spec Spec) (*Live, error) {
	s, err := Load(spec)
	if err != nil {
		return nil, err
	}
	l := &Live{}
	l.install(spec, s)
	return l, nil
}

// install makes s, loaded from spec, the current snapshot.
func (l *Live) install(spec Spec, s *Store) {
	l.spec = spec
	l.fromSpec = make(map[int64]string, len(spec.RevocationFiles))
	for _, r := range s.revocations {
		l.fromSpec[r.id] = r.crl.File
		l.nextID = max(l.nextID, r.id+1)
	}
	l.nextID = max(l.nextID, int64(len(spec.RevocationFiles))+1)
	l.cur.Store(s)
}

// Prepare loads spec without publishing it; Publish makes it current. The
// two halves let a caller change several trust stores all or nothing.
func Prepare(spec Spec) (*Prepared, error) {
	s, err := Load(spec)
	if err != nil {
		return nil, err
	}
	return &Prepared{spec: spec, store: s}, nil
}

// Prepared is a loaded, not yet published trust store (see Prepare).
type Prepared struct {
	spec  Spec
	store *Store
}

// Publish makes p the current snapshot of l.
func (l *Live) Publish(p *Prepared) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.install(p.spec, p.store)
}

// Spec is the spec the current snapshot was loaded from (revocations added
// at runtime through AddRevocations are not in it).
func (l *Live) Spec() Spec {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.spec
}

// Current returns the current snapshot. It never blocks.
func (l *Live) Current() *Store { return l.cur.Load() }

// AddRevocations adds one PEM CRL under the given name (the S3 key, in
// ALB terms) and returns its description with the new revocation ID. The
// same rules as Load apply; on error (*LoadError, e.g.
// InvalidRevocationContent or TooManyTrustStoreRevocationEntries) nothing
// changes and no ID is consumed.
func (l *Live) AddRevocations(file string, pem []byte) ([]RevocationInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := l.cur.Load()
	crl, fs := cur.limits.checkCRL(file, pem, cur.CACertificates)
	if crl == nil {
		return nil, &LoadError{TrustStore: cur.Name, Findings: fatalFirst(fs)}
	}
	added := storeRevocation{id: l.nextID, crl: crl}
	revs := append(slices.Clip(cur.revocations), added)
	if tf := cur.limits.checkTotals(revs); HasFatal(tf) {
		return nil, &LoadError{TrustStore: cur.Name, Findings: fatalFirst(append(tf, fs...))}
	}
	l.nextID++
	next := newStore(cur.Name, cur.CACertificates, revs, cur.limits)
	next.warnings = append(slices.Clip(cur.warnings), fs...)
	l.cur.Store(next)
	return []RevocationInfo{describe(added)}, nil
}

// RemoveRevocations removes CRLs by revocation ID. If any ID is unknown it
// returns *RevocationIDNotFoundError and removes nothing, as the API does.
func (l *Live) RemoveRevocations(ids ...int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := l.cur.Load()
	var missing, known []int64
	for _, r := range cur.revocations {
		known = append(known, r.id)
	}
	for _, id := range ids {
		if !slices.Contains(known, id) {
			missing = append(missing, id)
		}
	}
	if len(ids) == 0 {
		return fmt.Errorf("trust store %q: no revocation ID given; name at least one of %v", cur.Name, known)
	}
	if len(missing) > 0 {
		return &RevocationIDNotFoundError{TrustStore: cur.Name, IDs: missing, Known: known}
	}
	revs := make([]storeRevocation, 0, len(cur.revocations))
	for _, r := range cur.revocations {
		if !slices.Contains(ids, r.id) {
			revs = append(revs, r)
		}
	}
	for _, id := range ids {
		delete(l.fromSpec, id)
	}
	next := newStore(cur.Name, cur.CACertificates, revs, cur.limits)
	next.warnings = cur.warnings
	l.cur.Store(next)
	return nil
}

// DescribeRevocations describes the current CRLs in revocation-ID order.
func (l *Live) DescribeRevocations() []RevocationInfo { return l.Current().Revocations() }

// Reload re-reads the bundle file and the CRL files the trust store was
// loaded from, keeping their revocation IDs; CRLs added at runtime are
// kept and re-attributed to the new bundle's CAs. On any fatal finding the
// previous snapshot stays in place and the *LoadError is returned.
func (l *Live) Reload() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := l.cur.Load()
	lim := l.spec.Limits
	fs := checkName(l.spec.Name)
	cas, bf := lim.readBundle(l.spec.BundleFile)
	fs = append(fs, bf...)
	revs := make([]storeRevocation, 0, len(cur.revocations))
	for _, r := range cur.revocations {
		var crl *CRL
		if file, ok := l.fromSpec[r.id]; ok {
			var cf []Finding
			crl, cf = lim.readCRL(file, cas)
			fs = append(fs, cf...)
		} else {
			var f *Finding
			crl, f = reattribute(r, cas)
			if f != nil {
				fs = append(fs, *f)
			}
		}
		if crl != nil {
			revs = append(revs, storeRevocation{id: r.id, crl: crl})
		}
	}
	fs = append(fs, lim.checkTotals(revs)...)
	if HasFatal(fs) {
		return &LoadError{TrustStore: l.spec.Name, Findings: fatalFirst(fs)}
	}
	next := newStore(l.spec.Name, cas, revs, lim)
	next.warnings = fs
	l.cur.Store(next)
	return nil
}

// reattribute points a runtime-added CRL at the new bundle's copy of its
// issuer (same subject and key, so the signature still holds). The entry
// set is shared, not copied.
func reattribute(r storeRevocation, cas []*x509.Certificate) (*CRL, *Finding) {
	old := r.crl.Issuer
	for _, ca := range cas {
		if !bytes.Equal(ca.RawSubject, old.RawSubject) || !bytes.Equal(ca.RawSubjectPublicKeyInfo, old.RawSubjectPublicKeyInfo) {
			continue
		}
		if bytes.Equal(ca.Raw, old.Raw) {
			return r.crl, nil
		}
		c := *r.crl
		c.Issuer = ca
		if ca.KeyUsage != 0 && ca.KeyUsage&x509.KeyUsageCRLSign == 0 && (c.Unusable == Usable || c.Unusable > UnusableIssuerNoCRLSign) {
			c.Unusable = UnusableIssuerNoCRLSign
			c.UnusableReason = fmt.Sprintf("issuer %s has a keyUsage without cRLSign", subjectString(ca))
		}
		return &c, nil
	}
	return nil, &Finding{Rule: "crl-issuer-not-in-bundle", ALBError: ErrInvalidRevocationContent, File: r.crl.File,
		Fatal: true, Basis: BasisINF,
		Problem: fmt.Sprintf("revocation ID %d was issued by %s, which the new bundle no longer holds", r.id, subjectString(old)),
		Fix:     fmt.Sprintf("remove revocation ID %d first, or keep its CA in the bundle", r.id)}
}
