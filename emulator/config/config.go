// Package config reads and validates albmtls.yaml, the emulator's
// configuration. Keys follow the names of the ALB API, CloudFormation and
// Terraform (snake_case), so users recognise them; see the product brief's
// "Config" section and docs/configuration.md.
//
// Load checks structure (unknown keys, types) and ALB's own control-plane
// rules (spec §1.1, §1.2, §8.2, §8.3); every error names the file, the line,
// the key path and what would be valid. Checks that need other packages'
// knowledge (security policy names, listener attributes, trust store files)
// are done by the emulator when it builds the server, using Errorf so those
// errors carry the same position information.
package config

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/albmtls/albmtls/internal/boundedio"
	"github.com/albmtls/albmtls/internal/yamlstrict"
)

// Config is the whole of albmtls.yaml.
type Config struct {
	LoadBalancer LoadBalancer  `yaml:"load_balancer"`
	TrustStores  []TrustStore  `yaml:"trust_stores"`
	TargetGroups []TargetGroup `yaml:"target_groups"`
	Listeners    []Listener    `yaml:"listeners"`
	Logs         Logs          `yaml:"logs"`
	Admin        Admin         `yaml:"admin"`
	Emulation    Emulation     `yaml:"emulation"`

	file string     // path of the file, for error messages
	root *yaml.Node // document node, for positions of key paths
}

// LoadBalancer names the emulated load balancer; the name and account appear
// in log lines (app/NAME/ID) and S3 log object keys.
type LoadBalancer struct {
	Name      string `yaml:"name"`
	AccountID string `yaml:"account_id"`
	Region    string `yaml:"region"`
	// ID is the 16-hex-digit resource ID of app/NAME/ID; derived from the
	// name and account when empty (awsarn.LoadBalancerID).
	ID string `yaml:"id"`
	// IPAddress is the load balancer node's IP written in the last field of
	// log lines and in S3 object keys; empty means the listener's local IP.
	IPAddress string `yaml:"ip_address"`
	// IdleTimeout is the load balancer attribute idle_timeout.timeout_seconds
	// (ALB default 60 s).
	IdleTimeout Duration `yaml:"idle_timeout"`
	// Attributes are load balancer attributes, as in the ELBv2 API
	// (LoadBalancerAttributes); LoadBalancerAttributeKeys lists those
	// supported. Every listener reads them; a key also set in a listener's
	// attributes (accepted there for older configs) is overridden by it.
	Attributes map[string]string `yaml:"attributes"`
}

// TrustStore is a CA bundle plus CRLs, like an ALB trust store whose files
// sit in S3 (spec §1.2). Paths are relative to the config file.
type TrustStore struct {
	Name                 string   `yaml:"name"`
	CACertificatesBundle string   `yaml:"ca_certificates_bundle"`
	Revocations          []string `yaml:"revocations"`
}

// TargetGroup is a set of HTTP targets the forward action balances over.
type TargetGroup struct {
	Name        string      `yaml:"name"`
	Protocol    string      `yaml:"protocol"` // HTTP (default) or HTTPS
	Targets     []string    `yaml:"targets"`  // host:port
	HealthCheck HealthCheck `yaml:"health_check"`
}

// HealthCheck mirrors the target group health check settings; zero values
// mean ALB's defaults.
type HealthCheck struct {
	Enabled            *bool    `yaml:"enabled"`
	Path               string   `yaml:"path"`
	Port               string   `yaml:"port"`
	Interval           Duration `yaml:"interval"`
	Timeout            Duration `yaml:"timeout"`
	HealthyThreshold   int      `yaml:"healthy_threshold"`
	UnhealthyThreshold int      `yaml:"unhealthy_threshold"`
	Matcher            string   `yaml:"matcher"`
}

// Listener is one ALB listener: HTTP, or HTTPS with certificates, a security
// policy and optional mutual authentication.
type Listener struct {
	Port     int    `yaml:"port"`
	Protocol string `yaml:"protocol"` // HTTP | HTTPS
	// Address is the local address to bind (not an ALB setting); default
	// 127.0.0.1. Use 0.0.0.0 in containers.
	Address              string               `yaml:"address"`
	SSLPolicy            string               `yaml:"ssl_policy"`
	Certificates         []Certificate        `yaml:"certificates"`
	MutualAuthentication MutualAuthentication `yaml:"mutual_authentication"`
	Attributes           map[string]string    `yaml:"attributes"`
	DefaultAction        Action               `yaml:"default_action"`
	Rules                []Rule               `yaml:"rules"`
}

// Certificate is a server certificate (PEM chain) and its private key. The
// first certificate of a listener is the default; the others are chosen by
// SNI, as on ALB.
type Certificate struct {
	Certificate string `yaml:"certificate"`
	PrivateKey  string `yaml:"private_key"`
	// ARN is logged as chosen_cert_arn; synthesised when empty.
	ARN string `yaml:"arn"`
}

// Mutual authentication modes (spec §1.1, §2).
const (
	ModeOff         = "off"
	ModePassthrough = "passthrough"
	ModeVerify      = "verify"
)

// MutualAuthentication is the listener's MutualAuthenticationAttributes
// (spec §1.1).
type MutualAuthentication struct {
	Mode                          string `yaml:"mode"`
	TrustStore                    string `yaml:"trust_store"`
	IgnoreClientCertificateExpiry *bool  `yaml:"ignore_client_certificate_expiry"`
	AdvertiseTrustStoreCaNames    string `yaml:"advertise_trust_store_ca_names"`
}

// EffectiveMode is the mode with ALB's default ("off") applied.
func (m MutualAuthentication) EffectiveMode() string {
	if m.Mode == "" {
		return ModeOff
	}
	return m.Mode
}

// Action types (spec §8).
const (
	ActionForward       = "forward"
	ActionRedirect      = "redirect"
	ActionFixedResponse = "fixed-response"
)

// Action is a listener or rule action.
type Action struct {
	Type          string         `yaml:"type"`
	TargetGroup   string         `yaml:"target_group"`
	Redirect      *Redirect      `yaml:"redirect"`
	FixedResponse *FixedResponse `yaml:"fixed_response"`
}

// Redirect is ALB's RedirectActionConfig (spec §8.2).
type Redirect struct {
	Protocol   string `yaml:"protocol"`
	Port       string `yaml:"port"`
	Host       string `yaml:"host"`
	Path       string `yaml:"path"`
	Query      string `yaml:"query"`
	StatusCode string `yaml:"status_code"`
}

// FixedResponse is ALB's FixedResponseActionConfig (spec §8.3).
type FixedResponse struct {
	StatusCode  string `yaml:"status_code"`
	ContentType string `yaml:"content_type"`
	MessageBody string `yaml:"message_body"`
}

// Rule is a listener rule: conditions (all must match; any value of a
// condition matches) and one action. Rules see the client's own headers, not
// the mTLS headers ALB adds (spec §2.4, §9.3).
type Rule struct {
	Priority   int        `yaml:"priority"`
	Conditions Conditions `yaml:"conditions"`
	Action     Action     `yaml:"action"`
}

// Conditions are the rule conditions the emulator supports.
type Conditions struct {
	PathPattern       []string         `yaml:"path_pattern"`
	HostHeader        []string         `yaml:"host_header"`
	HTTPRequestMethod []string         `yaml:"http_request_method"`
	HTTPHeader        *HeaderCondition `yaml:"http_header"`
	SourceIP          []string         `yaml:"source_ip"`
}

// HeaderCondition matches one request header against wildcard values.
type HeaderCondition struct {
	Name   string   `yaml:"name"`
	Values []string `yaml:"values"`
}

// Logs says where ALB-format logs go. Paths are relative to the config file.
type Logs struct {
	Connection LogFile `yaml:"connection"`
	Access     LogFile `yaml:"access"`
	// S3LayoutDir, when set, also receives gzip objects under
	// AWSLogs/ACCOUNT/elasticloadbalancing/REGION/... as ALB delivers them.
	S3LayoutDir string `yaml:"s3_layout_dir"`
	// S3Interval is how often objects are written (ALB: 5 minutes).
	S3Interval Duration `yaml:"s3_interval"`
}

// LogFile is one log destination.
type LogFile struct {
	File string `yaml:"file"`
}

// Admin is the emulator's own HTTP endpoint: /healthz, /metrics and the trust
// store revocation API. Anyone who reaches it can un-revoke a certificate,
// so it is loopback-only unless told otherwise (docs/admin.md).
type Admin struct {
	// Listen is host:port; an empty host means 127.0.0.1 (not every
	// interface, as Go would read it). A non-loopback address is logged as
	// a warning at start.
	Listen string `yaml:"listen"`
	// Token, when set, is the bearer token required on the mutating
	// endpoints (POST, DELETE); the environment variable AdminTokenEnv
	// overrides it (ApplyEnv), so that a secret need not sit in the file.
	Token string `yaml:"token"`
	// AllowedHosts are extra host names accepted in the Host header of
	// unauthenticated requests, besides localhost, 127.0.0.1, [::1] and the
	// listen host (a DNS-rebinding defence).
	AllowedHosts []string `yaml:"allowed_hosts"`
}

// AdminTokenEnv is the environment variable that sets admin.token for
// `albmtls serve`; it wins over the config file.
const AdminTokenEnv = "ALBMTLS_ADMIN_TOKEN"

// MinAdminTokenLength is the shortest admin.token accepted: a bearer token
// stands in for a password over plain HTTP, so it must not be guessable.
const MinAdminTokenLength = 16

// Address is the address the admin endpoint binds: Listen with an empty
// host read as 127.0.0.1, so that ":9090" stays loopback-only.
func (a Admin) Address() string {
	host, port, err := net.SplitHostPort(a.Listen)
	if err != nil || host != "" {
		return a.Listen
	}
	return net.JoinHostPort("127.0.0.1", port)
}

// ApplyEnv applies the environment's overrides (AdminTokenEnv) and checks
// them as the file's values are checked.
func (c *Config) ApplyEnv(getenv func(string) string) error {
	tok := getenv(AdminTokenEnv)
	if tok == "" {
		return nil
	}
	if msg := checkAdminToken(tok); msg != "" {
		return fmt.Errorf("%s: %s", AdminTokenEnv, msg)
	}
	c.Admin.Token = tok
	return nil
}

// checkAdminToken returns why a token is refused, or "".
func checkAdminToken(tok string) string {
	switch {
	case len(tok) < MinAdminTokenLength:
		return fmt.Sprintf("the admin token is %d characters; use at least %d (e.g. openssl rand -hex 32)", len(tok), MinAdminTokenLength)
	case strings.ContainsAny(tok, " \t\r\n"):
		return "the admin token contains white space; use e.g. openssl rand -hex 32"
	}
	return ""
}

// Emulation holds the knobs for ALB behaviour the reference marks unknown
// ([UNK]); each default is the one the reference or the product brief gives.
// See docs/configuration.md for the reasoning behind every default.
type Emulation struct {
	// RejectWith is how a rejected client certificate ends the connection:
	// "reset" (default; a TLS 1.3 client sees its handshake finish, then a
	// TCP reset, as observed on ALB, spec §2.3) or "alert" (a TLS alert).
	RejectWith string `yaml:"reject_with"`
	// MissingClientCertificate is the tls_verify_status code logged when a
	// verify-mode client sends no certificate (spec §10.1); default
	// UnmappedConnectionError.
	MissingClientCertificate string `yaml:"missing_client_certificate"`
	// IgnoreExpiryIncludesNotBefore: with ignore_client_certificate_expiry,
	// also accept not-yet-valid certificates (default true: the brief, and
	// s2n disables all time checks; spec §10.9).
	IgnoreExpiryIncludesNotBefore *bool `yaml:"ignore_expiry_includes_not_before"`
	// CRLMissingForIssuer: "skip" (default; a CA without a CRL in the trust
	// store is not checked) or "fail" (s2n CRL_CHECK_ALL semantics:
	// ClientCertCrlProcessingError).
	CRLMissingForIssuer string `yaml:"crl_missing_for_issuer"`
	// StaleCRL: "apply" (default; a CRL whose nextUpdate has passed or
	// whose thisUpdate is in the future is still used, as s2n does, s2n
	// §1.4) or "fail" (ClientCertCrlProcessingError; spec §10.7).
	StaleCRL string `yaml:"stale_crl"`
	// IgnoreExpiryScope: "chain" (default; ignore_client_certificate_expiry
	// skips the time checks of every certificate of the chain, as s2n's
	// switch does) or "leaf" (only the client certificate's; spec §10.9).
	IgnoreExpiryScope string `yaml:"ignore_expiry_scope"`
	// UnhandledCriticalExtension is the code for a client certificate with a
	// critical extension the TLS library does not handle (default
	// ClientCertUntrusted; s2n §9 gives Invalid or Untrusted).
	UnhandledCriticalExtension string `yaml:"unhandled_critical_extension"`
	// PassthroughSizeLimit rejects, in passthrough mode, a client whose
	// Certificate message exceeds 64 KiB with ClientCertMaxSizeExceeded
	// (default true: s2n caps every handshake message at 64 KiB in any mode,
	// s2n §7; spec §10.3 leaves passthrough open).
	PassthroughSizeLimit *bool `yaml:"passthrough_size_limit"`
	// ClientCertEquals is how '=' is written in the PEM headers: "literal"
	// (default, as the text of the ALB docs says) or "percent" (%3D, as the
	// docs' example shows; spec §9.2).
	ClientCertEquals string `yaml:"clientcert_equals"`
	// StripClientHeaders removes client-sent copies of the mTLS and TLS
	// headers in every mode (default true; spec §10.4). Turn it off to
	// rehearse what a backend does if stripping were ever missing.
	StripClientHeaders *bool `yaml:"strip_client_headers"`
	// StripHeaderNameVariants also removes client-sent spellings that a
	// CGI-style target (WSGI, PHP, Rack, FastCGI) folds onto a header the
	// emulator owns: X_Amzn_Mtls_Clientcert_Subject, X.Amzn-Tls-Version,
	// X_Forwarded_For (default true). Whether ALB does is unknown (spec
	// §10.4); turn it off to rehearse a load balancer that forwards them.
	StripHeaderNameVariants *bool `yaml:"strip_header_name_variants"`
	// ClientHeaderDuplicates is, with strip_client_headers false, what
	// happens to a client's copy of a header the load balancer sets:
	// "replace" (default) or both lines forwarded, "client-first" or
	// "client-last" (spec §10.4: overwritten or passed through is unknown).
	ClientHeaderDuplicates string `yaml:"client_header_duplicates"`
	// HandshakeTimeout bounds a TLS handshake (default 10s).
	HandshakeTimeout Duration `yaml:"handshake_timeout"`
	// AccessLogUnreleasedFields appends the two trailing "-" fields seen on
	// real access-log lines (spec §7; default false).
	AccessLogUnreleasedFields bool `yaml:"access_log_unreleased_fields"`
	// WatchInterval is how often trust store and certificate files are
	// checked for changes (default 2s; 0s turns watching off).
	WatchInterval *Duration `yaml:"watch_interval"`
	// RequestHeaderTimeout bounds reading a request's headers once its
	// first byte arrived (default 60s), so a client that trickles its
	// headers is closed; the wait for that first byte is the load
	// balancer's idle_timeout. ALB's own header-read limit is not
	// documented [UNK]; 60s is nginx's documented client_header_timeout.
	RequestHeaderTimeout Duration `yaml:"request_header_timeout"`
	// ShutdownDrainTimeout is how long requests in flight may run after
	// SIGTERM before they are cut, in the style of a target group's
	// deregistration_delay.timeout_seconds (default 10s; 0s cuts at once).
	ShutdownDrainTimeout *Duration `yaml:"shutdown_drain_timeout"`
	// FixedResponseCharset is what a fixed-response action appends to its
	// configured content_type: "utf-8" (default; "text/plain" goes out as
	// "text/plain; charset=utf-8", observed, alb-behaviour §8.3; applied to
	// every accepted type [INF]) or "none" (the type as configured).
	FixedResponseCharset string `yaml:"fixed_response_charset"`
}

// Duration is a time.Duration written as "30s", "5m", or a bare number of
// seconds (as ALB's *Seconds settings are).
type Duration time.Duration

// UnmarshalYAML accepts "1m30s" or an integer number of seconds.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration such as \"30s\" or a number of seconds", n.Line)
	}
	if secs, err := strconv.Atoi(n.Value); err == nil {
		*d = Duration(time.Duration(secs) * time.Second)
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration; write e.g. \"30s\", \"5m\" or 30", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration in Go's notation.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// File is the path the config was loaded from ("" when parsed from bytes).
func (c *Config) File() string { return c.file }

// Dir is the directory relative paths in the config are resolved against.
func (c *Config) Dir() string {
	if c.file == "" {
		return "."
	}
	return filepath.Dir(c.file)
}

// Path resolves a file path from the config against the config's directory.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir(), p)
}

// Load reads, parses and validates a config file of at most
// boundedio.MaxConfigFile bytes.
func Load(file string) (*Config, error) {
	data, err := boundedio.ReadFile(file, "config file", boundedio.MaxConfigFile)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(file, data)
}

// Parse parses and validates config bytes; file names the source in errors
// and anchors relative paths.
func Parse(file string, data []byte) (*Config, error) {
	c := &Config{file: file}
	root, err := yamlstrict.Root(file, data, "the config is empty or not a mapping of keys; see docs/configuration.md for an example")
	if err != nil {
		return nil, err
	}
	c.root = root
	if err := yamlstrict.Decode(file, root, c); err != nil {
		return nil, Errors(yamlstrict.As(err))
	}
	if errs := c.validate(); len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// Error is a config problem at a key path: FILE:LINE: PATH: MSG.
type Error = yamlstrict.Error

// Errors is every problem found in one config, in file order.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	if len(es) == 1 {
		return msgs[0]
	}
	return fmt.Sprintf("%d problems in the config:\n  %s", len(es), strings.Join(msgs, "\n  "))
}

// Errorf makes an Error for a key path of this config, with the line of that
// key when it is present in the file. Other packages use it so that all
// config errors look alike.
func (c *Config) Errorf(path, format string, args ...any) *Error {
	return &Error{File: c.file, Line: c.Line(path), Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Line returns the line of a key path such as "listeners[1].ssl_policy", or
// of its nearest present parent, or 0.
func (c *Config) Line(path string) int { return yamlstrict.Line(c.root, path) }
