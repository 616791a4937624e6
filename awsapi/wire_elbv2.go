package awsapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/albmtls/albmtls/awsapi/acm"
	"github.com/albmtls/albmtls/awsapi/elbv2"
	"github.com/albmtls/albmtls/awsapi/s3"
)

// s3Objects adapts s3.Objects to what ELBv2 reads trust store files with.
type s3Objects struct{ s3.Objects }

func isNotFound(err error) bool {
	return errors.Is(err, s3.ErrNoSuchBucket) || errors.Is(err, s3.ErrNoSuchKey) || errors.Is(err, s3.ErrNoSuchVersion)
}

// wireELBv2 builds the ELBv2 service on S3 and ACM, imports the config
// file's load balancer, restores the saved state, and hands the fleet the
// config file's own server. It returns ACM's in-use lookup and the
// recompile that serves a re-imported certificate.
func (s *Server) wireELBv2(ctx context.Context, opts Options, objects s3.Objects, certs *acm.Service) (func(string) []string, func(context.Context) error, error) {
	cfg := opts.Config
	lb := cfg.LoadBalancer
	svc, err := elbv2.New(elbv2.Options{
		Region: lb.Region, AccountID: lb.AccountID,
		Objects: s3Objects{objects}, IsNotFound: isNotFound,
		Certificates: func(arn string) (elbv2.Certificate, bool) {
			c, ok := certs.Certificate(arn)
			return elbv2.Certificate{ARN: c.ARN, DomainName: c.DomainName, CertificatePEM: c.CertificatePEM, ChainPEM: c.ChainPEM, PrivateKeyPEM: c.PrivateKeyPEM}, ok
		},
		Dir:           s.filesDir,
		ListenAddress: cfg.AWSAPI.BindAddress,
		Apply: func(ctx context.Context, lbs []elbv2.LoadBalancer) error {
			out := make([]LoadBalancer, len(lbs))
			for i, l := range lbs {
				out[i] = LoadBalancer{ARN: l.ARN, Config: l.Config}
			}
			return s.fleet.apply(ctx, out)
		},
		OnChange:     s.persist,
		TargetHealth: s.fleet.targetHealth,
		Logger:       s.log.With("service", "elasticloadbalancing"),
	})
	if err != nil {
		return nil, nil, err
	}
	s.closers = append(s.closers, svc.Close)
	s.services[serviceELBv2] = &service{name: serviceELBv2, handler: svc, writeError: elbv2.WriteError,
		maxBody: controlPlaneMaxBody, codes: queryAuthCodes}
	if err := svc.ImportConfig(ctx, cfg); err != nil {
		return nil, nil, fmt.Errorf("aws_api: %w", err)
	}
	if opts.Server != nil {
		for _, l := range svc.LoadBalancers() {
			// Load balancer names are unique (DuplicateLoadBalancerName).
			if l.Config.LoadBalancer.Name == cfg.LoadBalancer.Name {
				// The config file's server, built from the file, runs
				// until an API call changes its load balancer.
				s.fleet.adopt(l.ARN, l.Config, opts.Server)
			}
		}
	}
	if err := s.restore("elbv2.json", func(b []byte) error { return svc.Restore(ctx, b) }); err != nil {
		return nil, nil, err
	}
	s.snapshots = append(s.snapshots, snapshot{"elbv2.json", svc.Snapshot})
	return svc.CertificateInUse, svc.Refresh, nil
}
