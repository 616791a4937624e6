// Package scenarios is the catalogue of ALB behaviours albmtls emulates: one
// YAML data file per behaviour, named for it
// (verify-rejects-revoked-client.yaml), each with its setup, the client's
// certificate and request, the expected outcome and the reference section it
// pins. The files are data so that the same catalogue runs against the
// in-process emulator, a running emulator or a real ALB (package
// conformance), and so that a reviewer can check each one against the
// reference without reading Go.
//
// Load and Parse validate the schema strictly: an unknown key, a bad value
// or (with Resolve) a certificate name the PKI does not have is an error
// naming the file and line. docs/scenarios.md describes the schema.
package scenarios

import (
	"github.com/albmtls/albmtls/emulator/config"
)

// Scenario is one behaviour: a setup, one or more steps (a client request
// and what must be seen, or a runtime revocation) and where the expected
// behaviour comes from.
type Scenario struct {
	// Name is the file name without .yaml; an expanded scenario (each_client)
	// adds "/CLIENT".
	Name string `yaml:"-"`
	// File is the path the scenario was read from, for messages.
	File string `yaml:"-"`

	Description string `yaml:"description"`
	Source      Source `yaml:"source"`
	// Basis is DOC, OBS or INF, as the reference tags the behaviour.
	Basis string `yaml:"basis"`
	Setup Setup  `yaml:"setup"`

	// EachClient runs the scenario once per listed client certificate
	// ("all" for every client of the PKI); the steps then name the client
	// "client". Resolve expands it.
	EachClient *ClientList `yaml:"each_client"`

	// Client, Request and Expect are the one-step form; Parse moves them
	// into Steps, the form the harness reads.
	Client  *Client  `yaml:"client"`
	Request *Request `yaml:"request"`
	Expect  *Expect  `yaml:"expect"`
	Steps   []Step   `yaml:"steps"`

	// EachClientName is the certificate an expanded scenario runs with (""
	// when not expanded).
	EachClientName string `yaml:"-"`
}

// Source cites the reference: the section of the behaviour spec
// ("alb-behaviour §2.3") or of the s2n analysis ("alb-behaviour §S1.4"), and the AWS (or s2n)
// page it comes from.
type Source struct {
	Reference string `yaml:"reference"`
	URL       string `yaml:"url"`
}

// The bases a scenario may claim (the reference's tags, alb-behaviour §0). UNK
// behaviours are emulator knobs; a scenario pins the knob's default and says
// INF.
const (
	BasisDOC = "DOC"
	BasisOBS = "OBS"
	BasisINF = "INF"
)

// Setup is what the harness imposes on the emulated load balancer: the HTTPS
// listener's mutual authentication, its trust store, attributes and action,
// and the targets behind it. The zero value of every field is the template's
// default (docs/conformance.md), so a setup that only names a mode is what a
// remote target configured "as the README says" offers.
type Setup struct {
	// Mode is the HTTPS listener's mutual authentication mode: off,
	// passthrough or verify (required).
	Mode string `yaml:"mode"`
	// TrustStore changes the trust store; nil is the PKI's bundle with both
	// PEM CRLs (intermediate and root).
	TrustStore *TrustStore `yaml:"trust_store"`
	// IgnoreClientCertificateExpiry and AdvertiseTrustStoreCaNames are the
	// listener's mutual authentication attributes (verify only).
	IgnoreClientCertificateExpiry bool   `yaml:"ignore_client_certificate_expiry"`
	AdvertiseTrustStoreCaNames    string `yaml:"advertise_trust_store_ca_names"`
	// SSLPolicy replaces the template's ELBSecurityPolicy-TLS13-1-2-2021-06.
	SSLPolicy string `yaml:"ssl_policy"`
	// Attributes are listener attributes (header renames, TLS headers,
	// X-Forwarded-For processing).
	Attributes map[string]string `yaml:"attributes"`
	// Emulation sets knobs of the emulator's emulation block.
	Emulation map[string]any `yaml:"emulation"`
	// Action replaces the HTTPS listener's default action (forward to the
	// harness's echo target). A forward action without a target group
	// forwards to the echo target group.
	Action *config.Action `yaml:"action"`
	// Targets says what the target group holds: echo (the harness's echo
	// target, default), none (an empty group: 503), refused (a port nobody
	// listens on: 502) or silent (accepts and never answers: 504).
	Targets string `yaml:"targets"`
	// IdleTimeout is the load balancer's idle timeout, e.g. "1s" for the
	// 504 scenario.
	IdleTimeout string `yaml:"idle_timeout"`
	// Lambda makes the target group a lambda target group (lambda.go).
	Lambda *Lambda `yaml:"lambda"`
}

// Target group contents (Setup.Targets).
const (
	TargetsEcho    = "echo"
	TargetsNone    = "none"
	TargetsRefused = "refused"
	TargetsSilent  = "silent"
)

// TrustStore describes the trust store's files in terms of the PKI.
type TrustStore struct {
	// Bundle changes the CA bundle; nil is the PKI's ca/bundle.pem.
	Bundle *Bundle `yaml:"bundle"`
	// Revocations lists the CRLs; nil means the PKI's intermediate and root
	// CRLs in PEM, an empty list means none.
	Revocations *[]CRL `yaml:"revocations"`
}

// Bundle is a CA bundle built from PKI CAs, optionally broken in one of the
// ways ALB refuses (alb-behaviour §1.2).
type Bundle struct {
	// CAs are PKI CA names, in file order (default intermediate, root).
	CAs []Name `yaml:"cas"`
	// Tamper writes the bundle with a defect (Tamper* constants).
	Tamper string `yaml:"tamper"`
}

// Bundle defects (Bundle.Tamper).
const (
	// TamperBlankLine puts a blank line between two certificates.
	TamperBlankLine = "blank-line"
	// TamperComment puts a "#" comment without "-" first (accepted).
	TamperComment = "comment"
	// TamperCommentWithDash puts a "#" comment containing "-" first.
	TamperCommentWithDash = "comment-with-dash"
	// TamperTextDump puts an `openssl x509 -text` dump before each block.
	TamperTextDump = "text-dump"
	// TamperDER writes the first CA as binary DER.
	TamperDER = "der"
)

// CRL is one revocation list of the trust store. The YAML shorthand
// "intermediate" is {ca: intermediate}.
type CRL struct {
	// CA is the issuing CA's PKI name; its current CRL is used unless one of
	// the fields below asks for a freshly signed one.
	CA Name `yaml:"ca"`
	// Format is pem (default) or der (which ALB refuses).
	Format string `yaml:"format"`
	// Revoke adds certificates to the CA's current entries.
	Revoke []Name `yaml:"revoke"`
	// ThisUpdate and NextUpdate are offsets from now ("-40d", "-1h"); set
	// either to sign a CRL with those dates.
	ThisUpdate string `yaml:"this_update"`
	NextUpdate string `yaml:"next_update"`
}

// Fresh reports whether the CRL must be signed by the harness rather than
// taken from the PKI as it is.
func (c CRL) Fresh() bool {
	return len(c.Revoke) > 0 || c.ThisUpdate != "" || c.NextUpdate != ""
}

// Client is how the harness connects.
type Client struct {
	// Certificate is the PKI client certificate presented; empty for none,
	// "client" for the one each_client runs with.
	Certificate Name `yaml:"certificate"`
	// TLSVersion is "1.2" or "1.3"; empty lets the client offer both.
	TLSVersion string `yaml:"tls_version"`
	// Listener is https (default) or http (the template's HTTP listener,
	// which redirects to HTTPS).
	Listener string `yaml:"listener"`
}

// Request is the HTTP request sent once the connection is up.
type Request struct {
	Method string `yaml:"method"` // default GET
	Path   string `yaml:"path"`   // default /
	// Headers are sent as given (one value each); values may be references
	// such as {subject_of: member} to spoof an identity.
	Headers map[string]Value `yaml:"headers"`
}

// Step is a request with its expectations, or a runtime change.
type Step struct {
	Client  *Client  `yaml:"client"`
	Request *Request `yaml:"request"`
	Expect  *Expect  `yaml:"expect"`
	// Revoke adds the named certificates to their issuers' CRLs while the
	// load balancer runs (AddTrustStoreRevocations); the next connection
	// must see it without a restart.
	Revoke []Name `yaml:"revoke"`
}

// Handshake outcomes (Expect.Handshake).
const (
	// HandshakeAccepted: the TLS handshake completed and an HTTP response
	// came back.
	HandshakeAccepted = "accepted"
	// HandshakeRejected: the handshake failed, or (TLS 1.3) the first read
	// got a reset or alert before any HTTP response (alb-behaviour §2.3).
	HandshakeRejected = "rejected"
)

// Expect is what must be seen after a step. Unset fields are not checked.
type Expect struct {
	// LoadError is the ALB error name the setup must be refused with
	// (InvalidRevocationContent, InvalidCaCertificatesBundle, …); the
	// scenario then has no steps.
	LoadError string `yaml:"load_error"`
	// Handshake is accepted or rejected.
	Handshake string `yaml:"handshake"`
	// CertificateRequested says whether the server sent a
	// CertificateRequest.
	CertificateRequested *bool `yaml:"certificate_requested"`
	// AdvertisedCANames are the CA names in the CertificateRequest, in any
	// order; an empty list means none.
	AdvertisedCANames *[]Value `yaml:"advertised_ca_names"`
	// Status is the HTTP status the client receives: 200, "4xx" or a list.
	Status *StatusSet `yaml:"status"`
	// ResponseHeaders and ResponseHeadersAbsent are checked on the
	// response the client receives.
	ResponseHeaders       map[string]Value `yaml:"response_headers"`
	ResponseHeadersAbsent []string         `yaml:"response_headers_absent"`
	// BodyContains must occur in the response body.
	BodyContains string `yaml:"body_contains"`
	// ReachedTarget says whether the harness's echo target answered.
	ReachedTarget *bool `yaml:"reached_target"`
	// TargetHeaders must reach the target with exactly these values (one
	// value each); TargetHeadersAbsent must not reach it at all.
	TargetHeaders       map[string]Value `yaml:"target_headers"`
	TargetHeadersAbsent []string         `yaml:"target_headers_absent"`
	// ConnectionLog checks fields of the connection's connection-log line,
	// by their alb-behaviour §6.2 names (tls_verify_status, …).
	ConnectionLog map[string]Value `yaml:"connection_log"`
	// AccessLog checks fields of the request's access-log line, by their
	// alb-behaviour §7 names (elb_status_code, actions_executed, …).
	AccessLog map[string]Value `yaml:"access_log"`
	// AccessLogEntries is how many access-log lines the connection made.
	AccessLogEntries *int `yaml:"access_log_entries"`
}

// ConnectionLogFields are the connection-log field names, in line order
// (alb-behaviour §6.2).
var ConnectionLogFields = []string{
	"timestamp", "client_ip", "client_port", "listener_port", "tls_protocol", "tls_cipher",
	"tls_handshake_latency", "leaf_client_cert_subject", "leaf_client_cert_validity",
	"leaf_client_cert_serial_number", "tls_verify_status", "conn_trace_id", "tls_keyexchange",
	"elb", "ip_address",
}

// AccessLogFields are the access-log field names, in line order (alb-behaviour §7).
var AccessLogFields = []string{
	"type", "time", "elb", "client:port", "target:port", "request_processing_time",
	"target_processing_time", "response_processing_time", "elb_status_code",
	"target_status_code", "received_bytes", "sent_bytes", "request", "user_agent", "ssl_cipher",
	"ssl_protocol", "target_group_arn", "trace_id", "domain_name", "chosen_cert_arn",
	"matched_rule_priority", "request_creation_time", "actions_executed", "redirect_url",
	"error_reason", "target:port_list", "target_status_code_list", "classification",
	"classification_reason", "conn_trace_id", "transformed_host", "transformed_uri",
	"request_transform_status", "ip_address",
}
