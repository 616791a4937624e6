package conformance

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/albmtls/albmtls/emulator/albheader"
	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/targetgroup"
	"github.com/albmtls/albmtls/internal/suggest"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/scenarios"
)

// Backend mode: the harness plays the ALB in front of a user's backend. It
// runs the in-process emulator with the backend as its only target, sends
// each identity through it, and checks the backend's answers. The built-in
// cases that are not PKI clients:
const (
	// CaseMissingHeaders reaches the backend with no mTLS header at all, as
	// through a listener with mutual authentication off or a path around
	// the load balancer.
	CaseMissingHeaders = "missing-headers"
	// CaseSpoofedSubject reaches the backend with only a client-sent
	// X-Amzn-Mtls-Clientcert-Subject naming member: stripping was missing,
	// and a verify-mode ALB always sends all five headers (alb-behaviour §4.1).
	CaseSpoofedSubject = "spoofed-subject"
	// CaseSpoofedChain reaches the backend with a client-sent
	// X-Amzn-Mtls-Clientcert holding a self-signed certificate with
	// member's subject, which a passthrough backend must fail to verify.
	CaseSpoofedChain = "spoofed-chain"
)

// The spoof probes: what a load balancer that leaks client headers would
// forward (whether ALB does is unknown, alb-behaviour §10.4). The client presents
// outsider's certificate, which the ALB accepts and the backend must refuse,
// and sends member's identity in headers the emulator lets through by a
// knob; a backend that admits the request took the spoof as the identity.
const (
	// CaseSpoofedNameVariants sends underscore and mixed spellings of every
	// mTLS header of the mode (X_Amzn_Mtls_Clientcert_Subject), default and
	// renamed names (emulation.strip_header_name_variants: false).
	CaseSpoofedNameVariants = "spoofed-name-variants"
	// CaseSpoofedOriginalName sends the default names of renamed headers
	// (emulation.strip_client_headers: false); only with a rename.
	CaseSpoofedOriginalName = "spoofed-original-name"
	// CaseDuplicateSpoofFirst and CaseDuplicateSpoofLast send the mTLS
	// headers twice, the client's line before or after ALB's
	// (emulation.client_header_duplicates).
	CaseDuplicateSpoofFirst = "duplicate-headers-spoof-first"
	CaseDuplicateSpoofLast  = "duplicate-headers-spoof-last"
)

var builtinCases = []string{CaseMissingHeaders, CaseSpoofedSubject, CaseSpoofedChain,
	CaseSpoofedNameVariants, CaseSpoofedOriginalName, CaseDuplicateSpoofFirst, CaseDuplicateSpoofLast}

// BackendExpect is the expectation file of backend mode (--expect).
type BackendExpect struct {
	// Mode is how the ALB in front of the backend authenticates clients:
	// verify (default) or passthrough.
	Mode string `yaml:"mode"`
	// Path is the request path (default: the backend URL's path, or /).
	Path string `yaml:"path"`
	// Attributes are the listener attributes the real ALB uses (header
	// renames, TLS headers, X-Forwarded-For processing).
	Attributes map[string]string `yaml:"attributes"`
	// Cases maps a PKI client name or a built-in case to what the backend
	// must answer.
	Cases map[string]BackendCase `yaml:"cases"`
	// SpoofProbes adds the spoof probes the cases do not list, each
	// expecting 4xx (default true).
	SpoofProbes *bool `yaml:"spoof_probes"`

	file  string
	lines map[string]int
}

// BackendCase is what the backend must answer for one identity.
type BackendCase struct {
	Status       *scenarios.StatusSet `yaml:"status"`
	BodyContains string               `yaml:"body_contains"`
	// Handshake "rejected" says the ALB itself refuses the identity, so the
	// backend never sees it (a revoked certificate in verify mode).
	Handshake string `yaml:"handshake"`
}

// DefaultBackendExpect is what every backend behind an ALB must do: admit
// the member, answer 403 to the outsider (same CA, other O/OU), refuse a
// request without or with spoofed mTLS headers, and in passthrough refuse
// chains that do not verify.
func DefaultBackendExpect(mode string) *BackendExpect {
	if mode == "" {
		mode = string(listener.ModeVerify)
	}
	st := func(s string) *scenarios.StatusSet {
		var set scenarios.StatusSet
		if strings.HasSuffix(s, "xx") {
			set.Classes = []int{int(s[0] - '0')}
		} else {
			var code int
			fmt.Sscan(s, &code)
			set.Codes = []int{code}
		}
		return &set
	}
	e := &BackendExpect{Mode: mode, Cases: map[string]BackendCase{
		"member":           {Status: st("2xx")},
		"outsider":         {Status: st("403")},
		CaseMissingHeaders: {Status: st("4xx")},
	}}
	if mode == string(listener.ModePassthrough) {
		e.Cases["untrusted"] = BackendCase{Status: st("4xx")}
		e.Cases[CaseSpoofedChain] = BackendCase{Status: st("4xx")}
	} else {
		e.Cases[CaseSpoofedSubject] = BackendCase{Status: st("4xx")}
	}
	e.addSpoofProbes()
	return e
}

// addSpoofProbes adds the spoof probes that apply and are not listed: the
// original-name probe only when a header of the mode is renamed.
func (e *BackendExpect) addSpoofProbes() {
	if e.SpoofProbes != nil && !*e.SpoofProbes {
		return
	}
	probes := []string{CaseSpoofedNameVariants, CaseDuplicateSpoofFirst, CaseDuplicateSpoofLast}
	if len(renamedDefaults(e)) > 0 {
		probes = append(probes, CaseSpoofedOriginalName)
	}
	for _, p := range probes {
		if _, ok := e.Cases[p]; !ok {
			e.Cases[p] = BackendCase{Status: &scenarios.StatusSet{Classes: []int{4}}}
		}
	}
}

// LoadBackendExpect reads an expectation file; errors name the file and line.
func LoadBackendExpect(file string) (*BackendExpect, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading the expectation file (--expect): %w", err)
	}
	return ParseBackendExpect(file, data)
}

// ParseBackendExpect parses an expectation file.
func ParseBackendExpect(file string, data []byte) (*BackendExpect, error) {
	e := &BackendExpect{file: file, lines: map[string]int{}}
	root, err := scenarios.DecodeStrict(file, data, e)
	if err != nil {
		return nil, err
	}
	var errs scenarios.Errors
	add := func(path, format string, args ...any) {
		errs = append(errs, &scenarios.Error{File: file, Line: scenarios.LineOf(root, path), Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	// A subset of listener.Modes: a backend behind mode off gets no
	// identity to check. Kept a string so the message keeps its form.
	if e.Mode == "" {
		e.Mode = string(listener.ModeVerify)
	}
	if e.Mode != string(listener.ModeVerify) && e.Mode != string(listener.ModePassthrough) {
		add("mode", "%q is not valid; use verify or passthrough (the mode of the ALB in front of the backend)", e.Mode)
	}
	if e.Path != "" && !strings.HasPrefix(e.Path, "/") {
		add("path", "%q must start with /", e.Path)
	}
	if len(e.Cases) == 0 {
		add("cases", "missing: list the identities to send, e.g. member: {status: 200}")
	}
	for _, name := range sortedKeys(e.Cases) {
		c := e.Cases[name]
		e.lines[name] = scenarios.LineOf(root, "cases."+name)
		switch {
		case c.Handshake != "" && c.Handshake != scenarios.HandshakeRejected && c.Handshake != scenarios.HandshakeAccepted:
			add("cases."+name+".handshake", "%q is not valid; use accepted or rejected", c.Handshake)
		case c.Handshake == scenarios.HandshakeRejected && (c.Status != nil || c.BodyContains != ""):
			add("cases."+name, "a case the ALB rejects never reaches the backend: drop status and body_contains")
		case c.Handshake != scenarios.HandshakeRejected && c.Status == nil:
			add("cases."+name+".status", "missing: what must the backend answer? e.g. 403 or 4xx")
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	e.addSpoofProbes()
	return e, nil
}

// backendScenarios turns the expectations into scenarios for the PKI.
func backendScenarios(e *BackendExpect, set *pki.Set, path string) ([]*scenarios.Scenario, error) {
	file := e.file
	if file == "" {
		file = "(default backend expectations)"
	}
	names := sortedKeys(e.Cases)
	order := append([]string{"member", "outsider", "untrusted"}, builtinCases...)
	slices.SortStableFunc(names, func(a, b string) int {
		ia, ib := slices.Index(order, a), slices.Index(order, b)
		if ia < 0 {
			ia = len(order)
		}
		if ib < 0 {
			ib = len(order)
		}
		return ia - ib
	})
	clients := set.ClientNames()
	var (
		out  []*scenarios.Scenario
		errs scenarios.Errors
	)
	if e.Path != "" {
		path = e.Path
	}
	names2 := albheader.DefaultNames()
	subjectHeader, chainHeader := names2.ClientCertSubject, names2.ClientCert
	if v := e.Attributes[albheader.AttrClientCertSubjectName]; v != "" {
		subjectHeader = v
	}
	if v := e.Attributes[albheader.AttrClientCertName]; v != "" {
		chainHeader = v
	}
	for _, name := range names {
		c := e.Cases[name]
		s := &scenarios.Scenario{
			Name: "backend/" + name, File: file, Basis: scenarios.BasisDOC,
			Source: scenarios.Source{Reference: "alb-behaviour §2.2, §2.3, §4.1", URL: "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/mutual-authentication.html"},
			Setup:  scenarios.Setup{Mode: e.Mode, Attributes: e.Attributes},
		}
		st := scenarios.Step{Client: &scenarios.Client{}, Request: &scenarios.Request{Path: path, Headers: map[string]scenarios.Value{}},
			Expect: &scenarios.Expect{Status: c.Status, BodyContains: c.BodyContains, Handshake: c.Handshake}}
		needMember := func() bool {
			if _, ok := set.Client("member"); !ok {
				errs = append(errs, &scenarios.Error{File: file, Line: e.lines[name], Path: "cases." + name, Msg: "needs the PKI's member certificate, which this PKI lacks"})
				return false
			}
			return true
		}
		switch {
		case slices.Contains(clients, name):
			st.Client.Certificate = scenarios.Name{Value: name}
			s.Description = fmt.Sprintf("The ALB (mode %s) accepts the %s certificate and forwards its identity in ALB's headers; the backend must answer as expected.", e.Mode, name)
		case name == CaseMissingHeaders:
			s.Setup = scenarios.Setup{Mode: "off", Attributes: e.Attributes}
			s.Description = "A request without any mTLS header (a listener with mutual authentication off, or a path around the ALB) carries no identity: the backend must refuse it."
		case name == CaseSpoofedSubject:
			if !needMember() {
				continue
			}
			s.Setup = scenarios.Setup{Mode: "off", Attributes: e.Attributes, Emulation: map[string]any{"strip_client_headers": false}}
			st.Request.Headers[subjectHeader] = scenarios.Value{SubjectOf: "member"}
			s.Basis = scenarios.BasisINF
			s.Description = "A request whose only mTLS header is a client-sent subject naming member. A verify-mode ALB always sends the five headers together, so the backend must refuse the incomplete set rather than trust the subject."
		case name == CaseSpoofedChain:
			if !needMember() {
				continue
			}
			forged, err := forgeMember(set)
			if err != nil {
				return nil, err
			}
			s.Setup = scenarios.Setup{Mode: "off", Attributes: e.Attributes, Emulation: map[string]any{"strip_client_headers": false}}
			st.Request.Headers[chainHeader] = scenarios.Value{Exact: &forged}
			s.Basis = scenarios.BasisINF
			s.Description = "A client-sent chain header holding a self-signed certificate with member's subject. In passthrough the load balancer checks nothing (\"Targets should verify the client certificate chain\"), so the backend must verify the chain and refuse it."
		case slices.Contains(spoofProbes, name):
			if !needMember() {
				continue
			}
			if _, ok := set.Client("outsider"); !ok {
				errs = append(errs, &scenarios.Error{File: file, Line: e.lines[name], Path: "cases." + name, Msg: "needs the PKI's outsider certificate, which this PKI lacks"})
				continue
			}
			if err := spoofProbe(s, &st, e, name); err != nil {
				errs = append(errs, &scenarios.Error{File: file, Line: e.lines[name], Path: "cases." + name, Msg: err.Error()})
				continue
			}
		default:
			msg := fmt.Sprintf("%q is neither a client of the PKI nor a built-in case", name)
			all := append(slices.Clone(builtinCases), clients...)
			if s := suggest.Closest(name, all, 3); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			errs = append(errs, &scenarios.Error{File: file, Line: e.lines[name], Path: "cases." + name, Msg: msg + "; valid: " + strings.Join(all, ", ")})
			continue
		}
		s.Steps = []scenarios.Step{st}
		out = append(out, s)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// forgeMember makes a self-signed certificate carrying member's subject,
// URL-encoded as in X-Amzn-Mtls-Clientcert.
func forgeMember(set *pki.Set) (string, error) {
	member, _ := set.Client("member")
	org := set.Organization()
	leaf, err := pki.NewSelfSigned(pki.LeafRequest{Subject: pki.Name{CommonName: member.Cert.Subject.CommonName, Organization: org.O, OrganizationalUnit: org.OU}})
	if err != nil {
		return "", fmt.Errorf("forging a certificate with member's subject: %w", err)
	}
	return certfmt.PEMURLEncode(leaf.Chain, certfmt.EqualsLiteral), nil
}

// backendTarget turns the backend URL into a target address and protocol.
func backendTarget(raw string) (addr string, protocol targetgroup.Protocol, path string, err error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", "", fmt.Errorf("--backend %q: want the backend's URL, e.g. http://127.0.0.1:9001/", raw)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	path = u.RequestURI()
	if u.Path == "" {
		path = "/"
	}
	if err := protocol.UnmarshalText([]byte(strings.ToUpper(u.Scheme))); err != nil {
		return "", "", "", err
	}
	return net.JoinHostPort(host, port), protocol, path, nil
}

// RunBackend plays the ALB in front of the backend at backendURL: for each
// case of e (DefaultBackendExpect when nil) it starts the in-process
// emulator with the backend as its target and checks the answer.
func RunBackend(ctx context.Context, opts Options, backendURL string, e *BackendExpect) (*Report, error) {
	started := time.Now()
	addr, proto, path, err := backendTarget(backendURL)
	if err != nil {
		return nil, err
	}
	if e == nil {
		e = DefaultBackendExpect("")
	}
	opts.Target = ""
	h, _, err := prepare(opts, false)
	if err != nil {
		return nil, err
	}
	defer h.cleanup()
	list, err := backendScenarios(e, h.set, path)
	if err != nil {
		return nil, err
	}
	list = scenarios.Select(list, opts.Run)
	if len(list) == 0 {
		return nil, fmt.Errorf("no backend case matches --run %q", opts.Run)
	}
	h.backendAddr, h.backendProto = addr, proto
	rep := &Report{Title: "backend conformance", Target: fmt.Sprintf("backend %s behind the in-process emulator (mode %s)", backendURL, e.Mode), PKI: h.pkiDir, PKIRemoved: h.pkiTemp, Started: started}
	rep.Results = h.runAll(ctx, list, h.runScenario)
	for _, r := range rep.Results {
		if r.Status == StatusFail {
			r.Advice = backendAdvice(strings.TrimPrefix(r.Name, "backend/"), e)
		}
	}
	rep.Duration = time.Since(started)
	return rep, nil
}
