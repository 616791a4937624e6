package emulator

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/albmtls/albmtls/emulator/alb"
	"github.com/albmtls/albmtls/emulator/albheader"
	"github.com/albmtls/albmtls/emulator/albresponse"
	"github.com/albmtls/albmtls/emulator/awsarn"
	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/routing"
	"github.com/albmtls/albmtls/emulator/rules"
	"github.com/albmtls/albmtls/emulator/sslpolicy"
	"github.com/albmtls/albmtls/emulator/targetgroup"
	"github.com/albmtls/albmtls/emulator/truststore"
	"github.com/albmtls/albmtls/emulator/verify"
)

// attrPreserveHost is the listener attribute that keeps the client's Host
// header unchanged towards targets (routing.http.preserve_host_header.enabled).
const attrPreserveHost = "routing.http.preserve_host_header.enabled"

func (s *Server) buildTrustStores(errs *config.Errors) {
	for i, ts := range s.cfg.TrustStores {
		files := make([]string, len(ts.Revocations))
		for j, f := range ts.Revocations {
			files[j] = s.cfg.Path(f)
		}
		if s.opts.OnLoad != nil {
			s.opts.OnLoad(fmt.Sprintf("trust_stores[%d]", i), s.cfg.Path(ts.CACertificatesBundle))
		}
		live, err := truststore.NewLive(truststore.Spec{
			Name:            ts.Name,
			BundleFile:      s.cfg.Path(ts.CACertificatesBundle),
			RevocationFiles: files,
		})
		if err != nil {
			*errs = append(*errs, s.cfg.Errorf(fmt.Sprintf("trust_stores[%d]", i), "%v", err))
			continue
		}
		for _, w := range live.Current().Warnings() {
			s.log.Warn("trust store warning", "trust_store", ts.Name, "finding", w.String())
		}
		s.stores[ts.Name] = live
	}
}

func (s *Server) buildTargetGroups(errs *config.Errors) {
	for i, tg := range s.cfg.TargetGroups {
		hc := tg.HealthCheck
		timeout := hc.Timeout.D()
		if timeout == 0 && hc.Interval.D() > 0 && hc.Interval.D() <= targetgroup.DefaultHealthCheckTimeout {
			// ALB refuses an interval that is not longer than the timeout
			// ("Health check interval must be greater than the timeout").
			// The brief's example sets interval 5s and no timeout; rather
			// than refuse it, use a timeout one second shorter and say so.
			timeout = max(hc.Interval.D()-time.Second, time.Second)
			s.log.Warn("target group health check: timeout not set and interval is not longer than ALB's default 5s timeout; using a shorter timeout (ALB itself would refuse this combination)",
				"target_group", tg.Name, "interval", hc.Interval.D(), "timeout", timeout)
		}
		g, err := targetgroup.New(targetgroup.Config{
			Name:     tg.Name,
			Protocol: tg.Protocol,
			Targets:  tg.Targets,
			HealthCheck: targetgroup.HealthCheck{
				Enabled:             hc.Enabled,
				Path:                hc.Path,
				Port:                hc.Port,
				Interval:            hc.Interval.D(),
				Timeout:             timeout,
				HealthyThreshold:    hc.HealthyThreshold,
				UnhealthyThreshold:  hc.UnhealthyThreshold,
				Matcher:             hc.Matcher,
				AllowShortIntervals: true,
			},
			IdleTimeout: s.cfg.LoadBalancer.IdleTimeout.D(),
		}, s.log)
		if err != nil {
			*errs = append(*errs, s.cfg.Errorf(fmt.Sprintf("target_groups[%d]", i), "%v", err))
			continue
		}
		s.groups[tg.Name] = g
	}
}

func (s *Server) buildListeners(errs *config.Errors) {
	for i, lc := range s.cfg.Listeners {
		lr := &listenerRuntime{s: s, index: i, path: config.ListenerPath(i), cfg: lc,
			mode: listener.Mode(lc.MutualAuthentication.EffectiveMode())}
		n := len(*errs)
		if lc.Protocol == "HTTPS" {
			settings, err := lr.tlsSettings()
			if err != nil {
				*errs = append(*errs, err)
			}
			lr.tls = settings
		}
		s.checkAttributes(lr, errs)
		s.checkActions(lr, errs)
		if len(*errs) == n {
			s.lsns = append(s.lsns, lr)
		}
	}
}

// tlsSettings loads the listener's certificates and builds its TLS
// configuration: security policy, ALPN, and the CA names to advertise.
func (lr *listenerRuntime) tlsSettings() (*listener.TLSSettings, *config.Error) {
	s, lc := lr.s, lr.cfg
	policyName := lc.SSLPolicy
	if policyName == "" {
		policyName = sslpolicy.Default // the API's default when SslPolicy is omitted (spec §5)
	}
	policy, err := sslpolicy.Lookup(policyName)
	if err != nil {
		return nil, s.cfg.Errorf(lr.path+".ssl_policy", "%v", err)
	}
	cfg := &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
	policy.Apply(cfg)
	// The listener clones this config per connection; Go would otherwise
	// create session ticket keys lazily in each clone, and no ticket would
	// ever be accepted again. One key per listener keeps TLS resumption
	// working where ALB supports it (no mTLS, spec §2.4).
	var ticketKey [32]byte
	if _, err := rand.Read(ticketKey[:]); err != nil {
		return nil, s.cfg.Errorf(lr.path, "creating a session ticket key: %v", err)
	}
	cfg.SetSessionTicketKeys([][32]byte{ticketKey})
	for j, c := range lc.Certificates {
		certFile, keyFile := s.cfg.Path(c.Certificate), s.cfg.Path(c.PrivateKey)
		if s.opts.OnLoad != nil {
			s.opts.OnLoad(lr.path+".certificates", certFile)
		}
		pair, err := loadKeyPair(certFile, keyFile)
		if err != nil {
			return nil, s.cfg.Errorf(fmt.Sprintf("%s.certificates[%d]", lr.path, j),
				"cannot load the server certificate %s with key %s: %v", certFile, keyFile, err)
		}
		cfg.Certificates = append(cfg.Certificates, pair)
	}
	settings := &listener.TLSSettings{Config: cfg, Mode: lr.mode}
	if lr.mode == listener.ModePassthrough && *s.cfg.Emulation.PassthroughSizeLimit {
		settings.PassthroughMaxCertificateMessage = alb.MaxCertificateMessage // s2n's handshake message cap (alb-behaviour §S7)
	}
	if lr.mode == listener.ModeVerify {
		ma := lc.MutualAuthentication
		live := s.stores[ma.TrustStore]
		if live == nil { // its own error was reported already
			return nil, s.cfg.Errorf(lr.path+".mutual_authentication.trust_store", "trust store %q did not load", ma.TrustStore)
		}
		e := s.cfg.Emulation
		opts := verify.Options{
			IgnoreClientCertificateExpiry: ma.IgnoreClientCertificateExpiry != nil && *ma.IgnoreClientCertificateExpiry,
			IgnoreExpiryKeepsNotBefore:    !*e.IgnoreExpiryIncludesNotBefore,
			MissingCertificate:            verify.Code(e.MissingClientCertificate),
			CRLMissingForIssuer:           verify.CRLMissingPolicy(e.CRLMissingForIssuer),
			StaleCRL:                      verify.StaleCRLPolicy(e.StaleCRL),
			IgnoreExpiryLeafOnly:          e.IgnoreExpiryScope == "leaf",
			UnhandledCriticalExtension:    verify.Code(e.UnhandledCriticalExtension),
		}
		// The code-valued knobs are the only ones the config package does
		// not enumerate itself.
		for key, v := range map[string]string{
			"missing_client_certificate":   e.MissingClientCertificate,
			"unhandled_critical_extension": e.UnhandledCriticalExtension,
		} {
			if c, err := verify.ParseCode(v); err != nil || c == verify.Success {
				return nil, s.cfg.Errorf("emulation."+key, "%q is not a failure code: use one of the Failed: codes of the connection log (%v)", v, err)
			}
		}
		if err := opts.Validate(); err != nil {
			return nil, s.cfg.Errorf("emulation", "%v", err)
		}
		settings.Verifier = verify.New(live.Current, opts)
		if ma.AdvertiseTrustStoreCaNames == "on" {
			// CertificateRequest carries the trust store's CA subjects
			// (spec §2.3); off by default, so no names are sent.
			cfg.ClientCAs = caPool(live.Current())
		}
	}
	return settings, nil
}

// caPool is the trust store's CAs in bundle order, for the advertised CA
// names of the CertificateRequest.
func caPool(st *truststore.Store) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range st.CACertificates {
		pool.AddCert(c)
	}
	return pool
}

// checkAttributes parses the listener attributes; unknown keys are refused
// with the list of supported ones.
func (s *Server) checkAttributes(lr *listenerRuntime, errs *config.Errors) {
	attrs := lr.cfg.Attributes
	known := append(append(albheader.Keys(), albheader.ResponseKeys()...), attrPreserveHost)
	for _, k := range sortedKeys(attrs) {
		if !slices.Contains(known, k) {
			sort.Strings(known)
			*errs = append(*errs, s.cfg.Errorf(lr.path+".attributes."+k,
				"albmtls does not support the listener attribute %q; supported: %s", k, strings.Join(known, ", ")))
		}
	}
	if v, ok := attrs[attrPreserveHost]; ok && v != "" && v != "true" && v != "false" {
		*errs = append(*errs, s.cfg.Errorf(lr.path+".attributes."+attrPreserveHost, "%q is not valid; use true or false", v))
	}
	if _, err := albheader.OptionsFromAttributes(attrs); err != nil {
		*errs = append(*errs, s.cfg.Errorf(lr.path+".attributes", "%v", err))
	}
	if _, err := albheader.ResponseOptionsFromAttributes(attrs); err != nil {
		*errs = append(*errs, s.cfg.Errorf(lr.path+".attributes", "%v", err))
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkActions validates redirect and fixed-response actions against ALB's
// rules (spec §8.2, §8.3).
func (s *Server) checkActions(lr *listenerRuntime, errs *config.Errors) {
	check := func(path string, a config.Action) {
		switch {
		case a.Redirect != nil:
			if err := redirectConfig(a.Redirect).Validate(lr.cfg.Protocol); err != nil {
				*errs = append(*errs, s.cfg.Errorf(path+".redirect", "%v", err))
			}
		case a.FixedResponse != nil:
			if err := fixedConfig(a.FixedResponse).Validate(); err != nil {
				*errs = append(*errs, s.cfg.Errorf(path+".fixed_response", "%v", err))
			}
		}
	}
	check(lr.path+".default_action", lr.cfg.DefaultAction)
	for j, r := range lr.cfg.Rules {
		check(fmt.Sprintf("%s.rules[%d].action", lr.path, j), r.Action)
	}
}

func redirectConfig(r *config.Redirect) albresponse.RedirectConfig {
	return albresponse.RedirectConfig{Protocol: r.Protocol, Port: r.Port, Host: r.Host, Path: r.Path, Query: r.Query, StatusCode: r.StatusCode}
}

func fixedConfig(f *config.FixedResponse) albresponse.FixedResponseConfig {
	return albresponse.FixedResponseConfig{StatusCode: f.StatusCode, ContentType: f.ContentType, MessageBody: f.MessageBody}
}

// newRouting builds the HTTP side of the listener once its port is known.
func (lr *listenerRuntime) newRouting(port int) *routing.Handler {
	s, lc := lr.s, lr.cfg
	headers, _ := albheader.OptionsFromAttributes(s.cfg.ListenerAttributes(&lc)) // checked in New and config
	headers.StripClientHeaders = *s.cfg.Emulation.StripClientHeaders
	headers.StripNameVariants = *s.cfg.Emulation.StripHeaderNameVariants
	headers.ClientCopies = albheader.Copies(s.cfg.Emulation.ClientHeaderDuplicates)
	headers.Equals, _ = certfmt.ParseEqualsEncoding(s.cfg.Emulation.ClientCertEquals)
	respHeaders, _ := albheader.ResponseOptionsFromAttributes(lc.Attributes)
	resp := albresponse.ResponseOptions{DisableServerHeader: !respHeaders.Server}
	resp.NoFixedResponseCharset = s.cfg.Emulation.FixedResponseCharset == "none"
	var arns []string
	for j, c := range lc.Certificates {
		arn := c.ARN
		if arn == "" && lr.tls != nil && j < len(lr.tls.Config.Certificates) {
			arn = awsarn.Certificate(s.cfg.LoadBalancer.Region, s.cfg.LoadBalancer.AccountID, awsarn.CertificateID(lr.tls.Config.Certificates[j].Certificate[0]))
		}
		arns = append(arns, arn)
	}
	var rs []rules.Rule[*routing.Action]
	for _, r := range lc.Rules {
		rule := rules.Rule[*routing.Action]{
			Priority:          r.Priority,
			PathPattern:       r.Conditions.PathPattern,
			HostHeader:        r.Conditions.HostHeader,
			HTTPRequestMethod: r.Conditions.HTTPRequestMethod,
			Action:            s.action(r.Action),
		}
		if h := r.Conditions.HTTPHeader; h != nil {
			rule.HeaderName, rule.HeaderValues = h.Name, h.Values
		}
		for _, p := range r.Conditions.SourceIP {
			if pfx, err := netip.ParsePrefix(p); err == nil {
				rule.SourceIP = append(rule.SourceIP, pfx)
			}
		}
		rs = append(rs, rule)
	}
	return routing.New(routing.Config{
		Protocol:        lc.Protocol,
		Port:            port,
		Rules:           rules.NewTable(rs),
		Default:         s.action(lc.DefaultAction),
		Headers:         &headers,
		ResponseHeaders: &respHeaders,
		Pages:           resp,
		PreserveHost:    lc.Attributes[attrPreserveHost] == "true",
		CertificateARNs: arns,
		ELB:             s.elb,
		NodeIP:          s.nodeIP,
		AccessLog:       lr.drain.accessLog(s.onRequest(lr)),
		Rand:            s.opts.Rand,
	})
}

func (s *Server) action(a config.Action) *routing.Action {
	ra := &routing.Action{Type: a.Type}
	switch a.Type {
	case config.ActionForward:
		ra.Group = s.groups[a.TargetGroup]
		lb := s.cfg.LoadBalancer
		ra.GroupARN = awsarn.TargetGroup(lb.Region, lb.AccountID, a.TargetGroup, awsarn.TargetGroupID(lb.AccountID, a.TargetGroup))
	case config.ActionRedirect:
		rc := redirectConfig(a.Redirect)
		ra.Redirect = &rc
	case config.ActionFixedResponse:
		fc := fixedConfig(a.FixedResponse)
		ra.Fixed = &fc
	}
	return ra
}

// newHTTPServer serves the listener's accepted connections.
func (lr *listenerRuntime) newHTTPServer() *http.Server {
	s := lr.s
	srv := &http.Server{
		Handler:     lr.drain.track(lr.route),
		BaseContext: func(net.Listener) context.Context { return lr.drain.base() },
		IdleTimeout: s.cfg.LoadBalancer.IdleTimeout.D(),
		// The headers must arrive within request_header_timeout of their
		// first byte; the wait for that byte is the idle timeout (the
		// listener's firstRequestConn on a connection's first request).
		ReadHeaderTimeout: s.cfg.Emulation.RequestHeaderTimeout.D(),
		MaxHeaderBytes:    albresponse.ServerMaxHeaderBytes,
		ErrorLog:          slogErrorLog(s.log, lr.path),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if rec := lr.ln.Lookup(c); rec != nil {
				return routing.WithConn(ctx, rec)
			}
			return ctx
		},
		ConnState: func(c net.Conn, st http.ConnState) {
			switch st {
			case http.StateActive:
				lr.ln.Activated(c)
			case http.StateClosed, http.StateHijacked:
				lr.ln.Forget(c)
			}
		},
	}
	if lr.cfg.Protocol == "HTTPS" {
		// http.Server.Serve enables HTTP/2 on *tls.Conn connections only when
		// its TLSConfig offers h2; the handshake itself is the listener's.
		srv.TLSConfig = &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
	}
	return srv
}
