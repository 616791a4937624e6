package elbv2

import (
	"cmp"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"strconv"

	"github.com/albmtls/albmtls/emulator/awsarn"
	"github.com/albmtls/albmtls/emulator/config"
)

// ImportConfig adds the resources of a loaded albmtls.yaml (config.Load or
// Parse: defaults applied) to the model: its load balancer, listeners,
// target groups and trust stores, with the stable ARNs of emulator/awsarn
// (derived from the config's account, region and names, so the same
// every start), so that Describe* shows them and the API can modify them.
// Files stay where the config names them (the emulator keeps watching
// them). Like every change, the result is compiled, validated and given to
// Options.Apply; an error leaves the model unchanged.
func (s *Service) ImportConfig(ctx context.Context, cfg *config.Config) error {
	if e := s.mutate(ctx, func(m *model) *apiError { return s.importInto(m, cfg) }); e != nil {
		return fmt.Errorf("elbv2: importing %s: %w", cfgName(cfg), e)
	}
	return nil
}

func cfgName(cfg *config.Config) string {
	if cfg.File() != "" {
		return cfg.File()
	}
	return "the config"
}

func (s *Service) importInto(m *model, cfg *config.Config) *apiError {
	c := cfg.LoadBalancer
	region, account := or(c.Region, config.DefaultRegion), or(c.AccountID, config.DefaultAccountID)
	name := or(c.Name, config.DefaultLoadBalancerName)
	id := c.ID
	if id == "" {
		id = awsarn.LoadBalancerID(account, name)
	}
	if lbByName(m, name) != nil {
		return errf(codeDuplicateLoadBalancerName, "a load balancer named %q already exists", name)
	}
	lb := &lbRec{
		ARN: awsarn.LoadBalancer(region, account, name, id), Name: name, ID: id, Region: region, AccountID: account,
		Created: s.opts.Now().UTC(), Scheme: defaultScheme, IPAddressType: defaultIPAddressType,
		IdleTimeout: c.IdleTimeout, Attributes: clonemap(c.Attributes), IPAddress: c.IPAddress,
		Logs: cfg.Logs, Admin: cfg.Admin, Emulation: cfg.Emulation, Imported: true,
	}
	if lb.IdleTimeout == 0 {
		lb.IdleTimeout = config.Duration(config.DefaultIdleTimeout)
	}
	lb.Logs.Access.File = cfg.Path(lb.Logs.Access.File)
	lb.Logs.Connection.File = cfg.Path(lb.Logs.Connection.File)
	lb.Logs.S3LayoutDir = cfg.Path(lb.Logs.S3LayoutDir)
	m.LoadBalancers[lb.ARN] = lb

	tgByName := map[string]string{}
	for _, t := range cfg.TargetGroups {
		arn := awsarn.TargetGroup(region, account, t.Name, awsarn.TargetGroupID(account, t.Name))
		if _, dup := m.TargetGroups[arn]; dup {
			return errf(codeDuplicateTargetGroupName, "a target group named %q already exists", t.Name)
		}
		tg := &tgRec{ARN: arn, Name: t.Name, ID: awsarn.TargetGroupID(account, t.Name), Protocol: or(string(t.Protocol), "HTTP"),
			TargetType: "ip", HealthCheck: t.HealthCheck}
		for _, hp := range t.Targets {
			host, port, err := net.SplitHostPort(hp)
			n, _ := strconv.Atoi(port)
			if err != nil {
				return errf(codeValidation, "target %q of target group %s is not host:port", hp, t.Name)
			}
			tg.Targets = append(tg.Targets, targetRec{ID: host, Port: n})
		}
		tg.Port = 80
		if tg.Protocol == "HTTPS" {
			tg.Port = 443
		}
		if len(tg.Targets) > 0 {
			tg.Port = tg.Targets[0].Port // the config has no group port; the first target's stands in
		}
		m.TargetGroups[arn] = tg
		tgByName[t.Name] = arn
	}

	tsByName := map[string]string{}
	for _, t := range cfg.TrustStores {
		tid := awsarn.TrustStoreID(account, t.Name)
		ts := &tsRec{ARN: awsarn.TrustStore(region, account, t.Name, tid), Name: t.Name, ID: tid, Created: s.opts.Now().UTC(),
			Bundle: objectRef{File: cfg.Path(t.CACertificatesBundle)}}
		if _, dup := m.TrustStores[ts.ARN]; dup {
			return errf(codeDuplicateTrustStoreName, "a trust store named %q already exists", t.Name)
		}
		for i, f := range t.Revocations {
			ts.Revocations = append(ts.Revocations, revRec{ID: int64(i + 1), Object: objectRef{File: cfg.Path(f)}})
		}
		ts.NextRevocationID = int64(len(t.Revocations)) + 1
		if e := s.checkTrustStore(ts); e != nil {
			return e
		}
		m.TrustStores[ts.ARN] = ts
		tsByName[t.Name] = ts.ARN
	}

	action := func(a config.Action) actionRec {
		return actionRec{Type: string(a.Type), TargetGroupARN: tgByName[a.TargetGroup], Redirect: a.Redirect, FixedResponse: a.FixedResponse}
	}
	for _, l := range cfg.Listeners {
		lid := awsarn.ListenerID(account, name, l.Port)
		rec := &listenerRec{ARN: awsarn.Listener(region, account, name, id, lid), ID: lid, LoadBalancerARN: lb.ARN,
			Port: l.Port, Bind: net.JoinHostPort(or(l.Address, config.DefaultListenAddress), strconv.Itoa(cmp.Or(l.BindPort, l.Port))),
			Protocol: string(l.Protocol), SSLPolicy: l.SSLPolicy, Attributes: clonemap(l.Attributes), Default: action(l.DefaultAction)}
		for _, c := range l.Certificates {
			ref := certRef{ARN: c.ARN, CertFile: cfg.Path(c.Certificate), KeyFile: cfg.Path(c.PrivateKey)}
			if ref.ARN == "" {
				ref.Derived = derivedCertARN(region, account, ref.CertFile)
			}
			rec.Certificates = append(rec.Certificates, ref)
		}
		ma := l.MutualAuthentication
		rec.MutualAuth = mutualAuth{Mode: string(ma.Mode), TrustStoreARN: tsByName[ma.TrustStore], IgnoreExpiry: ma.IgnoreClientCertificateExpiry,
			AdvertiseCA: string(ma.AdvertiseTrustStoreCaNames)}
		for _, r := range l.Rules {
			rec.Rules = append(rec.Rules, ruleRec{Priority: r.Priority, Conditions: r.Conditions, Action: action(r.Action)})
		}
		m.Listeners[rec.ARN] = rec
	}
	return nil
}

// derivedCertARN is the ARN the emulator gives a certificate file without
// one; "" when the file cannot be read (the emulator then refuses it).
func derivedCertARN(region, account, file string) string {
	data, err := readFileLimited(file)
	if err != nil {
		return ""
	}
	b, _ := pem.Decode(data)
	if b == nil {
		return ""
	}
	return awsarn.Certificate(region, account, awsarn.CertificateID(b.Bytes))
}

// snapshot is the --state file: the whole model.
type snapshot struct {
	Version int    `json:"version"`
	Model   *model `json:"model"`
}

const snapshotVersion = 1

// Snapshot returns the model as JSON, for --state.
func (s *Service) Snapshot() ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return json.Marshal(snapshot{Version: snapshotVersion, Model: s.m})
}

// Restore replaces the model with a Snapshot's, compiled, validated and
// given to Options.Apply like any change (the certificates it names must
// be in Options.Certificates by then); on error nothing changes.
func (s *Service) Restore(ctx context.Context, data []byte) error {
	var snap snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("elbv2: reading the state snapshot: %w", err)
	}
	if snap.Version != snapshotVersion || snap.Model == nil {
		return fmt.Errorf("elbv2: the state snapshot has version %d; this albmtls reads version %d", snap.Version, snapshotVersion)
	}
	m := newModel()
	for k, v := range snap.Model.LoadBalancers {
		m.LoadBalancers[k] = v
	}
	for k, v := range snap.Model.TargetGroups {
		m.TargetGroups[k] = v
	}
	for k, v := range snap.Model.Listeners {
		m.Listeners[k] = v
	}
	for k, v := range snap.Model.TrustStores {
		m.TrustStores[k] = v
	}
	for k, v := range snap.Model.Tags {
		m.Tags[k] = v
	}
	s.mu.Lock()
	e := s.commitLocked(ctx, m)
	s.mu.Unlock()
	if e != nil {
		return fmt.Errorf("elbv2: restoring the state snapshot: %w", e)
	}
	return nil
}
