package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/albmtls/albmtls/emulator/desync"

	"github.com/albmtls/albmtls/emulator/albheader"
	"github.com/albmtls/albmtls/emulator/albresponse"
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/sslpolicy"
	"github.com/albmtls/albmtls/emulator/verify"
)

// AttrPreserveHost is the listener attribute that keeps the client's Host
// header unchanged towards targets (routing.http.preserve_host_header.enabled).
const AttrPreserveHost = "routing.http.preserve_host_header.enabled"

// ListenerPlan is one listener compiled from the config: every value its
// packages need, parsed once at load, so that emulator.New and Reload build
// from it and never parse (or ignore a parse error) again.
type ListenerPlan struct {
	// Path is the listener's key path, "listeners[1]", for messages.
	Path string
	Mode listener.Mode
	// Policy is the security policy of an HTTPS listener (ssl_policy, or
	// sslpolicy.Default when omitted, as the API does; alb-behaviour §5); nil for HTTP.
	Policy *sslpolicy.Policy
	// Headers is how forwarded requests get their headers: the load
	// balancer's attributes under the listener's, and the emulation knobs.
	Headers albheader.Options
	// ResponseHeaders are the response header attributes.
	ResponseHeaders albheader.ResponseOptions
	// PreserveHost is routing.http.preserve_host_header.enabled.
	PreserveHost bool
	// SourceIPs are each rule's source_ip condition, parsed (in rule
	// order; nil for a rule without one).
	SourceIPs [][]netip.Prefix
	// Verify are the verify-mode options from the listener's mutual
	// authentication and the emulation knobs (Now is left to the caller).
	Verify verify.Options
	// Desync is routing.http.desync_mitigation_mode, the listener's value
	// over the load balancer's; "" is ALB's default (defensive).
	Desync desync.Mode
}

// NodeIP is load_balancer.ip_address, parsed; the zero Addr when unset
// (the listener's local address is logged then).
func (c *Config) NodeIP() netip.Addr { return c.nodeIP }

// Plans returns the compiled listeners, in config order. It is nil for a
// config that did not validate.
func (c *Config) Plans() []ListenerPlan { return c.plans }

// compile checks what the listeners' packages own (security policy names,
// listener attributes, redirect and fixed-response contents) and builds the
// plans. Listeners whose protocol was refused are skipped.
func (v *validator) compile() []ListenerPlan {
	c := v.c
	plans := make([]ListenerPlan, len(c.Listeners))
	for i := range c.Listeners {
		l := &c.Listeners[i]
		p := ListenerPath(i)
		plan := &plans[i]
		plan.Path = p
		plan.Mode = l.MutualAuthentication.EffectiveMode()
		if l.Protocol == listener.ProtocolHTTPS {
			name := l.SSLPolicy
			if name == "" {
				name = sslpolicy.Default
			}
			pol, err := sslpolicy.Lookup(name)
			if err != nil {
				v.add(p+".ssl_policy", "%v", err)
			}
			plan.Policy = pol
		}
		n := len(v.errs)
		plan.ResponseHeaders = v.listenerAttributes(p, l.Attributes)
		plan.Desync = desync.Mode(c.ListenerAttributes(l)[desync.AttrMode])
		headers, err := albheader.OptionsFromAttributes(c.ListenerAttributes(l))
		if err != nil && len(v.errs) == n && !v.lbAttributesBad {
			// Each part was valid on its own; their merge is not.
			v.add(p+".attributes", "%v (with load_balancer.attributes)", err)
		}
		plan.Headers = headers
		e := c.Emulation
		plan.Headers.StripClientHeaders = *e.StripClientHeaders
		plan.Headers.StripNameVariants = *e.StripHeaderNameVariants
		plan.Headers.ClientCopies = e.ClientHeaderDuplicates
		plan.Headers.Equals = e.ClientCertEquals
		plan.Headers.Order = e.ForwardedHeaderOrder
		plan.PreserveHost = l.Attributes[AttrPreserveHost] == "true"
		ma := l.MutualAuthentication
		plan.Verify = verify.Options{
			IgnoreClientCertificateExpiry: ma.IgnoreClientCertificateExpiry != nil && *ma.IgnoreClientCertificateExpiry,
			IgnoreExpiryKeepsNotBefore:    !*e.IgnoreExpiryIncludesNotBefore,
			MissingCertificate:            e.MissingClientCertificate,
			CRLMissingForIssuer:           e.CRLMissingForIssuer,
			StaleCRL:                      e.StaleCRL,
			IgnoreExpiryLeafOnly:          e.IgnoreExpiryScope == verify.ExpiryScopeLeaf,
			UnhandledCriticalExtension:    e.UnhandledCriticalExtension,
		}
		plan.SourceIPs = make([][]netip.Prefix, len(l.Rules))
		for j, r := range l.Rules {
			for k, s := range r.Conditions.SourceIP {
				pfx, err := netip.ParsePrefix(s)
				if err != nil {
					v.add(fmt.Sprintf("%s.rules[%d].conditions.source_ip[%d]", p, j, k), "%q is not a CIDR block (e.g. 10.0.0.0/8)", s)
					continue
				}
				plan.SourceIPs[j] = append(plan.SourceIPs[j], pfx)
			}
		}
		if l.Protocol == "" {
			continue // refused or missing: the action checks need it
		}
		v.actionContents(p+".default_action", l.Protocol, l.DefaultAction)
		for j, r := range l.Rules {
			v.actionContents(fmt.Sprintf("%s.rules[%d].action", p, j), l.Protocol, r.Action)
		}
	}
	if len(v.errs) > 0 {
		return nil
	}
	return plans
}

// ListenerAttributeKeys lists the supported keys of a listener's
// attributes, sorted.
func ListenerAttributeKeys() []string {
	keys := append(append(albheader.Keys(), albheader.ResponseKeys()...), AttrPreserveHost, desync.AttrMode)
	slices.Sort(keys)
	return keys
}

// listenerAttributes refuses unknown listener attribute keys with the list
// of supported ones, and values their packages refuse; it returns the
// response header options they set.
func (v *validator) listenerAttributes(p string, attrs map[string]string) albheader.ResponseOptions {
	known := ListenerAttributeKeys()
	for _, k := range sortedKeys(attrs) {
		if !slices.Contains(known, k) {
			v.add(p+".attributes."+k, "albmtls does not support the listener attribute %q; supported: %s", k, strings.Join(known, ", "))
		}
	}
	if val, ok := attrs[AttrPreserveHost]; ok && val != "" {
		if err := boolAttribute(val); err != nil {
			v.add(p+".attributes."+AttrPreserveHost, "%v", err)
		}
	}
	if val, ok := attrs[desync.AttrMode]; ok {
		// A load balancer attribute, accepted under a listener too (as the
		// header attributes are): the listener's value wins for it.
		if err := desyncModeAttribute(val); err != nil {
			v.add(p+".attributes."+desync.AttrMode, "%v", err)
		}
	}
	if _, err := albheader.OptionsFromAttributes(attrs); err != nil {
		v.add(p+".attributes", "%v", err)
	}
	resp, err := albheader.ResponseOptionsFromAttributes(attrs)
	if err != nil {
		v.add(p+".attributes", "%v", err)
	}
	return resp
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// actionContents validates redirect and fixed-response actions against
// ALB's rules (alb-behaviour §8.2, §8.3).
func (v *validator) actionContents(p string, proto listener.Protocol, a Action) {
	switch {
	case a.Redirect != nil:
		if err := a.Redirect.Config().Validate(string(proto)); err != nil {
			v.add(p+".redirect", "%v", err)
		}
	case a.FixedResponse != nil:
		if err := a.FixedResponse.Config().Validate(); err != nil {
			v.add(p+".fixed_response", "%v", err)
		}
	}
}

// Config is the redirect as albresponse serves it.
func (r *Redirect) Config() albresponse.RedirectConfig {
	return albresponse.RedirectConfig{Protocol: r.Protocol, Port: r.Port, Host: r.Host, Path: r.Path, Query: r.Query, StatusCode: r.StatusCode}
}

// Config is the fixed response as albresponse serves it.
func (f *FixedResponse) Config() albresponse.FixedResponseConfig {
	return albresponse.FixedResponseConfig{StatusCode: f.StatusCode, ContentType: f.ContentType, MessageBody: f.MessageBody}
}
