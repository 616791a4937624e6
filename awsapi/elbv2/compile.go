package elbv2

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/albmtls/albmtls/emulator/awsarn"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/routing"
	"github.com/albmtls/albmtls/emulator/targetgroup"
)

// attrPreserveHost is a load balancer attribute on ALB and a listener
// attribute in albmtls.yaml; the compiler copies it onto every listener.
const attrPreserveHost = config.AttrPreserveHost

// compileAll compiles every load balancer of m, in ARN order.
func (s *Service) compileAll(m *model) ([]LoadBalancer, *apiError) {
	if e := s.checkBinds(m); e != nil {
		return nil, e
	}
	var out []LoadBalancer
	for _, lb := range sortedValues(m.LoadBalancers) {
		cfg, e := s.compile(m, lb)
		if e != nil {
			return nil, e
		}
		out = append(out, LoadBalancer{ARN: lb.ARN, Config: cfg})
	}
	return out, nil
}

// bindOf is the host:port a listener binds.
func (s *Service) bindOf(l *listenerRec) string {
	if l.Bind != "" {
		return l.Bind
	}
	return s.opts.ListenAddress(l.Port)
}

// checkBinds refuses two listeners (of any load balancers) that would bind
// the same local address: on ALB each load balancer has its own IP
// addresses, here they share the host's.
func (s *Service) checkBinds(m *model) *apiError {
	seen := map[string]*listenerRec{}
	for _, l := range sortedValues(m.Listeners) {
		b := s.bindOf(l)
		if strings.HasSuffix(b, ":0") {
			continue // a free port each
		}
		if o, dup := seen[b]; dup {
			return errf(codeInvalidConfigurationRequest,
				"listener port %d would bind %s, which listener %s (port %d) already binds; albmtls runs every load balancer on this host, "+
					"so give one of them another port, or set a ListenAddress rule that separates them (docs/aws-api.md, Ports)",
				l.Port, b, o.ARN, o.Port)
		}
		seen[b] = l
	}
	return nil
}

// compile builds and validates the config of one load balancer.
func (s *Service) compile(m *model, lb *lbRec) (*config.Config, *apiError) {
	cfg := &config.Config{
		LoadBalancer: config.LoadBalancer{
			Name: lb.Name, AccountID: lb.AccountID, Region: lb.Region, ID: lb.ID,
			IPAddress: lb.IPAddress, IdleTimeout: lb.IdleTimeout,
		},
		Logs:      lb.Logs,
		Admin:     lb.Admin,
		Emulation: lb.Emulation,
	}
	if lb.ID == awsarn.LoadBalancerID(lb.AccountID, lb.Name) {
		cfg.LoadBalancer.ID = "" // derived, as albmtls.yaml leaves it out
	}
	if len(lb.Attributes) > 0 {
		cfg.LoadBalancer.Attributes = clonemap(lb.Attributes)
	}
	used := m.targetGroupsUsed(lb.ARN)
	for _, tg := range sortedValues(m.TargetGroups) {
		if !used[tg.ARN] {
			continue
		}
		ctg := config.TargetGroup{Name: tg.Name, Protocol: targetgroup.Protocol(tg.Protocol), HealthCheck: tg.HealthCheck}
		for _, t := range tg.Targets {
			ctg.Targets = append(ctg.Targets, net.JoinHostPort(t.ID, strconv.Itoa(t.Port)))
		}
		cfg.TargetGroups = append(cfg.TargetGroups, ctg)
	}
	stores := map[string]bool{}
	for _, l := range m.listenersOf(lb.ARN) {
		if l.MutualAuth.TrustStoreARN != "" {
			stores[l.MutualAuth.TrustStoreARN] = true
		}
	}
	for _, ts := range sortedValues(m.TrustStores) {
		if !stores[ts.ARN] {
			continue
		}
		cts := config.TrustStore{Name: ts.Name}
		f, e := s.fileOf(ts.Bundle, "bundle")
		if e != nil {
			return nil, e
		}
		cts.CACertificatesBundle = f
		for _, r := range ts.Revocations {
			f, e := s.fileOf(r.Object, "crl")
			if e != nil {
				return nil, e
			}
			cts.Revocations = append(cts.Revocations, f)
		}
		cfg.TrustStores = append(cfg.TrustStores, cts)
	}
	for _, l := range m.listenersOf(lb.ARN) {
		cl, e := s.compileListener(m, lb, l)
		if e != nil {
			return nil, e
		}
		cfg.Listeners = append(cfg.Listeners, cl)
	}
	return s.validate(lb, cfg)
}

func (s *Service) compileListener(m *model, lb *lbRec, l *listenerRec) (config.Listener, *apiError) {
	host, port, err := net.SplitHostPort(s.bindOf(l))
	if err != nil {
		return config.Listener{}, errf(codeInvalidConfigurationRequest, "the listen address %q of port %d is not host:port: %v", s.bindOf(l), l.Port, err)
	}
	pn, _ := strconv.Atoi(port)
	// Port is the ALB port (what the logs, X-Forwarded-Port and redirects
	// say); BindPort the local one when they differ (443 bound at 10443).
	cl := config.Listener{
		Port: l.Port, Address: host, Protocol: listener.Protocol(l.Protocol), SSLPolicy: l.SSLPolicy,
		Attributes: clonemap(l.Attributes),
	}
	if pn != l.Port {
		cl.BindPort = pn
	}
	if lb.Accepted[attrPreserveHost] == "true" {
		if cl.Attributes == nil {
			cl.Attributes = map[string]string{}
		}
		cl.Attributes[attrPreserveHost] = "true"
	}
	for _, c := range l.Certificates {
		cc, e := s.certificateFiles(c)
		if e != nil {
			return cl, e
		}
		cl.Certificates = append(cl.Certificates, cc)
	}
	ma := l.MutualAuth
	cl.MutualAuthentication = config.MutualAuthentication{
		Mode:                          listener.Mode(ma.Mode),
		IgnoreClientCertificateExpiry: ma.IgnoreExpiry,
		AdvertiseTrustStoreCaNames:    listener.AdvertiseCANames(ma.AdvertiseCA),
	}
	if ma.TrustStoreARN != "" {
		ts, ok := m.TrustStores[ma.TrustStoreARN]
		if !ok {
			return cl, errf(codeTrustStoreNotFound, "trust store %s not found", ma.TrustStoreARN)
		}
		cl.MutualAuthentication.TrustStore = ts.Name
	}
	var e *apiError
	if cl.DefaultAction, e = compileAction(m, l.Default); e != nil {
		return cl, e
	}
	for _, r := range l.Rules {
		a, e := compileAction(m, r.Action)
		if e != nil {
			return cl, e
		}
		cl.Rules = append(cl.Rules, config.Rule{Priority: r.Priority, Conditions: r.Conditions, Action: a})
	}
	return cl, nil
}

func compileAction(m *model, a actionRec) (config.Action, *apiError) {
	ca := config.Action{Type: routing.ActionType(a.Type), Redirect: a.Redirect, FixedResponse: a.FixedResponse}
	if a.TargetGroupARN != "" {
		tg, ok := m.TargetGroups[a.TargetGroupARN]
		if !ok {
			return ca, errf(codeTargetGroupNotFound, "target group %s not found", a.TargetGroupARN)
		}
		ca.TargetGroup = tg.Name
	}
	return ca, nil
}

// certificateFiles resolves a listener certificate to its PEM files.
func (s *Service) certificateFiles(c certRef) (config.Certificate, *apiError) {
	if c.CertFile != "" {
		return config.Certificate{Certificate: c.CertFile, PrivateKey: c.KeyFile, ARN: c.ARN}, nil
	}
	cert, ok := s.lookupCertificate(c.ARN)
	if !ok {
		return config.Certificate{}, errf(codeCertificateNotFound, "certificate %s not found (import it into ACM first)", c.ARN)
	}
	chain := append(append([]byte(nil), cert.CertificatePEM...), '\n')
	chain = append(chain, cert.ChainPEM...)
	cf, err := s.materialise(chain)
	if err != nil {
		return config.Certificate{}, err
	}
	kf, err := s.materialise(cert.PrivateKeyPEM)
	if err != nil {
		return config.Certificate{}, err
	}
	return config.Certificate{Certificate: cf, PrivateKey: kf, ARN: c.ARN}, nil
}

func (s *Service) lookupCertificate(arn string) (Certificate, bool) {
	if s.opts.Certificates == nil {
		return Certificate{}, false
	}
	return s.opts.Certificates(arn)
}

// fileOf is the file the emulator reads for an object: the imported file
// itself, or the object's content written under Dir.
func (s *Service) fileOf(o objectRef, what string) (string, *apiError) {
	if o.File != "" {
		return o.File, nil
	}
	if o.Data == nil {
		return "", errf(codeInternalFailure, "the %s s3://%s/%s has no content", what, o.Bucket, o.Key)
	}
	return s.materialise(o.Data)
}

// materialise writes data under Dir/files, named by its SHA-256, and
// returns the path. Files are never changed once written, so a change
// that is refused never touches what a running load balancer reads.
func (s *Service) materialise(data []byte) (string, *apiError) {
	sum := sha256.Sum256(data)
	dir := filepath.Join(s.opts.Dir, "files")
	path := filepath.Join(dir, hex.EncodeToString(sum[:])+".pem")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	fail := func(err error) (string, *apiError) {
		return "", &apiError{status: 500, code: codeInternalFailure, message: fmt.Sprintf("writing a compiled file under %s: %v", dir, err)}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail(err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fail(err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fail(err)
	}
	return path, nil
}

// validate writes cfg as albmtls.yaml and reads it back with the config
// package, so the config is exactly one a user could have written; the
// returned Config (defaults applied, plans compiled) is what emulator.New
// accepts. A load balancer without listeners is valid here (ALB allows
// it) but has nothing to serve.
func (s *Service) validate(lb *lbRec, cfg *config.Config) (*config.Config, *apiError) {
	data, err := config.Marshal(cfg)
	if err != nil {
		return nil, &apiError{status: 500, code: codeInternalFailure, message: err.Error()}
	}
	file := filepath.Join(s.opts.Dir, "loadbalancers", lb.Name+".yaml")
	parsed, errs := config.ParseAll(file, data)
	errs = slices.DeleteFunc(errs, func(e *config.Error) bool { return len(cfg.Listeners) == 0 && e.Path == "listeners" })
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Path + ": " + e.Msg
		}
		return nil, errf(codeValidation, "load balancer %s: %s", lb.Name, strings.Join(msgs, "; "))
	}
	return parsed, nil
}

func clonemap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
