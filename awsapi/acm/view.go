package acm

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// epoch is a timestamp as AWS JSON 1.1 writes it: seconds since the epoch,
// a JSON number with a fractional part for milliseconds.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

func ts(t time.Time) *epoch { e := epoch(t); return &e }

type keyUsage struct {
	Name string `json:"Name"`
}

type extendedKeyUsage struct {
	Name string `json:"Name"`
	OID  string `json:"OID,omitempty"`
}

// certificateDetail is DescribeCertificate's CertificateDetail for an
// imported certificate.
type certificateDetail struct {
	CertificateArn          string             `json:"CertificateArn"`
	DomainName              string             `json:"DomainName"`
	SubjectAlternativeNames []string           `json:"SubjectAlternativeNames"`
	Serial                  string             `json:"Serial"`
	Subject                 string             `json:"Subject"`
	Issuer                  string             `json:"Issuer"`
	CreatedAt               *epoch             `json:"CreatedAt"`
	ImportedAt              *epoch             `json:"ImportedAt"`
	Status                  string             `json:"Status"`
	NotBefore               *epoch             `json:"NotBefore"`
	NotAfter                *epoch             `json:"NotAfter"`
	KeyAlgorithm            string             `json:"KeyAlgorithm"`
	SignatureAlgorithm      string             `json:"SignatureAlgorithm"`
	InUseBy                 []string           `json:"InUseBy"`
	Type                    string             `json:"Type"`
	KeyUsages               []keyUsage         `json:"KeyUsages"`
	ExtendedKeyUsages       []extendedKeyUsage `json:"ExtendedKeyUsages"`
	RenewalEligibility      string             `json:"RenewalEligibility"`
	Options                 struct {
		CertificateTransparencyLoggingPreference string `json:"CertificateTransparencyLoggingPreference"`
	} `json:"Options"`
}

func (r *record) detail(now time.Time, inUse []string) certificateDetail {
	c := r.m.cert
	d := certificateDetail{
		CertificateArn:          r.ARN,
		DomainName:              r.m.domainName,
		SubjectAlternativeNames: slices.Clone(r.m.sans),
		Serial:                  serial(c),
		Subject:                 certfmtDN(c.RawSubject),
		Issuer:                  certfmtDN(c.RawIssuer),
		CreatedAt:               ts(r.createdAt),
		ImportedAt:              ts(r.importedAt),
		Status:                  r.status(now),
		NotBefore:               ts(c.NotBefore),
		NotAfter:                ts(c.NotAfter),
		KeyAlgorithm:            r.m.keyAlgorithm,
		SignatureAlgorithm:      signatureAlgorithm(c),
		InUseBy:                 append([]string{}, inUse...),
		Type:                    "IMPORTED",
		KeyUsages:               []keyUsage{},
		ExtendedKeyUsages:       []extendedKeyUsage{},
		// ACM renews only the certificates it issues.
		RenewalEligibility: "INELIGIBLE",
	}
	d.Options.CertificateTransparencyLoggingPreference = "ENABLED"
	for _, n := range keyUsageNames(c) {
		d.KeyUsages = append(d.KeyUsages, keyUsage{n})
	}
	d.ExtendedKeyUsages = append(d.ExtendedKeyUsages, extendedKeyUsages(c)...)
	return d
}

// certificateSummary is one entry of ListCertificates' CertificateSummaryList.
type certificateSummary struct {
	CertificateArn                       string   `json:"CertificateArn"`
	DomainName                           string   `json:"DomainName"`
	SubjectAlternativeNameSummaries      []string `json:"SubjectAlternativeNameSummaries"`
	HasAdditionalSubjectAlternativeNames bool     `json:"HasAdditionalSubjectAlternativeNames"`
	Status                               string   `json:"Status"`
	Type                                 string   `json:"Type"`
	KeyAlgorithm                         string   `json:"KeyAlgorithm"`
	KeyUsages                            []string `json:"KeyUsages"`
	ExtendedKeyUsages                    []string `json:"ExtendedKeyUsages"`
	InUse                                bool     `json:"InUse"`
	Exported                             bool     `json:"Exported"`
	RenewalEligibility                   string   `json:"RenewalEligibility"`
	NotBefore                            *epoch   `json:"NotBefore"`
	NotAfter                             *epoch   `json:"NotAfter"`
	CreatedAt                            *epoch   `json:"CreatedAt"`
	ImportedAt                           *epoch   `json:"ImportedAt"`
}

// maxSANSummaries is how many names a summary lists before it sets
// HasAdditionalSubjectAlternativeNames (ACM lists "up to 100" names in
// SubjectAlternativeNameSummaries).
const maxSANSummaries = 100

func (r *record) summary(now time.Time, inUse bool) certificateSummary {
	c := r.m.cert
	sans := slices.Clone(r.m.sans)
	more := len(sans) > maxSANSummaries
	if more {
		sans = sans[:maxSANSummaries]
	}
	s := certificateSummary{
		CertificateArn:                       r.ARN,
		DomainName:                           r.m.domainName,
		SubjectAlternativeNameSummaries:      sans,
		HasAdditionalSubjectAlternativeNames: more,
		Status:                               r.status(now),
		Type:                                 "IMPORTED",
		KeyAlgorithm:                         r.m.keyAlgorithm,
		KeyUsages:                            keyUsageNames(c),
		ExtendedKeyUsages:                    []string{},
		InUse:                                inUse,
		RenewalEligibility:                   "INELIGIBLE",
		NotBefore:                            ts(c.NotBefore),
		NotAfter:                             ts(c.NotAfter),
		CreatedAt:                            ts(r.createdAt),
		ImportedAt:                           ts(r.importedAt),
	}
	for _, e := range extendedKeyUsages(c) {
		s.ExtendedKeyUsages = append(s.ExtendedKeyUsages, e.Name)
	}
	return s
}

// keyUsageNames are ACM's KeyUsageName values of the certificate's key
// usage bits.
func keyUsageNames(c *x509.Certificate) []string {
	names := []string{}
	for _, u := range []struct {
		bit  x509.KeyUsage
		name string
	}{
		{x509.KeyUsageDigitalSignature, "DIGITAL_SIGNATURE"},
		{x509.KeyUsageContentCommitment, "NON_REPUDIATION"},
		{x509.KeyUsageKeyEncipherment, "KEY_ENCIPHERMENT"},
		{x509.KeyUsageDataEncipherment, "DATA_ENCIPHERMENT"},
		{x509.KeyUsageKeyAgreement, "KEY_AGREEMENT"},
		{x509.KeyUsageCertSign, "CERTIFICATE_SIGNING"},
		{x509.KeyUsageCRLSign, "CRL_SIGNING"},
		{x509.KeyUsageEncipherOnly, "ENCIPHER_ONLY"},
		{x509.KeyUsageDecipherOnly, "DECIPHER_ONLY"},
	} {
		if c.KeyUsage&u.bit != 0 {
			names = append(names, u.name)
		}
	}
	return names
}

// extendedKeyUsages are ACM's ExtendedKeyUsage entries (name and OID, the
// OIDs of ACM's ExtendedKeyUsage documentation); an EKU ACM has no name for
// is CUSTOM with its OID.
func extendedKeyUsages(c *x509.Certificate) []extendedKeyUsage {
	var out []extendedKeyUsage
	for _, u := range c.ExtKeyUsage {
		switch u {
		case x509.ExtKeyUsageServerAuth:
			out = append(out, extendedKeyUsage{"TLS_WEB_SERVER_AUTHENTICATION", "1.3.6.1.5.5.7.3.1"})
		case x509.ExtKeyUsageClientAuth:
			out = append(out, extendedKeyUsage{"TLS_WEB_CLIENT_AUTHENTICATION", "1.3.6.1.5.5.7.3.2"})
		case x509.ExtKeyUsageCodeSigning:
			out = append(out, extendedKeyUsage{"CODE_SIGNING", "1.3.6.1.5.5.7.3.3"})
		case x509.ExtKeyUsageEmailProtection:
			out = append(out, extendedKeyUsage{"EMAIL_PROTECTION", "1.3.6.1.5.5.7.3.4"})
		case x509.ExtKeyUsageIPSECEndSystem:
			out = append(out, extendedKeyUsage{"IPSEC_END_SYSTEM", "1.3.6.1.5.5.7.3.5"})
		case x509.ExtKeyUsageIPSECTunnel:
			out = append(out, extendedKeyUsage{"IPSEC_TUNNEL", "1.3.6.1.5.5.7.3.6"})
		case x509.ExtKeyUsageIPSECUser:
			out = append(out, extendedKeyUsage{"IPSEC_USER", "1.3.6.1.5.5.7.3.7"})
		case x509.ExtKeyUsageTimeStamping:
			out = append(out, extendedKeyUsage{"TIME_STAMPING", "1.3.6.1.5.5.7.3.8"})
		case x509.ExtKeyUsageOCSPSigning:
			out = append(out, extendedKeyUsage{"OCSP_SIGNING", "1.3.6.1.5.5.7.3.9"})
		case x509.ExtKeyUsageAny:
			out = append(out, extendedKeyUsage{"ANY", "2.5.29.37.0"})
		default:
			out = append(out, extendedKeyUsage{Name: "CUSTOM"})
		}
	}
	for _, oid := range c.UnknownExtKeyUsage {
		out = append(out, extendedKeyUsage{"CUSTOM", oid.String()})
	}
	return out
}

// pageToken is the content of a ListCertificates NextToken: the creation
// sequence number of the last certificate returned and the sort order it
// was given for. It is opaque to clients (base64 of this JSON).
type pageToken struct {
	After      uint64 `json:"after"`
	Descending bool   `json:"desc,omitempty"`
}

func (p pageToken) encode() string {
	b, _ := json.Marshal(p)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePageToken(s string) (pageToken, error) {
	var p pageToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return p, fmt.Errorf("not a token this endpoint issued")
	}
	if err := json.Unmarshal(b, &p); err != nil || p.After == 0 {
		return p, fmt.Errorf("not a token this endpoint issued")
	}
	return p, nil
}
