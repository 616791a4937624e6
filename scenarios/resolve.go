package scenarios

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/albmtls/albmtls/internal/suggest"
)

// UnmarshalYAML reads the shorthand "intermediate" or a mapping.
func (c *CRL) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind == yaml.ScalarNode {
		*c = CRL{CA: Name{Value: node.Value, Line: node.Line}}
		return nil
	}
	type plain CRL
	var p plain
	if err := node.Decode(&p); err != nil {
		return err
	}
	*c = CRL(p)
	return nil
}

// PKINames are the names a PKI offers, against which Resolve checks the
// catalogue.
type PKINames struct {
	Clients []string // client certificates (pki.Set.ClientNames)
	CAs     []string // CAs (pki.Set.CANames)
}

// Resolve checks every certificate and CA name of the scenarios against the
// PKI (an unknown name is an error with file and line) and expands
// each_client, so that the result has one scenario per run. Expanded
// scenarios are named "NAME/CLIENT".
func Resolve(list []*Scenario, names PKINames) ([]*Scenario, error) {
	var (
		out  []*Scenario
		errs Errors
	)
	for _, s := range list {
		r := resolver{s: s, names: names}
		r.check()
		if len(r.errs) > 0 {
			errs = append(errs, r.errs...)
			continue
		}
		if s.EachClient == nil {
			out = append(out, s)
			continue
		}
		clients := names.Clients
		if !s.EachClient.All {
			clients = nil
			for _, n := range s.EachClient.Names {
				clients = append(clients, n.Value)
			}
		}
		for _, c := range clients {
			x := *s
			x.Name = s.Name + "/" + c
			x.EachClientName = c
			x.EachClient = nil
			out = append(out, &x)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// Select keeps the scenarios whose name matches re (all when re is nil).
func Select(list []*Scenario, re *regexp.Regexp) []*Scenario {
	if re == nil {
		return list
	}
	var out []*Scenario
	for _, s := range list {
		if re.MatchString(s.Name) {
			out = append(out, s)
		}
	}
	return out
}

// ClientOf returns the PKI client certificate a step presents ("" for none),
// with "client" resolved for expanded scenarios.
func (s *Scenario) ClientOf(st Step) string {
	if st.Client == nil {
		if s.EachClientName != "" {
			return s.EachClientName
		}
		return ""
	}
	if st.Client.Certificate.Value == "" && s.EachClientName != "" {
		return s.EachClientName
	}
	if st.Client.Certificate.Value == CurrentClient {
		return s.EachClientName
	}
	return st.Client.Certificate.Value
}

// Requests counts the steps that send a request.
func (s *Scenario) Requests() int {
	n := 0
	for _, st := range s.Steps {
		if len(st.Revoke) == 0 {
			n++
		}
	}
	return n
}

// LoadError is the ALB error the setup must fail with, or "".
func (s *Scenario) LoadError() string {
	if len(s.Steps) == 1 && s.Steps[0].Expect != nil {
		return s.Steps[0].Expect.LoadError
	}
	return ""
}

type resolver struct {
	s     *Scenario
	names PKINames
	errs  Errors
}

func (r *resolver) add(line int, format string, args ...any) {
	r.errs = append(r.errs, &Error{File: r.s.File, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (r *resolver) client(n Name, what string, allowCurrent bool) {
	if n.Value == "" || (allowCurrent && n.Value == CurrentClient) || slices.Contains(r.names.Clients, n.Value) {
		return
	}
	r.unknown(n, what, r.names.Clients, "client certificates")
}

func (r *resolver) ca(n Name, what string) {
	if slices.Contains(r.names.CAs, n.Value) {
		return
	}
	r.unknown(n, what, r.names.CAs, "CAs")
}

func (r *resolver) cert(n Name, what string, allowCurrent bool) {
	if slices.Contains(r.names.CAs, n.Value) || (allowCurrent && n.Value == CurrentClient) || slices.Contains(r.names.Clients, n.Value) {
		return
	}
	all := append(slices.Clone(r.names.Clients), r.names.CAs...)
	r.unknown(n, what, all, "certificates")
}

func (r *resolver) unknown(n Name, what string, valid []string, kind string) {
	msg := fmt.Sprintf("%s: %q is not in the PKI", what, n.Value)
	if s := closest(n.Value, valid); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	r.add(n.Line, "%s; its %s: %s", msg, kind, strings.Join(valid, ", "))
}

func (r *resolver) value(v Value, what string, hasClient bool) {
	kind, name := v.ref()
	if kind == "" {
		return
	}
	if name == CurrentClient && !hasClient {
		r.add(v.Line, "%s: %s %q but the step presents no certificate", what, kind, name)
		return
	}
	r.cert(Name{Value: name, Line: v.Line}, what+"."+kind, true)
}

func (r *resolver) check() {
	s := r.s
	if s.EachClient != nil {
		for _, n := range s.EachClient.Names {
			r.client(n, "each_client", false)
		}
	}
	if ts := s.Setup.TrustStore; ts != nil {
		if ts.Bundle != nil {
			for _, n := range ts.Bundle.CAs {
				r.ca(n, "setup.trust_store.bundle.cas")
			}
		}
		if ts.Revocations != nil {
			for _, c := range *ts.Revocations {
				r.ca(c.CA, "setup.trust_store.revocations.ca")
				for _, n := range c.Revoke {
					r.cert(n, "setup.trust_store.revocations.revoke", false)
				}
			}
		}
	}
	for _, st := range s.Steps {
		for _, n := range st.Revoke {
			r.client(n, "revoke", false)
		}
		if st.Client != nil {
			r.client(st.Client.Certificate, "client.certificate", true)
		}
		hasClient := s.EachClient != nil || (st.Client != nil && st.Client.Certificate.Value != "")
		if st.Request != nil {
			for _, k := range sortedKeys(st.Request.Headers) {
				r.value(st.Request.Headers[k], "request.headers."+k, hasClient)
			}
		}
		e := st.Expect
		if e == nil {
			continue
		}
		if e.AdvertisedCANames != nil {
			for _, v := range *e.AdvertisedCANames {
				r.value(v, "expect.advertised_ca_names", hasClient)
			}
		}
		for _, g := range []struct {
			key string
			m   map[string]Value
		}{{"response_headers", e.ResponseHeaders}, {"target_headers", e.TargetHeaders}, {"connection_log", e.ConnectionLog}, {"access_log", e.AccessLog}} {
			for _, k := range sortedKeys(g.m) {
				r.value(g.m[k], "expect."+g.key+"."+k, hasClient)
			}
		}
	}
}

func closest(s string, valid []string) string { return suggest.Closest(s, valid, 3) }
