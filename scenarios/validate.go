package scenarios

import (
	"fmt"
	"net/textproto"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/internal/yamlstrict"
)

// validator checks what the schema cannot: allowed values, combinations
// that contradict each other, and expectations that could never fail.
type validator struct {
	file string
	root *yaml.Node
	errs Errors
}

func (v *validator) add(keyPath string, line int, format string, args ...any) {
	if line == 0 {
		line = yamlstrict.Line(v.root, keyPath)
	}
	v.errs = append(v.errs, &Error{File: v.file, Line: line, Path: keyPath, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) oneOf(keyPath, value string, valid ...string) {
	if !slices.Contains(valid, value) {
		v.add(keyPath, 0, "%q is not valid; use %s", value, strings.Join(valid[1:], ", "))
	}
}

func (v *validator) scenario(s *Scenario) {
	if strings.TrimSpace(s.Description) == "" {
		v.add("description", 1, "missing: say what ALB does and why it matters")
	}
	if !strings.Contains(s.Source.Reference, "§") {
		v.add("source.reference", 1, "missing or without a section: cite the reference, e.g. \"alb-behaviour §2.3\" or \"alb-behaviour §S1.4\"")
	}
	if !strings.HasPrefix(s.Source.URL, "https://") {
		v.add("source.url", 1, "missing or not an https:// URL: give the AWS page (or s2n-tls source) the reference cites")
	}
	switch s.Basis {
	case BasisDOC, BasisOBS, BasisINF:
	case "UNK":
		v.add("basis", 0, "UNK behaviours are emulator knobs: pin the knob's default and say INF, with the reasoning in the description")
	default:
		v.add("basis", 1, "%q is not valid; use DOC, OBS or INF, as the reference tags the behaviour", s.Basis)
	}
	v.setup(s.Setup)

	oneStep := s.Client != nil || s.Request != nil || s.Expect != nil
	switch {
	case oneStep && len(s.Steps) > 0:
		v.add("steps", 0, "use either client/request/expect (one step) or steps, not both")
		return
	case !oneStep && len(s.Steps) == 0:
		v.add("expect", 1, "missing: a scenario needs client/request/expect or steps")
		return
	}
	if s.Expect != nil && s.Expect.LoadError != "" {
		if s.Client != nil || s.Request != nil || s.EachClient != nil {
			v.add("expect.load_error", 0, "a setup that must fail to load has no client, request or each_client")
		}
		e := *s.Expect
		e.LoadError = ""
		if !reflectZero(e) {
			v.add("expect", 0, "with load_error nothing else can be checked: the load balancer never starts")
		}
		return
	}
	steps := s.Steps
	prefix := func(i int) string { return "steps[" + strconv.Itoa(i) + "]." }
	if oneStep {
		steps = []Step{{Client: s.Client, Request: s.Request, Expect: s.Expect}}
		prefix = func(int) string { return "" }
	}
	requests := 0
	for i, st := range steps {
		p := prefix(i)
		if len(st.Revoke) > 0 {
			if st.Client != nil || st.Request != nil || st.Expect != nil {
				v.add(strings.TrimSuffix(p, ".")+".revoke", 0, "a revoke step has no client, request or expect")
			}
			if s.Setup.Mode != "verify" {
				v.add(strings.TrimSuffix(p, ".")+".revoke", 0, "runtime revocation needs mode verify")
			}
			continue
		}
		requests++
		v.step(p, st, s.EachClient != nil)
	}
	if requests == 0 {
		v.add("steps", 0, "no step sends a request, so nothing can fail")
	}
}

func reflectZero(e Expect) bool {
	return e.Handshake == "" && e.CertificateRequested == nil && e.AdvertisedCANames == nil && e.Status == nil &&
		len(e.ResponseHeaders) == 0 && len(e.ResponseHeadersAbsent) == 0 && e.BodyContains == "" &&
		e.ReachedTarget == nil && len(e.TargetHeaders) == 0 && len(e.TargetHeadersAbsent) == 0 &&
		len(e.ConnectionLog) == 0 && len(e.AccessLog) == 0 && e.AccessLogEntries == nil
}

var durationOK = regexp.MustCompile(`^[0-9]+(ms|s|m|h)$`)

func (v *validator) setup(st Setup) {
	// Checked here rather than decoded as a listener.Mode, so that the
	// message keeps the scenario loader's form; the values are listener's.
	modes := []string{""}
	for _, m := range listener.Modes {
		modes = append(modes, string(m))
	}
	v.oneOf("setup.mode", st.Mode, modes...)
	if st.Mode != "verify" {
		if st.IgnoreClientCertificateExpiry {
			v.add("setup.ignore_client_certificate_expiry", 0, "only verify mode has it (ALB refuses it with mode %s, alb-behaviour §1.1)", st.Mode)
		}
		if st.AdvertiseTrustStoreCaNames != "" {
			v.add("setup.advertise_trust_store_ca_names", 0, "only verify mode has it (ALB refuses it with mode %s, alb-behaviour §1.1)", st.Mode)
		}
	}
	if st.AdvertiseTrustStoreCaNames != "" {
		v.oneOf("setup.advertise_trust_store_ca_names", st.AdvertiseTrustStoreCaNames, "", string(listener.AdvertiseCANamesOn), string(listener.AdvertiseCANamesOff))
	}
	if st.Targets != "" {
		v.oneOf("setup.targets", st.Targets, "", TargetsEcho, TargetsNone, TargetsRefused, TargetsSilent)
	}
	if st.Lambda != nil {
		v.oneOf("setup.lambda.function", st.Lambda.Function, LambdaFunctions...)
		if st.Targets != "" {
			v.add("setup.targets", 0, "a lambda setup has the harness's function as its target; remove targets")
		}
	}
	if st.IdleTimeout != "" && !durationOK.MatchString(st.IdleTimeout) {
		v.add("setup.idle_timeout", 0, "%q is not a duration such as 1s", st.IdleTimeout)
	}
	if st.TrustStore != nil {
		if b := st.TrustStore.Bundle; b != nil && b.Tamper != "" {
			v.oneOf("setup.trust_store.bundle.tamper", b.Tamper, "", TamperBlankLine, TamperComment, TamperCommentWithDash, TamperTextDump, TamperDER)
		}
		if st.TrustStore.Revocations != nil {
			for i, c := range *st.TrustStore.Revocations {
				p := fmt.Sprintf("setup.trust_store.revocations[%d]", i)
				if c.CA.Value == "" {
					v.add(p+".ca", 0, "missing: name the CA whose CRL this is")
				}
				if c.Format != "" {
					v.oneOf(p+".format", c.Format, "", "pem", "der")
				}
				for _, f := range []struct{ key, val string }{{"this_update", c.ThisUpdate}, {"next_update", c.NextUpdate}} {
					if f.val == "" {
						continue
					}
					if _, err := ParseOffset(f.val); err != nil {
						v.add(p+"."+f.key, 0, "%v", err)
					}
				}
			}
		}
	}
	// setup.action.type is a routing.ActionType, refused while decoding.
}

func (v *validator) step(p string, st Step, each bool) {
	if st.Expect == nil {
		v.add(p+"expect", 0, "missing: a request step needs expectations")
		return
	}
	if c := st.Client; c != nil {
		if c.TLSVersion != "" {
			v.oneOf(p+"client.tls_version", c.TLSVersion, "", "1.2", "1.3")
		}
		if c.Listener != "" {
			v.oneOf(p+"client.listener", c.Listener, "", "https", "http")
		}
		if each && c.Certificate.Value != "" && c.Certificate.Value != CurrentClient {
			v.add(p+"client.certificate", c.Certificate.Line, "with each_client the certificate is %q (or omitted)", CurrentClient)
		}
		if !each && c.Certificate.Value == CurrentClient {
			v.add(p+"client.certificate", c.Certificate.Line, "%q is only valid with each_client; name a PKI client", CurrentClient)
		}
	}
	if r := st.Request; r != nil {
		if r.Method != "" && !regexp.MustCompile(`^[A-Z]+$`).MatchString(r.Method) {
			v.add(p+"request.method", 0, "%q is not an HTTP method", r.Method)
		}
		if r.Path != "" && !strings.HasPrefix(r.Path, "/") {
			v.add(p+"request.path", 0, "%q must start with /", r.Path)
		}
		for _, k := range sortedKeys(r.Headers) {
			val := r.Headers[k]
			if val.Matches != "" || val.Negotiated != "" || val.Template != "" {
				v.add(p+"request.headers."+k, val.Line, "a header to send needs a value or a certificate reference, not matches, negotiated or template")
			}
			v.value(p+"request.headers."+k, val)
		}
	}
	v.expect(p+"expect.", *st.Expect)
}

func (v *validator) expect(p string, e Expect) {
	if e.LoadError != "" {
		v.add(p+"load_error", 0, "load_error belongs to a one-step scenario without a client")
	}
	if reflectZero(e) {
		v.add(strings.TrimSuffix(p, "."), 0, "checks nothing, so it can never fail")
		return
	}
	if e.Handshake != "" {
		v.oneOf(p+"handshake", e.Handshake, "", HandshakeAccepted, HandshakeRejected)
	}
	if e.Handshake == HandshakeRejected {
		for key, set := range map[string]bool{
			"status": e.Status != nil, "response_headers": len(e.ResponseHeaders) > 0, "body_contains": e.BodyContains != "",
			"target_headers": len(e.TargetHeaders) > 0, "access_log": len(e.AccessLog) > 0,
		} {
			if set {
				v.add(p+key, 0, "contradicts handshake: rejected (no HTTP response comes back)")
			}
		}
		if e.ReachedTarget != nil && *e.ReachedTarget {
			v.add(p+"reached_target", 0, "contradicts handshake: rejected")
		}
	}
	if e.AdvertisedCANames != nil {
		for i, val := range *e.AdvertisedCANames {
			v.value(fmt.Sprintf("%sadvertised_ca_names[%d]", p, i), val)
		}
	}
	for _, group := range []struct {
		key string
		m   map[string]Value
	}{{"response_headers", e.ResponseHeaders}, {"target_headers", e.TargetHeaders}} {
		for _, k := range sortedKeys(group.m) {
			v.value(p+group.key+"."+k, group.m[k])
		}
	}
	for _, list := range []struct {
		key   string
		names []string
	}{{"response_headers_absent", e.ResponseHeadersAbsent}, {"target_headers_absent", e.TargetHeadersAbsent}} {
		for _, h := range list.names {
			if textproto.CanonicalMIMEHeaderKey(h) == "" || strings.ContainsAny(h, " :") {
				v.add(p+list.key, 0, "%q is not a header name", h)
			}
		}
	}
	for _, k := range sortedKeys(e.ConnectionLog) {
		if !slices.Contains(ConnectionLogFields, k) {
			v.fieldName(p+"connection_log."+k, e.ConnectionLog[k].Line, k, ConnectionLogFields, "alb-behaviour §6.2")
		}
		v.value(p+"connection_log."+k, e.ConnectionLog[k])
	}
	for _, k := range sortedKeys(e.AccessLog) {
		if !slices.Contains(AccessLogFields, k) {
			v.fieldName(p+"access_log."+k, e.AccessLog[k].Line, k, AccessLogFields, "alb-behaviour §7")
		}
		v.value(p+"access_log."+k, e.AccessLog[k])
	}
	if e.AccessLogEntries != nil && *e.AccessLogEntries < 0 {
		v.add(p+"access_log_entries", 0, "must be 0 or more")
	}
}

func (v *validator) fieldName(keyPath string, line int, name string, valid []string, ref string) {
	msg := fmt.Sprintf("%q is not a log field (%s)", name, ref)
	if s := closest(name, valid); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	v.add(keyPath, line, "%s; fields: %s", msg, strings.Join(valid, ", "))
}

func (v *validator) value(keyPath string, val Value) {
	if msg := val.check(); msg != "" {
		v.add(keyPath, val.Line, "%s", msg)
	}
}

// ParseOffset reads an offset from now: a Go duration ("-90m", "+2h") or a
// number of days ("-40d").
func ParseOffset(s string) (time.Duration, error) {
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSuffix(s, "d"), "+"))
		if err == nil {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not an offset from now such as -40d, +2h or -90m", s)
	}
	return d, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
