package awsapi

import (
	"context"
	"path/filepath"

	"github.com/albmtls/albmtls/awsapi/acm"
	"github.com/albmtls/albmtls/awsapi/s3"
)

// Request body limits of the two control-plane services (S3's is its
// object size limit).
const controlPlaneMaxBody = 1 << 20

// wire builds the three services and connects them: ELBv2 reads trust
// store objects from S3 and certificates from ACM, and ACM asks ELBv2
// which listeners use a certificate.
func (s *Server) wire(ctx context.Context, opts Options) error {
	cfg := opts.Config
	lb := cfg.LoadBalancer

	var objects s3.Objects
	if ep := cfg.AWSAPI.S3Endpoint; ep != "" {
		remote, err := s3.NewRemote(ctx, s3.RemoteOptions{Endpoint: ep, Region: lb.Region, PathStyle: true})
		if err != nil {
			return err
		}
		objects = remote
	}
	s3dir := ""
	if s.stateDir != "" {
		s3dir = filepath.Join(s.stateDir, "s3")
	}
	embedded, err := s3.NewEmbedded(s3.EmbeddedOptions{Dir: s3dir, Logger: s.log.With("service", "s3")})
	if err != nil {
		return err
	}
	s.closers = append(s.closers, embedded.Close)
	if objects == nil {
		objects = embedded
	}
	s.services[serviceS3] = &service{name: serviceS3, handler: embedded, writeError: s3.WriteError,
		maxBody: s3.DefaultMaxObjectSize + 1<<20, codes: s3AuthCodes}

	var inUse func(string) []string
	var refresh func(context.Context) error
	certs := acm.New(acm.Options{
		Region: lb.Region, AccountID: lb.AccountID,
		InUse: func(arn string) []string { return inUse(arn) },
		OnChange: func() {
			// A re-imported certificate reaches the listeners that use it.
			if err := refresh(context.Background()); err != nil {
				s.log.Error("aws api: serving a re-imported ACM certificate", "err", err)
			}
			s.persist()
		},
		Logger: s.log.With("service", "acm"),
	})
	if err := s.restore("acm.json", certs.Restore); err != nil {
		return err
	}
	s.snapshots = append(s.snapshots, snapshot{"acm.json", certs.Snapshot})
	s.services[serviceACM] = &service{name: serviceACM, handler: certs, writeError: acm.WriteError,
		maxBody: controlPlaneMaxBody, codes: jsonAuthCodes}

	inUse, refresh, err = s.wireELBv2(ctx, opts, objects, certs)
	if err != nil {
		return err
	}
	return nil
}
