// Package elbv2 is albmtls's Elastic Load Balancing v2 API (issue #13): the
// Query protocol (form-encoded Action and Version=2015-12-01, XML
// responses and ErrorResponse errors with ELBv2's codes), the resource model
// of load balancers, target groups, listeners, trust stores and their
// revocations, and the compiler of that model into one complete
// config.Config per load balancer, which the awsapi fleet serves.
//
// Every mutating call works on a copy of the model under one mutex: mutate,
// compile every load balancer (materialising bundle, CRL, certificate and
// key files under Options.Dir), validate each config as albmtls.yaml is
// validated (config.ParseAll), call Options.Apply, and only then commit.
// A refused or failed change leaves the model, and what is served, as it
// was. See docs/aws-api.md for the operations, codes and port rule.
package elbv2

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/albmtls/albmtls/emulator/alb"
	"github.com/albmtls/albmtls/emulator/awsarn"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/truststore"
)

// Objects is what the trust store operations read from S3: the CA bundle
// and the CRLs. It has the shape of awsapi/s3.Objects; errors that mean a
// missing bucket, key or version are told apart by Options.IsNotFound.
type Objects interface {
	// GetObject returns an object's bytes; version "" means the latest.
	GetObject(ctx context.Context, bucket, key, version string) ([]byte, error)
}

// Certificate is an ACM certificate as a listener uses it, the shape of
// awsapi/acm.Certificate.
type Certificate struct {
	ARN, DomainName                         string
	CertificatePEM, ChainPEM, PrivateKeyPEM []byte
}

// LoadBalancer is one load balancer's desired state: a complete config
// (load_balancer, listeners bound at Options.ListenAddress, the target
// groups its listeners forward to, the trust stores they use, files under
// Options.Dir), validated with config.ParseAll, which emulator.New accepts.
// A load balancer without listeners has a Config with no listeners (and no
// plans): there is nothing to serve for it.
type LoadBalancer struct {
	ARN    string
	Config *config.Config
}

// Options configure the service.
type Options struct {
	// Region and AccountID are those of the ARNs of API-created resources
	// (defaults us-east-1 and 123456789012, as albmtls.yaml's).
	Region, AccountID string
	// Objects reads trust store bundles and CRLs; nil refuses trust store
	// calls that need S3 with CaCertificatesBundleNotFound /
	// RevocationContentNotFound.
	Objects Objects
	// IsNotFound tells that an Objects error means the bucket, key or
	// version does not exist (→ CaCertificatesBundleNotFound,
	// RevocationContentNotFound); nil treats every error so.
	IsNotFound func(error) bool
	// Certificates looks up a listener's CertificateArn (ACM); a miss is
	// CertificateNotFound.
	Certificates func(arn string) (Certificate, bool)
	// Dir is where compiled files (bundle, CRL, certificate and key PEM)
	// are written; "" makes a temporary directory (removed by Close).
	Dir string
	// ListenAddress is the host:port an API-created listener on an ALB
	// port binds; nil is DefaultListenAddress.
	ListenAddress func(port int) string
	// Apply receives the desired state of every load balancer after a
	// mutating call, under the service lock, before the change is
	// committed; an error fails the call and leaves the model unchanged.
	Apply func(ctx context.Context, lbs []LoadBalancer) error
	// OnChange is called after each successful mutating call (outside the lock).
	OnChange func()
	// S3URL is the Location GetTrustStoreCaCertificatesBundle and
	// GetTrustStoreRevocationContent return for an object; nil is the
	// path-style URL http://HOST/BUCKET/KEY against the request's Host.
	S3URL func(bucket, key string) string
	// TargetHealth, when set, gives a registered target's live health
	// (state, reason, description as DescribeTargetHealth reports them);
	// ok false falls back to the model's answer.
	TargetHealth func(targetGroupARN, target string) (state, reason, description string, ok bool)
	// Limits are the trust store quotas (CA certificates, revocation
	// entries and lists per trust store); the zero value is ALB's defaults.
	// ALB's are adjustable through Service Quotas, so these are too.
	Limits truststore.Limits
	// MaxTrustStores is the quota of trust stores (0: ALB's default,
	// alb.DefaultMaxTrustStores, adjustable quota L-A8F7060B).
	MaxTrustStores int
	// Now is the clock of CreatedTime; nil is time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Rand mints resource IDs; nil is crypto/rand.
	Rand io.Reader
}

// DefaultListenAddress is the bind address of an API-created listener
// when Options.ListenAddress is nil: aws_api's default rule
// (config.AWSAPI.BindAddress: 127.0.0.1:PORT for a port of 1024 or more,
// PORT+10000 below: 443 → 10443, 80 → 10080), so that no privilege is
// needed. DescribeListeners still reports the ALB port.
func DefaultListenAddress(port int) string { return config.AWSAPI{}.BindAddress(port) }

// Service is the ELBv2 API.
type Service struct {
	opts    Options
	tempDir bool
	log     *slog.Logger

	mu       sync.RWMutex
	m        *model
	compiled []LoadBalancer
}

// New makes the service with an empty model.
func New(opts Options) (*Service, error) {
	if opts.Region == "" {
		opts.Region = config.DefaultRegion
	}
	if opts.AccountID == "" {
		opts.AccountID = config.DefaultAccountID
	}
	if opts.ListenAddress == nil {
		opts.ListenAddress = DefaultListenAddress
	}
	if opts.MaxTrustStores <= 0 {
		opts.MaxTrustStores = alb.DefaultMaxTrustStores
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.IsNotFound == nil {
		opts.IsNotFound = func(error) bool { return true }
	}
	s := &Service{opts: opts, log: opts.Logger, m: newModel()}
	if opts.Dir == "" {
		d, err := os.MkdirTemp("", "albmtls-elbv2-")
		if err != nil {
			return nil, fmt.Errorf("elbv2: making a directory for compiled files: %w", err)
		}
		s.opts.Dir, s.tempDir = d, true
	}
	if err := os.MkdirAll(s.opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("elbv2: making the directory for compiled files: %w", err)
	}
	return s, nil
}

// Close removes the temporary directory New made when Options.Dir was "".
func (s *Service) Close() error {
	if s.tempDir {
		return os.RemoveAll(s.opts.Dir)
	}
	return nil
}

// LoadBalancers returns the compiled state of every load balancer, by ARN.
func (s *Service) LoadBalancers() []LoadBalancer {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]LoadBalancer(nil), s.compiled...)
}

// CertificateInUse returns the ARNs of the listeners using an ACM
// certificate (for acm.Options.InUse).
func (s *Service) CertificateInUse(arn string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for _, l := range sortedValues(s.m.Listeners) {
		for _, c := range l.Certificates {
			if c.ARN == arn {
				out = append(out, l.ARN)
				break
			}
		}
	}
	return out
}

// mutate runs change on a copy of the model, compiles, validates and
// applies the result, and commits it; any error leaves everything as it was.
// Refresh compiles the model again and applies it: after a certificate a
// listener uses was re-imported into ACM (ImportCertificate onto its ARN),
// the listeners serve the new one, as ALB's do. Nothing else changes; an
// error leaves the running state as it was.
func (s *Service) Refresh(ctx context.Context) error {
	if e := s.mutate(ctx, func(*model) *apiError { return nil }); e != nil {
		return e
	}
	return nil
}

func (s *Service) mutate(ctx context.Context, change func(m *model) *apiError) *apiError {
	s.mu.Lock()
	next := s.m.clone()
	if e := change(next); e != nil {
		s.mu.Unlock()
		return e
	}
	if e := s.commitLocked(ctx, next); e != nil {
		s.mu.Unlock()
		return e
	}
	s.mu.Unlock()
	if s.opts.OnChange != nil {
		s.opts.OnChange()
	}
	return nil
}

// commitLocked compiles, validates and applies next and makes it current.
func (s *Service) commitLocked(ctx context.Context, next *model) *apiError {
	lbs, e := s.compileAll(next)
	if e != nil {
		return e
	}
	if s.opts.Apply != nil {
		if err := s.opts.Apply(ctx, lbs); err != nil {
			return errf(codeInvalidConfigurationRequest, "albmtls could not apply the change, so nothing changed: %v", err)
		}
	}
	s.m, s.compiled = next, lbs
	return nil
}

// ServeHTTP serves the ELBv2 Query protocol: POST with a form body, or GET
// with the parameters in the query string.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, POST")
		writeError(w, reqID, &apiError{status: http.StatusMethodNotAllowed, code: codeInvalidAction, message: "the ELBv2 Query API takes POST (form body) or GET (query string), not " + r.Method})
		return
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, reqID, &apiError{status: http.StatusRequestEntityTooLarge, code: codeValidation, message: fmt.Sprintf("the request body exceeds %d bytes", mbe.Limit)})
			return
		}
		writeError(w, reqID, errf(codeValidation, "the request is not a valid form (application/x-www-form-urlencoded): %v", err))
		return
	}
	p := params{r.Form}
	action := p.str("Action")
	if action == "" {
		writeError(w, reqID, errf(codeValidation, "missing the Action parameter; e.g. Action=DescribeLoadBalancers&Version=%s", APIVersion))
		return
	}
	op, ok := operations[action]
	if !ok {
		writeError(w, reqID, errf(codeInvalidAction, "albmtls does not implement the ELBv2 action %q; see docs/aws-api.md for the operations it does", action))
		return
	}
	if v := p.str("Version"); v != APIVersion {
		writeError(w, reqID, errf(codeValidation, "Version must be %s (the ELBv2 API version), not %q", APIVersion, v))
		return
	}
	req := &request{s: s, ctx: r.Context(), p: p, host: r.Host}
	result, e := op(req)
	if e != nil {
		s.log.Debug("elbv2 call refused", "action", action, "code", e.code, "message", e.message)
		writeError(w, reqID, e)
		return
	}
	writeResult(w, reqID, action, result)
}

// request is one call being served.
type request struct {
	s    *Service
	ctx  context.Context
	p    params
	host string
}

type operation func(*request) (any, *apiError)

// operations is every action albmtls implements.
var operations map[string]operation

func init() {
	operations = map[string]operation{
		"CreateLoadBalancer":                createLoadBalancer,
		"DescribeLoadBalancers":             describeLoadBalancers,
		"DeleteLoadBalancer":                deleteLoadBalancer,
		"ModifyLoadBalancerAttributes":      modifyLoadBalancerAttributes,
		"DescribeLoadBalancerAttributes":    describeLoadBalancerAttributes,
		"CreateTargetGroup":                 createTargetGroup,
		"DescribeTargetGroups":              describeTargetGroups,
		"DeleteTargetGroup":                 deleteTargetGroup,
		"ModifyTargetGroupAttributes":       modifyTargetGroupAttributes,
		"DescribeTargetGroupAttributes":     describeTargetGroupAttributes,
		"RegisterTargets":                   registerTargets,
		"DeregisterTargets":                 deregisterTargets,
		"DescribeTargetHealth":              describeTargetHealth,
		"CreateListener":                    createListener,
		"ModifyListener":                    modifyListener,
		"DescribeListeners":                 describeListeners,
		"DeleteListener":                    deleteListener,
		"ModifyListenerAttributes":          modifyListenerAttributes,
		"DescribeListenerAttributes":        describeListenerAttributes,
		"CreateTrustStore":                  createTrustStore,
		"ModifyTrustStore":                  modifyTrustStore,
		"DeleteTrustStore":                  deleteTrustStore,
		"DescribeTrustStores":               describeTrustStores,
		"AddTrustStoreRevocations":          addTrustStoreRevocations,
		"RemoveTrustStoreRevocations":       removeTrustStoreRevocations,
		"DescribeTrustStoreRevocations":     describeTrustStoreRevocations,
		"GetTrustStoreCaCertificatesBundle": getTrustStoreCaCertificatesBundle,
		"GetTrustStoreRevocationContent":    getTrustStoreRevocationContent,
		"DescribeSSLPolicies":               describeSSLPolicies,
		"DescribeTags":                      describeTags,
		"AddTags":                           addTags,
		"RemoveTags":                        removeTags,
	}
}

// read runs f on the committed model under the read lock.
func (r *request) read(f func(m *model) (any, *apiError)) (any, *apiError) {
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	return f(r.s.m)
}

// newID mints a resource ID.
func (s *Service) newID() (string, *apiError) {
	id, err := awsarn.NewID(s.opts.Rand)
	if err != nil {
		return "", &apiError{status: 500, code: codeInternalFailure, message: err.Error()}
	}
	return id, nil
}
