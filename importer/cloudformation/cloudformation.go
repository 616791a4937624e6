// Package cloudformation imports the ALB of a CloudFormation template, YAML
// or JSON, hand-written or synthesised by the CDK (`cdk synth`), into
// albmtls.yaml. Intrinsics are resolved within the template: Ref, Fn::GetAtt,
// Fn::Sub, Fn::Join, Fn::If with Conditions, Fn::Select, Fn::Split,
// Fn::FindInMap, both long form and short-form tags (!Ref, !GetAtt, !Sub …);
// parameters take their Default or a --parameter value. A reference to a
// resource (a trust store's ARN, a target group's) links by logical ID.
//
// It decodes the few ELBv2 resource types itself over go.yaml.in/yaml/v3
// rather than with goformation: goformation's
// Listener_MutualAuthentication has no AdvertiseTrustStoreCaNames, it
// refuses properties it does not know (new ones appear in CloudFormation
// before it is regenerated), and it would not tell us which property it
// dropped, while every unmapped property must be reported by name.
package cloudformation

import (
	"fmt"
	"sort"

	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/importer"
)

// Options are the shared importer options plus the template's parameters.
type Options struct {
	importer.Options
	// Parameters override parameter defaults (`--parameter K=V`).
	Parameters map[string]string
	// Region, AccountID and StackName are the pseudo parameters
	// (defaults eu-west-1, 123456789012, albmtls).
	Region, AccountID, StackName string
}

// Import maps a template to a config; every property it cannot map is in
// the Problems, sorted.
func Import(data []byte, opts Options) (*config.Config, importer.Problems, error) {
	doc, err := decode(data)
	if err != nil {
		return nil, nil, fmt.Errorf("cloudformation: reading the template: %w", err)
	}
	t := &template{resources: map[string]map[string]any{}, params: map[string]any{},
		region: or(opts.Region, "eu-west-1"), account: or(opts.AccountID, "123456789012"), stack: or(opts.StackName, "albmtls")}
	t.mappings, _ = doc["Mappings"].(map[string]any)
	t.conditions, _ = doc["Conditions"].(map[string]any)
	res, _ := doc["Resources"].(map[string]any)
	for id, r := range res {
		if m, ok := r.(map[string]any); ok {
			t.resources[id] = m
		}
	}
	m := &mapper{t: t, opts: opts.Options, names: map[string]string{}}
	params, _ := doc["Parameters"].(map[string]any)
	for _, k := range sortedKeys(params) {
		p, _ := params[k].(map[string]any)
		if v, ok := opts.Parameters[k]; ok {
			t.params[k] = v
		} else if d, ok := p["Default"]; ok {
			t.params[k] = d
		} else {
			t.params[k] = &unresolved{why: fmt.Sprintf("parameter %s has no Default: pass --parameter %s=VALUE", k, k)}
		}
	}
	for k := range opts.Parameters {
		if _, ok := params[k]; !ok {
			m.ps.Add("Parameters", k, "is given with --parameter but the template declares no such parameter")
		}
	}
	m.run()
	m.ps.Sort()
	return &m.cfg, m.ps, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

const (
	typeLB          = "AWS::ElasticLoadBalancingV2::LoadBalancer"
	typeListener    = "AWS::ElasticLoadBalancingV2::Listener"
	typeRule        = "AWS::ElasticLoadBalancingV2::ListenerRule"
	typeListenerCrt = "AWS::ElasticLoadBalancingV2::ListenerCertificate"
	typeTG          = "AWS::ElasticLoadBalancingV2::TargetGroup"
	typeTS          = "AWS::ElasticLoadBalancingV2::TrustStore"
	typeRevocation  = "AWS::ElasticLoadBalancingV2::TrustStoreRevocation"
)

type mapper struct {
	t     *template
	opts  importer.Options
	cfg   config.Config
	ps    importer.Problems
	names map[string]string // logical ID of a trust store or target group → config name
}

// props evaluates a resource's Properties, or nil when its Condition is false.
func (m *mapper) props(id string) (obj, bool) {
	r := m.t.resources[id]
	if c, ok := r["Condition"].(string); ok && !m.t.condition(c) {
		return obj{}, false
	}
	p, _ := m.t.eval(r["Properties"]).(map[string]any)
	return obj{m: m, id: id, v: p}, true
}

func (m *mapper) run() {
	for _, typ := range m.t.unknownELB() {
		m.ps.Add(typ[0], "Type", "%s is not emulated", typ[1])
	}
	for i, id := range m.t.ids(typeLB) {
		p, ok := m.props(id)
		if !ok {
			continue
		}
		if i > 0 {
			m.ps.Add(id, "", "is a second load balancer: albmtls emulates one")
			continue
		}
		m.cfg.LoadBalancer.Name = or(p.str("Name"), id)
		if typ := p.str("Type"); typ != "" && typ != "application" {
			m.ps.Add(id, "Type", "is %q: only application load balancers are emulated", typ)
		}
		for j := range p.list("LoadBalancerAttributes") {
			k, v := p.str("LoadBalancerAttributes", j, "Key"), p.str("LoadBalancerAttributes", j, "Value")
			if k == "idle_timeout.timeout_seconds" {
				n, _ := p.intAt("LoadBalancerAttributes", j, "Value")
				m.cfg.LoadBalancer.IdleTimeout = config.Duration(int64(n) * 1e9)
				continue
			}
			if importer.ControlPlaneAttribute(k) {
				continue
			}
			if !importer.SupportedLoadBalancerAttribute(k) {
				m.ps.Add(id, fmt.Sprintf("LoadBalancerAttributes[%d]", j), "%s is not emulated", k)
				continue
			}
			if m.cfg.LoadBalancer.Attributes == nil {
				m.cfg.LoadBalancer.Attributes = map[string]string{}
			}
			m.cfg.LoadBalancer.Attributes[k] = v
		}
	}
	for _, id := range m.t.ids(typeTS) {
		if p, ok := m.props(id); ok {
			m.trustStore(p)
		}
	}
	for _, id := range m.t.ids(typeRevocation) {
		if p, ok := m.props(id); ok {
			m.revocation(p)
		}
	}
	for _, id := range m.t.ids(typeTG) {
		if p, ok := m.props(id); ok {
			m.targetGroup(p)
		}
	}
	listeners := map[string]int{}
	for _, id := range m.t.ids(typeListener) {
		if p, ok := m.props(id); ok {
			listeners[id] = len(m.cfg.Listeners)
			m.listener(p)
		}
	}
	for _, id := range m.t.ids(typeListenerCrt) {
		p, ok := m.props(id)
		if !ok {
			continue
		}
		i, ok := listeners[p.link("ListenerArn")]
		if !ok {
			m.ps.Add(id, "ListenerArn", "names no listener of this template")
			continue
		}
		for j := range p.list("Certificates") {
			if c, ok := m.opts.Certificate(&m.ps, id, fmt.Sprintf("Certificates[%d].CertificateArn", j), p.str("Certificates", j, "CertificateArn")); ok {
				m.cfg.Listeners[i].Certificates = append(m.cfg.Listeners[i].Certificates, c)
			}
		}
	}
	for _, id := range m.t.ids(typeRule) {
		p, ok := m.props(id)
		if !ok {
			continue
		}
		i, ok := listeners[p.link("ListenerArn")]
		if !ok {
			m.ps.Add(id, "ListenerArn", "names no listener of this template")
			continue
		}
		if r, ok := m.rule(p); ok {
			m.cfg.Listeners[i].Rules = append(m.cfg.Listeners[i].Rules, r)
		}
	}
	for _, l := range m.cfg.Listeners {
		sort.SliceStable(l.Rules, func(a, b int) bool { return l.Rules[a].Priority < l.Rules[b].Priority })
	}
}

// unknownELB lists ELBv2 resources of types albmtls does not map; other
// services' resources (IAM, EC2, CDK metadata) do not shape the data plane
// and are left alone.
func (t *template) unknownELB() [][2]string {
	known := map[string]bool{typeLB: true, typeListener: true, typeRule: true, typeListenerCrt: true, typeTG: true, typeTS: true, typeRevocation: true}
	var out [][2]string
	for id, r := range t.resources {
		typ, _ := r["Type"].(string)
		if len(typ) > 28 && typ[:28] == "AWS::ElasticLoadBalancingV2:" && !known[typ] {
			out = append(out, [2]string{id, typ})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}
