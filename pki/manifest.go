package pki

import (
	"time"

	"github.com/albmtls/albmtls/emulator/certfmt"
)

// ManifestFormatVersion is the version of manifest.json this package writes
// and reads. It changes only when a field changes meaning.
const ManifestFormatVersion = 1

// ManifestFile is the manifest's name inside a PKI directory. It is written
// last, so a directory without it is an interrupted write.
const ManifestFile = "manifest.json"

// Manifest describes a PKI directory: every artefact, its files, what it is
// for and what ALB does with it. The conformance harness, the demo and the
// sample backends read it instead of hard-coding file names.
type Manifest struct {
	FormatVersion int `json:"format_version"`
	// GeneratedAt is when `pki init` ran (by its clock).
	GeneratedAt time.Time `json:"generated_at"`
	// UpdatedAt is when `pki issue` or `pki revoke` last changed the set.
	UpdatedAt time.Time `json:"updated_at"`
	// DefaultKeyType is the key type of the leaves that have no fixed one.
	DefaultKeyType KeyType `json:"default_key_type"`
	// Organization is the base DN that `member` carries and `outsider`
	// does not; the sample authz backend allows exactly this O and OU.
	Organization BaseDN `json:"organization"`
	// TrustStore names the files of the trust store under which every
	// `verify` expectation in this manifest holds.
	TrustStore TrustStoreFiles `json:"trust_store"`
	// Artefacts lists CAs, CRLs, the server and the clients, in that order.
	Artefacts []Artefact `json:"artefacts"`
}

// BaseDN is the organisation's O and OU.
type BaseDN struct {
	O  string `json:"o"`
	OU string `json:"ou"`
}

// TrustStoreFiles are the files an ALB trust store is built from.
type TrustStoreFiles struct {
	// Bundle is the CA certificates bundle (intermediate + root, PEM).
	Bundle string `json:"ca_certificates_bundle"`
	// Revocations are the PEM CRLs to add to the trust store.
	Revocations []string `json:"revocations"`
}

// Kind is what an artefact is.
type Kind string

// The artefact kinds.
const (
	KindCA     Kind = "ca"
	KindCRL    Kind = "crl"
	KindServer Kind = "server"
	KindClient Kind = "client"
)

// Artefact is one entry of the manifest. Certificate fields are empty for
// CRLs and CRL fields are empty for certificates.
type Artefact struct {
	Name    string `json:"name"`
	Kind    Kind   `json:"kind"`
	Files   Files  `json:"files"`
	Purpose string `json:"purpose"`
	// Issuer is the name of the issuing CA's artefact ("" when self-signed).
	Issuer string `json:"issuer,omitempty"`

	// Subject and IssuerDN are RFC 2253 strings, as ALB's headers print them.
	Subject   string    `json:"subject,omitempty"`
	IssuerDN  string    `json:"issuer_dn,omitempty"`
	Serial    string    `json:"serial,omitempty"` // uppercase hex, as ALB's header
	KeyType   KeyType   `json:"key_type,omitempty"`
	NotBefore time.Time `json:"not_before,omitzero"`
	NotAfter  time.Time `json:"not_after,omitzero"`
	// ChainLength is how many certificates the holder sends.
	ChainLength int `json:"chain_length,omitempty"`
	// CertificateMessageBytes is the size of the TLS 1.3 Certificate
	// message body that carries the chain (ALB's limit: 65 536).
	CertificateMessageBytes int `json:"certificate_message_bytes,omitempty"`

	// CRLNumber, ThisUpdate, NextUpdate and Revoked describe a CRL.
	CRLNumber  int64          `json:"crl_number,omitempty"`
	ThisUpdate time.Time      `json:"this_update,omitzero"`
	NextUpdate time.Time      `json:"next_update,omitzero"`
	Revoked    []RevokedEntry `json:"revoked,omitempty"`

	// Expect is what ALB does with a client presenting this certificate;
	// nil for CAs, CRLs and the server.
	Expect *Expect `json:"expect,omitempty"`
}

// Files are an artefact's files, relative to the PKI directory.
type Files struct {
	Cert  string `json:"cert,omitempty"`
	Key   string `json:"key,omitempty"`
	Chain string `json:"chain,omitempty"`
	DER   string `json:"der,omitempty"`
	PEM   string `json:"pem,omitempty"`
}

// RevokedEntry is one serial on a CRL, with the artefact it belongs to.
type RevokedEntry struct {
	Name   string `json:"name,omitempty"`
	Serial string `json:"serial"`
}

// Expect holds a client certificate's expected outcomes, written as the
// connection log's tls_verify_status field: "Success" or "Failed:<code>".
type Expect struct {
	// Verify is the outcome in verify mode with Manifest.TrustStore.
	Verify string `json:"verify"`
	// VerifyIgnoreExpiry is the outcome with
	// ignore_client_certificate_expiry: true.
	VerifyIgnoreExpiry string `json:"verify_ignore_expiry"`
	// Passthrough is "Success" (ALB checks nothing in that mode) except for
	// a Certificate message over 64 KiB, which s2n refuses in any mode.
	Passthrough string `json:"passthrough"`
	// RequiresCRLs lists the PEM CRLs that must be in the trust store for
	// Verify to hold.
	RequiresCRLs []string `json:"requires_crls,omitempty"`
	// Note explains an outcome that depends on configuration.
	Note string `json:"note,omitempty"`
}

// Artefact returns the named artefact.
func (m Manifest) Artefact(name string) (Artefact, bool) {
	for _, a := range m.Artefacts {
		if a.Name == name {
			return a, true
		}
	}
	return Artefact{}, false
}

// Manifest describes the set as manifest.json does. Expectations are
// computed now, by the set's clock, from the certificates and CRLs
// themselves, so they stay true after Issue and Revoke.
func (s *Set) Manifest() Manifest {
	m := Manifest{
		FormatVersion:  ManifestFormatVersion,
		GeneratedAt:    s.generatedAt,
		UpdatedAt:      s.updatedAt,
		DefaultKeyType: s.keyType,
		Organization:   s.org,
		TrustStore:     TrustStoreFiles{Bundle: BundleFile, Revocations: s.CRLFiles()},
	}
	names := map[string]string{} // serial -> artefact name, for CRL entries
	for _, e := range s.entries {
		names[e.cert().SerialNumber.String()] = e.name
	}
	addCert := func(e *entry) {
		c := e.cert()
		a := Artefact{
			Name:      e.name,
			Kind:      e.kind,
			Files:     e.files(),
			Purpose:   e.purpose,
			Issuer:    e.issuer,
			Subject:   dn(c.RawSubject),
			IssuerDN:  dn(c.RawIssuer),
			Serial:    certfmt.SerialNumber(c.SerialNumber),
			KeyType:   KeyTypeOf(c.PublicKey),
			NotBefore: c.NotBefore.UTC(),
			NotAfter:  c.NotAfter.UTC(),
		}
		if e.leaf != nil {
			a.ChainLength = len(e.leaf.Chain)
			a.CertificateMessageBytes = CertificateMessageSize(e.leaf.Chain)
		}
		if e.kind == KindClient {
			vc, err := s.verifyCase(e)
			if err == nil {
				a.Expect = vc.expect(e.note)
			}
		}
		m.Artefacts = append(m.Artefacts, a)
	}
	for _, e := range s.entries {
		if e.kind == KindCA {
			addCert(e)
		}
	}
	for _, name := range s.crlOrder() {
		st := s.crls[name]
		a := Artefact{
			Name:       name + "-crl",
			Kind:       KindCRL,
			Files:      crlFiles(name),
			Purpose:    "CRL of " + name + ": DER as a CA publishes it, PEM as ALB requires.",
			Issuer:     name,
			IssuerDN:   dn(st.crl.RawIssuer),
			CRLNumber:  st.crl.Number.Int64(),
			ThisUpdate: st.crl.ThisUpdate.UTC(),
			NextUpdate: st.crl.NextUpdate.UTC(),
		}
		for _, r := range st.crl.RevokedCertificateEntries {
			a.Revoked = append(a.Revoked, RevokedEntry{Name: names[r.SerialNumber.String()], Serial: certfmt.SerialNumber(r.SerialNumber)})
		}
		m.Artefacts = append(m.Artefacts, a)
	}
	for _, e := range s.entries {
		if e.kind != KindCA {
			addCert(e)
		}
	}
	return m
}

func dn(raw []byte) string {
	s, err := certfmt.DN(raw)
	if err != nil {
		return ""
	}
	return s
}
