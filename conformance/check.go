package conformance

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/emulator/connlog"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/scenarios"
)

// valueCtx resolves the references of expectations: certificates from the
// PKI, the negotiated TLS parameters and the connection's addresses.
type valueCtx struct {
	set          *pki.Set
	client       string // the step's client certificate
	out          *outcome
	listenerHost string
	listenerPort string
}

// matcher is a resolved expectation: the text shown as "expected" and the
// test applied to what was seen.
type matcher struct {
	text  string
	value string // the value itself, for headers the client sends
	match func(string) bool
}

// certificate finds a PKI certificate by client or CA name and, for
// clients, the chain the client sends.
func (c valueCtx) certificate(name string) (*x509.Certificate, [][]byte, error) {
	if name == scenarios.CurrentClient {
		name = c.client
	}
	if leaf, ok := c.set.Client(name); ok {
		return leaf.Cert, leaf.Chain, nil
	}
	if ca, ok := c.set.CA(name); ok {
		return ca.Cert, [][]byte{ca.Cert.Raw}, nil
	}
	return nil, nil, fmt.Errorf("%q is not a certificate of the PKI", name)
}

// resolve turns an expectation into a matcher.
func (c valueCtx) resolve(v scenarios.Value) (matcher, error) {
	exact := func(want string) matcher {
		return matcher{text: want, value: want, match: func(s string) bool { return s == want }}
	}
	switch {
	case v.Exact != nil:
		return exact(*v.Exact), nil
	case v.Matches != "":
		re := v.MatchesRegexp()
		return matcher{text: "a value matching /" + v.Matches + "/", match: re.MatchString}, nil
	case v.Template != "":
		return exact(v.ExpandTemplate(map[string]string{
			"client_ip": c.out.local.Addr().Unmap().String(), "client_port": strconv.Itoa(int(c.out.local.Port())),
			"listener_host": c.listenerHost, "listener_port": c.listenerPort,
		})), nil
	case v.Negotiated != "":
		got := c.out.version
		if v.Negotiated == "cipher" {
			got = c.out.cipher
		}
		if got == "" {
			return matcher{}, fmt.Errorf("the client negotiated no TLS %s", v.Negotiated)
		}
		return exact(got), nil
	}
	kind, name := v.Ref()
	cert, chain, err := c.certificate(name)
	if err != nil {
		return matcher{}, err
	}
	switch kind {
	case "subject_of", "issuer_of":
		raw := cert.RawSubject
		if kind == "issuer_of" {
			raw = cert.RawIssuer
		}
		dn, err := certfmt.DN(raw)
		if err != nil {
			return matcher{}, fmt.Errorf("%s %s: %w", kind, name, err)
		}
		return exact(dn), nil
	case "serial_of":
		return exact(certfmt.Serial(cert)), nil
	case "validity_of":
		return exact(certfmt.Validity(cert)), nil
	case "leaf_pem_of", "chain_pem_of":
		ders := chain
		if kind == "leaf_pem_of" {
			ders = [][]byte{cert.Raw}
		}
		lit, pct := certfmt.PEMURLEncode(ders, certfmt.EqualsLiteral), certfmt.PEMURLEncode(ders, certfmt.EqualsPercent)
		// ALB's spelling of '=' is unknown (alb-behaviour §9.2): either is ALB-like.
		return matcher{text: fmt.Sprintf("%s of %s (%d bytes, '=' literal or %%3D)", strings.TrimSuffix(kind, "_of"), name, len(lit)),
			value: lit, match: func(s string) bool { return s == lit || s == pct }}, nil
	}
	return matcher{}, fmt.Errorf("unknown reference %s", kind)
}

// checker accumulates the checks of one step.
type checker struct {
	vc     valueCtx
	checks []Check
}

func (k *checker) add(name, expected, seen string, ok bool) {
	k.checks = append(k.checks, Check{Name: name, Expected: expected, Seen: seen, OK: ok})
}

func (k *checker) notChecked(name, expected, why string) {
	k.checks = append(k.checks, Check{Name: name, Expected: expected, NotChecked: why})
}

// value compares one seen value with an expectation.
func (k *checker) value(name string, v scenarios.Value, seen string, present bool) {
	m, err := k.vc.resolve(v)
	if err != nil {
		k.add(name, v.String(), "(cannot compute the expectation: "+err.Error()+")", false)
		return
	}
	if !present {
		k.add(name, m.text, "(absent)", false)
		return
	}
	k.add(name, m.text, seen, m.match(seen))
}

// headers compares expected header values with a header map in which each
// header must have exactly one value.
func (k *checker) headers(prefix string, want map[string]scenarios.Value, h http.Header) {
	for _, name := range sortedKeys(want) {
		vals := h.Values(name)
		switch len(vals) {
		case 0:
			k.value(prefix+name, want[name], "", false)
		case 1:
			k.value(prefix+name, want[name], vals[0], true)
		default:
			m, _ := k.vc.resolve(want[name])
			k.add(prefix+name, m.text+" (one value)", fmt.Sprintf("%d values: %s", len(vals), strings.Join(vals, " | ")), false)
		}
	}
}

func (k *checker) absent(prefix string, names []string, h http.Header) {
	for _, name := range names {
		vals := h.Values(name)
		k.add(prefix+name, "(absent)", strings.Join(vals, " | "), len(vals) == 0)
	}
}

// logFields splits a log line into named fields (missing trailing fields
// are "-", as ALB's parsers must assume).
func logFields(line string, names []string) (map[string]string, error) {
	f, err := connlog.SplitFields(line, nil)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(names))
	for i, n := range names {
		if i < len(f) {
			m[n] = f[i]
		} else {
			m[n] = "-"
		}
	}
	return m, nil
}

// logExpect compares fields of a log line.
func (k *checker) logFields(prefix string, want map[string]scenarios.Value, line string, names []string) {
	fields, err := logFields(line, names)
	if err != nil {
		for _, name := range sortedKeys(want) {
			k.add(prefix+name, want[name].String(), "(unparseable line: "+err.Error()+")", false)
		}
		return
	}
	for _, name := range sortedKeys(want) {
		k.value(prefix+name, want[name], fields[name], true)
	}
}

// logs is what the target's logs said about a connection. A log the
// harness cannot read has a reason in its notChecked field.
type logs struct {
	conn           string // the connection-log line ("" if none came)
	connNotChecked string
	access         []string
	accNotChecked  string
}

// compare checks every expectation of a step against what was seen.
func compare(e *scenarios.Expect, vc valueCtx, lg logs) []Check {
	k := &checker{vc: vc}
	o := vc.out
	if o.handshake == outcomeError {
		// Nothing the load balancer decided can be judged; say why.
		k.add("connection", "a TLS connection and an answer", o.summary(), false)
		return k.checks
	}
	if e.Handshake != "" {
		k.add("handshake", e.Handshake, o.summary(), o.handshake == e.Handshake)
	}
	if e.CertificateRequested != nil {
		k.add("certificate_requested", strconv.FormatBool(*e.CertificateRequested), strconv.FormatBool(o.certRequested), o.certRequested == *e.CertificateRequested)
	}
	if e.AdvertisedCANames != nil {
		var want []string
		ok := true
		for _, v := range *e.AdvertisedCANames {
			m, err := vc.resolve(v)
			if err != nil {
				ok = false
				want = append(want, v.String())
				continue
			}
			want = append(want, m.text)
		}
		seen := slices.Clone(o.acceptableCAs)
		sort.Strings(want)
		sort.Strings(seen)
		k.add("advertised_ca_names", listText(want), listText(seen), ok && slices.Equal(want, seen))
	}
	accepted := o.handshake == outcomeAccepted
	if e.Status != nil {
		seen := o.summary()
		if accepted {
			seen = strconv.Itoa(o.status)
		}
		k.add("status", e.Status.String(), seen, accepted && e.Status.Match(o.status))
	}
	if len(e.ResponseHeaders) > 0 || len(e.ResponseHeadersAbsent) > 0 || e.BodyContains != "" {
		if !accepted {
			k.add("response", "an HTTP response", o.summary(), false)
		} else {
			k.headers("response_headers.", e.ResponseHeaders, o.header)
			k.absent("response_headers_absent.", e.ResponseHeadersAbsent, o.header)
			if e.BodyContains != "" {
				k.add("body_contains", strconv.Quote(e.BodyContains), strconv.Quote(o.bodyExcerpt()), strings.Contains(string(o.body), e.BodyContains))
			}
		}
	}
	if e.ReachedTarget != nil {
		k.add("reached_target", strconv.FormatBool(*e.ReachedTarget), reachedText(o), (o.echo != nil) == *e.ReachedTarget)
	}
	if len(e.TargetHeaders) > 0 || len(e.TargetHeadersAbsent) > 0 {
		if o.echo == nil {
			k.add("target_headers", "the request at the harness's echo target", reachedText(o)+notEchoHint(o), false)
		} else {
			k.headers("target_headers.", e.TargetHeaders, o.echo.Headers)
			k.absent("target_headers_absent.", e.TargetHeadersAbsent, o.echo.Headers)
		}
	}
	if len(e.ConnectionLog) > 0 {
		switch {
		case lg.connNotChecked != "":
			for _, name := range sortedKeys(e.ConnectionLog) {
				k.notChecked("connection_log."+name, e.ConnectionLog[name].String(), lg.connNotChecked)
			}
		case lg.conn == "":
			k.add("connection_log", "a connection-log line for client port "+strconv.Itoa(int(o.local.Port())), "(none)", false)
		default:
			k.logFields("connection_log.", e.ConnectionLog, lg.conn, scenarios.ConnectionLogFields)
		}
	}
	if e.AccessLogEntries != nil || len(e.AccessLog) > 0 {
		if lg.accNotChecked != "" {
			if e.AccessLogEntries != nil {
				k.notChecked("access_log_entries", strconv.Itoa(*e.AccessLogEntries), lg.accNotChecked)
			}
			for _, name := range sortedKeys(e.AccessLog) {
				k.notChecked("access_log."+name, e.AccessLog[name].String(), lg.accNotChecked)
			}
		} else {
			if e.AccessLogEntries != nil {
				k.add("access_log_entries", strconv.Itoa(*e.AccessLogEntries), strconv.Itoa(len(lg.access)), len(lg.access) == *e.AccessLogEntries)
			}
			if len(e.AccessLog) > 0 {
				if len(lg.access) == 0 {
					k.add("access_log", "an access-log line for client port "+strconv.Itoa(int(o.local.Port())), "(none)", false)
				} else {
					k.logFields("access_log.", e.AccessLog, lg.access[0], scenarios.AccessLogFields)
				}
			}
		}
	}
	return k.checks
}

func reachedText(o *outcome) string {
	switch {
	case o.echo != nil:
		return "true"
	case o.handshake == outcomeAccepted:
		return fmt.Sprintf("false (HTTP %d from the load balancer or another target)", o.status)
	}
	return "false (" + o.summary() + ")"
}

// notEchoHint helps when a remote target answers but not through the echo
// target.
func notEchoHint(o *outcome) string {
	if o.handshake != outcomeAccepted || o.status >= 500 || o.status < 200 {
		return ""
	}
	return "; the answer did not come from the harness's echo target: register --echo-listen's address as the only target behind the listener"
}

func listText(l []string) string {
	if len(l) == 0 {
		return "(none)"
	}
	return strings.Join(l, " | ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
