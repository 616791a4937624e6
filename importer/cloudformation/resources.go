package cloudformation

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/albmtls/albmtls/emulator/albresponse"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/routing"
	"github.com/albmtls/albmtls/emulator/targetgroup"
	"github.com/albmtls/albmtls/importer"
)

// obj is a resource's evaluated properties, with accessors that report a
// value the template cannot give before deployment.
type obj struct {
	m  *mapper
	id string
	v  map[string]any
}

func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func pathString(path ...any) string {
	var b strings.Builder
	for _, p := range path {
		switch k := p.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		}
	}
	return b.String()
}

func (o obj) has(path ...any) bool { return at(o.v, path...) != nil }

// str is the property as text; unresolvable values are reported.
func (o obj) str(path ...any) string {
	v := at(o.v, path...)
	if v == nil {
		return ""
	}
	if u, ok := v.(*unresolved); ok {
		o.m.ps.Add(o.id, pathString(path...), "cannot be resolved: %s", u.why)
		return ""
	}
	s, ok := o.m.t.text(v)
	if !ok {
		o.m.ps.Add(o.id, pathString(path...), "is known only after deployment")
	}
	return s
}

func (o obj) intAt(path ...any) (int, bool) {
	s := o.str(path...)
	if s == "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		o.m.ps.Add(o.id, pathString(path...), "is %q, not a number", s)
	}
	return n, err == nil
}

func (o obj) boolAt(path ...any) *bool {
	s := o.str(path...)
	if s == "" {
		return nil
	}
	b := s == "true"
	return &b
}

func (o obj) list(path ...any) []any {
	l, _ := at(o.v, path...).([]any)
	return l
}

// link is the logical ID a Ref or Fn::GetAtt property names ("" if none).
func (o obj) link(path ...any) string {
	r, _ := at(o.v, path...).(ref)
	return r.id
}

// only reports every property not in handled.
func (o obj) only(handled ...string) {
	for _, k := range sortedKeys(o.v) {
		ok := false
		for _, h := range handled {
			ok = ok || h == k
		}
		if !ok {
			o.m.ps.Add(o.id, k, "is not emulated")
		}
	}
}

// ignored are properties that do not shape what a client sees of the data
// plane on one laptop: placement, networking, tags.
var ignored = []string{"Tags", "VpcId", "Subnets", "SubnetMappings", "SecurityGroups", "Scheme", "IpAddressType", "LoadBalancerArn"}

func (m *mapper) s3(o obj, attr, bucket, key, version string) string {
	return m.opts.S3Object(&m.ps, o.id, attr, o.str(bucket), o.str(key), version, o.str(version))
}

func (m *mapper) trustStore(o obj) {
	name := or(o.str("Name"), o.id)
	m.names[o.id] = name
	m.cfg.TrustStores = append(m.cfg.TrustStores, config.TrustStore{Name: name,
		CACertificatesBundle: m.s3(o, "CaCertificatesBundleS3Key", "CaCertificatesBundleS3Bucket", "CaCertificatesBundleS3Key", "CaCertificatesBundleS3ObjectVersion")})
	o.only(append(ignored, "Name", "CaCertificatesBundleS3Bucket", "CaCertificatesBundleS3Key", "CaCertificatesBundleS3ObjectVersion")...)
}

func (m *mapper) revocation(o obj) {
	ts := o.link("TrustStoreArn")
	idx := -1
	for i := range m.cfg.TrustStores {
		if ts != "" && m.cfg.TrustStores[i].Name == m.names[ts] {
			idx = i
		}
	}
	if idx < 0 {
		m.ps.Add(o.id, "TrustStoreArn", "names no AWS::ElasticLoadBalancingV2::TrustStore of this template")
		return
	}
	for j := range o.list("RevocationContents") {
		base := fmt.Sprintf("RevocationContents[%d]", j)
		if t := o.str("RevocationContents", j, "RevocationType"); t != "" && t != "CRL" {
			m.ps.Add(o.id, base+".RevocationType", "is %q: only CRL is emulated", t)
		}
		f := m.opts.S3Object(&m.ps, o.id, base+".S3Key", o.str("RevocationContents", j, "S3Bucket"), o.str("RevocationContents", j, "S3Key"), base+".S3ObjectVersion", o.str("RevocationContents", j, "S3ObjectVersion"))
		if f != "" {
			m.cfg.TrustStores[idx].Revocations = append(m.cfg.TrustStores[idx].Revocations, f)
		}
	}
	o.only("TrustStoreArn", "RevocationContents")
}

func (m *mapper) targetGroup(o obj) {
	name := or(o.str("Name"), o.id)
	m.names[o.id] = name
	tg := config.TargetGroup{Name: name}
	switch p := o.str("Protocol"); p {
	case "", "HTTP":
	case "HTTPS":
		tg.Protocol = targetgroup.Protocol(p)
	default:
		m.ps.Add(o.id, "Protocol", "is %q: only HTTP and HTTPS target groups are emulated", p)
	}
	if t := o.str("TargetType"); t == "lambda" || t == "alb" {
		m.ps.Add(o.id, "TargetType", "is %q: only instance and ip targets are emulated", t)
	}
	if v := o.str("ProtocolVersion"); v == "HTTP2" || v == "GRPC" {
		m.ps.Add(o.id, "ProtocolVersion", "is %q: albmtls forwards HTTP/1.1", v)
	}
	port, _ := o.intAt("Port")
	for j := range o.list("Targets") {
		p, ok := o.intAt("Targets", j, "Port")
		if !ok {
			p = port
		}
		id := ""
		if r, ok := at(o.v, "Targets", j, "Id").(ref); ok {
			id = r.id // an instance of this template: --target LOGICALID=host:port
		} else {
			id = o.str("Targets", j, "Id")
		}
		if id == "" {
			continue // reported by str
		}
		if t, ok := m.opts.Target(&m.ps, o.id, fmt.Sprintf("Targets[%d].Id", j), id, p); ok {
			tg.Targets = append(tg.Targets, t)
		}
	}
	h := &tg.HealthCheck
	h.Enabled = o.boolAt("HealthCheckEnabled")
	h.Path = o.str("HealthCheckPath")
	if p := o.str("HealthCheckPort"); p != "traffic-port" {
		h.Port = p
	}
	if p := o.str("HealthCheckProtocol"); p != "" && p != "HTTP" && p != "HTTPS" {
		m.ps.Add(o.id, "HealthCheckProtocol", "is %q: only HTTP and HTTPS health checks are emulated", p)
	}
	n, _ := o.intAt("HealthCheckIntervalSeconds")
	h.Interval = config.Duration(int64(n) * 1e9)
	n, _ = o.intAt("HealthCheckTimeoutSeconds")
	h.Timeout = config.Duration(int64(n) * 1e9)
	h.HealthyThreshold, _ = o.intAt("HealthyThresholdCount")
	h.UnhealthyThreshold, _ = o.intAt("UnhealthyThresholdCount")
	h.Matcher = o.str("Matcher", "HttpCode")
	if o.has("Matcher", "GrpcCode") {
		m.ps.Add(o.id, "Matcher.GrpcCode", "is not emulated")
	}
	for j := range o.list("TargetGroupAttributes") {
		k, v := o.str("TargetGroupAttributes", j, "Key"), o.str("TargetGroupAttributes", j, "Value")
		if k == "stickiness.enabled" && v == "true" {
			m.ps.Add(o.id, fmt.Sprintf("TargetGroupAttributes[%d]", j), "stickiness.enabled is not emulated")
		}
	}
	o.only(append(ignored, "Name", "Protocol", "ProtocolVersion", "Port", "TargetType", "Targets", "HealthCheckEnabled", "HealthCheckPath",
		"HealthCheckPort", "HealthCheckProtocol", "HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds", "HealthyThresholdCount",
		"UnhealthyThresholdCount", "Matcher", "TargetGroupAttributes")...)
	m.cfg.TargetGroups = append(m.cfg.TargetGroups, tg)
}

func (m *mapper) listener(o obj) {
	port, _ := o.intAt("Port")
	l := config.Listener{Port: m.opts.Port(port), SSLPolicy: o.str("SslPolicy")}
	switch p := o.str("Protocol"); p {
	case "HTTP", "HTTPS":
		l.Protocol = listener.Protocol(p)
	default:
		m.ps.Add(o.id, "Protocol", "is %q: only HTTP and HTTPS listeners are emulated", p)
	}
	for j := range o.list("Certificates") {
		if c, ok := m.opts.Certificate(&m.ps, o.id, fmt.Sprintf("Certificates[%d].CertificateArn", j), o.str("Certificates", j, "CertificateArn")); ok {
			l.Certificates = append(l.Certificates, c)
		}
	}
	if o.has("MutualAuthentication") {
		ma := &l.MutualAuthentication
		ma.Mode = listener.Mode(o.str("MutualAuthentication", "Mode"))
		if ts := o.link("MutualAuthentication", "TrustStoreArn"); ts != "" && m.names[ts] != "" {
			ma.TrustStore = m.names[ts]
		} else if arn := o.str("MutualAuthentication", "TrustStoreArn"); arn != "" {
			// A trust store this template does not define (a parameter or a literal ARN).
			ma.TrustStore = m.opts.ExternalTrustStore(&m.cfg, &m.ps, o.id, "MutualAuthentication.TrustStoreArn", arn)
		} else if ma.Mode == listener.ModeVerify {
			m.ps.Add(o.id, "MutualAuthentication.TrustStoreArn", "names no AWS::ElasticLoadBalancingV2::TrustStore of this template")
		}
		if b := o.boolAt("MutualAuthentication", "IgnoreClientCertificateExpiry"); b != nil && *b {
			ma.IgnoreClientCertificateExpiry = b
		}
		ma.AdvertiseTrustStoreCaNames = listener.AdvertiseCANames(o.str("MutualAuthentication", "AdvertiseTrustStoreCaNames"))
	}
	for j := range o.list("ListenerAttributes") {
		k, v := o.str("ListenerAttributes", j, "Key"), o.str("ListenerAttributes", j, "Value")
		if !importer.SupportedListenerAttribute(k) {
			m.ps.Add(o.id, fmt.Sprintf("ListenerAttributes[%d]", j), "%s is not emulated", k)
			continue
		}
		if l.Attributes == nil {
			l.Attributes = map[string]string{}
		}
		l.Attributes[k] = v
	}
	acts := o.list("DefaultActions")
	if len(acts) > 0 {
		l.DefaultAction, _ = m.action(o, "DefaultActions", acts)
	}
	o.only(append(ignored, "Port", "Protocol", "SslPolicy", "Certificates", "MutualAuthentication", "ListenerAttributes", "DefaultActions")...)
	m.cfg.Listeners = append(m.cfg.Listeners, l)
}

// action maps the last of a list of actions (the earlier ones can only be
// authenticate actions, which are reported).
func (m *mapper) action(o obj, key string, acts []any) (config.Action, bool) {
	for j := range acts[:len(acts)-1] {
		m.ps.Add(o.id, fmt.Sprintf("%s[%d]", key, j), "is %s: authenticate actions are not emulated", o.str(key, j, "Type"))
	}
	i := len(acts) - 1
	base := fmt.Sprintf("%s[%d]", key, i)
	a := config.Action{Type: routing.ActionType(o.str(key, i, "Type"))}
	switch a.Type {
	case routing.ActionForward:
		tg := o.link(key, i, "TargetGroupArn")
		if groups := o.list(key, i, "ForwardConfig", "TargetGroups"); tg == "" && len(groups) > 0 {
			if len(groups) > 1 {
				m.ps.Add(o.id, base+".ForwardConfig.TargetGroups", "has %d weighted target groups: albmtls forwards to one", len(groups))
			}
			tg = o.link(key, i, "ForwardConfig", "TargetGroups", 0, "TargetGroupArn")
		}
		if o.boolAt(key, i, "ForwardConfig", "TargetGroupStickinessConfig", "Enabled") != nil && *o.boolAt(key, i, "ForwardConfig", "TargetGroupStickinessConfig", "Enabled") {
			m.ps.Add(o.id, base+".ForwardConfig.TargetGroupStickinessConfig", "is not emulated")
		}
		if m.names[tg] == "" {
			m.ps.Add(o.id, base+".TargetGroupArn", "names no AWS::ElasticLoadBalancingV2::TargetGroup of this template")
			return a, false
		}
		a.TargetGroup = m.names[tg]
	case routing.ActionRedirect:
		r := func(k string) string { return o.str(key, i, "RedirectConfig", k) }
		a.Redirect = &config.Redirect{Protocol: r("Protocol"), Port: r("Port"), Host: r("Host"), Path: r("Path"), Query: r("Query"),
			StatusCode: albresponse.RedirectStatus(r("StatusCode"))}
	case routing.ActionFixedResponse:
		f := func(k string) string { return o.str(key, i, "FixedResponseConfig", k) }
		a.FixedResponse = &config.FixedResponse{StatusCode: f("StatusCode"), ContentType: f("ContentType"), MessageBody: f("MessageBody")}
	default:
		m.ps.Add(o.id, base+".Type", "is %q: only forward, redirect and fixed-response are emulated", a.Type)
		return a, false
	}
	return a, true
}

func (m *mapper) rule(o obj) (config.Rule, bool) {
	n, _ := o.intAt("Priority")
	r := config.Rule{Priority: n}
	acts := o.list("Actions")
	ok := len(acts) > 0
	if ok {
		r.Action, ok = m.action(o, "Actions", acts)
	}
	c := &r.Conditions
	for j := range o.list("Conditions") {
		values := func(cfgKey string) []string {
			var out []string
			for k := range o.list("Conditions", j, cfgKey, "Values") {
				out = append(out, o.str("Conditions", j, cfgKey, "Values", k))
			}
			for k := range o.list("Conditions", j, "Values") {
				out = append(out, o.str("Conditions", j, "Values", k))
			}
			return out
		}
		switch f := o.str("Conditions", j, "Field"); f {
		case "path-pattern":
			c.PathPattern = append(c.PathPattern, values("PathPatternConfig")...)
		case "host-header":
			c.HostHeader = append(c.HostHeader, values("HostHeaderConfig")...)
		case "http-request-method":
			c.HTTPRequestMethod = append(c.HTTPRequestMethod, values("HttpRequestMethodConfig")...)
		case "source-ip":
			c.SourceIP = append(c.SourceIP, values("SourceIpConfig")...)
		case "http-header":
			c.HTTPHeader = &config.HeaderCondition{Name: o.str("Conditions", j, "HttpHeaderConfig", "HttpHeaderName"), Values: values("HttpHeaderConfig")}
		default:
			m.ps.Add(o.id, fmt.Sprintf("Conditions[%d].Field", j), "%s is not emulated", f)
		}
	}
	o.only("ListenerArn", "Priority", "Actions", "Conditions")
	return r, ok
}
