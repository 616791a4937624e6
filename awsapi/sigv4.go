package awsapi

import (
	"net/http"
	"strings"
	"time"
)

// The services on the one port, by the service name of a SigV4 credential
// scope (ACCESS_KEY/DATE/REGION/SERVICE/aws4_request).
const (
	serviceELBv2 = "elasticloadbalancing"
	serviceACM   = "acm"
	serviceS3    = "s3"
)

// credential is what a request's SigV4 signature says about itself: the
// parts of its credential scope, the signed headers and the signature.
// Nothing here is checked yet; see verifySignature.
type credential struct {
	AccessKeyID   string
	Date          string // YYYYMMDD
	Region        string
	Service       string
	SignedHeaders []string
	Signature     string
	Presigned     bool // in the query string (X-Amz-Credential), not the Authorization header
}

// authError is why a request's authentication could not be read; code is
// the Query-protocol spelling (the JSON and S3 forms are in errorCodes).
type authError struct {
	code, message string
}

// readCredential parses the SigV4 Authorization header or presigned query
// of r. ok is false with a nil error when the request is not signed at all.
func readCredential(r *http.Request) (credential, *authError) {
	if h := r.Header.Get("Authorization"); h != "" {
		return parseAuthorization(h)
	}
	q := r.URL.Query()
	if c := q.Get("X-Amz-Credential"); c != "" {
		cred, err := parseScope(c)
		if err != nil {
			return cred, err
		}
		if q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" {
			return cred, &authError{"IncompleteSignature", "X-Amz-Algorithm must be AWS4-HMAC-SHA256"}
		}
		cred.SignedHeaders = strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
		cred.Signature = q.Get("X-Amz-Signature")
		cred.Presigned = true
		if cred.Signature == "" {
			return cred, &authError{"IncompleteSignature", "the presigned URL has no X-Amz-Signature"}
		}
		return cred, nil
	}
	return credential{}, nil
}

// parseAuthorization reads
//
//	AWS4-HMAC-SHA256 Credential=AKID/20261202/us-east-1/acm/aws4_request, SignedHeaders=host;x-amz-date, Signature=…
func parseAuthorization(h string) (credential, *authError) {
	alg, rest, _ := strings.Cut(h, " ")
	if alg != "AWS4-HMAC-SHA256" {
		return credential{}, &authError{"IncompleteSignature", "the Authorization header must use AWS4-HMAC-SHA256 (Signature Version 4); got " + quoteShort(alg)}
	}
	fields := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			fields[k] = v
		}
	}
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if fields[k] == "" {
			return credential{}, &authError{"IncompleteSignature", "the Authorization header has no " + k + "="}
		}
	}
	cred, err := parseScope(fields["Credential"])
	if err != nil {
		return cred, err
	}
	cred.SignedHeaders = strings.Split(fields["SignedHeaders"], ";")
	cred.Signature = fields["Signature"]
	return cred, nil
}

// parseScope reads ACCESS_KEY/DATE/REGION/SERVICE/aws4_request.
func parseScope(s string) (credential, *authError) {
	p := strings.Split(s, "/")
	if len(p) != 5 || p[4] != "aws4_request" || p[0] == "" || p[2] == "" || p[3] == "" {
		return credential{}, &authError{"IncompleteSignature", "the credential " + quoteShort(s) + " is not ACCESS_KEY/DATE/REGION/SERVICE/aws4_request"}
	}
	if _, err := time.Parse("20060102", p[1]); err != nil {
		return credential{}, &authError{"IncompleteSignature", "the credential's date " + quoteShort(p[1]) + " is not YYYYMMDD"}
	}
	return credential{AccessKeyID: p[0], Date: p[1], Region: p[2], Service: p[3]}, nil
}

func quoteShort(s string) string {
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return `"` + s + `"`
}
