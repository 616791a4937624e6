package k8s

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/routing"
	"github.com/albmtls/albmtls/importer"
)

// The Gateway API objects the controller builds an ALB from: a Gateway
// (listeners), its LoadBalancerConfiguration (gateway.k8s.aws: per-port
// certificates, security policy, mutualAuthentication, listener
// attributes) and the HTTPRoutes attached to it.
type gatewayObjects struct {
	gateways []gateway
	configs  map[string]lbConfig
	routes   []httpRoute
}

type meta struct {
	Name string `yaml:"name"`
}

type gateway struct {
	Metadata meta `yaml:"metadata"`
	Spec     struct {
		Infrastructure struct {
			ParametersRef struct {
				Kind string `yaml:"kind"`
				Name string `yaml:"name"`
			} `yaml:"parametersRef"`
		} `yaml:"infrastructure"`
		Listeners []struct {
			Name     string `yaml:"name"`
			Protocol string `yaml:"protocol"`
			Port     int    `yaml:"port"`
		} `yaml:"listeners"`
	} `yaml:"spec"`
}

type keyValue struct {
	Key   string `yaml:"key"`
	Value string `yaml:"value"`
}

type lbConfig struct {
	Metadata meta `yaml:"metadata"`
	Spec     struct {
		LoadBalancerName       string     `yaml:"loadBalancerName"`
		LoadBalancerAttributes []keyValue `yaml:"loadBalancerAttributes"`
		ListenerConfigurations []struct {
			ProtocolPort         string   `yaml:"protocolPort"`
			DefaultCertificate   string   `yaml:"defaultCertificate"`
			Certificates         []string `yaml:"certificates"`
			SSLPolicy            string   `yaml:"sslPolicy"`
			MutualAuthentication *struct {
				Mode                          string `yaml:"mode"`
				TrustStore                    string `yaml:"trustStore"`
				IgnoreClientCertificateExpiry *bool  `yaml:"ignoreClientCertificateExpiry"`
				AdvertiseTrustStoreCaNames    string `yaml:"advertiseTrustStoreCaNames"`
			} `yaml:"mutualAuthentication"`
			ListenerAttributes []keyValue `yaml:"listenerAttributes"`
			AlpnPolicy         string     `yaml:"alpnPolicy"`
		} `yaml:"listenerConfigurations"`
	} `yaml:"spec"`
}

type httpRoute struct {
	Metadata meta `yaml:"metadata"`
	Spec     struct {
		ParentRefs []struct {
			Name        string `yaml:"name"`
			SectionName string `yaml:"sectionName"`
		} `yaml:"parentRefs"`
		Hostnames []string `yaml:"hostnames"`
		Rules     []struct {
			Matches     []routeMatch `yaml:"matches"`
			BackendRefs []struct {
				Name string `yaml:"name"`
				Port int    `yaml:"port"`
			} `yaml:"backendRefs"`
			Filters []yaml.Node `yaml:"filters"`
		} `yaml:"rules"`
	} `yaml:"spec"`
}

// routeMatch is one HTTPRoute match; all its parts must hold.
type routeMatch struct {
	Path *struct {
		Type  string `yaml:"type"`
		Value string `yaml:"value"`
	} `yaml:"path"`
	Method  string      `yaml:"method"`
	Headers []yaml.Node `yaml:"headers"`
	Query   []yaml.Node `yaml:"queryParams"`
}

func (g *gatewayObjects) add(kind string, doc *yaml.Node) error {
	switch kind {
	case "Gateway":
		var o gateway
		if err := doc.Decode(&o); err != nil {
			return err
		}
		g.gateways = append(g.gateways, o)
	case "LoadBalancerConfiguration":
		var o lbConfig
		if err := doc.Decode(&o); err != nil {
			return err
		}
		if g.configs == nil {
			g.configs = map[string]lbConfig{}
		}
		g.configs[o.Metadata.Name] = o
	case "HTTPRoute":
		var o httpRoute
		if err := doc.Decode(&o); err != nil {
			return err
		}
		g.routes = append(g.routes, o)
	}
	return nil
}

func (m *mapper) gateways(g *gatewayObjects) {
	for _, gw := range g.gateways {
		addr := "Gateway/" + gw.Metadata.Name
		ref := gw.Spec.Infrastructure.ParametersRef
		lbc, hasConfig := g.configs[ref.Name]
		if ref.Name != "" && (!hasConfig || ref.Kind != "LoadBalancerConfiguration") {
			m.ps.Add(addr, "spec.infrastructure.parametersRef", "names %s %q, which is not in the input", ref.Kind, ref.Name)
		}
		caddr := "LoadBalancerConfiguration/" + lbc.Metadata.Name
		if hasConfig {
			m.cfg.LoadBalancer.Name = lbc.Spec.LoadBalancerName
			for i, kv := range lbc.Spec.LoadBalancerAttributes {
				switch {
				case kv.Key == "idle_timeout.timeout_seconds":
					m.cfg.LoadBalancer.IdleTimeout = secs(kv.Value)
				case importer.ControlPlaneAttribute(kv.Key):
				case importer.SupportedLoadBalancerAttribute(kv.Key):
					if m.cfg.LoadBalancer.Attributes == nil {
						m.cfg.LoadBalancer.Attributes = map[string]string{}
					}
					m.cfg.LoadBalancer.Attributes[kv.Key] = kv.Value
				default:
					m.ps.Add(caddr, fmt.Sprintf("spec.loadBalancerAttributes[%d]", i), "%s is not emulated", kv.Key)
				}
			}
		}
		for _, gl := range gw.Spec.Listeners {
			l := config.Listener{Port: m.opts.Port(gl.Port), Protocol: listener.Protocol(gl.Protocol),
				DefaultAction: config.Action{Type: routing.ActionFixedResponse, FixedResponse: &config.FixedResponse{StatusCode: "404"}}}
			pp := gl.Protocol + ":" + strconv.Itoa(gl.Port)
			for i, lc := range lbc.Spec.ListenerConfigurations {
				if lc.ProtocolPort != pp {
					continue
				}
				at := fmt.Sprintf("spec.listenerConfigurations[%d]", i)
				l.SSLPolicy = lc.SSLPolicy
				for _, arn := range append([]string{lc.DefaultCertificate}, lc.Certificates...) {
					if arn == "" {
						continue
					}
					if c, ok := m.opts.Certificate(&m.ps, caddr, at+".defaultCertificate", arn); ok {
						l.Certificates = append(l.Certificates, c)
					}
				}
				if ma := lc.MutualAuthentication; ma != nil {
					l.MutualAuthentication = config.MutualAuthentication{Mode: listener.Mode(ma.Mode), AdvertiseTrustStoreCaNames: listener.AdvertiseCANames(ma.AdvertiseTrustStoreCaNames)}
					if ma.IgnoreClientCertificateExpiry != nil && *ma.IgnoreClientCertificateExpiry {
						l.MutualAuthentication.IgnoreClientCertificateExpiry = ma.IgnoreClientCertificateExpiry
					}
					if ma.TrustStore != "" {
						l.MutualAuthentication.TrustStore = m.trustStore(caddr, at+".mutualAuthentication.trustStore", ma.TrustStore)
					}
				}
				for j, kv := range lc.ListenerAttributes {
					if !importer.SupportedListenerAttribute(kv.Key) {
						m.ps.Add(caddr, fmt.Sprintf("%s.listenerAttributes[%d]", at, j), "%s is not emulated", kv.Key)
						continue
					}
					if l.Attributes == nil {
						l.Attributes = map[string]string{}
					}
					l.Attributes[kv.Key] = kv.Value
				}
				if lc.AlpnPolicy != "" && lc.AlpnPolicy != "None" {
					m.ps.Add(caddr, at+".alpnPolicy", "is not emulated")
				}
			}
			if l.Protocol == listener.ProtocolHTTPS && len(l.Certificates) == 0 {
				m.ps.Add(addr, "spec.listeners."+gl.Name, "is HTTPS but its LoadBalancerConfiguration gives no defaultCertificate for %s", pp)
			}
			l.Rules = m.routeRules(g.routes, gw.Metadata.Name, gl.Name)
			m.cfg.Listeners = append(m.cfg.Listeners, l)
		}
	}
}

// routeRules are the rules of the HTTPRoutes attached to one listener.
func (m *mapper) routeRules(routes []httpRoute, gateway, section string) []config.Rule {
	var out []config.Rule
	for _, rt := range routes {
		attached := false
		for _, p := range rt.Spec.ParentRefs {
			attached = attached || (p.Name == gateway && (p.SectionName == "" || p.SectionName == section))
		}
		if !attached {
			continue
		}
		addr := "HTTPRoute/" + rt.Metadata.Name
		for i, r := range rt.Spec.Rules {
			at := fmt.Sprintf("spec.rules[%d]", i)
			if len(r.Filters) > 0 {
				m.ps.Add(addr, at+".filters", "are not emulated")
			}
			if len(r.BackendRefs) == 0 {
				m.ps.Add(addr, at+".backendRefs", "is empty")
				continue
			}
			if len(r.BackendRefs) > 1 {
				m.ps.Add(addr, at+".backendRefs", "has %d weighted backends: albmtls forwards to one", len(r.BackendRefs))
			}
			var b backend
			b.Service.Name, b.Service.Port.Number = r.BackendRefs[0].Name, r.BackendRefs[0].Port
			a, ok := m.backendAction(addr, at+".backendRefs[0]", nil, b)
			if !ok {
				continue
			}
			matches := r.Matches
			if len(matches) == 0 {
				matches = append(matches, routeMatch{})
			}
			for j, mt := range matches {
				rule := config.Rule{Priority: len(out) + 1, Action: a}
				rule.Conditions.HostHeader = rt.Spec.Hostnames
				if mt.Method != "" {
					rule.Conditions.HTTPRequestMethod = []string{mt.Method}
				}
				if len(mt.Headers) > 0 || len(mt.Query) > 0 {
					m.ps.Add(addr, fmt.Sprintf("%s.matches[%d]", at, j), "header and query matches are not emulated")
				}
				if p := mt.Path; p != nil {
					switch p.Type {
					case "Exact":
						rule.Conditions.PathPattern = []string{p.Value}
					case "", "PathPrefix":
						if base := strings.TrimSuffix(p.Value, "/"); base == "" {
							rule.Conditions.PathPattern = []string{"/*"}
						} else {
							rule.Conditions.PathPattern = []string{base, base + "/*"}
						}
					default:
						m.ps.Add(addr, fmt.Sprintf("%s.matches[%d].path.type", at, j), "%s is not emulated", p.Type)
					}
				}
				out = append(out, rule)
			}
		}
	}
	return out
}
