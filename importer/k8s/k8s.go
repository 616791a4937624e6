// Package k8s imports the ALB the AWS Load Balancer Controller builds for
// an Ingress into albmtls.yaml: the listen ports, certificates, security
// policy, SSL redirect, mutual authentication and listener attributes of
// the alb.ingress.kubernetes.io annotations, the health check annotations,
// the actions.NAME annotations, and the Ingress rules (host and path) with
// their backend services as target groups.
//
// Trust stores are named by the annotation, not defined in the cluster, so
// their files come from --trust-store; a backend service's pods from
// --target SERVICE:PORT=host:port.
package k8s

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/albmtls/albmtls/emulator/albresponse"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/routing"
	"github.com/albmtls/albmtls/emulator/targetgroup"
	"github.com/albmtls/albmtls/importer"
)

// prefix is the controller's annotation prefix.
const prefix = "alb.ingress.kubernetes.io/"

type ingress struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name        string            `yaml:"name"`
		Namespace   string            `yaml:"namespace"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Spec struct {
		DefaultBackend *backend `yaml:"defaultBackend"`
		Rules          []struct {
			Host string `yaml:"host"`
			HTTP struct {
				Paths []struct {
					Path     string  `yaml:"path"`
					PathType string  `yaml:"pathType"`
					Backend  backend `yaml:"backend"`
				} `yaml:"paths"`
			} `yaml:"http"`
		} `yaml:"rules"`
	} `yaml:"spec"`
}

type backend struct {
	Service struct {
		Name string `yaml:"name"`
		Port struct {
			Number int    `yaml:"number"`
			Name   string `yaml:"name"`
		} `yaml:"port"`
	} `yaml:"service"`
}

// Import maps the Ingress objects of a (multi-document) YAML file into one
// config: the controller merges an IngressGroup into one ALB the same way.
func Import(data []byte, opts importer.Options) (*config.Config, importer.Problems, error) {
	m := &mapper{opts: opts, groups: map[string]bool{}}
	var gw gatewayObjects
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for n := 0; ; n++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		var head struct {
			Kind string `yaml:"kind"`
		}
		if err == nil {
			err = doc.Decode(&head)
		}
		switch {
		case err != nil:
		case head.Kind == "Ingress":
			var ing ingress
			if err = doc.Decode(&ing); err == nil {
				m.ingress(&ing)
			}
		default:
			err = gw.add(head.Kind, &doc)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("k8s: document %d: %w", n+1, err)
		}
	}
	m.gateways(&gw)
	if len(m.cfg.Listeners) == 0 {
		m.ps.Add("input", "", "has no Ingress and no Gateway with listeners")
	}
	m.ps.Sort()
	return &m.cfg, m.ps, nil
}

type mapper struct {
	opts   importer.Options
	cfg    config.Config
	ps     importer.Problems
	groups map[string]bool
}

// handled are the annotations mapped, or passed over because they concern
// only AWS (subnets, tags, scheme, WAF, Shield).
var handled = map[string]bool{
	"listen-ports": true, "certificate-arn": true, "ssl-policy": true, "ssl-redirect": true,
	"mutual-authentication": true, "load-balancer-name": true, "load-balancer-attributes": true,
	"target-type": true, "backend-protocol": true, "healthcheck-path": true, "healthcheck-port": true,
	"healthcheck-protocol": true, "healthcheck-interval-seconds": true, "healthcheck-timeout-seconds": true,
	"healthy-threshold-count": true, "unhealthy-threshold-count": true, "success-codes": true,
	"scheme": true, "subnets": true, "security-groups": true, "tags": true, "group.name": true,
	"group.order": true, "ip-address-type": true, "manage-backend-security-group-rules": true,
}

func (m *mapper) ingress(ing *ingress) {
	addr := "Ingress/" + ing.Metadata.Name
	if ing.Metadata.Namespace != "" {
		addr = "Ingress/" + ing.Metadata.Namespace + "/" + ing.Metadata.Name
	}
	ann := map[string]string{}
	for k, v := range ing.Metadata.Annotations {
		if name, ok := strings.CutPrefix(k, prefix); ok {
			ann[name] = v
		}
	}
	at := func(k string) string { return "metadata.annotations." + prefix + k }
	for _, k := range sortedKeys(ann) {
		if !handled[k] && !strings.HasPrefix(k, "listener-attributes.") && !strings.HasPrefix(k, "actions.") {
			m.ps.Add(addr, at(k), "is not emulated")
		}
	}
	m.cfg.LoadBalancer.Name = ann["load-balancer-name"]
	for _, kv := range splitList(ann["load-balancer-attributes"]) {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "idle_timeout.timeout_seconds":
			n, _ := strconv.Atoi(v)
			m.cfg.LoadBalancer.IdleTimeout = config.Duration(int64(n) * 1e9)
		case importer.ControlPlaneAttribute(k):
		case importer.SupportedLoadBalancerAttribute(k):
			if m.cfg.LoadBalancer.Attributes == nil {
				m.cfg.LoadBalancer.Attributes = map[string]string{}
			}
			m.cfg.LoadBalancer.Attributes[k] = v
		default:
			m.ps.Add(addr, at("load-balancer-attributes"), "%s is not emulated", k)
		}
	}

	// Target groups, one per backend service port, and the rules.
	var rules []config.Rule
	for i, r := range ing.Spec.Rules {
		for j, p := range r.HTTP.Paths {
			ap := fmt.Sprintf("spec.rules[%d].http.paths[%d]", i, j)
			a, ok := m.backendAction(addr, ap+".backend", ann, p.Backend)
			if !ok {
				continue
			}
			rule := config.Rule{Priority: len(rules) + 1, Action: a}
			if r.Host != "" {
				rule.Conditions.HostHeader = []string{r.Host}
			}
			switch p.PathType {
			case "Exact":
				rule.Conditions.PathPattern = []string{p.Path}
			case "Prefix":
				base := strings.TrimSuffix(p.Path, "/")
				if base == "" {
					rule.Conditions.PathPattern = []string{"/*"}
				} else {
					rule.Conditions.PathPattern = []string{base, base + "/*"}
				}
			default: // ImplementationSpecific: the path is an ALB pattern
				if p.Path != "" {
					rule.Conditions.PathPattern = []string{p.Path}
				}
			}
			rules = append(rules, rule)
		}
	}
	// The controller answers what no rule matches with a 404.
	def := config.Action{Type: routing.ActionFixedResponse, FixedResponse: &config.FixedResponse{StatusCode: "404"}}
	if ing.Spec.DefaultBackend != nil {
		if a, ok := m.backendAction(addr, "spec.defaultBackend", ann, *ing.Spec.DefaultBackend); ok {
			def = a
		}
	}

	ports := m.listenPorts(addr, at("listen-ports"), ann["listen-ports"], ann["certificate-arn"] != "")
	mtls := m.mutualAuthentication(addr, at("mutual-authentication"), ann["mutual-authentication"])
	redirect := ann["ssl-redirect"]
	for _, lp := range ports {
		l := config.Listener{Port: m.opts.Port(lp.port), Protocol: lp.protocol, DefaultAction: def, Rules: rules}
		if lp.protocol == listener.ProtocolHTTPS {
			// The controller's default policy when ssl-policy is absent.
			l.SSLPolicy = cmpOr(ann["ssl-policy"], "ELBSecurityPolicy-2016-08")
			arns := splitList(ann["certificate-arn"])
			if len(arns) == 0 {
				m.ps.Add(addr, at("certificate-arn"), "is missing: the HTTPS listener needs a certificate (the controller would discover one from the hosts)")
			}
			for _, arn := range arns {
				if c, ok := m.opts.Certificate(&m.ps, addr, at("certificate-arn"), arn); ok {
					l.Certificates = append(l.Certificates, c)
				}
			}
			if ma, ok := mtls[lp.port]; ok {
				l.MutualAuthentication = ma
			}
		} else if redirect != "" {
			l.DefaultAction = config.Action{Type: routing.ActionRedirect, Redirect: &config.Redirect{Protocol: "HTTPS", Port: redirect, StatusCode: albresponse.RedirectStatus("HTTP_301")}}
			l.Rules = nil
		}
		key := fmt.Sprintf("listener-attributes.%s-%d", lp.protocol, lp.port)
		for _, kv := range splitList(ann[key]) {
			k, v, _ := strings.Cut(kv, "=")
			if !importer.SupportedListenerAttribute(k) {
				m.ps.Add(addr, at(key), "%s is not emulated", k)
				continue
			}
			if l.Attributes == nil {
				l.Attributes = map[string]string{}
			}
			l.Attributes[k] = v
		}
		m.cfg.Listeners = append(m.cfg.Listeners, l)
	}
}

type listenPort struct {
	protocol listener.Protocol
	port     int
}

// listenPorts reads listen-ports ('[{"HTTP": 80}, {"HTTPS": 443}]'); the
// controller's default is HTTP 80, or HTTPS 443 with a certificate.
func (m *mapper) listenPorts(addr, at, s string, tls bool) []listenPort {
	if s == "" {
		if tls {
			return []listenPort{{listener.ProtocolHTTPS, 443}}
		}
		return []listenPort{{listener.ProtocolHTTP, 80}}
	}
	var l []map[string]int
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		m.ps.Add(addr, at, "is not a JSON list like [{\"HTTPS\": 443}]: %v", err)
		return nil
	}
	var out []listenPort
	for _, e := range l {
		for proto, port := range e {
			out = append(out, listenPort{listener.Protocol(proto), port})
		}
	}
	return out
}

// mutualAuthentication reads the annotation's JSON list, one entry per port.
func (m *mapper) mutualAuthentication(addr, at, s string) map[int]config.MutualAuthentication {
	out := map[int]config.MutualAuthentication{}
	if s == "" {
		return out
	}
	var l []struct {
		Port                          int    `json:"port"`
		Mode                          string `json:"mode"`
		TrustStore                    string `json:"trustStore"`
		IgnoreClientCertificateExpiry *bool  `json:"ignoreClientCertificateExpiry"`
		AdvertiseTrustStoreCaNames    string `json:"advertiseTrustStoreCaNames"`
	}
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		m.ps.Add(addr, at, "is not a JSON list like [{\"port\": 443, \"mode\": \"verify\", \"trustStore\": \"NAME\"}]: %v", err)
		return out
	}
	for _, e := range l {
		ma := config.MutualAuthentication{Mode: listener.Mode(e.Mode), AdvertiseTrustStoreCaNames: listener.AdvertiseCANames(e.AdvertiseTrustStoreCaNames)}
		if e.IgnoreClientCertificateExpiry != nil && *e.IgnoreClientCertificateExpiry {
			ma.IgnoreClientCertificateExpiry = e.IgnoreClientCertificateExpiry
		}
		if e.TrustStore != "" {
			ma.TrustStore = m.trustStore(addr, at, e.TrustStore)
		}
		out[e.Port] = ma
	}
	return out
}

// trustStore adds the local files of a trust store named by name or ARN.
func (m *mapper) trustStore(addr, at, ref string) string {
	return m.opts.ExternalTrustStore(&m.cfg, &m.ps, addr, at, ref)
}

// backendAction is a forward to the service port's target group, or the
// actions.NAME annotation when the port is "use-annotation".
func (m *mapper) backendAction(addr, at string, ann map[string]string, b backend) (config.Action, bool) {
	svc := b.Service.Name
	if b.Service.Port.Name == "use-annotation" {
		return m.annotatedAction(addr, "metadata.annotations."+prefix+"actions."+svc, ann["actions."+svc])
	}
	port := strconv.Itoa(b.Service.Port.Number)
	if b.Service.Port.Number == 0 {
		port = b.Service.Port.Name
	}
	name := svc + "-" + port
	if !m.groups[name] {
		m.groups[name] = true
		tg := config.TargetGroup{Name: name}
		if p := ann["backend-protocol"]; p == "HTTPS" {
			tg.Protocol = targetgroup.Protocol(p)
		}
		id := svc + ":" + port
		if t, ok := m.opts.Target(&m.ps, addr, at+".service", id, 0); ok {
			tg.Targets = []string{t}
		}
		h := &tg.HealthCheck
		h.Path = ann["healthcheck-path"]
		if p := ann["healthcheck-port"]; p != "traffic-port" {
			h.Port = p
		}
		h.Interval = secs(ann["healthcheck-interval-seconds"])
		h.Timeout = secs(ann["healthcheck-timeout-seconds"])
		h.HealthyThreshold, _ = strconv.Atoi(ann["healthy-threshold-count"])
		h.UnhealthyThreshold, _ = strconv.Atoi(ann["unhealthy-threshold-count"])
		h.Matcher = ann["success-codes"]
		m.cfg.TargetGroups = append(m.cfg.TargetGroups, tg)
	}
	return config.Action{Type: routing.ActionForward, TargetGroup: name}, true
}

func secs(s string) config.Duration {
	n, _ := strconv.Atoi(s)
	return config.Duration(int64(n) * 1e9)
}

// annotatedAction reads an actions.NAME annotation (the controller's JSON
// form of an ALB action).
func (m *mapper) annotatedAction(addr, at, s string) (config.Action, bool) {
	var a struct {
		Type                string `json:"type"`
		FixedResponseConfig *struct {
			ContentType string `json:"contentType"`
			StatusCode  string `json:"statusCode"`
			MessageBody string `json:"messageBody"`
		} `json:"fixedResponseConfig"`
		RedirectConfig *struct {
			Protocol, Port, Host, Path, Query, StatusCode string
		} `json:"redirectConfig"`
	}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		m.ps.Add(addr, at, "is not an action in JSON: %v", err)
		return config.Action{}, false
	}
	switch routing.ActionType(a.Type) {
	case routing.ActionFixedResponse:
		if a.FixedResponseConfig != nil {
			f := a.FixedResponseConfig
			return config.Action{Type: routing.ActionFixedResponse, FixedResponse: &config.FixedResponse{StatusCode: f.StatusCode, ContentType: f.ContentType, MessageBody: f.MessageBody}}, true
		}
	case routing.ActionRedirect:
		if r := a.RedirectConfig; r != nil {
			return config.Action{Type: routing.ActionRedirect, Redirect: &config.Redirect{Protocol: r.Protocol, Port: r.Port, Host: r.Host, Path: r.Path, Query: r.Query, StatusCode: albresponse.RedirectStatus(r.StatusCode)}}, true
		}
	}
	m.ps.Add(addr, at, "is a %q action: only fixed-response and redirect annotations are emulated", a.Type)
	return config.Action{}, false
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
