package pki

import (
	"crypto/x509"
	"fmt"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Set is a whole test PKI: the CAs, their CRLs, the server and the clients,
// with what each is for. It is built by Generate, read back by Load and
// changed by Issue and Revoke; Save writes the changes back.
type Set struct {
	// Root and Intermediate are the trust store's CAs; Bundle holds both.
	Root, Intermediate *CA
	// Server is the listener's certificate.
	Server *Leaf

	dir         string
	clock       func() time.Time
	generatedAt time.Time
	updatedAt   time.Time
	keyType     KeyType
	org         BaseDN
	entries     []*entry          // CAs, then the server, then the clients
	byName      map[string]*entry // every certificate artefact
	crls        map[string]*crlState
	pending     map[string]bool // relative paths Save must write
}

// entry is one certificate artefact.
type entry struct {
	name    string
	kind    Kind
	issuer  string // the issuing CA's name; "" when self-signed
	purpose string
	note    string // appended to the computed expectation notes
	ca      *CA
	leaf    *Leaf
}

func (e *entry) cert() *x509.Certificate {
	if e.ca != nil {
		return e.ca.Cert
	}
	return e.leaf.Cert
}

func (e *entry) files() Files {
	switch e.kind {
	case KindCA:
		return Files{Cert: "ca/" + e.name + ".pem", Key: "ca/" + e.name + "-key.pem"}
	case KindServer:
		return Files{Cert: "server/server.pem", Key: "server/server-key.pem", Chain: "server/server-chain.pem"}
	default:
		return Files{Cert: "clients/" + e.name + ".pem", Key: "clients/" + e.name + "-key.pem", Chain: "clients/" + e.name + "-chain.pem"}
	}
}

// crlState is the current CRL of one CA.
type crlState struct {
	der []byte
	crl *x509.RevocationList
}

func crlFiles(caName string) Files {
	return Files{DER: "crl/" + caName + ".crl", PEM: "crl/" + caName + ".crl.pem"}
}

// BundleFile is the trust store bundle's path inside a PKI directory.
const BundleFile = "ca/bundle.pem"

// Dir returns the directory the set was loaded from or written to, or "".
func (s *Set) Dir() string { return s.dir }

// KeyType returns the default leaf key type the set was generated with.
func (s *Set) KeyType() KeyType { return s.keyType }

// Organization returns the base DN that member carries.
func (s *Set) Organization() BaseDN { return s.org }

// Client returns the named client certificate.
func (s *Set) Client(name string) (*Leaf, bool) {
	e, ok := s.byName[name]
	if !ok || e.kind != KindClient {
		return nil, false
	}
	return e.leaf, true
}

// ClientNames lists the clients: the standard ones in the brief's order,
// then those added by Issue, in issue order.
func (s *Set) ClientNames() []string {
	var names []string
	for _, e := range s.entries {
		if e.kind == KindClient {
			names = append(names, e.name)
		}
	}
	return names
}

// CA returns the named CA ("root", "intermediate", "deep-ca-1", ...).
func (s *Set) CA(name string) (*CA, bool) {
	e, ok := s.byName[name]
	if !ok || e.kind != KindCA {
		return nil, false
	}
	return e.ca, true
}

// CANames lists the CAs, each after its issuer.
func (s *Set) CANames() []string {
	var names []string
	for _, e := range s.entries {
		if e.kind == KindCA {
			names = append(names, e.name)
		}
	}
	return names
}

// Bundle returns the trust store's CA bundle: the intermediate then the
// root, in PEM with no blank lines or comments, as ALB requires (alb-behaviour §1.2).
func (s *Set) Bundle() []byte {
	return append(append([]byte{}, s.Intermediate.CertPEM...), s.Root.CertPEM...)
}

// CRL returns the current DER CRL of the named CA ("intermediate", "root"),
// or nil if that CA has none.
func (s *Set) CRL(issuer string) []byte {
	if st, ok := s.crls[issuer]; ok {
		return st.der
	}
	return nil
}

// CRLFiles lists the PEM CRL files of the set, relative to its directory,
// the revocations of the manifest's trust store.
func (s *Set) CRLFiles() []string {
	var files []string
	for _, name := range s.crlOrder() {
		files = append(files, crlFiles(name).PEM)
	}
	return files
}

// crlOrder lists the CAs that have a CRL, in CA order but intermediate
// first, the CRL most users load.
func (s *Set) crlOrder() []string {
	var names []string
	if _, ok := s.crls["intermediate"]; ok {
		names = append(names, "intermediate")
	}
	for _, n := range s.CANames() {
		if _, ok := s.crls[n]; ok && n != "intermediate" {
			names = append(names, n)
		}
	}
	return names
}

// Clone returns a copy that can be changed (Issue, Revoke) without
// changing s. Certificates and keys are shared: they are never modified.
func (s *Set) Clone() *Set {
	c := *s
	c.entries = slices.Clone(s.entries)
	c.byName = maps.Clone(s.byName)
	c.crls = maps.Clone(s.crls)
	c.pending = maps.Clone(s.pending)
	return &c
}

func (s *Set) now() time.Time {
	if s.clock == nil {
		return time.Now()
	}
	return s.clock()
}

func (s *Set) add(e *entry) {
	s.entries = append(s.entries, e)
	s.byName[e.name] = e
}

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// IssueRequest adds a client certificate to a set.
type IssueRequest struct {
	// Name is the artefact name and the file stem: clients/NAME.pem.
	Name string
	// Issuer is the issuing CA's name (default "intermediate").
	Issuer string
	// Purpose is the manifest's one-sentence description.
	Purpose string
	LeafRequest
}

// Issue signs a new client certificate, adds it to the set and marks its
// files for Save. The request's clock defaults to the set's.
func (s *Set) Issue(req IssueRequest) (*Leaf, error) {
	if !validName.MatchString(req.Name) {
		return nil, fmt.Errorf("invalid client name %q: use 1-63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit", req.Name)
	}
	if _, taken := s.byName[req.Name]; taken || strings.HasSuffix(req.Name, "-crl") {
		return nil, fmt.Errorf("name %q is already used in this PKI: choose another name", req.Name)
	}
	e := &entry{name: req.Name, kind: KindClient}
	// File names must not collide either: client "deep" would write
	// clients/deep-chain.pem, the certificate of client "deep-chain".
	for _, other := range s.entries {
		of := other.files()
		for _, mine := range []string{e.files().Cert, e.files().Key, e.files().Chain} {
			if mine == of.Cert || mine == of.Key || mine == of.Chain {
				return nil, fmt.Errorf("name %q would overwrite %s of %q: choose another name", req.Name, mine, other.name)
			}
		}
	}
	issuer := req.Issuer
	if issuer == "" {
		issuer = "intermediate"
	}
	ca, ok := s.CA(issuer)
	if !ok {
		return nil, fmt.Errorf("unknown issuing CA %q: valid CAs are %s", issuer, strings.Join(s.CANames(), ", "))
	}
	if req.Clock == nil {
		req.Clock = s.clock
	}
	if req.KeyType == "" {
		req.KeyType = s.keyType
	}
	leaf, err := ca.Issue(req.LeafRequest)
	if err != nil {
		return nil, err
	}
	purpose := req.Purpose
	if purpose == "" {
		purpose = "Issued with `albmtls pki issue`."
	}
	e.issuer, e.purpose, e.leaf = issuer, purpose, leaf
	s.add(e)
	s.touch(e.files().Cert, e.files().Key, e.files().Chain)
	return leaf, nil
}

// Revoke adds the named certificates (clients, the server or non-root CAs)
// to their issuers' CRLs and re-issues each CRL it touched with the next
// CRL number. Revoking a name twice keeps one entry but still re-issues.
func (s *Set) Revoke(names ...string) error {
	if len(names) == 0 {
		return fmt.Errorf("nothing to revoke: name at least one certificate")
	}
	now := s.now()
	add := map[string][]*big.Int{}
	var order []string
	for _, n := range names {
		e, ok := s.byName[n]
		if !ok {
			return fmt.Errorf("unknown name %q: valid names are %s", n, strings.Join(s.certNames(), ", "))
		}
		if e.issuer == "" {
			return fmt.Errorf("%q is self-signed: no CA can revoke it", n)
		}
		if _, seen := add[e.issuer]; !seen {
			order = append(order, e.issuer)
		}
		add[e.issuer] = append(add[e.issuer], e.cert().SerialNumber)
	}
	for _, issuer := range order {
		ca, _ := s.CA(issuer)
		var (
			number  = big.NewInt(1)
			revoked []Revocation
		)
		if st, ok := s.crls[issuer]; ok {
			number = new(big.Int).Add(st.crl.Number, big.NewInt(1))
			for _, r := range st.crl.RevokedCertificateEntries {
				revoked = append(revoked, Revocation{Serial: r.SerialNumber, RevokedAt: r.RevocationTime, Reason: r.ReasonCode})
			}
		}
		for _, serial := range add[issuer] {
			if !slices.ContainsFunc(revoked, func(r Revocation) bool { return r.Serial.Cmp(serial) == 0 }) {
				revoked = append(revoked, Revocation{Serial: serial, RevokedAt: now})
			}
		}
		if err := s.issueCRL(issuer, ca, number, revoked, now); err != nil {
			return err
		}
		s.touch(crlFiles(issuer).DER, crlFiles(issuer).PEM)
	}
	return nil
}

func (s *Set) issueCRL(name string, ca *CA, number *big.Int, revoked []Revocation, now time.Time) error {
	der, err := ca.CRL(CRLRequest{Number: number, ThisUpdate: now, Revoked: revoked})
	if err != nil {
		return err
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return fmt.Errorf("parsing the new CRL of %q: %w", name, err)
	}
	s.crls[name] = &crlState{der: der, crl: crl}
	return nil
}

func (s *Set) touch(paths ...string) {
	s.updatedAt = s.now()
	for _, p := range paths {
		s.pending[p] = true
	}
}

func (s *Set) certNames() []string {
	var names []string
	for _, e := range s.entries {
		names = append(names, e.name)
	}
	return names
}

// revokedIn returns the CRL file that lists the certificate of e, or "".
func (s *Set) revokedIn(e *entry) string {
	st, ok := s.crls[e.issuer]
	if !ok {
		return ""
	}
	serial := e.cert().SerialNumber
	for _, r := range st.crl.RevokedCertificateEntries {
		if r.SerialNumber.Cmp(serial) == 0 {
			return crlFiles(e.issuer).PEM
		}
	}
	return ""
}

// verifyCase describes how ALB sees a client presenting e's chain.
func (s *Set) verifyCase(e *entry) (verifyCase, error) {
	vc := verifyCase{wireDER: e.leaf.Chain, now: s.now(), revokedBy: map[int]string{}}
	for i, der := range e.leaf.Chain {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return vc, fmt.Errorf("%s: chain certificate %d: %w", e.name, i+1, err)
		}
		vc.wire = append(vc.wire, c)
	}
	path := []*entry{e}
	for cur := e; cur.issuer != ""; {
		next, ok := s.byName[cur.issuer]
		if !ok {
			return vc, fmt.Errorf("%s: issuer %q is not in the set", cur.name, cur.issuer)
		}
		path = append(path, next)
		cur = next
	}
	if path[len(path)-1].name != "root" {
		return vc, nil // no path to the trust store
	}
	for i, p := range path {
		vc.path = append(vc.path, p.cert())
		if f := s.revokedIn(p); f != "" {
			vc.revokedBy[i] = f
		}
	}
	return vc, nil
}
