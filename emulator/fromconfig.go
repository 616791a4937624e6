package emulator

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/albmtls/albmtls/emulator/alb"
	"github.com/albmtls/albmtls/emulator/albresponse"
	"github.com/albmtls/albmtls/emulator/awsarn"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/routing"
	"github.com/albmtls/albmtls/emulator/rules"
	"github.com/albmtls/albmtls/emulator/targetgroup"
	"github.com/albmtls/albmtls/emulator/truststore"
	"github.com/albmtls/albmtls/emulator/verify"
)

func (s *Server) buildTrustStores(errs *config.Errors) {
	for i, ts := range s.cfg.TrustStores {
		if s.opts.OnLoad != nil {
			s.opts.OnLoad(fmt.Sprintf("trust_stores[%d]", i), s.cfg.Path(ts.CACertificatesBundle))
		}
		live, err := loadTrustStore(s.cfg, i)
		if err != nil {
			*errs = append(*errs, err)
			continue
		}
		for _, w := range live.Current().Warnings() {
			s.log.Warn("trust store warning", "trust_store", ts.Name, "finding", w.String())
		}
		s.stores[ts.Name] = live
	}
}

// loadTrustStore reads trust store i's bundle and CRLs.
func loadTrustStore(cfg *config.Config, i int) (*truststore.Live, *config.Error) {
	live, err := truststore.NewLive(trustStoreSpec(cfg, i))
	if err != nil {
		return nil, cfg.Errorf(fmt.Sprintf("trust_stores[%d]", i), "%v", err)
	}
	return live, nil
}

// loadServerCertificate reads certificate j of the listener at path.
func loadServerCertificate(cfg *config.Config, path string, j int, c config.Certificate) (tls.Certificate, *config.Error) {
	certFile, keyFile := cfg.Path(c.Certificate), cfg.Path(c.PrivateKey)
	pair, err := loadKeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, cfg.Errorf(fmt.Sprintf("%s.certificates[%d]", path, j),
			"cannot load the server certificate %s with key %s: %v", certFile, keyFile, err)
	}
	return pair, nil
}

func (s *Server) buildTargetGroups(errs *config.Errors) {
	for i, tg := range s.cfg.TargetGroups {
		if tg.TargetType == config.TargetTypeLambda {
			continue // buildLambdaGroups (lambda.go)
		}
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

// buildListeners builds each listener from its compiled plan (config
// Plans: policies, attributes and actions were checked at load); what is
// left to fail here is reading files.
func (s *Server) buildListeners(errs *config.Errors) {
	plans := s.cfg.Plans()
	if len(plans) != len(s.cfg.Listeners) {
		*errs = append(*errs, s.cfg.Errorf("listeners", "the config was not validated: load it with config.Load or config.Parse"))
		return
	}
	for i, lc := range s.cfg.Listeners {
		lr := &listenerRuntime{s: s, index: i, path: plans[i].Path, cfg: lc, plan: plans[i], mode: plans[i].Mode}
		if lc.Protocol == listener.ProtocolHTTPS {
			settings, err := lr.tlsSettings()
			if err != nil {
				*errs = append(*errs, err)
				continue
			}
			lr.tls = settings
			s.metrics.setServerCertificates(lr, settings.Config.Certificates)
		}
		s.lsns = append(s.lsns, lr)
	}
}

// tlsSettings loads the listener's certificates and builds its TLS
// configuration: security policy, ALPN, and the CA names to advertise.
func (lr *listenerRuntime) tlsSettings() (*listener.TLSSettings, *config.Error) {
	s, lc := lr.s, lr.cfg
	// A copy per build: Apply writes into cfg only, but the plan is shared
	// by reloads.
	policy := *lr.plan.Policy
	cfg := &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
	policy.Apply(cfg)
	// The listener clones this config (once per settings, and once per
	// connection when it decides client certificates); Go would otherwise
	// create session ticket keys lazily in each clone, and no ticket would
	// ever be accepted again. One key per listener keeps TLS resumption
	// working where ALB supports it (no mTLS, alb-behaviour §2.4).
	var ticketKey [32]byte
	if _, err := rand.Read(ticketKey[:]); err != nil {
		return nil, s.cfg.Errorf(lr.path, "creating a session ticket key: %v", err)
	}
	cfg.SetSessionTicketKeys([][32]byte{ticketKey})
	for j, c := range lc.Certificates {
		if s.opts.OnLoad != nil {
			s.opts.OnLoad(lr.path+".certificates", s.cfg.Path(c.Certificate))
		}
		pair, err := loadServerCertificate(s.cfg, lr.path, j, c)
		if err != nil {
			return nil, err
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
		opts := lr.plan.Verify
		if err := opts.Validate(); err != nil {
			return nil, s.cfg.Errorf("emulation", "%v", err)
		}
		if n := s.cfg.Emulation.ChainCheckCache; n != nil { // absent: the default size
			opts.SignatureCacheSize = *n
			if *n == 0 {
				opts.SignatureCacheSize = -1 // 0 is off
			}
		}
		settings.Verifier = verify.New(live.Current, opts)
		if ma.AdvertiseTrustStoreCaNames == listener.AdvertiseCANamesOn {
			// CertificateRequest carries the trust store's CA subjects
			// (alb-behaviour §2.3); off by default, so no names are sent.
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

// pages are the options of the responses ALB writes itself on this
// listener, the same for routing and for the HTTP/1.x front end.
func (lr *listenerRuntime) pages() albresponse.ResponseOptions {
	return albresponse.ResponseOptions{
		DisableServerHeader:    !lr.plan.ResponseHeaders.Server,
		NoFixedResponseCharset: lr.s.cfg.Emulation.FixedResponseCharset == albresponse.CharsetNone,
	}
}

// newRouting builds the HTTP side of the listener once its port is known.
func (lr *listenerRuntime) newRouting(port int) *routing.Handler {
	s, lc := lr.s, lr.cfg
	headers := lr.plan.Headers
	respHeaders := lr.plan.ResponseHeaders
	var arns []string
	for j, c := range lc.Certificates {
		arn := c.ARN
		if arn == "" && lr.tls != nil && j < len(lr.tls.Config.Certificates) {
			arn = awsarn.Certificate(s.cfg.LoadBalancer.Region, s.cfg.LoadBalancer.AccountID, awsarn.CertificateID(lr.tls.Config.Certificates[j].Certificate[0]))
		}
		arns = append(arns, arn)
	}
	var rs []rules.Rule[*routing.Action]
	for j, r := range lc.Rules {
		rule := rules.Rule[*routing.Action]{
			Priority:          r.Priority,
			PathPattern:       r.Conditions.PathPattern,
			HostHeader:        r.Conditions.HostHeader,
			HTTPRequestMethod: r.Conditions.HTTPRequestMethod,
			SourceIP:          lr.plan.SourceIPs[j],
			Action:            s.action(r.Action),
		}
		if h := r.Conditions.HTTPHeader; h != nil {
			rule.HeaderName, rule.HeaderValues = h.Name, h.Values
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
		Pages:           lr.pages(),
		PreserveHost:    lr.plan.PreserveHost,
		CertificateARNs: arns,
		ELB:             s.elb,
		NodeIP:          s.nodeIP,
		AccessLog:       lr.drain.accessLog(s.onRequest(lr)),
		Rand:            s.opts.Rand,
		Desync:          lr.plan.Desync,
		// The HTTP/1.x requests of emulator/http1 take the direct forward.
		DirectForward: s.cfg.Emulation.FrontEnd() == config.FrontEndALBMTLS,
	})
}

func (s *Server) action(a config.Action) *routing.Action {
	ra := &routing.Action{Type: a.Type}
	switch a.Type {
	case routing.ActionForward:
		ra.Group = s.groups[a.TargetGroup]
		ra.Lambda = s.lambda.groups[a.TargetGroup]
		lb := s.cfg.LoadBalancer
		ra.GroupARN = awsarn.TargetGroup(lb.Region, lb.AccountID, a.TargetGroup, awsarn.TargetGroupID(lb.AccountID, a.TargetGroup))
	case routing.ActionRedirect:
		rc := a.Redirect.Config()
		ra.Redirect = &rc
	case routing.ActionFixedResponse:
		fc := a.FixedResponse.Config()
		ra.Fixed = &fc
	}
	return ra
}

// newHTTPServer serves the listener's accepted connections.
func (lr *listenerRuntime) newHTTPServer() *http.Server {
	s := lr.s
	active := s.metrics.connState(lr.portLabel)
	connState := func(c net.Conn, st http.ConnState) {
		active(c, st)
		switch st {
		case http.StateActive:
			lr.ln.Activated(c)
		case http.StateClosed, http.StateHijacked:
			if rec := lr.ln.Lookup(c); rec != nil && st == http.StateClosed && s.opts.OnConnectionClosed != nil {
				s.opts.OnConnectionClosed(ConnectionClosedEvent{ListenerIndex: lr.index, TraceID: rec.TraceID})
			}
			lr.ln.Forget(c)
		}
	}
	if s.cfg.Emulation.FrontEnd() == config.FrontEndALBMTLS {
		lr.front = lr.newFront(connState)
	}
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
		ConnState: connState,
	}
	if lr.cfg.Protocol == listener.ProtocolHTTPS {
		// http.Server.Serve enables HTTP/2 on *tls.Conn connections only when
		// its TLSConfig offers h2; the handshake itself is the listener's.
		srv.TLSConfig = &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
	}
	return srv
}

// slogErrorLog adapts net/http's error log to slog at debug level (TLS
// handshake noise from scanners and aborted clients).
func slogErrorLog(l *slog.Logger, listener string) *log.Logger {
	return log.New(writerFunc(func(p []byte) (int, error) {
		l.Debug("http server", "listener", listener, "msg", string(bytes.TrimSpace(p)))
		return len(p), nil
	}), "", 0)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
