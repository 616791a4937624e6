package acm

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/albmtls/albmtls/emulator/awsarn"
)

// record is one imported certificate.
type record struct {
	ARN        string
	seq        uint64
	m          *material
	createdAt  time.Time // first import
	importedAt time.Time // latest import (a re-import moves it)
	tags       []tag
	fromConfig bool // added by AddFromConfig: left out of Snapshot
}

type tag struct {
	Key   string  `json:"Key"`
	Value *string `json:"Value,omitempty"`
}

// handlers maps each X-Amz-Target operation to its implementation.
var handlers = map[string]func(*Service, []byte) (any, *apiError){
	"ImportCertificate":         (*Service).importCertificate,
	"DescribeCertificate":       (*Service).describeCertificate,
	"ListCertificates":          (*Service).listCertificates,
	"GetCertificate":            (*Service).getCertificate,
	"DeleteCertificate":         (*Service).deleteCertificate,
	"ListTagsForCertificate":    (*Service).listTagsForCertificate,
	"AddTagsToCertificate":      (*Service).addTagsToCertificate,
	"RemoveTagsFromCertificate": (*Service).removeTagsFromCertificate,
}

func operationNames() []string {
	var ns []string
	for n := range handlers {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// arnPattern is the pattern of the CertificateArn members in ACM's API model
// (https://docs.aws.amazon.com/acm/latest/APIReference/API_DescribeCertificate.html).
var arnPattern = regexp.MustCompile(`^arn:[\w+=/,.@-]+:acm:[\w+=/,.@-]*:[0-9]+:[\w+=,.@-]+(/[\w+=,.@-]+)*$`)

// violations collects the constraint failures of one request and reports
// them the way AWS's request validation does: "2 validation errors
// detected: Value … at 'member' failed to satisfy constraint: …".
type violations []string

func (v *violations) add(value, member, constraint string) {
	*v = append(*v, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: Member must %s", value, member, constraint))
}

func (v violations) err() *apiError {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return errorf(codeValidation, "1 validation error detected: %s", v[0])
	}
	return errorf(codeValidation, "%d validation errors detected: %s", len(v), strings.Join(v, "; "))
}

func quote(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return "'" + s + "'"
}

func (v *violations) blob(member string, b []byte, limit int, required bool) {
	switch {
	case b == nil && required:
		v.add("null", member, "not be null")
	case b != nil && len(b) < 1:
		v.add("''", member, "have length greater than or equal to 1")
	case len(b) > limit:
		v.add(fmt.Sprintf("(%d bytes)", len(b)), member, fmt.Sprintf("have length less than or equal to %d", limit))
	}
}

func (v *violations) arn(member string, arn *string, required bool) {
	switch {
	case arn == nil:
		if required {
			v.add("null", member, "not be null")
		}
	case len(*arn) < 20:
		v.add(quote(*arn), member, "have length greater than or equal to 20")
	case len(*arn) > 2048:
		v.add(quote(*arn), member, "have length less than or equal to 2048")
	case !arnPattern.MatchString(*arn):
		v.add(quote(*arn), member, "satisfy regular expression pattern: "+strings.Trim(arnPattern.String(), "^$"))
	}
}

// lookup resolves a CertificateArn that passed the constraints: an ARN of
// the right pattern that is not an ACM certificate ARN is
// InvalidArnException; one of another region or account, or of no
// certificate, is ResourceNotFoundException. Callers hold s.mu.
func (s *Service) lookup(arn string) (*record, *apiError) {
	if aerr := s.checkARN(arn); aerr != nil {
		return nil, aerr
	}
	r, ok := s.certs[arn]
	if !ok {
		return nil, errorf(codeNotFound, "Could not find certificate %s in account %s, region %s: import it with ImportCertificate, or list the ARNs with ListCertificates", arn, s.opts.AccountID, s.opts.Region)
	}
	return r, nil
}

func (s *Service) checkARN(arn string) *apiError {
	if _, ok := awsarn.ParseCertificate(arn); !ok {
		return errorf(codeInvalidArn, "String '%s' is not a valid ACM certificate ARN: it must be arn:aws:acm:REGION:ACCOUNT:certificate/UUID (lower-case UUID), e.g. %s",
			arn, awsarn.Certificate(s.opts.Region, s.opts.AccountID, "12345678-1234-1234-1234-123456789012"))
	}
	return nil
}

type importRequest struct {
	CertificateArn   *string `json:"CertificateArn"`
	Certificate      []byte  `json:"Certificate"`
	PrivateKey       []byte  `json:"PrivateKey"`
	CertificateChain []byte  `json:"CertificateChain"`
	Tags             []tag   `json:"Tags"`
}

// The extensions a re-import may not add (import-certificate-prerequisites:
// "When you reimport a certificate, you cannot add a KeyUsage or
// ExtendedKeyUsage extension if the extension did not exist in the
// previously imported certificate").
var (
	oidKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtendedKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}
)

func hasExtension(c *x509.Certificate, oid asn1.ObjectIdentifier) bool {
	return slices.ContainsFunc(c.Extensions, func(e pkix.Extension) bool { return e.Id.Equal(oid) })
}

func (s *Service) importCertificate(body []byte) (any, *apiError) {
	var req importRequest
	if aerr := decode(body, "ImportCertificate", &req); aerr != nil {
		return nil, aerr
	}
	var v violations
	v.arn("certificateArn", req.CertificateArn, false)
	v.blob("certificate", req.Certificate, maxCertificateBytes, true)
	v.blob("privateKey", req.PrivateKey, maxPrivateKeyBytes, true)
	v.blob("certificateChain", req.CertificateChain, maxChainBytes, false)
	if aerr := v.err(); aerr != nil {
		return nil, aerr
	}
	if req.CertificateArn != nil {
		if aerr := s.checkARN(*req.CertificateArn); aerr != nil {
			return nil, aerr
		}
		if len(req.Tags) > 0 {
			return nil, errorf(codeInvalidParameter, "Tags: tags cannot be applied while re-importing a certificate (CertificateArn is set); import without Tags, or tag a new import")
		}
	}
	if aerr := checkTags(req.Tags); aerr != nil {
		return nil, aerr
	}
	now := s.now()
	m, aerr := parseMaterial(req.Certificate, req.PrivateKey, req.CertificateChain, now)
	if aerr != nil {
		return nil, aerr
	}

	s.mu.Lock()
	var arn string
	if req.CertificateArn != nil {
		r, aerr := s.lookup(*req.CertificateArn)
		if aerr != nil {
			s.mu.Unlock()
			return nil, aerr
		}
		for _, ext := range []struct {
			name string
			oid  asn1.ObjectIdentifier
		}{{"KeyUsage", oidKeyUsage}, {"ExtendedKeyUsage", oidExtendedKeyUsage}} {
			if hasExtension(m.cert, ext.oid) && !hasExtension(r.m.cert, ext.oid) {
				s.mu.Unlock()
				return nil, errorf(codeValidation, "Certificate: the new certificate has a %s extension that the certificate imported at %s does not have; a re-import cannot add it (import it as a new certificate instead)", ext.name, r.ARN)
			}
		}
		r.m, r.importedAt = m, now
		arn = r.ARN
	} else {
		for {
			arn = awsarn.Certificate(s.opts.Region, s.opts.AccountID, awsarn.NewCertificateID())
			if s.certs[arn] == nil {
				break
			}
		}
		s.nextSeq++
		s.certs[arn] = &record{ARN: arn, seq: s.nextSeq, m: m, createdAt: now, importedAt: now, tags: req.Tags}
	}
	s.mu.Unlock()
	s.notifyChange()
	return struct {
		CertificateArn string `json:"CertificateArn"`
	}{arn}, nil
}

// checkTags applies the Tag constraints of ACM's API model (key 1–128
// characters, value 0–256, at most 50 tags; keys starting aws: are AWS's).
func checkTags(tags []tag) *apiError {
	if len(tags) > 50 {
		return errorf(codeTooManyTags, "Tags: %d tags given; a certificate can have at most 50", len(tags))
	}
	for i, t := range tags {
		switch {
		case len(t.Key) < 1 || len(t.Key) > 128:
			return errorf(codeInvalidTag, "Tags[%d].Key: the key must be 1 to 128 characters, got %d", i, len(t.Key))
		case t.Value != nil && len(*t.Value) > 256:
			return errorf(codeInvalidTag, "Tags[%d].Value: the value must be at most 256 characters, got %d", i, len(*t.Value))
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return errorf(codeInvalidTag, "Tags[%d].Key: %q starts with aws:, which is reserved for AWS", i, t.Key)
		}
	}
	return nil
}

type arnRequest struct {
	CertificateArn *string `json:"CertificateArn"`
}

// arnCall decodes an {"CertificateArn": …} request and validates the ARN.
func arnCall(body []byte, op string) (string, *apiError) {
	var req arnRequest
	if aerr := decode(body, op, &req); aerr != nil {
		return "", aerr
	}
	var v violations
	v.arn("certificateArn", req.CertificateArn, true)
	if aerr := v.err(); aerr != nil {
		return "", aerr
	}
	return *req.CertificateArn, nil
}

func (s *Service) describeCertificate(body []byte) (any, *apiError) {
	arn, aerr := arnCall(body, "DescribeCertificate")
	if aerr != nil {
		return nil, aerr
	}
	if aerr := s.checkARN(arn); aerr != nil {
		return nil, aerr
	}
	inUse := s.inUse(arn) // outside s.mu: InUse may call back into s
	s.mu.Lock()
	r, aerr := s.lookup(arn)
	var d certificateDetail
	if aerr == nil {
		d = r.detail(s.now(), inUse)
	}
	s.mu.Unlock()
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		Certificate certificateDetail `json:"Certificate"`
	}{d}, nil
}

func (s *Service) getCertificate(body []byte) (any, *apiError) {
	arn, aerr := arnCall(body, "GetCertificate")
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, aerr := s.lookup(arn)
	if aerr != nil {
		return nil, aerr
	}
	out := struct {
		Certificate      string `json:"Certificate"`
		CertificateChain string `json:"CertificateChain,omitempty"`
	}{Certificate: string(r.m.certPEM), CertificateChain: string(r.m.chainPEM)}
	return out, nil
}

func (s *Service) deleteCertificate(body []byte) (any, *apiError) {
	arn, aerr := arnCall(body, "DeleteCertificate")
	if aerr != nil {
		return nil, aerr
	}
	if aerr := s.checkARN(arn); aerr != nil {
		return nil, aerr
	}
	// InUse is asked outside s.mu, since it may call back into s; a
	// listener that starts using the certificate between the two is the
	// ELBv2 call's to refuse (its CertificateArn lookup then fails).
	if users := s.inUse(arn); len(users) > 0 {
		s.mu.Lock()
		_, aerr := s.lookup(arn)
		s.mu.Unlock()
		if aerr != nil {
			return nil, aerr
		}
		return nil, errorf(codeInUse, "Certificate %s is in use by %s. Remove it from the listener (ModifyListener with another certificate, or DeleteListener) and try again",
			arn, strings.Join(users, ", "))
	}
	s.mu.Lock()
	if _, aerr := s.lookup(arn); aerr != nil {
		s.mu.Unlock()
		return nil, aerr
	}
	delete(s.certs, arn)
	s.mu.Unlock()
	s.notifyChange()
	return struct{}{}, nil
}

func (s *Service) listTagsForCertificate(body []byte) (any, *apiError) {
	arn, aerr := arnCall(body, "ListTagsForCertificate")
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, aerr := s.lookup(arn)
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		Tags []tag `json:"Tags"`
	}{append([]tag{}, r.tags...)}, nil
}

type tagsRequest struct {
	CertificateArn *string `json:"CertificateArn"`
	Tags           []tag   `json:"Tags"`
}

func tagsCall(body []byte, op string) (string, []tag, *apiError) {
	var req tagsRequest
	if aerr := decode(body, op, &req); aerr != nil {
		return "", nil, aerr
	}
	var v violations
	v.arn("certificateArn", req.CertificateArn, true)
	switch {
	case req.Tags == nil:
		v.add("null", "tags", "not be null")
	case len(req.Tags) < 1:
		v.add("[]", "tags", "have length greater than or equal to 1")
	case len(req.Tags) > 50:
		v.add(fmt.Sprintf("(%d tags)", len(req.Tags)), "tags", "have length less than or equal to 50")
	}
	if aerr := v.err(); aerr != nil {
		return "", nil, aerr
	}
	return *req.CertificateArn, req.Tags, nil
}

// addTagsToCertificate adds tags, replacing the value of a key the
// certificate already has.
func (s *Service) addTagsToCertificate(body []byte) (any, *apiError) {
	arn, tags, aerr := tagsCall(body, "AddTagsToCertificate")
	if aerr != nil {
		return nil, aerr
	}
	if aerr := checkTags(tags); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	r, aerr := s.lookup(arn)
	if aerr != nil {
		s.mu.Unlock()
		return nil, aerr
	}
	merged := slices.Clone(r.tags)
	for _, t := range tags {
		if i := slices.IndexFunc(merged, func(x tag) bool { return x.Key == t.Key }); i >= 0 {
			merged[i] = t
		} else {
			merged = append(merged, t)
		}
	}
	if aerr := checkTags(merged); aerr != nil {
		s.mu.Unlock()
		return nil, aerr
	}
	r.tags = merged
	s.mu.Unlock()
	s.notifyChange()
	return struct{}{}, nil
}

// removeTagsFromCertificate removes tags by key; a tag given with a value
// is removed only if the value matches.
func (s *Service) removeTagsFromCertificate(body []byte) (any, *apiError) {
	arn, tags, aerr := tagsCall(body, "RemoveTagsFromCertificate")
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	r, aerr := s.lookup(arn)
	if aerr != nil {
		s.mu.Unlock()
		return nil, aerr
	}
	r.tags = slices.DeleteFunc(slices.Clone(r.tags), func(x tag) bool {
		return slices.ContainsFunc(tags, func(t tag) bool {
			return t.Key == x.Key && (t.Value == nil || (x.Value != nil && *t.Value == *x.Value))
		})
	})
	s.mu.Unlock()
	s.notifyChange()
	return struct{}{}, nil
}

// status is ACM's status of an imported certificate: ISSUED until NotAfter
// passes, then EXPIRED.
func (r *record) status(now time.Time) string {
	if now.After(r.m.cert.NotAfter) {
		return "EXPIRED"
	}
	return "ISSUED"
}
