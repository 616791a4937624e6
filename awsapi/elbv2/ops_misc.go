package elbv2

import (
	"slices"

	"github.com/albmtls/albmtls/emulator/awsarn"
	"github.com/albmtls/albmtls/emulator/sslpolicy"
	"github.com/albmtls/albmtls/internal/boundedio"
)

// maxTags is ELBv2's quota of tags per resource (50).
const maxTags = 50

func describeSSLPolicies(r *request) (any, *apiError) {
	if e := r.p.pageSize(); e != nil {
		return nil, e
	}
	if t := r.p.str("LoadBalancerType"); t != "" && t != lbTypeApplication && t != "network" {
		return nil, errf(codeValidation, "LoadBalancerType %q is not valid; use application or network", t)
	}
	names := r.p.list("Names")
	if len(names) == 0 {
		names = sslpolicy.Names()
	}
	var out []xSSLPolicy
	for _, n := range names {
		pol, err := sslpolicy.Lookup(n)
		if err != nil {
			return nil, errf(codeSSLPolicyNotFound, "%v", err)
		}
		x := xSSLPolicy{Name: pol.Name, SupportedLoadBalancerTypes: []string{lbTypeApplication, "network"}}
		for v := pol.MinVersion; v <= pol.MaxVersion && v != 0; v++ {
			if name := sslpolicy.VersionName(v); name != "" {
				x.SslProtocols = append(x.SslProtocols, name)
			}
		}
		prio := 1
		for _, c := range append(slices.Clone(pol.TLS13Ciphers), pol.Ciphers...) {
			x.Ciphers = append(x.Ciphers, xCipher{Name: c, Priority: prio})
			prio++
		}
		out = append(out, x)
	}
	return struct {
		SslPolicies []xSSLPolicy `xml:"SslPolicies>member"`
	}{out}, nil
}

// readTags reads KEY.member.N.Key/Value.
func readTags(p params, key string) ([]tag, *apiError) {
	var out []tag
	for _, mem := range p.members(key) {
		k := p.str(mem + ".Key")
		if k == "" || len(k) > 128 {
			return nil, errf(codeValidation, "%s.Key must be 1–128 characters", mem)
		}
		if slices.ContainsFunc(out, func(t tag) bool { return t.Key == k }) {
			return nil, errf(codeDuplicateTagKeys, "tag key %q is given twice", k)
		}
		out = append(out, tag{Key: k, Value: p.str(mem + ".Value")})
	}
	if len(out) > maxTags {
		return nil, errf(codeTooManyTags, "%d tags exceed the quota of %d per resource", len(out), maxTags)
	}
	return out, nil
}

// resourceExists checks that an ARN names a resource of the model, with
// the not-found error of its type.
func resourceExists(m *model, arn string) *apiError {
	a, err := awsarn.Parse(arn)
	if err != nil {
		return errf(codeValidation, "%v", err)
	}
	var ok bool
	code := codeLoadBalancerNotFound
	switch a.Type() {
	case "loadbalancer":
		_, ok = m.LoadBalancers[arn]
	case "targetgroup":
		_, ok = m.TargetGroups[arn]
		code = codeTargetGroupNotFound
	case "listener":
		_, ok = m.Listeners[arn]
		code = codeListenerNotFound
	case "truststore":
		_, ok = m.TrustStores[arn]
		code = codeTrustStoreNotFound
	default:
		return errf(codeValidation, "%s is not the ARN of a load balancer, target group, listener or trust store", arn)
	}
	if !ok {
		return errf(code, "resource %s not found", arn)
	}
	return nil
}

func resourceARNs(p params) ([]string, *apiError) {
	arns := p.list("ResourceArns")
	if len(arns) == 0 {
		return nil, errf(codeValidation, "give at least one ResourceArns.member.N")
	}
	return arns, nil
}

func describeTags(r *request) (any, *apiError) {
	arns, e := resourceARNs(r.p)
	if e != nil {
		return nil, e
	}
	return r.read(func(m *model) (any, *apiError) {
		var out []xTagDescription
		for _, a := range arns {
			if e := resourceExists(m, a); e != nil {
				return nil, e
			}
			d := xTagDescription{ResourceArn: a}
			for _, t := range m.Tags[a] {
				d.Tags = append(d.Tags, xTag(t))
			}
			out = append(out, d)
		}
		return struct {
			TagDescriptions []xTagDescription `xml:"TagDescriptions>member"`
		}{out}, nil
	})
}

func addTags(r *request) (any, *apiError) {
	arns, e := resourceARNs(r.p)
	if e != nil {
		return nil, e
	}
	tags, e := readTags(r.p, "Tags")
	if e != nil {
		return nil, e
	}
	if len(tags) == 0 {
		return nil, errf(codeValidation, "give at least one Tags.member.N")
	}
	e = r.s.mutate(r.ctx, func(m *model) *apiError {
		for _, a := range arns {
			if e := resourceExists(m, a); e != nil {
				return e
			}
			cur := m.Tags[a]
			for _, t := range tags {
				if i := slices.IndexFunc(cur, func(c tag) bool { return c.Key == t.Key }); i >= 0 {
					cur[i] = t
				} else {
					cur = append(cur, t)
				}
			}
			if len(cur) > maxTags {
				return errf(codeTooManyTags, "%s would have %d tags, over the quota of %d", a, len(cur), maxTags)
			}
			m.Tags[a] = cur
		}
		return nil
	})
	return struct{}{}, e
}

func removeTags(r *request) (any, *apiError) {
	arns, e := resourceARNs(r.p)
	if e != nil {
		return nil, e
	}
	keys := r.p.list("TagKeys")
	if len(keys) == 0 {
		return nil, errf(codeValidation, "give at least one TagKeys.member.N")
	}
	e = r.s.mutate(r.ctx, func(m *model) *apiError {
		for _, a := range arns {
			if e := resourceExists(m, a); e != nil {
				return e
			}
			m.Tags[a] = slices.DeleteFunc(m.Tags[a], func(t tag) bool { return slices.Contains(keys, t.Key) })
		}
		return nil
	})
	return struct{}{}, e
}

// readFileLimited reads a trust store file of albmtls.yaml, within the
// CRL file size quota.
func readFileLimited(path string) ([]byte, error) {
	return boundedio.ReadFile(path, "trust store file", 64<<20)
}
