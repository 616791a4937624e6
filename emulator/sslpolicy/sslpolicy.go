// Package sslpolicy maps ALB's named TLS security policies (alb-behaviour §5) onto Go's
// crypto/tls, and names ciphers, versions and groups the way ALB logs them.
//
// ALB does not allow custom policies, so a listener's behaviour is fixed by
// its policy name. Go's TLS stack cannot reproduce every policy exactly; each
// Policy says what Go leaves out (Unsupported, UnrestrictedTLS13) so that the
// emulator can report the gap instead of hiding it.
package sslpolicy

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strings"

	"github.com/albmtls/albmtls/internal/suggest"
)

// Default is the policy ALB uses when a listener is created through the API,
// CLI, CloudFormation or the CDK without SslPolicy (alb-behaviour §5 "Defaults", §9
// item 6). The console default differs (ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09).
const Default = "ELBSecurityPolicy-2016-08"

// Policy is one ALB security policy. The fields are data from the AWS tables,
// so callers may copy a Policy and change Groups (a knob for the [INF]
// group lists) before calling Apply.
type Policy struct {
	// Name is the ELB policy name, e.g. ELBSecurityPolicy-TLS13-1-2-2021-06.
	Name string
	// MinVersion and MaxVersion are crypto/tls version constants.
	MinVersion, MaxVersion uint16
	// Ciphers are the TLS 1.2-and-below suites, OpenSSL names, in ALB's order.
	Ciphers []string
	// TLS13Ciphers are the TLS 1.3 suites ALB offers under this policy.
	TLS13Ciphers []string
	// Groups are the key-exchange groups, in ALB's preference order where known.
	Groups []tls.CurveID
	// FIPS and PQ mark the FIPS and hybrid post-quantum families.
	FIPS, PQ bool
	// Note says where the content comes from (documented, s2n, inferred).
	Note string
}

// goSuites holds every suite ID Go's crypto/tls can negotiate.
var goSuites = func() map[uint16]bool {
	m := map[uint16]bool{}
	for _, s := range tls.CipherSuites() {
		m[s.ID] = true
	}
	for _, s := range tls.InsecureCipherSuites() {
		m[s.ID] = true
	}
	return m
}()

var byName = func() map[string]*Policy {
	m := make(map[string]*Policy, len(table))
	for i := range table {
		m[table[i].Name] = &table[i]
	}
	return m
}()

// Names returns every policy name, in the order of the AWS tables.
func Names() []string {
	names := make([]string, len(table))
	for i := range table {
		names[i] = table[i].Name
	}
	return names
}

// Lookup returns a copy of the policy with this exact name, which the caller
// may change. An unknown name gives an error that suggests the closest valid
// name and lists them all, because a policy name is typed by hand in config
// files.
func Lookup(name string) (*Policy, error) {
	if p, ok := byName[name]; ok {
		c := *p
		c.Ciphers = slices.Clone(p.Ciphers)
		c.TLS13Ciphers = slices.Clone(p.TLS13Ciphers)
		c.Groups = slices.Clone(p.Groups)
		return &c, nil
	}
	return nil, fmt.Errorf("unknown security policy %q: did you mean %q? valid policies: %s",
		name, closest(name), strings.Join(Names(), ", "))
}

// Apply sets cfg's protocol versions, TLS 1.2-and-below cipher suites and
// key-exchange groups from the policy. Suites Go cannot negotiate are left
// out (see Unsupported). Go ignores the order of both lists and picks by its
// own preference, and it cannot restrict TLS 1.3 suites (see
// UnrestrictedTLS13); both are documented gaps in docs/ssl-policies.md.
func (p *Policy) Apply(cfg *tls.Config) {
	cfg.MinVersion = p.MinVersion
	cfg.MaxVersion = p.MaxVersion
	suites := make([]uint16, 0, len(p.Ciphers))
	for _, name := range p.Ciphers {
		if id, ok := cipherByName[name]; ok && goSuites[id] {
			suites = append(suites, id)
		}
	}
	cfg.CipherSuites = suites
	cfg.CurvePreferences = slices.Clone(p.Groups)
}

// Unsupported lists, in policy order, the TLS 1.2-and-below suites of the
// policy that Go's crypto/tls cannot offer (ECDHE-ECDSA-AES256-SHA384,
// ECDHE-RSA-AES256-SHA384 and AES256-SHA256), so a client that only offers
// those is refused by the emulator but accepted by ALB.
func (p *Policy) Unsupported() []string {
	var out []string
	for _, name := range p.Ciphers {
		if id, ok := cipherByName[name]; !ok || !goSuites[id] {
			out = append(out, name)
		}
	}
	return out
}

// UnrestrictedTLS13 lists the TLS 1.3 suites Go still negotiates although the
// policy leaves them out (ChaCha20 under the FIPS policies), because
// crypto/tls offers no way to restrict TLS 1.3 suites. It is empty for
// policies without TLS 1.3.
func (p *Policy) UnrestrictedTLS13() []string {
	if p.MaxVersion < tls.VersionTLS13 {
		return nil
	}
	var out []string
	for _, name := range tls13All {
		if !slices.Contains(p.TLS13Ciphers, name) {
			out = append(out, name)
		}
	}
	return out
}

// Protocols returns the protocol names the policy allows, newest first, as
// the ELB API's SslProtocols lists them (TLSv1.3 … TLSv1).
func (p *Policy) Protocols() []string {
	var out []string
	for v := p.MaxVersion; v >= p.MinVersion && v >= tls.VersionTLS10; v-- {
		out = append(out, VersionName(v))
	}
	return out
}

// closest returns the valid name nearest to name, comparing without case.
func closest(name string) string {
	names := make([]string, len(table))
	for i := range table {
		names[i] = table[i].Name
	}
	return suggest.Closest(name, names, -1)
}
