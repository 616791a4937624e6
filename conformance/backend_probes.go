package conformance

import (
	"fmt"
	"strings"

	"github.com/albmtls/albmtls/emulator/albheader"
	"github.com/albmtls/albmtls/scenarios"
)

// spoofProbes are the built-in cases spoofProbe builds.
var spoofProbes = []string{CaseSpoofedNameVariants, CaseSpoofedOriginalName, CaseDuplicateSpoofFirst, CaseDuplicateSpoofLast}

// identityHeader is one mTLS header of a mode and member's value for it.
type identityHeader struct {
	name, def string // name in use (after a rename) and default name
	value     scenarios.Value
}

// identityHeaders lists the mTLS headers of e's mode with member's values.
func identityHeaders(e *BackendExpect) ([]identityHeader, error) {
	opts, err := albheader.OptionsFromAttributes(e.Attributes)
	if err != nil {
		return nil, fmt.Errorf("the attributes of the expectations: %w", err)
	}
	n := opts.Names
	if e.Mode == "passthrough" {
		return []identityHeader{{n.ClientCert, albheader.ClientCert, scenarios.Value{ChainPEMOf: "member"}}}, nil
	}
	return []identityHeader{
		{n.ClientCertSerialNumber, albheader.ClientCertSerialNumber, scenarios.Value{SerialOf: "member"}},
		{n.ClientCertIssuer, albheader.ClientCertIssuer, scenarios.Value{IssuerOf: "member"}},
		{n.ClientCertSubject, albheader.ClientCertSubject, scenarios.Value{SubjectOf: "member"}},
		{n.ClientCertValidity, albheader.ClientCertValidity, scenarios.Value{ValidityOf: "member"}},
		{n.ClientCertLeaf, albheader.ClientCertLeaf, scenarios.Value{LeafPEMOf: "member"}},
	}, nil
}

// renamedDefaults lists the default names of e's mode that a rename freed.
func renamedDefaults(e *BackendExpect) []string {
	hs, err := identityHeaders(e)
	if err != nil {
		return nil
	}
	var out []string
	for _, h := range hs {
		if !strings.EqualFold(h.name, h.def) {
			out = append(out, h.def)
		}
	}
	return out
}

// underscored writes every '-' of a name as '_'; mixed alternates them
// (X-Amzn_Mtls-Clientcert_Subject).
func underscored(name string) string { return strings.ReplaceAll(name, "-", "_") }

func mixed(name string) string {
	b := []byte(name)
	n := 0
	for i, c := range b {
		if c == '-' {
			if n%2 == 1 {
				b[i] = '_'
			}
			n++
		}
	}
	return string(b)
}

// spoofProbe fills in the scenario of one spoof probe: outsider's
// certificate through the ALB of e's mode, member's identity in the headers
// a leaky load balancer would forward.
func spoofProbe(s *scenarios.Scenario, st *scenarios.Step, e *BackendExpect, name string) error {
	hs, err := identityHeaders(e)
	if err != nil {
		return err
	}
	st.Client.Certificate = scenarios.Name{Value: "outsider"}
	s.Basis = scenarios.BasisINF
	s.Source.Reference = "alb-behaviour §4.1 (Headers sent by clients), §4.3, §10.4"
	s.Setup = scenarios.Setup{Mode: e.Mode, Attributes: e.Attributes}
	hdr := st.Request.Headers
	switch name {
	case CaseSpoofedNameVariants:
		s.Setup.Emulation = map[string]any{"strip_header_name_variants": false}
		for _, h := range hs {
			for _, n := range []string{h.name, h.def} {
				hdr[underscored(n)] = h.value
			}
		}
		hdr[mixed(hs[len(hs)/2].name)] = hs[len(hs)/2].value
		s.Description = "The client presents outsider's certificate and sends member's identity under underscore and mixed spellings of the mTLS headers (X_Amzn_Mtls_Clientcert_Subject), as a load balancer that strips only the exact names would forward them. CGI-style servers fold '_' onto '-', so the backend must not take them as the identity: it must answer as for outsider."
	case CaseSpoofedOriginalName:
		defs := renamedDefaults(e)
		if len(defs) == 0 {
			return fmt.Errorf("%s needs an attribute that renames an mTLS header of mode %s (routing.http.request.x_amzn_mtls_clientcert*.header_name)", name, e.Mode)
		}
		s.Setup.Emulation = map[string]any{"strip_client_headers": false}
		for _, h := range hs {
			hdr[h.def] = h.value
		}
		s.Description = "After a header rename the client presents outsider's certificate and sends member's identity under the default names (" + strings.Join(defs, ", ") + "), which a load balancer may forward because it no longer uses them. The backend must read only the renamed headers and answer as for outsider."
	case CaseDuplicateSpoofFirst, CaseDuplicateSpoofLast:
		order := "client-first"
		if name == CaseDuplicateSpoofLast {
			order = "client-last"
		}
		s.Setup.Emulation = map[string]any{"strip_client_headers": false, "client_header_duplicates": order}
		for _, h := range hs {
			hdr[h.name] = h.value
		}
		s.Description = fmt.Sprintf("The client presents outsider's certificate and sends member's identity under the mTLS header names; a load balancer that passes the client's lines beside its own (%s) gives the backend each header twice. The backend must refuse a request with two lines of an identity header.", order)
	}
	return nil
}

// backendAdvice explains a failed backend case and how to fix the backend;
// "" for the cases whose check message says enough.
func backendAdvice(name string, e *BackendExpect) string {
	hs, err := identityHeaders(e)
	if err != nil || len(hs) == 0 {
		return ""
	}
	main := hs[len(hs)/2] // the subject in verify mode, the chain in passthrough
	switch name {
	case CaseSpoofedNameVariants:
		return fmt.Sprintf("your backend read %s (or another '_' spelling) as the client identity: the client presented outsider's certificate and sent member's identity only under underscore spellings. CGI-style servers (Python WSGI: Django, Flask, gunicorn; PHP $_SERVER; Rack; FastCGI) fold '_' and '-' onto one variable (HTTP_%s), and whether ALB removes such spellings is unknown. Fix: drop request headers whose names contain '_' before the application sees them (nginx does by default, underscores_in_headers off), or set the load balancer attribute routing.http.drop_invalid_header_fields.enabled=true, and read the identity only under the exact names",
			underscored(main.def), strings.ToUpper(underscored(main.name)))
	case CaseSpoofedOriginalName:
		return fmt.Sprintf("your backend read the default header names (%s) although the listener renames them: the client sent member's identity there, while the ALB sent outsider's under the new names (%s). Fix: read the identity only from the names the header_name attributes set, and refuse requests that also carry the default names",
			strings.Join(renamedDefaults(e), ", "), main.name)
	case CaseDuplicateSpoofFirst, CaseDuplicateSpoofLast:
		return fmt.Sprintf("your backend admitted a request with two %s lines (member's from the client, outsider's from the ALB): it read one line and ignored the other (Go's Header.Get takes the first, many servers keep the last or join them). Fix: refuse a request in which an mTLS header appears more than once; an ALB sends each once",
			main.name)
	}
	return ""
}
