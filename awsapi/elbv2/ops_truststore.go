package elbv2

import (
	"crypto/x509"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/albmtls/albmtls/emulator/awsarn"
	"github.com/albmtls/albmtls/emulator/truststore"
)

// Trust store names (alb-behaviour §1.2): 1–32 characters,
// ^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$.
var trustStoreNameRE = regexp.MustCompile(`^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$`)

const statusActive = "ACTIVE"

// albErrorCode maps the ALBError of a truststore finding to the ELBv2 error
// code. The quota names have no documented API error (truststore's
// Basis INF); albmtls answers with the error of the file they are about.
func albErrorCode(albError string) string {
	switch albError {
	case truststore.ErrInvalidCaCertificatesBundle, truststore.ErrCaCertificatesBundleNotFound,
		truststore.ErrInvalidRevocationContent, truststore.ErrRevocationContentNotFound,
		truststore.ErrTooManyTrustStoreRevocationEntries, truststore.ErrRevocationIDNotFound:
		return albError
	case truststore.QuotaCACertificatesPerTrustStore, truststore.QuotaCACertificateSize, truststore.QuotaCASubjectSize:
		return codeInvalidCaCertificatesBundle
	case truststore.QuotaRevocationListFileSize:
		return codeInvalidRevocationContent
	case truststore.QuotaRevocationListsPerStore:
		return codeTooManyRevocationEntries
	}
	return codeValidation
}

// findingsError turns the fatal findings of a check into the API error
// of the first, with every fatal problem in the message.
func findingsError(fs []truststore.Finding) *apiError {
	var first *truststore.Finding
	var msgs []string
	for i := range fs {
		if fs[i].Fatal {
			if first == nil {
				first = &fs[i]
			}
			msgs = append(msgs, fs[i].String())
		}
	}
	if first == nil {
		return nil
	}
	return errf(albErrorCode(first.ALBError), "%s", strings.Join(msgs, "; "))
}

func s3Name(bucket, key string) string { return "s3://" + bucket + "/" + key }

// getObject reads an S3 object, or answers with notFound.
func (r *request) getObject(bucket, key, version, notFound string) ([]byte, *apiError) {
	if r.s.opts.Objects == nil {
		return nil, errf(notFound, "%s: albmtls has no S3 store configured", s3Name(bucket, key))
	}
	data, err := r.s.opts.Objects.GetObject(r.ctx, bucket, key, version)
	if err != nil {
		if r.s.opts.IsNotFound(err) {
			v := ""
			if version != "" {
				v = " version " + version
			}
			return nil, errf(notFound, "the S3 object %s%s cannot be read: %v", s3Name(bucket, key), v, err)
		}
		return nil, &apiError{status: 500, code: codeInternalFailure, message: "reading " + s3Name(bucket, key) + ": " + err.Error()}
	}
	return data, nil
}

// readBundle reads and checks a CA bundle named by the call's
// CaCertificatesBundleS3* parameters.
func (r *request) readBundle() (objectRef, []*x509.Certificate, *apiError) {
	bucket, e := r.p.required("CaCertificatesBundleS3Bucket")
	if e != nil {
		return objectRef{}, nil, e
	}
	key, e := r.p.required("CaCertificatesBundleS3Key")
	if e != nil {
		return objectRef{}, nil, e
	}
	version := r.p.str("CaCertificatesBundleS3ObjectVersion")
	data, e := r.getObject(bucket, key, version, codeCaCertificatesBundleNotFound)
	if e != nil {
		return objectRef{}, nil, e
	}
	cas, fs := r.s.opts.Limits.CheckBundle(s3Name(bucket, key), data)
	if e := findingsError(fs); e != nil {
		return objectRef{}, nil, e
	}
	return objectRef{Bucket: bucket, Key: key, Version: version, Data: data}, cas, nil
}

// checkTrustStore loads the trust store as the emulator will (the same
// truststore.Load, with its totals and quotas) and records the counts.
func (s *Service) checkTrustStore(ts *tsRec) *apiError {
	bundle, e := s.fileOf(ts.Bundle, "bundle")
	if e != nil {
		return e
	}
	spec := truststore.Spec{Name: ts.Name, BundleFile: bundle, Limits: s.opts.Limits}
	for _, rv := range ts.Revocations {
		f, e := s.fileOf(rv.Object, "crl")
		if e != nil {
			return e
		}
		spec.RevocationFiles = append(spec.RevocationFiles, f)
	}
	st, err := truststore.Load(spec)
	if err != nil {
		var le *truststore.LoadError
		if errors.As(err, &le) {
			if e := findingsError(le.Findings); e != nil {
				return e
			}
		}
		return errf(codeValidation, "trust store %s: %v", ts.Name, err)
	}
	ts.NumCAs = len(st.CACertificates)
	for i, info := range st.Revocations() {
		if i < len(ts.Revocations) {
			ts.Revocations[i].Entries = info.NumberOfRevokedEntries
		}
	}
	return nil
}

func getTS(m *model, arn string) (*tsRec, *apiError) {
	ts, ok := m.TrustStores[arn]
	if !ok {
		return nil, errf(codeTrustStoreNotFound, "trust store %s not found", arn)
	}
	return ts, nil
}

func describeTS(ts *tsRec) xTrustStore {
	x := xTrustStore{Name: ts.Name, TrustStoreArn: ts.ARN, Status: statusActive, NumberOfCaCertificates: ts.NumCAs}
	for _, r := range ts.Revocations {
		x.TotalRevokedEntries += r.Entries
	}
	return x
}

type trustStoresResult struct {
	TrustStores []xTrustStore `xml:"TrustStores>member"`
}

func createTrustStore(r *request) (any, *apiError) {
	name, e := r.p.required("Name")
	if e != nil {
		return nil, e
	}
	if len(name) > 32 || !trustStoreNameRE.MatchString(name) {
		return nil, errf(codeValidation, "Name %q is not a valid trust store name: 1–32 letters and digits, hyphens only between them", name)
	}
	bundle, _, e := r.readBundle()
	if e != nil {
		return nil, e
	}
	tags, e := readTags(r.p, "Tags")
	if e != nil {
		return nil, e
	}
	id, e := r.s.newID()
	if e != nil {
		return nil, e
	}
	var out xTrustStore
	e = r.s.mutate(r.ctx, func(m *model) *apiError {
		for _, ts := range m.TrustStores {
			if ts.Name == name {
				return errf(codeDuplicateTrustStoreName, "a trust store named %q already exists (%s)", name, ts.ARN)
			}
		}
		if len(m.TrustStores) >= r.s.opts.MaxTrustStores {
			return errf(codeTooManyTrustStores, "the quota of %d trust stores per account and region is reached (alb-behaviour §1.2); delete one first", r.s.opts.MaxTrustStores)
		}
		ts := &tsRec{ARN: awsarn.TrustStore(r.s.opts.Region, r.s.opts.AccountID, name, id), Name: name, ID: id,
			Created: r.s.opts.Now().UTC(), Bundle: bundle, NextRevocationID: 1}
		if e := r.s.checkTrustStore(ts); e != nil {
			return e
		}
		m.TrustStores[ts.ARN] = ts
		if len(tags) > 0 {
			m.Tags[ts.ARN] = tags
		}
		out = describeTS(ts)
		return nil
	})
	if e != nil {
		return nil, e
	}
	return trustStoresResult{[]xTrustStore{out}}, nil
}

func modifyTrustStore(r *request) (any, *apiError) {
	arn, e := r.p.required("TrustStoreArn")
	if e != nil {
		return nil, e
	}
	bundle, _, e := r.readBundle()
	if e != nil {
		return nil, e
	}
	var out xTrustStore
	e = r.s.mutate(r.ctx, func(m *model) *apiError {
		ts, e := getTS(m, arn)
		if e != nil {
			return e
		}
		ts.Bundle = bundle
		if e := r.s.checkTrustStore(ts); e != nil {
			return e
		}
		out = describeTS(ts)
		return nil
	})
	if e != nil {
		return nil, e
	}
	return trustStoresResult{[]xTrustStore{out}}, nil
}

func deleteTrustStore(r *request) (any, *apiError) {
	arn, e := r.p.required("TrustStoreArn")
	if e != nil {
		return nil, e
	}
	e = r.s.mutate(r.ctx, func(m *model) *apiError {
		if _, e := getTS(m, arn); e != nil {
			return e
		}
		if users := m.trustStoreUsers(arn); len(users) > 0 {
			return errf(codeTrustStoreInUse, "trust store %s is in use by listener(s) %s; change their mutual authentication first", arn, strings.Join(users, ", "))
		}
		delete(m.TrustStores, arn)
		delete(m.Tags, arn)
		return nil
	})
	return struct{}{}, e
}

func describeTrustStores(r *request) (any, *apiError) {
	if e := r.p.pageSize(); e != nil {
		return nil, e
	}
	arns, names := r.p.list("TrustStoreArns"), r.p.list("Names")
	return r.read(func(m *model) (any, *apiError) {
		var out []xTrustStore
		for _, ts := range sortedValues(m.TrustStores) {
			if (len(arns) == 0 || slices.Contains(arns, ts.ARN)) && (len(names) == 0 || slices.Contains(names, ts.Name)) {
				out = append(out, describeTS(ts))
			}
		}
		for _, a := range arns {
			if _, ok := m.TrustStores[a]; !ok {
				return nil, errf(codeTrustStoreNotFound, "trust store %s not found", a)
			}
		}
		for _, n := range names {
			if !slices.ContainsFunc(out, func(x xTrustStore) bool { return x.Name == n }) {
				return nil, errf(codeTrustStoreNotFound, "no trust store named %q", n)
			}
		}
		return trustStoresResult{out}, nil
	})
}

func addTrustStoreRevocations(r *request) (any, *apiError) {
	arn, e := r.p.required("TrustStoreArn")
	if e != nil {
		return nil, e
	}
	members := r.p.members("RevocationContents")
	if len(members) == 0 {
		return nil, errf(codeValidation, "give at least one RevocationContents.member.N (S3Bucket, S3Key)")
	}
	type content struct {
		obj objectRef
	}
	var contents []content
	for _, mem := range members {
		bucket, key := r.p.str(mem+".S3Bucket"), r.p.str(mem+".S3Key")
		if bucket == "" || key == "" {
			return nil, errf(codeValidation, "%s needs S3Bucket and S3Key", mem)
		}
		if t := r.p.str(mem + ".RevocationType"); t != "" && t != "CRL" {
			return nil, errf(codeValidation, "%s.RevocationType %q is not valid; the only type is CRL", mem, t)
		}
		version := r.p.str(mem + ".S3ObjectVersion")
		data, e := r.getObject(bucket, key, version, codeRevocationContentNotFound)
		if e != nil {
			return nil, e
		}
		contents = append(contents, content{objectRef{Bucket: bucket, Key: key, Version: version, Data: data}})
	}
	var out []xRevocation
	e = r.s.mutate(r.ctx, func(m *model) *apiError {
		ts, e := getTS(m, arn)
		if e != nil {
			return e
		}
		cas, fs := r.s.opts.Limits.CheckBundle("bundle", ts.bundleData())
		if e := findingsError(fs); e != nil {
			return e
		}
		first := len(ts.Revocations)
		for _, c := range contents {
			crl, fs := r.s.opts.Limits.ParseCRL(s3Name(c.obj.Bucket, c.obj.Key), c.obj.Data, cas)
			if e := findingsError(fs); e != nil {
				return e
			}
			if crl == nil {
				return errf(codeInvalidRevocationContent, "%s cannot be used as a CRL", s3Name(c.obj.Bucket, c.obj.Key))
			}
			ts.Revocations = append(ts.Revocations, revRec{ID: ts.NextRevocationID, Object: c.obj, Entries: int64(crl.Len())})
			ts.NextRevocationID++
		}
		if e := r.s.checkTrustStore(ts); e != nil {
			return e
		}
		for _, rv := range ts.Revocations[first:] {
			out = append(out, xRevocation{TrustStoreArn: ts.ARN, RevocationID: rv.ID, RevocationType: "CRL", NumberOfRevokedEntries: rv.Entries})
		}
		return nil
	})
	if e != nil {
		return nil, e
	}
	return struct {
		TrustStoreRevocations []xRevocation `xml:"TrustStoreRevocations>member"`
	}{out}, nil
}

// bundleData is the bundle's content (read from the imported file when
// it came from albmtls.yaml).
func (ts *tsRec) bundleData() []byte {
	if ts.Bundle.Data != nil {
		return ts.Bundle.Data
	}
	data, _ := readFileLimited(ts.Bundle.File)
	return data
}

func readRevocationIDs(p params) ([]int64, *apiError) {
	var ids []int64
	for _, mem := range p.members("RevocationIds") {
		n, err := strconv.ParseInt(p.str(mem), 10, 64)
		if err != nil || n < 1 {
			return nil, errf(codeValidation, "%s %q is not a revocation ID (a positive integer)", mem, p.str(mem))
		}
		ids = append(ids, n)
	}
	return ids, nil
}

func missingIDs(ts *tsRec, ids []int64) *apiError {
	var missing []string
	for _, id := range ids {
		if !slices.ContainsFunc(ts.Revocations, func(r revRec) bool { return r.ID == id }) {
			missing = append(missing, strconv.FormatInt(id, 10))
		}
	}
	if len(missing) > 0 {
		var known []string
		for _, r := range ts.Revocations {
			known = append(known, strconv.FormatInt(r.ID, 10))
		}
		return errf(codeRevocationIDNotFound, "trust store %s has no revocation ID %s; existing IDs: [%s] (IDs are never reused)",
			ts.Name, strings.Join(missing, ", "), strings.Join(known, ", "))
	}
	return nil
}

func removeTrustStoreRevocations(r *request) (any, *apiError) {
	arn, e := r.p.required("TrustStoreArn")
	if e != nil {
		return nil, e
	}
	ids, e := readRevocationIDs(r.p)
	if e != nil {
		return nil, e
	}
	if len(ids) == 0 {
		return nil, errf(codeValidation, "give at least one RevocationIds.member.N")
	}
	e = r.s.mutate(r.ctx, func(m *model) *apiError {
		ts, e := getTS(m, arn)
		if e != nil {
			return e
		}
		if e := missingIDs(ts, ids); e != nil {
			return e
		}
		ts.Revocations = slices.DeleteFunc(ts.Revocations, func(rv revRec) bool { return slices.Contains(ids, rv.ID) })
		return r.s.checkTrustStore(ts)
	})
	return struct{}{}, e
}

func describeTrustStoreRevocations(r *request) (any, *apiError) {
	arn, e := r.p.required("TrustStoreArn")
	if e != nil {
		return nil, e
	}
	if e := r.p.pageSize(); e != nil {
		return nil, e
	}
	ids, e := readRevocationIDs(r.p)
	if e != nil {
		return nil, e
	}
	return r.read(func(m *model) (any, *apiError) {
		ts, e := getTS(m, arn)
		if e != nil {
			return nil, e
		}
		if e := missingIDs(ts, ids); e != nil {
			return nil, e
		}
		var out []xRevocation
		for _, rv := range ts.Revocations {
			if len(ids) == 0 || slices.Contains(ids, rv.ID) {
				out = append(out, xRevocation{TrustStoreArn: ts.ARN, RevocationID: rv.ID, RevocationType: "CRL", NumberOfRevokedEntries: rv.Entries})
			}
		}
		return struct {
			TrustStoreRevocations []xRevocation `xml:"TrustStoreRevocations>member"`
		}{out}, nil
	})
}

// location is where a trust store file can be downloaded: the S3 object
// (Options.S3URL, or path style against the request's Host), or the file
// of albmtls.yaml for an imported trust store.
func (r *request) location(o objectRef) string {
	if o.File != "" {
		return (&url.URL{Scheme: "file", Path: o.File}).String()
	}
	if r.s.opts.S3URL != nil {
		return r.s.opts.S3URL(o.Bucket, o.Key)
	}
	u := url.URL{Scheme: "http", Host: r.host, Path: "/" + o.Bucket + "/" + o.Key}
	if o.Version != "" {
		u.RawQuery = url.Values{"versionId": {o.Version}}.Encode()
	}
	return u.String()
}

type locationResult struct {
	Location string `xml:"Location"`
}

func getTrustStoreCaCertificatesBundle(r *request) (any, *apiError) {
	arn, e := r.p.required("TrustStoreArn")
	if e != nil {
		return nil, e
	}
	return r.read(func(m *model) (any, *apiError) {
		ts, e := getTS(m, arn)
		if e != nil {
			return nil, e
		}
		return locationResult{r.location(ts.Bundle)}, nil
	})
}

func getTrustStoreRevocationContent(r *request) (any, *apiError) {
	arn, e := r.p.required("TrustStoreArn")
	if e != nil {
		return nil, e
	}
	s, e := r.p.required("RevocationId")
	if e != nil {
		return nil, e
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, errf(codeValidation, "RevocationId %q is not a revocation ID (a positive integer)", s)
	}
	return r.read(func(m *model) (any, *apiError) {
		ts, e := getTS(m, arn)
		if e != nil {
			return nil, e
		}
		if e := missingIDs(ts, []int64{id}); e != nil {
			return nil, e
		}
		i := slices.IndexFunc(ts.Revocations, func(rv revRec) bool { return rv.ID == id })
		return locationResult{r.location(ts.Revocations[i].Object)}, nil
	})
}
