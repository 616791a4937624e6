package acm

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

type listRequest struct {
	CertificateStatuses []string `json:"CertificateStatuses"`
	Includes            *struct {
		ExtendedKeyUsage []string `json:"extendedKeyUsage"`
		KeyUsage         []string `json:"keyUsage"`
		KeyTypes         []string `json:"keyTypes"`
		ManagedBy        *string  `json:"managedBy"`
	} `json:"Includes"`
	NextToken *string `json:"NextToken"`
	MaxItems  *int    `json:"MaxItems"`
	SortBy    *string `json:"SortBy"`
	SortOrder *string `json:"SortOrder"`
}

// The enums ListCertificates' members are checked against (ACM's API model).
var (
	certificateStatuses = []string{"PENDING_VALIDATION", "ISSUED", "INACTIVE", "EXPIRED", "VALIDATION_TIMED_OUT", "REVOKED", "FAILED"}
	keyAlgorithms       = []string{"RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"}
	keyUsageValues      = []string{"DIGITAL_SIGNATURE", "NON_REPUDIATION", "KEY_ENCIPHERMENT", "DATA_ENCIPHERMENT", "KEY_AGREEMENT", "CERTIFICATE_SIGNING", "CRL_SIGNING", "ENCIPHER_ONLY", "DECIPHER_ONLY", "ANY", "CUSTOM"}
	ekuValues           = []string{"TLS_WEB_SERVER_AUTHENTICATION", "TLS_WEB_CLIENT_AUTHENTICATION", "CODE_SIGNING", "EMAIL_PROTECTION", "TIME_STAMPING", "OCSP_SIGNING", "IPSEC_END_SYSTEM", "IPSEC_TUNNEL", "IPSEC_USER", "ANY", "NONE", "CUSTOM"}
)

// defaultKeyTypes is what ListCertificates returns without
// Includes.keyTypes: "Default filtering returns only RSA_1024 and RSA_2048
// certificates that have at least one domain" (ACM API reference, Filters).
// An ECDSA certificate is listed only when keyTypes names its algorithm.
var defaultKeyTypes = []string{"RSA_1024", "RSA_2048"}

const (
	// maxPage is MaxItems' upper bound in ACM's API model, and the page
	// size when MaxItems is not given.
	maxPage = 1000
)

func (v *violations) enumList(member string, values, allowed []string) {
	for i, x := range values {
		if !slices.Contains(allowed, x) {
			v.add(quote(x), fmt.Sprintf("%s.%d.member", member, i+1), "satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
		}
	}
}

func (s *Service) listCertificates(body []byte) (any, *apiError) {
	var req listRequest
	if aerr := decode(body, "ListCertificates", &req); aerr != nil {
		return nil, aerr
	}
	var v violations
	v.enumList("certificateStatuses", req.CertificateStatuses, certificateStatuses)
	keyTypes := defaultKeyTypes
	var keyUsages, ekus []string
	managed := false
	if inc := req.Includes; inc != nil {
		v.enumList("includes.keyTypes", inc.KeyTypes, keyAlgorithms)
		v.enumList("includes.keyUsage", inc.KeyUsage, keyUsageValues)
		v.enumList("includes.extendedKeyUsage", inc.ExtendedKeyUsage, ekuValues)
		if len(inc.KeyTypes) > 0 {
			keyTypes = inc.KeyTypes
		}
		keyUsages, ekus = inc.KeyUsage, inc.ExtendedKeyUsage
		managed = inc.ManagedBy != nil
	}
	if req.MaxItems != nil && (*req.MaxItems < 1 || *req.MaxItems > maxPage) {
		v.add(fmt.Sprint(*req.MaxItems), "maxItems", fmt.Sprintf("have value between 1 and %d", maxPage))
	}
	if req.NextToken != nil && (len(*req.NextToken) < 1 || len(*req.NextToken) > 10000) {
		v.add(quote(*req.NextToken), "nextToken", "have length between 1 and 10000")
	}
	if req.SortBy != nil && *req.SortBy != "CREATED_AT" {
		v.add(quote(*req.SortBy), "sortBy", "satisfy enum value set: [CREATED_AT]")
	}
	desc := false
	if req.SortOrder != nil {
		switch *req.SortOrder {
		case "ASCENDING":
		case "DESCENDING":
			desc = true
		default:
			v.add(quote(*req.SortOrder), "sortOrder", "satisfy enum value set: [ASCENDING, DESCENDING]")
		}
	}
	if aerr := v.err(); aerr != nil {
		return nil, aerr
	}
	var after uint64
	if req.NextToken != nil {
		tok, err := decodePageToken(*req.NextToken)
		if err != nil {
			return nil, errorf(codeInvalidArgs, "NextToken %s is invalid: %v; pass the NextToken of the previous ListCertificates response unchanged", quote(*req.NextToken), err)
		}
		if tok.Descending != desc {
			return nil, errorf(codeInvalidArgs, "NextToken was issued for the other SortOrder; keep SortOrder the same across the pages of one listing")
		}
		after = tok.After
	}
	limit := maxPage
	if req.MaxItems != nil {
		limit = *req.MaxItems
	}

	now := s.now()
	s.mu.Lock()
	var matched []*record
	for _, r := range s.certs {
		if r.matches(now, req.CertificateStatuses, keyTypes, keyUsages, ekus, managed) &&
			(after == 0 || (!desc && r.seq > after) || (desc && r.seq < after)) {
			matched = append(matched, r)
		}
	}
	slices.SortFunc(matched, func(a, b *record) int {
		if desc {
			return compareSeq(b.seq, a.seq)
		}
		return compareSeq(a.seq, b.seq)
	})
	var next string
	if len(matched) > limit {
		matched = matched[:limit]
		next = pageToken{After: matched[limit-1].seq, Descending: desc}.encode()
	}
	summaries := make([]certificateSummary, len(matched))
	for i, r := range matched {
		summaries[i] = r.summary(now, false)
	}
	s.mu.Unlock()
	for i := range summaries { // outside s.mu: InUse may call back into s
		summaries[i].InUse = len(s.inUse(summaries[i].CertificateArn)) > 0
	}
	return struct {
		CertificateSummaryList []certificateSummary `json:"CertificateSummaryList"`
		NextToken              string               `json:"NextToken,omitempty"`
	}{summaries, next}, nil
}

func compareSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// matches applies ListCertificates' filters: every given filter must hold;
// within one list any value matches. Extended key usage NONE matches a
// certificate without the extension; managedBy never matches an imported
// certificate (no service manages it).
func (r *record) matches(now time.Time, statuses, keyTypes, keyUsages, ekus []string, managed bool) bool {
	if managed {
		return false
	}
	if len(statuses) > 0 && !slices.Contains(statuses, r.status(now)) {
		return false
	}
	if !slices.Contains(keyTypes, r.m.keyAlgorithm) {
		return false
	}
	if len(keyUsages) > 0 && !slices.ContainsFunc(keyUsageNames(r.m.cert), func(n string) bool { return slices.Contains(keyUsages, n) }) {
		return false
	}
	if len(ekus) > 0 {
		have := extendedKeyUsages(r.m.cert)
		ok := len(have) == 0 && slices.Contains(ekus, "NONE")
		for _, e := range have {
			ok = ok || slices.Contains(ekus, e.Name)
		}
		if !ok {
			return false
		}
	}
	return true
}
