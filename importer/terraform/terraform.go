// Package terraform imports the ALB of a Terraform plan (`terraform show
// -json PLAN`, read with hashicorp/terraform-json) into albmtls.yaml:
// aws_lb, aws_lb_listener (mutual_authentication and the flat
// routing_http_* attribute arguments), aws_lb_listener_rule,
// aws_lb_listener_certificate, aws_lb_target_group and its attachments,
// aws_lb_trust_store and aws_lb_trust_store_revocation. ARNs unknown before
// apply are linked through the plan's configuration references, across
// module variables and outputs.
package terraform

import (
	"encoding/json"
	"fmt"
	"sort"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/albmtls/albmtls/emulator/albresponse"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/routing"
	"github.com/albmtls/albmtls/emulator/targetgroup"
	"github.com/albmtls/albmtls/importer"
)

// Import maps a plan's JSON to a config. Every field it cannot map is in
// the Problems, sorted; the config holds what could be mapped.
func Import(data []byte, opts importer.Options) (*config.Config, importer.Problems, error) {
	var p tfjson.Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, nil, fmt.Errorf("terraform: reading the plan (the output of `terraform show -json PLAN`): %w", err)
	}
	m := &mapper{pl: newPlan(&p), opts: opts, names: map[*resource]string{}}
	m.run()
	m.ps.Sort()
	return &m.cfg, m.ps, nil
}

type mapper struct {
	pl    *plan
	opts  importer.Options
	cfg   config.Config
	ps    importer.Problems
	names map[*resource]string // trust store and target group → config name
}

func (m *mapper) run() {
	lbs := m.pl.ofType("aws_lb")
	for i, lb := range lbs {
		if i == 0 {
			m.cfg.LoadBalancer.Name = str(lb, "name")
			if t := num(lb, "idle_timeout"); t != 0 && t != 60 {
				m.cfg.LoadBalancer.IdleTimeout = config.Duration(int64(t) * 1e9)
			}
			for arg, key := range lbAttributes {
				if v := str(lb, arg); v != "" && v != lbDefaults[arg] {
					if m.cfg.LoadBalancer.Attributes == nil {
						m.cfg.LoadBalancer.Attributes = map[string]string{}
					}
					m.cfg.LoadBalancer.Attributes[key] = v
				}
			}
			if typ := str(lb, "load_balancer_type"); typ != "" && typ != "application" {
				m.ps.Add(lb.addr, "load_balancer_type", "is %q: only application load balancers are emulated", typ)
			}
			continue
		}
		m.ps.Add(lb.addr, "", "is a second load balancer: albmtls emulates one; import its listeners separately")
	}
	for _, ts := range m.pl.ofType("aws_lb_trust_store") {
		m.trustStore(ts)
	}
	for _, rv := range m.pl.ofType("aws_lb_trust_store_revocation") {
		m.revocation(rv)
	}
	for _, tg := range m.pl.ofType("aws_lb_target_group") {
		m.targetGroup(tg)
	}
	for _, at := range m.pl.ofType("aws_lb_target_group_attachment") {
		m.attachment(at)
	}
	listeners := map[*resource]int{}
	for _, l := range m.pl.ofType("aws_lb_listener") {
		if lb, _ := m.pl.link(l, "load_balancer_arn"); len(lbs) > 1 && lb != nil && lb != lbs[0] {
			continue
		}
		listeners[l] = len(m.cfg.Listeners)
		m.listener(l)
	}
	for _, lc := range m.pl.ofType("aws_lb_listener_certificate") {
		l, _ := m.pl.link(lc, "listener_arn")
		i, ok := listeners[l]
		if !ok {
			m.ps.Add(lc.addr, "listener_arn", "names no listener of this plan")
			continue
		}
		if c, ok := m.opts.Certificate(&m.ps, lc.addr, "certificate_arn", str(lc, "certificate_arn")); ok {
			m.cfg.Listeners[i].Certificates = append(m.cfg.Listeners[i].Certificates, c)
		}
	}
	for _, r := range m.pl.ofType("aws_lb_listener_rule") {
		l, _ := m.pl.link(r, "listener_arn")
		i, ok := listeners[l]
		if !ok {
			m.ps.Add(r.addr, "listener_arn", "names no listener of this plan")
			continue
		}
		if rule, ok := m.rule(r); ok {
			m.cfg.Listeners[i].Rules = append(m.cfg.Listeners[i].Rules, rule)
		}
	}
	for _, l := range m.cfg.Listeners {
		sort.SliceStable(l.Rules, func(a, b int) bool { return l.Rules[a].Priority < l.Rules[b].Priority })
	}
}

// lbAttributes are aws_lb's arguments for the load balancer attributes
// albmtls emulates, and lbDefaults ALB's defaults, which are left out.
var (
	lbAttributes = map[string]string{
		"drop_invalid_header_fields":                  "routing.http.drop_invalid_header_fields.enabled",
		"enable_tls_version_and_cipher_suite_headers": "routing.http.x_amzn_tls_version_and_cipher_suite.enabled",
		"enable_xff_client_port":                      "routing.http.xff_client_port.enabled",
		"xff_header_processing_mode":                  "routing.http.xff_header_processing.mode",
	}
	lbDefaults = map[string]string{
		"drop_invalid_header_fields": "false", "enable_tls_version_and_cipher_suite_headers": "false",
		"enable_xff_client_port": "false", "xff_header_processing_mode": "append",
	}
)

// name is the resource's name argument, or its address label when the
// name is only known after apply (name_prefix).
func name(r *resource) string {
	if n := str(r, "name"); n != "" {
		return n
	}
	return r.name
}

func (m *mapper) trustStore(r *resource) {
	m.names[r] = name(r)
	m.cfg.TrustStores = append(m.cfg.TrustStores, config.TrustStore{
		Name:                 name(r),
		CACertificatesBundle: m.s3(r, "ca_certificates_bundle_s3"),
	})
}

func (m *mapper) revocation(r *resource) {
	ts, _ := m.pl.link(r, "trust_store_arn")
	for i := range m.cfg.TrustStores {
		if ts != nil && m.cfg.TrustStores[i].Name == m.names[ts] {
			if f := m.s3(r, "revocations_s3"); f != "" {
				m.cfg.TrustStores[i].Revocations = append(m.cfg.TrustStores[i].Revocations, f)
			}
			return
		}
	}
	m.ps.Add(r.addr, "trust_store_arn", "names no aws_lb_trust_store of this plan")
}

// s3 resolves PREFIX_bucket, PREFIX_key and PREFIX_object_version: to the
// source file of the aws_s3_object the key refers to, or through --s3-dir.
func (m *mapper) s3(r *resource, prefix string) string {
	if obj, _ := m.pl.link(r, prefix+"_key"); obj != nil && obj.typ == "aws_s3_object" {
		if src := str(obj, "source"); src != "" {
			return m.opts.LocalFile(&m.ps, obj.addr, "source", src)
		}
	}
	return m.opts.S3Object(&m.ps, r.addr, prefix+"_key", m.pl.resolved(r, prefix+"_bucket"), m.pl.resolved(r, prefix+"_key"), prefix+"_object_version", str(r, prefix+"_object_version"))
}

func (m *mapper) targetGroup(r *resource) {
	m.names[r] = name(r)
	tg := config.TargetGroup{Name: name(r)}
	switch p := str(r, "protocol"); p {
	case "", "HTTP":
	case "HTTPS":
		tg.Protocol = targetgroup.Protocol(p)
	default:
		m.ps.Add(r.addr, "protocol", "is %q: only HTTP and HTTPS target groups are emulated", p)
	}
	if t := str(r, "target_type"); t == "lambda" || t == "alb" {
		m.ps.Add(r.addr, "target_type", "is %q: only instance and ip targets are emulated", t)
	}
	if v := str(r, "protocol_version"); v == "HTTP2" || v == "GRPC" {
		m.ps.Add(r.addr, "protocol_version", "is %q: albmtls forwards HTTP/1.1", v)
	}
	if hc := blocks(r, "health_check"); len(hc) > 0 {
		h := &tg.HealthCheck
		if e, ok := value(hc, 0, "enabled").(bool); ok {
			h.Enabled = &e
		}
		h.Path = str(r, "health_check", 0, "path")
		if p := str(r, "health_check", 0, "port"); p != "traffic-port" {
			h.Port = p
		}
		h.Interval = seconds(num(r, "health_check", 0, "interval"))
		h.Timeout = seconds(num(r, "health_check", 0, "timeout"))
		h.HealthyThreshold = num(r, "health_check", 0, "healthy_threshold")
		h.UnhealthyThreshold = num(r, "health_check", 0, "unhealthy_threshold")
		h.Matcher = str(r, "health_check", 0, "matcher")
		if p := str(r, "health_check", 0, "protocol"); p != "" && p != "HTTP" && p != "HTTPS" {
			m.ps.Add(r.addr, "health_check[0].protocol", "is %q: only HTTP and HTTPS health checks are emulated", p)
		}
	}
	if s := blocks(r, "stickiness"); len(s) > 0 {
		if on, _ := value(s, 0, "enabled").(bool); on {
			m.ps.Add(r.addr, "stickiness[0]", "is not emulated")
		}
	}
	m.cfg.TargetGroups = append(m.cfg.TargetGroups, tg)
}

func seconds(n int) config.Duration { return config.Duration(int64(n) * 1e9) }

func (m *mapper) attachment(r *resource) {
	tg, _ := m.pl.link(r, "target_group_arn")
	for i := range m.cfg.TargetGroups {
		if tg != nil && m.cfg.TargetGroups[i].Name == m.names[tg] {
			if t, ok := m.opts.Target(&m.ps, r.addr, "target_id", str(r, "target_id"), num(r, "port")); ok {
				m.cfg.TargetGroups[i].Targets = append(m.cfg.TargetGroups[i].Targets, t)
			}
			return
		}
	}
	m.ps.Add(r.addr, "target_group_arn", "names no aws_lb_target_group of this plan")
}

// listenerHandled are the arguments listener maps or that do not change
// what a client sees of the data plane (identifiers, tags, timeouts of
// Terraform itself).
var listenerHandled = map[string]bool{
	"arn": true, "id": true, "tags": true, "tags_all": true, "timeouts": true, "region": true,
	"load_balancer_arn": true, "port": true, "protocol": true, "ssl_policy": true,
	"certificate_arn": true, "default_action": true, "mutual_authentication": true,
	"tcp_idle_timeout_seconds": true, // NLB only
}

func (m *mapper) listener(r *resource) {
	l := config.Listener{Port: m.opts.Port(num(r, "port")), SSLPolicy: str(r, "ssl_policy")}
	switch p := str(r, "protocol"); p {
	case "HTTP", "HTTPS":
		l.Protocol = listener.Protocol(p)
	default:
		m.ps.Add(r.addr, "protocol", "is %q: only HTTP and HTTPS listeners are emulated", p)
	}
	if l.Protocol == listener.ProtocolHTTPS {
		if c, ok := m.opts.Certificate(&m.ps, r.addr, "certificate_arn", str(r, "certificate_arn")); ok {
			l.Certificates = append(l.Certificates, c)
		}
	}
	if ma := blocks(r, "mutual_authentication"); len(ma) > 0 {
		l.MutualAuthentication.Mode = listener.Mode(str(r, "mutual_authentication", 0, "mode"))
		if ts, _ := m.pl.link(r, "mutual_authentication", 0, "trust_store_arn"); ts != nil && m.names[ts] != "" {
			l.MutualAuthentication.TrustStore = m.names[ts]
		} else if arn := str(r, "mutual_authentication", 0, "trust_store_arn"); arn != "" {
			// A trust store this plan does not manage (shared, or a data source).
			l.MutualAuthentication.TrustStore = m.opts.ExternalTrustStore(&m.cfg, &m.ps, r.addr, "mutual_authentication[0].trust_store_arn", arn)
		} else if l.MutualAuthentication.Mode == listener.ModeVerify {
			m.ps.Add(r.addr, "mutual_authentication[0].trust_store_arn", "names no aws_lb_trust_store of this plan, and is not known before apply")
		}
		if b, ok := value(ma, 0, "ignore_client_certificate_expiry").(bool); ok && b {
			l.MutualAuthentication.IgnoreClientCertificateExpiry = &b
		}
		if a := str(r, "mutual_authentication", 0, "advertise_trust_store_ca_names"); a != "" {
			l.MutualAuthentication.AdvertiseTrustStoreCaNames = listener.AdvertiseCANames(a)
		}
	}
	for _, k := range sortedKeys(r.values) {
		if listenerHandled[k] || empty(r.values[k]) {
			continue
		}
		if key, ok := importer.ListenerAttribute(k); ok {
			if l.Attributes == nil {
				l.Attributes = map[string]string{}
			}
			l.Attributes[key] = str(r, k)
			continue
		}
		m.ps.Add(r.addr, k, "is not emulated")
	}
	acts := blocks(r, "default_action")
	if len(acts) > 1 {
		m.ps.Add(r.addr, "default_action[1]", "is not emulated: only a listener's last (forward, redirect or fixed-response) action is; authenticate actions are not emulated")
	}
	if len(acts) > 0 {
		l.DefaultAction, _ = m.action(r, "default_action", len(acts)-1)
	}
	m.cfg.Listeners = append(m.cfg.Listeners, l)
}

// empty is a value Terraform plans for an unset argument.
func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// action maps default_action[i] or action[i].
func (m *mapper) action(r *resource, block string, i int) (config.Action, bool) {
	at := fmt.Sprintf("%s[%d]", block, i)
	a := config.Action{Type: routing.ActionType(str(r, block, i, "type"))}
	for _, k := range []string{"authenticate_oidc", "authenticate_cognito"} {
		if len(blocks(r, block, i, k)) > 0 {
			m.ps.Add(r.addr, at+"."+k, "is not emulated")
		}
	}
	switch a.Type {
	case routing.ActionForward:
		tgRes, _ := m.pl.link(r, block, i, "target_group_arn")
		if fw := blocks(r, block, i, "forward"); tgRes == nil && len(fw) > 0 {
			groups := blocks(r, block, i, "forward", 0, "target_group")
			if len(groups) > 1 {
				m.ps.Add(r.addr, at+".forward[0].target_group", "has %d weighted target groups: albmtls forwards to one", len(groups))
			}
			if len(groups) > 0 {
				tgRes, _ = m.pl.link(r, block, i, "forward", 0, "target_group", 0, "arn")
			}
			if st := blocks(r, block, i, "forward", 0, "stickiness"); len(st) > 0 {
				if on, _ := value(st, 0, "enabled").(bool); on {
					m.ps.Add(r.addr, at+".forward[0].stickiness", "is not emulated")
				}
			}
		}
		if tgRes == nil || m.names[tgRes] == "" {
			m.ps.Add(r.addr, at+".target_group_arn", "names no aws_lb_target_group of this plan")
			return a, false
		}
		a.TargetGroup = m.names[tgRes]
	case routing.ActionRedirect:
		a.Redirect = &config.Redirect{
			Protocol: str(r, block, i, "redirect", 0, "protocol"), Port: str(r, block, i, "redirect", 0, "port"),
			Host: str(r, block, i, "redirect", 0, "host"), Path: str(r, block, i, "redirect", 0, "path"),
			Query: str(r, block, i, "redirect", 0, "query"), StatusCode: albresponse.RedirectStatus(str(r, block, i, "redirect", 0, "status_code")),
		}
	case routing.ActionFixedResponse:
		a.FixedResponse = &config.FixedResponse{
			StatusCode: str(r, block, i, "fixed_response", 0, "status_code"), ContentType: str(r, block, i, "fixed_response", 0, "content_type"),
			MessageBody: str(r, block, i, "fixed_response", 0, "message_body"),
		}
	default:
		m.ps.Add(r.addr, at+".type", "is %q: only forward, redirect and fixed-response are emulated", a.Type)
		return a, false
	}
	return a, true
}

func (m *mapper) rule(r *resource) (config.Rule, bool) {
	rule := config.Rule{Priority: num(r, "priority")}
	acts := blocks(r, "action")
	if len(acts) > 1 {
		m.ps.Add(r.addr, "action[0]", "is not emulated: only a rule's last (forward, redirect or fixed-response) action is")
	}
	ok := len(acts) > 0
	if ok {
		rule.Action, ok = m.action(r, "action", len(acts)-1)
	}
	c := &rule.Conditions
	for i, cond := range blocks(r, "condition") {
		at := fmt.Sprintf("condition[%d]", i)
		for _, k := range sortedKeys(cond.(map[string]any)) {
			vals := func() []string {
				var out []string
				for _, v := range blocks(r, "condition", i, k) {
					l, _ := value(v, "values").([]any)
					for _, s := range l {
						out = append(out, fmt.Sprint(s))
					}
				}
				return out
			}
			if empty(value(cond, k)) {
				continue
			}
			switch k {
			case "path_pattern":
				c.PathPattern = append(c.PathPattern, vals()...)
			case "host_header":
				c.HostHeader = append(c.HostHeader, vals()...)
			case "http_request_method":
				c.HTTPRequestMethod = append(c.HTTPRequestMethod, vals()...)
			case "source_ip":
				c.SourceIP = append(c.SourceIP, vals()...)
			case "http_header":
				c.HTTPHeader = &config.HeaderCondition{Name: str(r, "condition", i, k, 0, "http_header_name"), Values: vals()}
			default:
				m.ps.Add(r.addr, at+"."+k, "is not emulated")
			}
		}
	}
	return rule, ok
}
