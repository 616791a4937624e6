package acm

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// stateVersion is the version of the Snapshot format; Restore refuses
// others, so an older albmtls never misreads a newer state directory.
const stateVersion = 1

type stateFile struct {
	Version      int           `json:"version"`
	NextSeq      uint64        `json:"next_seq"`
	Certificates []stateRecord `json:"certificates"`
}

type stateRecord struct {
	ARN              string    `json:"arn"`
	Seq              uint64    `json:"seq"`
	CertificatePEM   string    `json:"certificate_pem"`
	CertificateChain string    `json:"certificate_chain_pem,omitempty"`
	PrivateKeyPEM    string    `json:"private_key_pem"`
	CreatedAt        time.Time `json:"created_at"`
	ImportedAt       time.Time `json:"imported_at"`
	Tags             []tag     `json:"tags,omitempty"`
}

// Snapshot is the service's state as JSON, for --state: every imported
// certificate with its key (the state directory holds private keys, as ACM
// does), timestamps and tags, in creation order.
func (s *Service) Snapshot() ([]byte, error) {
	s.mu.Lock()
	st := stateFile{Version: stateVersion, NextSeq: s.nextSeq, Certificates: []stateRecord{}}
	for _, r := range s.certs {
		if r.fromConfig {
			continue
		}
		st.Certificates = append(st.Certificates, stateRecord{
			ARN: r.ARN, Seq: r.seq,
			CertificatePEM: string(r.m.certPEM), CertificateChain: string(r.m.chainPEM), PrivateKeyPEM: string(r.m.keyPEM),
			CreatedAt: r.createdAt.UTC(), ImportedAt: r.importedAt.UTC(), Tags: r.tags,
		})
	}
	s.mu.Unlock()
	sortState(st.Certificates)
	return json.MarshalIndent(st, "", "  ")
}

func sortState(rs []stateRecord) {
	slices.SortFunc(rs, func(a, b stateRecord) int { return compareSeq(a.Seq, b.Seq) })
}

// Restore replaces the service's state with a Snapshot. Each certificate is
// checked again as ImportCertificate checks it, except for the validity
// period: a certificate that expired while albmtls was stopped comes back
// EXPIRED, as it would be in ACM. On any error nothing changes. Restore does
// not call OnChange.
func (s *Service) Restore(data []byte) error {
	var st stateFile
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("acm state: not the JSON Snapshot writes: %w", err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("acm state: version %d, this albmtls reads version %d; start with an empty --state directory or the albmtls that wrote it", st.Version, stateVersion)
	}
	certs := map[string]*record{}
	next := st.NextSeq
	for i, sr := range st.Certificates {
		if aerr := s.checkARN(sr.ARN); aerr != nil {
			return fmt.Errorf("acm state: certificate %d: %s", i+1, aerr.message)
		}
		if certs[sr.ARN] != nil {
			return fmt.Errorf("acm state: certificate %d: ARN %s appears twice", i+1, sr.ARN)
		}
		var chain []byte
		if sr.CertificateChain != "" {
			chain = []byte(sr.CertificateChain)
		}
		// Checked at a moment inside its validity, so only the period is
		// exempt from the import rules.
		m, aerr := parseMaterial([]byte(sr.CertificatePEM), []byte(sr.PrivateKeyPEM), chain, restoreClock(sr.CertificatePEM))
		if aerr != nil {
			return fmt.Errorf("acm state: certificate %d (%s): %s", i+1, sr.ARN, aerr.message)
		}
		if sr.Seq == 0 {
			return fmt.Errorf("acm state: certificate %d (%s): no seq", i+1, sr.ARN)
		}
		next = max(next, sr.Seq)
		certs[sr.ARN] = &record{ARN: sr.ARN, seq: sr.Seq, m: m, createdAt: sr.CreatedAt, importedAt: sr.ImportedAt, tags: sr.Tags}
	}
	s.mu.Lock()
	// The configuration's certificates stay, numbered after the restored
	// ones so that creation order (and NextToken) has no ties.
	var kept []*record
	for arn, r := range s.certs {
		if r.fromConfig && certs[arn] == nil {
			kept = append(kept, r)
		}
	}
	slices.SortFunc(kept, func(a, b *record) int { return compareSeq(a.seq, b.seq) })
	for _, r := range kept {
		next++
		r.seq = next
		certs[r.ARN] = r
	}
	s.certs, s.nextSeq = certs, next
	s.mu.Unlock()
	return nil
}

// restoreClock is an instant inside the certificate's validity period (its
// NotBefore), so that parseMaterial's period check passes on restore; a PEM
// that does not parse gets the zero time and fails there with the parse
// error.
func restoreClock(certPEM string) time.Time {
	c, _, aerr := parseCertificateField([]byte(certPEM))
	if aerr != nil {
		return time.Time{}
	}
	return c.NotBefore
}

// AddFromConfig puts a certificate defined outside the API, a listener
// certificate of albmtls.yaml, into the service under c.ARN, so that the
// CertificateArn ELBv2 reports for that listener (awsarn.Certificate with
// awsarn.CertificateID) is one DescribeCertificate, GetCertificate and
// ListCertificates know. It is checked as ImportCertificate checks except
// for the validity period (a configuration may serve an expired certificate
// on purpose), replaces an earlier AddFromConfig of the same ARN, is not part
// of Snapshot (the configuration adds it again at start) and does not call
// OnChange. c.DomainName is ignored: it is read from the certificate.
func (s *Service) AddFromConfig(c Certificate) error {
	if aerr := s.checkARN(c.ARN); aerr != nil {
		return fmt.Errorf("acm: config certificate: %s", aerr.message)
	}
	var chain []byte
	if len(c.ChainPEM) > 0 {
		chain = c.ChainPEM
	}
	m, aerr := parseMaterial(c.CertificatePEM, c.PrivateKeyPEM, chain, restoreClock(string(c.CertificatePEM)))
	if aerr != nil {
		return fmt.Errorf("acm: config certificate %s: %s", c.ARN, aerr.message)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.certs[c.ARN]; r != nil {
		if !r.fromConfig {
			return fmt.Errorf("acm: config certificate %s: an API-imported certificate already has this ARN", c.ARN)
		}
		r.m = m
		return nil
	}
	s.nextSeq++
	s.certs[c.ARN] = &record{ARN: c.ARN, seq: s.nextSeq, m: m, createdAt: now, importedAt: now, fromConfig: true}
	return nil
}
