// Package acm is albmtls's AWS Certificate Manager: the part of ACM an ALB
// story needs (ImportCertificate, DescribeCertificate, ListCertificates,
// GetCertificate, DeleteCertificate and the tag calls) over ACM's own
// wire protocol, AWS JSON 1.1 (POST /, X-Amz-Target:
// CertificateManager.<Operation>, Content-Type application/x-amz-json-1.1),
// so the AWS SDKs and CLI talk to it unchanged. A listener's CertificateArn
// is resolved through Service.Certificate.
//
// Validation follows ACM's documented import rules
// (https://docs.aws.amazon.com/acm/latest/userguide/import-certificate-prerequisites.html,
// https://docs.aws.amazon.com/acm/latest/APIReference/API_ImportCertificate.html)
// and the length and pattern constraints of ACM's API model. docs/aws-api.md
// lists what is emulated and what is not.
package acm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/albmtls/albmtls/emulator/awsarn"
)

// Options configures a Service.
type Options struct {
	// Region and AccountID go into the ARNs of imported certificates. A
	// certificate ARN naming another region or account is not found, as in
	// ACM (certificates are regional and per account).
	Region, AccountID string
	// Now is the clock for the import validity check, EXPIRED and the
	// timestamps; nil means time.Now.
	Now func() time.Time
	// InUse returns the ARNs of the listeners using a certificate: they are
	// DescribeCertificate's InUseBy, and DeleteCertificate refuses a
	// certificate in use with ResourceInUseException. nil means never in
	// use. It is called without the service's lock held, so it may call
	// back into the Service.
	InUse func(certificateARN string) []string
	// OnChange runs after each successful mutating call (ImportCertificate,
	// DeleteCertificate, AddTagsToCertificate, RemoveTagsFromCertificate), without the service's lock held and one call at a
	// time, so a Snapshot taken in it is never older than one taken by an
	// earlier call.
	OnChange func()
	// Logger receives one debug line per call; nil discards.
	Logger *slog.Logger
}

// Certificate is an imported certificate as the data plane needs it.
type Certificate struct {
	ARN, DomainName string
	// CertificatePEM is the leaf, ChainPEM the chain imported with it (may
	// be empty), PrivateKeyPEM the leaf's unencrypted key.
	CertificatePEM, ChainPEM, PrivateKeyPEM []byte
}

// Service is the ACM endpoint. It is safe for concurrent use: one mutex
// guards the certificates, and every call either commits its whole change or
// none of it.
type Service struct {
	opts Options
	now  func() time.Time
	log  *slog.Logger

	mu      sync.Mutex
	certs   map[string]*record // by ARN
	nextSeq uint64             // creation order, for listing and NextToken

	changeMu sync.Mutex // serialises OnChange calls
}

// New returns an empty Service.
func New(opts Options) *Service {
	s := &Service{opts: opts, now: opts.Now, log: opts.Logger, certs: map[string]*record{}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Certificate returns the imported certificate with this ARN, for a
// listener's CertificateArn. The byte slices are the caller's to keep.
func (s *Service) Certificate(arn string) (Certificate, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.certs[arn]
	if !ok {
		return Certificate{}, false
	}
	return Certificate{
		ARN:            r.ARN,
		DomainName:     r.m.domainName,
		CertificatePEM: clone(r.m.certPEM),
		ChainPEM:       clone(r.m.chainPEM),
		PrivateKeyPEM:  clone(r.m.keyPEM),
	}, true
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// targetPrefix is ACM's X-Amz-Target prefix (targetPrefix in its API model).
const targetPrefix = "CertificateManager."

// jsonContentType is the Content-Type of every response, success or error.
const jsonContentType = "application/x-amz-json-1.1"

// ServeHTTP serves one ACM call. The caller (the awsapi dispatcher) has
// already limited the body size and routed here by the SigV4 scope.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("X-Amz-Target"), targetPrefix) || handlers[op] == nil {
		// AWS JSON services answer a target they do not have with
		// UnknownOperationException.
		WriteError(w, http.StatusBadRequest, "UnknownOperationException",
			fmt.Sprintf("albmtls's ACM has no operation %q (method %s, X-Amz-Target %q): it serves POST / with X-Amz-Target %s<Operation> for %s",
				op, r.Method, r.Header.Get("X-Amz-Target"), targetPrefix, strings.Join(operationNames(), ", ")))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			WriteError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException",
				fmt.Sprintf("the %s request body is larger than the %d bytes the endpoint accepts", op, tooLarge.Limit))
			return
		}
		WriteError(w, http.StatusBadRequest, "SerializationException", "reading the request body: "+err.Error())
		return
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	out, aerr := handlers[op](s, body)
	if aerr != nil {
		s.log.Debug("acm call failed", "operation", op, "code", aerr.code, "message", aerr.message)
		WriteError(w, aerr.status, aerr.code, aerr.message)
		return
	}
	s.log.Debug("acm call", "operation", op)
	writeJSON(w, out)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		WriteError(w, http.StatusInternalServerError, "InternalFailure", "encoding the response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("X-Amzn-Requestid", awsarn.NewCertificateID())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// WriteError writes an AWS JSON 1.1 error: the code in the body's __type
// and in X-Amzn-Errortype, the message in the body's message, as ACM sends
// them. The SDKs map the code to their typed exceptions
// (types.ResourceNotFoundException, …).
func WriteError(w http.ResponseWriter, status int, code, message string) {
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{code, message})
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("X-Amzn-Errortype", code)
	w.Header().Set("X-Amzn-Requestid", awsarn.NewCertificateID())
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// apiError is an error a call returns to the client.
type apiError struct {
	status        int
	code, message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errorf(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

// The ACM error codes this package returns (the exception shapes of ACM's
// API model, plus the AWS JSON protocol's own).
const (
	codeValidation       = "ValidationException"
	codeInvalidParameter = "InvalidParameterException"
	codeInvalidArn       = "InvalidArnException"
	codeInvalidArgs      = "InvalidArgsException"
	codeNotFound         = "ResourceNotFoundException"
	codeInUse            = "ResourceInUseException"
	codeInvalidTag       = "InvalidTagException"
	codeTooManyTags      = "TooManyTagsException"
	codeSerialization    = "SerializationException"
)

// decode reads a request body into v; a body that is not the operation's
// JSON shape is a SerializationException, as AWS JSON services answer.
func decode(body []byte, op string, v any) *apiError {
	if err := json.Unmarshal(body, v); err != nil {
		return errorf(codeSerialization, "the %s request body is not valid JSON of the operation's shape: %v", op, err)
	}
	return nil
}

// notifyChange runs OnChange after a committed mutation.
func (s *Service) notifyChange() {
	if s.opts.OnChange == nil {
		return
	}
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	s.opts.OnChange()
}

func (s *Service) inUse(arn string) []string {
	if s.opts.InUse == nil {
		return nil
	}
	return s.opts.InUse(arn)
}
