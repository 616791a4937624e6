package awsapi

import (
	"net/http"
	"strings"
)

// service is one AWS service on the shared port.
type service struct {
	name    string // the SigV4 service name
	handler http.Handler
	// writeError answers in the service's own wire format (Query XML,
	// JSON 1.1, S3 XML).
	writeError func(w http.ResponseWriter, status int, code, message string)
	// maxBody is the largest request body accepted.
	maxBody int64
	// codes spells the authentication errors the service's way.
	codes authCodes
}

// authCodes are one service's names for the authentication errors, as the
// AWS SDKs decode them.
type authCodes struct {
	missing, incomplete, badSignature, unknownKey string
}

var (
	queryAuthCodes = authCodes{"MissingAuthenticationToken", "IncompleteSignature", "SignatureDoesNotMatch", "InvalidClientTokenId"}
	jsonAuthCodes  = authCodes{"MissingAuthenticationTokenException", "IncompleteSignatureException", "InvalidSignatureException", "UnrecognizedClientException"}
	s3AuthCodes    = authCodes{"AccessDenied", "AuthorizationHeaderMalformed", "SignatureDoesNotMatch", "InvalidAccessKeyId"}
)

func (c authCodes) of(code string) string {
	switch code {
	case "IncompleteSignature":
		return c.incomplete
	case "SignatureDoesNotMatch":
		return c.badSignature
	case "InvalidClientTokenId":
		return c.unknownKey
	}
	return c.missing
}

// ServeHTTP sends each request to the service its SigV4 credential scope
// names, as LocalStack's edge port does. An unsigned request is told apart
// by its shape: an X-Amz-Target of CertificateManager.* is ACM, an
// Action/Version form is ELBv2 (both then need a signature), anything else
// is S3, which also serves anonymous requests unless access keys are set.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, internalPrefix) && r.Header.Get("Authorization") == "" {
		s.internal.ServeHTTP(w, r)
		return
	}
	cred, aerr := readCredential(r)
	svc := s.byScope(cred.Service)
	if cred.Service == "" {
		svc = s.byShape(r)
	}
	if svc == nil {
		// Not an AWS wire format any service here reads: say which are.
		s.services[serviceELBv2].writeError(w, http.StatusBadRequest, "UnknownService",
			"albmtls serves elasticloadbalancing (ELBv2), acm and s3 on this port; the request is signed for "+quoteShort(cred.Service))
		return
	}
	if aerr != nil {
		svc.writeError(w, http.StatusBadRequest, svc.codes.of(aerr.code), aerr.message)
		return
	}
	if cred.Service == "" && (svc.name != serviceS3 || len(s.keys) > 0) {
		svc.writeError(w, http.StatusForbidden, svc.codes.missing, "the request is not signed: sign it with Signature Version 4 (any AWS SDK or the AWS CLI does; see docs/aws-api.md)")
		return
	}
	if r.ContentLength > svc.maxBody {
		svc.writeError(w, http.StatusRequestEntityTooLarge, tooLargeCode(svc.name), "the request body is larger than "+sizeString(svc.maxBody))
		return
	}
	if len(s.keys) > 0 {
		secret, ok := s.keys[cred.AccessKeyID]
		if !ok {
			svc.writeError(w, http.StatusForbidden, svc.codes.unknownKey, "the access key ID "+quoteShort(cred.AccessKeyID)+" is not one of aws_api.access_keys")
			return
		}
		if err := verifySignature(r, cred, secret, svc.maxBody); err != nil {
			status := http.StatusForbidden
			if err.code == "IncompleteSignature" {
				status = http.StatusBadRequest
			}
			svc.writeError(w, status, svc.codes.of(err.code), err.message)
			return
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, svc.maxBody)
	svc.handler.ServeHTTP(w, r)
}

func (s *Server) byScope(name string) *service {
	if svc, ok := s.services[name]; ok {
		return svc
	}
	return nil
}

// byShape picks the service of an unsigned request.
func (s *Server) byShape(r *http.Request) *service {
	if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "CertificateManager.") {
		return s.services[serviceACM]
	}
	if r.URL.Query().Get("Action") != "" {
		return s.services[serviceELBv2]
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return s.services[serviceELBv2]
	}
	return s.services[serviceS3]
}

func tooLargeCode(name string) string {
	if name == serviceS3 {
		return "EntityTooLarge"
	}
	if name == serviceACM {
		return "ValidationException"
	}
	return "ValidationError"
}

func sizeString(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return itoa(n>>10) + " KiB"
	}
	return itoa(n) + " bytes"
}
