package scenarios

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Name is a PKI name (a client certificate or a CA) with the line it was
// written on, so that a name the PKI lacks is reported where it is.
type Name struct {
	Value string
	Line  int
}

// UnmarshalYAML reads a scalar.
func (n *Name) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a certificate or CA name", node.Line)
	}
	n.Value, n.Line = node.Value, node.Line
	return nil
}

// CurrentClient is the name that stands for the step's own client
// certificate in references ({subject_of: client}) and, with each_client,
// in client.certificate.
const CurrentClient = "client"

// ClientList is each_client: "all" or a list of client names.
type ClientList struct {
	All   bool
	Names []Name
	Line  int
}

// UnmarshalYAML reads "all" or a sequence of names.
func (l *ClientList) UnmarshalYAML(node *yaml.Node) error {
	l.Line = node.Line
	switch node.Kind {
	case yaml.ScalarNode:
		if node.Value != "all" {
			return fmt.Errorf("line %d: want \"all\" or a list of client names, not %q", node.Line, node.Value)
		}
		l.All = true
		return nil
	case yaml.SequenceNode:
		return node.Decode(&l.Names)
	}
	return fmt.Errorf("line %d: want \"all\" or a list of client names", node.Line)
}

// Value is an expected (or sent) header or log value: an exact string, or a
// reference computed from the PKI and the connection, so that the catalogue
// holds for any generated PKI. Exactly one form is set.
type Value struct {
	Exact *string `yaml:"-"`
	// SubjectOf, IssuerOf, SerialOf and ValidityOf are the certificate's
	// subject and issuer in RFC 2253, serial and validity, formatted as ALB
	// does (emulator/certfmt). The name is a PKI client or CA, or "client".
	SubjectOf  string `yaml:"subject_of"`
	IssuerOf   string `yaml:"issuer_of"`
	SerialOf   string `yaml:"serial_of"`
	ValidityOf string `yaml:"validity_of"`
	// LeafPEMOf and ChainPEMOf are the URL-encoded PEM of the leaf and of the
	// chain the client sends. Either spelling of '=' matches (alb-behaviour §9.2).
	LeafPEMOf  string `yaml:"leaf_pem_of"`
	ChainPEMOf string `yaml:"chain_pem_of"`
	// Matches is a regular expression the whole value must match.
	Matches string `yaml:"matches"`
	// Negotiated is "version" or "cipher": what the client negotiated, in
	// ALB's (OpenSSL) spelling.
	Negotiated string `yaml:"negotiated"`
	// Template is a string with ${client_ip}, ${client_port},
	// ${listener_host} or ${listener_port} in it.
	Template string `yaml:"template"`

	Line int `yaml:"-"`
}

// TemplateVars are the variables a Template may use.
var TemplateVars = []string{"client_ip", "client_port", "listener_host", "listener_port"}

var templateVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// UnmarshalYAML reads a scalar (exact value) or a one-key mapping.
func (v *Value) UnmarshalYAML(node *yaml.Node) error {
	v.Line = node.Line
	switch node.Kind {
	case yaml.ScalarNode:
		s := node.Value
		v.Exact = &s
		return nil
	case yaml.MappingNode:
		type plain Value
		var p plain
		if err := node.Decode(&p); err != nil {
			return err
		}
		p.Line = node.Line
		*v = Value(p)
		return nil
	}
	return fmt.Errorf("line %d: want a value or a mapping such as {subject_of: client}", node.Line)
}

// ref returns the reference kind and name, or "" for non-reference forms.
func (v Value) ref() (kind, name string) {
	switch {
	case v.SubjectOf != "":
		return "subject_of", v.SubjectOf
	case v.IssuerOf != "":
		return "issuer_of", v.IssuerOf
	case v.SerialOf != "":
		return "serial_of", v.SerialOf
	case v.ValidityOf != "":
		return "validity_of", v.ValidityOf
	case v.LeafPEMOf != "":
		return "leaf_pem_of", v.LeafPEMOf
	case v.ChainPEMOf != "":
		return "chain_pem_of", v.ChainPEMOf
	}
	return "", ""
}

// Ref returns the certificate reference of v ("subject_of", "member"), or
// two empty strings.
func (v Value) Ref() (kind, name string) { return v.ref() }

// check validates that exactly one form is set and that it is usable.
func (v Value) check() string {
	n := 0
	if v.Exact != nil {
		n++
	}
	for _, s := range []string{v.SubjectOf, v.IssuerOf, v.SerialOf, v.ValidityOf, v.LeafPEMOf, v.ChainPEMOf, v.Matches, v.Negotiated, v.Template} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return "want exactly one of a plain value, subject_of, issuer_of, serial_of, validity_of, leaf_pem_of, chain_pem_of, matches, negotiated or template"
	}
	if v.Matches != "" {
		if _, err := regexp.Compile("^(?:" + v.Matches + ")$"); err != nil {
			return fmt.Sprintf("matches: %v", err)
		}
	}
	if v.Negotiated != "" && v.Negotiated != "version" && v.Negotiated != "cipher" {
		return fmt.Sprintf("negotiated: %q is not valid; use version or cipher", v.Negotiated)
	}
	for _, m := range templateVar.FindAllStringSubmatch(v.Template, -1) {
		if !slices.Contains(TemplateVars, m[1]) {
			return fmt.Sprintf("template: unknown variable ${%s}; use %s", m[1], strings.Join(TemplateVars, ", "))
		}
	}
	return ""
}

// String shows the expectation as written, for reports.
func (v Value) String() string {
	switch {
	case v.Exact != nil:
		return *v.Exact
	case v.Matches != "":
		return "matches /" + v.Matches + "/"
	case v.Negotiated != "":
		return "the negotiated " + v.Negotiated
	case v.Template != "":
		return "template " + v.Template
	}
	kind, name := v.ref()
	return kind + " " + name
}

// MatchesRegexp returns the anchored regular expression of a Matches value.
func (v Value) MatchesRegexp() *regexp.Regexp {
	if v.Matches == "" {
		return nil
	}
	return regexp.MustCompile("^(?:" + v.Matches + ")$")
}

// ExpandTemplate replaces the ${…} variables of a Template.
func (v Value) ExpandTemplate(vars map[string]string) string {
	return templateVar.ReplaceAllStringFunc(v.Template, func(m string) string {
		return vars[m[2:len(m)-1]]
	})
}

// StatusSet is an expected HTTP status: a code (403), a class ("4xx") or a
// list of either.
type StatusSet struct {
	Codes   []int // exact codes
	Classes []int // 4 for "4xx"
	Line    int
}

// UnmarshalYAML reads 200, "4xx" or a list.
func (s *StatusSet) UnmarshalYAML(node *yaml.Node) error {
	s.Line = node.Line
	items := []*yaml.Node{node}
	if node.Kind == yaml.SequenceNode {
		items = node.Content
	}
	for _, it := range items {
		if it.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: want a status such as 200 or 4xx", it.Line)
		}
		if len(it.Value) == 3 && strings.HasSuffix(it.Value, "xx") && it.Value[0] >= '1' && it.Value[0] <= '5' {
			s.Classes = append(s.Classes, int(it.Value[0]-'0'))
			continue
		}
		code, err := strconv.Atoi(it.Value)
		if err != nil || code < 100 || code > 599 {
			return fmt.Errorf("line %d: %q is not an HTTP status; use a code (403), a class (4xx) or a list", it.Line, it.Value)
		}
		s.Codes = append(s.Codes, code)
	}
	return nil
}

// Match reports whether code is in the set.
func (s StatusSet) Match(code int) bool {
	if slices.Contains(s.Codes, code) {
		return true
	}
	return slices.Contains(s.Classes, code/100)
}

// String lists the set as written: "403", "4xx", "401 or 403".
func (s StatusSet) String() string {
	var parts []string
	for _, c := range s.Codes {
		parts = append(parts, strconv.Itoa(c))
	}
	for _, c := range s.Classes {
		parts = append(parts, strconv.Itoa(c)+"xx")
	}
	return strings.Join(parts, " or ")
}
