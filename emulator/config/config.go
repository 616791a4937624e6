// Package config reads and validates albmtls.yaml, the emulator's
// configuration. Keys follow the names of the ALB API, CloudFormation and
// Terraform (snake_case), so users recognise them; see the product brief's
// "Config" section and docs/configuration.md.
//
// Load checks, in one pass that reports every problem at once: structure
// (unknown keys, types), enumerated values (modes, protocols, action types,
// redirect status codes, every emulation knob: typed values owned by their
// packages and parsed with encoding.TextUnmarshaler), ALB's own
// control-plane rules (alb-behaviour §1.1, §1.2, §8.2, §8.3), and what other
// packages own (security policy names, listener and load balancer
// attributes, redirect and fixed-response contents). Every error names the
// file, the line, the key path and what would be valid. The result is
// compiled into one ListenerPlan per listener, which the emulator builds
// from. Only reading the files the config names (trust stores,
// certificates) is left to the emulator, which reports with Errorf so those
// errors look alike; ParseAll and emulator.Check put both in one list.
package config

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/albmtls/albmtls/emulator/albheader"
	"github.com/albmtls/albmtls/emulator/albresponse"
	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/routing"
	"github.com/albmtls/albmtls/emulator/targetgroup"
	"github.com/albmtls/albmtls/emulator/verify"
	"github.com/albmtls/albmtls/internal/boundedio"
	"github.com/albmtls/albmtls/internal/yamlstrict"
)

// Config is the whole of albmtls.yaml.
type Config struct {
	LoadBalancer LoadBalancer  `yaml:"load_balancer,omitempty"`
	TrustStores  []TrustStore  `yaml:"trust_stores,omitempty"`
	TargetGroups []TargetGroup `yaml:"target_groups,omitempty"`
	Listeners    []Listener    `yaml:"listeners,omitempty"`
	Logs         Logs          `yaml:"logs,omitempty"`
	Admin        Admin         `yaml:"admin,omitempty"`
	AWSAPI       AWSAPI        `yaml:"aws_api,omitempty"`
	Emulation    Emulation     `yaml:"emulation,omitempty"`

	file   string         // path of the file, for error messages
	root   *yaml.Node     // document node, for positions of key paths
	plans  []ListenerPlan // compiled by validate
	nodeIP netip.Addr     // load_balancer.ip_address, parsed by validate
}

// LoadBalancer names the emulated load balancer; the name and account appear
// in log lines (app/NAME/ID) and S3 log object keys.
type LoadBalancer struct {
	Name      string `yaml:"name,omitempty"`
	AccountID string `yaml:"account_id,omitempty"`
	Region    string `yaml:"region,omitempty"`
	// ID is the 16-hex-digit resource ID of app/NAME/ID; derived from the
	// name and account when empty (awsarn.LoadBalancerID).
	ID string `yaml:"id,omitempty"`
	// IPAddress is the load balancer node's IP written in the last field of
	// log lines and in S3 object keys; empty means the listener's local IP.
	IPAddress string `yaml:"ip_address,omitempty"`
	// IdleTimeout is the load balancer attribute idle_timeout.timeout_seconds
	// (ALB default 60 s).
	IdleTimeout Duration `yaml:"idle_timeout,omitempty"`
	// Attributes are load balancer attributes, as in the ELBv2 API
	// (LoadBalancerAttributes); LoadBalancerAttributeKeys lists those
	// supported. Every listener reads them; a key also set in a listener's
	// attributes (accepted there for older configs) is overridden by it.
	Attributes map[string]string `yaml:"attributes,omitempty"`
}

// TrustStore is a CA bundle plus CRLs, like an ALB trust store whose files
// sit in S3 (alb-behaviour §1.2). Paths are relative to the config file.
type TrustStore struct {
	Name                 string   `yaml:"name,omitempty"`
	CACertificatesBundle string   `yaml:"ca_certificates_bundle,omitempty"`
	Revocations          []string `yaml:"revocations,omitempty"`
}

// TargetGroup is a set of HTTP targets the forward action balances over.
type TargetGroup struct {
	Name        string               `yaml:"name,omitempty"`
	Protocol    targetgroup.Protocol `yaml:"protocol,omitempty"` // HTTP (default) or HTTPS
	Targets     []string             `yaml:"targets,omitempty"`  // host:port
	HealthCheck HealthCheck          `yaml:"health_check,omitempty"`
	// TargetType is instance or ip (HTTP targets, the default) or lambda
	// (docs/lambda.md); a lambda group's targets are Functions.
	TargetType TargetType `yaml:"target_type,omitempty"`
	// Attributes are target group attributes (ModifyTargetGroupAttributes);
	// lambda.multi_value_headers.enabled is the one emulated (lambda.go).
	Attributes map[string]string `yaml:"attributes,omitempty"`
	// Lambda holds albmtls's settings for a lambda target group (not ALB's).
	Lambda LambdaSettings `yaml:"lambda,omitempty"`
	// Functions are a lambda target group's targets, written under
	// targets as {function, endpoint} (lambda.go reads and writes them).
	Functions []LambdaTarget `yaml:"-"`
	// unknownTargetKeys are keys of {function, endpoint} targets that are
	// neither, for the validator (lambda.go).
	unknownTargetKeys []string
}

// HealthCheck mirrors the target group health check settings; zero values
// mean ALB's defaults.
type HealthCheck struct {
	Enabled            *bool    `yaml:"enabled,omitempty"`
	Path               string   `yaml:"path,omitempty"`
	Port               string   `yaml:"port,omitempty"`
	Interval           Duration `yaml:"interval,omitempty"`
	Timeout            Duration `yaml:"timeout,omitempty"`
	HealthyThreshold   int      `yaml:"healthy_threshold,omitempty"`
	UnhealthyThreshold int      `yaml:"unhealthy_threshold,omitempty"`
	Matcher            string   `yaml:"matcher,omitempty"`
}

// Listener is one ALB listener: HTTP, or HTTPS with certificates, a security
// policy and optional mutual authentication.
type Listener struct {
	Port     int               `yaml:"port,omitempty"`
	Protocol listener.Protocol `yaml:"protocol,omitempty"` // HTTP | HTTPS
	// Address is the local address to bind (not an ALB setting); default
	// 127.0.0.1. Use 0.0.0.0 in containers.
	Address string `yaml:"address,omitempty"`
	// BindPort, when set, is the local port to bind instead of Port (not
	// an ALB setting): the AWS API binds a listener created on port 443 at
	// 10443 so that no root is needed, and Port stays what ALB logs and
	// forwards (X-Forwarded-Port, the access log, #{port} in redirects).
	BindPort             int                  `yaml:"bind_port,omitempty"`
	SSLPolicy            string               `yaml:"ssl_policy,omitempty"`
	Certificates         []Certificate        `yaml:"certificates,omitempty"`
	MutualAuthentication MutualAuthentication `yaml:"mutual_authentication,omitempty"`
	Attributes           map[string]string    `yaml:"attributes,omitempty"`
	DefaultAction        Action               `yaml:"default_action,omitempty"`
	Rules                []Rule               `yaml:"rules,omitempty"`
}

// Certificate is a server certificate (PEM chain) and its private key. The
// first certificate of a listener is the default; the others are chosen by
// SNI, as on ALB.
type Certificate struct {
	Certificate string `yaml:"certificate,omitempty"`
	PrivateKey  string `yaml:"private_key,omitempty"`
	// ARN is logged as chosen_cert_arn; synthesised when empty.
	ARN string `yaml:"arn,omitempty"`
}

// MutualAuthentication is the listener's MutualAuthenticationAttributes
// (alb-behaviour §1.1).
type MutualAuthentication struct {
	Mode                          listener.Mode             `yaml:"mode,omitempty"`
	TrustStore                    string                    `yaml:"trust_store,omitempty"`
	IgnoreClientCertificateExpiry *bool                     `yaml:"ignore_client_certificate_expiry,omitempty"`
	AdvertiseTrustStoreCaNames    listener.AdvertiseCANames `yaml:"advertise_trust_store_ca_names,omitempty"`
}

// EffectiveMode is the mode with ALB's default ("off") applied.
func (m MutualAuthentication) EffectiveMode() listener.Mode {
	if m.Mode == "" {
		return listener.ModeOff
	}
	return m.Mode
}

// Action is a listener or rule action.
type Action struct {
	Type          routing.ActionType `yaml:"type,omitempty"`
	TargetGroup   string             `yaml:"target_group,omitempty"`
	Redirect      *Redirect          `yaml:"redirect,omitempty"`
	FixedResponse *FixedResponse     `yaml:"fixed_response,omitempty"`
}

// Redirect is ALB's RedirectActionConfig (alb-behaviour §8.2).
type Redirect struct {
	Protocol   string                     `yaml:"protocol,omitempty"`
	Port       string                     `yaml:"port,omitempty"`
	Host       string                     `yaml:"host,omitempty"`
	Path       string                     `yaml:"path,omitempty"`
	Query      string                     `yaml:"query,omitempty"`
	StatusCode albresponse.RedirectStatus `yaml:"status_code,omitempty"`
}

// FixedResponse is ALB's FixedResponseActionConfig (alb-behaviour §8.3).
type FixedResponse struct {
	StatusCode  string `yaml:"status_code,omitempty"`
	ContentType string `yaml:"content_type,omitempty"`
	MessageBody string `yaml:"message_body,omitempty"`
}

// Rule is a listener rule: conditions (all must match; any value of a
// condition matches) and one action. Rules see the client's own headers, not
// the mTLS headers ALB adds (alb-behaviour §2.4, §9.3).
type Rule struct {
	Priority   int        `yaml:"priority,omitempty"`
	Conditions Conditions `yaml:"conditions,omitempty"`
	Action     Action     `yaml:"action,omitempty"`
}

// Conditions are the rule conditions the emulator supports.
type Conditions struct {
	PathPattern       []string         `yaml:"path_pattern,omitempty"`
	HostHeader        []string         `yaml:"host_header,omitempty"`
	HTTPRequestMethod []string         `yaml:"http_request_method,omitempty"`
	HTTPHeader        *HeaderCondition `yaml:"http_header,omitempty"`
	SourceIP          []string         `yaml:"source_ip,omitempty"`
}

// HeaderCondition matches one request header against wildcard values.
type HeaderCondition struct {
	Name   string   `yaml:"name,omitempty"`
	Values []string `yaml:"values,omitempty"`
}

// Logs says where ALB-format logs go. Paths are relative to the config file.
type Logs struct {
	Connection LogFile `yaml:"connection,omitempty"`
	Access     LogFile `yaml:"access,omitempty"`
	// S3LayoutDir, when set, also receives gzip objects under
	// AWSLogs/ACCOUNT/elasticloadbalancing/REGION/... as ALB delivers them.
	S3LayoutDir string `yaml:"s3_layout_dir,omitempty"`
	// S3Interval is how often objects are written (ALB: 5 minutes).
	S3Interval Duration `yaml:"s3_interval,omitempty"`
}

// LogFile is one log destination.
type LogFile struct {
	File string `yaml:"file,omitempty"`
}

// Admin is the emulator's own HTTP endpoint: /healthz, /metrics and the trust
// store revocation API. Anyone who reaches it can un-revoke a certificate,
// so it is loopback-only unless told otherwise (docs/admin.md).
type Admin struct {
	// Listen is host:port; an empty host means 127.0.0.1 (not every
	// interface, as Go would read it). A non-loopback address is logged as
	// a warning at start.
	Listen string `yaml:"listen,omitempty"`
	// Token, when set, is the bearer token required on the mutating
	// endpoints (POST, DELETE); the environment variable AdminTokenEnv
	// overrides it (ApplyEnv), so that a secret need not sit in the file.
	Token string `yaml:"token,omitempty"`
	// AllowedHosts are extra host names accepted in the Host header of
	// unauthenticated requests, besides localhost, 127.0.0.1, [::1] and the
	// listen host (a DNS-rebinding defence).
	AllowedHosts []string `yaml:"allowed_hosts,omitempty"`
}

// AWSAPI is the AWS API endpoint (docs/aws-api.md): ELBv2, ACM and S3 on
// one port, so that the AWS SDKs, the AWS CLI and Terraform drive the
// emulator. Off unless Listen is set.
type AWSAPI struct {
	// Listen is host:port, e.g. 127.0.0.1:4566 (LocalStack's port); an
	// empty host means 127.0.0.1.
	Listen string `yaml:"listen,omitempty"`
	// StateDir keeps the resources created through the API (and the
	// embedded S3 store's objects) across restarts; empty keeps them in
	// memory for the life of the process.
	StateDir string `yaml:"state_dir,omitempty"`
	// S3Endpoint, when set, is an S3-compatible endpoint (MinIO,
	// LocalStack, real S3) that trust store bundles and CRLs are read
	// from, through the AWS SDK and its default credentials, instead of
	// the embedded store.
	S3Endpoint string `yaml:"s3_endpoint,omitempty"`
	// AccessKeys, when set, are the only credentials accepted: each
	// request's SigV4 signature is checked against the secret. Without
	// them any well-formed signature is accepted, as LocalStack does.
	AccessKeys []AccessKey `yaml:"access_keys,omitempty"`
	// ListenerAddress is the host that listeners created through the API
	// bind (default 127.0.0.1). Ports below 1024 are bound at
	// port + PrivilegedPortOffset (default 10000: 443 → 10443, 80 → 10080) so
	// that no root is needed; DescribeListeners still says 443.
	ListenerAddress      string `yaml:"listener_address,omitempty"`
	PrivilegedPortOffset *int   `yaml:"privileged_port_offset,omitempty"`
}

// AccessKey is one AWS access key pair accepted by the AWS API endpoint.
type AccessKey struct {
	AccessKeyID     string `yaml:"access_key_id,omitempty"`
	SecretAccessKey string `yaml:"secret_access_key,omitempty"`
}

// DefaultAWSAPIListen is the AWS API endpoint's address when it is turned
// on without one (the demo, serve --aws-api): LocalStack's edge port.
const DefaultAWSAPIListen = "127.0.0.1:4566"

// DefaultPrivilegedPortOffset is added to a listener port below 1024 that
// the AWS API creates.
const DefaultPrivilegedPortOffset = 10000

// Address is the address the AWS API endpoint binds: Listen with an empty
// host read as 127.0.0.1.
func (a AWSAPI) Address() string { return Admin{Listen: a.Listen}.Address() }

// BindAddress is where a listener the AWS API creates on ALB port port
// binds (see ListenerAddress).
func (a AWSAPI) BindAddress(port int) string {
	host := a.ListenerAddress
	if host == "" {
		host = DefaultListenAddress
	}
	offset := DefaultPrivilegedPortOffset
	if a.PrivilegedPortOffset != nil {
		offset = *a.PrivilegedPortOffset
	}
	if port > 0 && port < 1024 {
		port += offset
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
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
	// TCP reset, as observed on ALB, alb-behaviour §2.3) or "alert" (a TLS alert).
	RejectWith listener.RejectWith `yaml:"reject_with,omitempty"`
	// MissingClientCertificate is the tls_verify_status code logged when a
	// verify-mode client sends no certificate (alb-behaviour §10.1); default
	// UnmappedConnectionError.
	MissingClientCertificate verify.Code `yaml:"missing_client_certificate,omitempty"`
	// IgnoreExpiryIncludesNotBefore: with ignore_client_certificate_expiry,
	// also accept not-yet-valid certificates (default true: the brief, and
	// s2n disables all time checks; alb-behaviour §10.9).
	IgnoreExpiryIncludesNotBefore *bool `yaml:"ignore_expiry_includes_not_before,omitempty"`
	// CRLMissingForIssuer: "skip" (default; a CA without a CRL in the trust
	// store is not checked) or "fail" (s2n CRL_CHECK_ALL semantics:
	// ClientCertCrlProcessingError).
	CRLMissingForIssuer verify.CRLMissingPolicy `yaml:"crl_missing_for_issuer,omitempty"`
	// StaleCRL: "apply" (default; a CRL whose nextUpdate has passed or
	// whose thisUpdate is in the future is still used, as s2n does, s2n
	// §1.4) or "fail" (ClientCertCrlProcessingError; alb-behaviour §10.7).
	StaleCRL verify.StaleCRLPolicy `yaml:"stale_crl,omitempty"`
	// IgnoreExpiryScope: "chain" (default; ignore_client_certificate_expiry
	// skips the time checks of every certificate of the chain, as s2n's
	// switch does) or "leaf" (only the client certificate's; alb-behaviour §10.9).
	IgnoreExpiryScope verify.ExpiryScope `yaml:"ignore_expiry_scope,omitempty"`
	// UnhandledCriticalExtension is the code for a client certificate with a
	// critical extension the TLS library does not handle (default
	// ClientCertUntrusted; alb-behaviour §S9 gives Invalid or Untrusted).
	UnhandledCriticalExtension verify.Code `yaml:"unhandled_critical_extension,omitempty"`
	// PassthroughSizeLimit rejects, in passthrough mode, a client whose
	// Certificate message exceeds 64 KiB with ClientCertMaxSizeExceeded
	// (default true: s2n caps every handshake message at 64 KiB in any mode,
	// alb-behaviour §S7; alb-behaviour §10.3 leaves passthrough open).
	PassthroughSizeLimit *bool `yaml:"passthrough_size_limit,omitempty"`
	// ClientCertEquals is how '=' is written in the PEM headers: "literal"
	// (default, as the text of the ALB docs says) or "percent" (%3D, as the
	// docs' example shows; alb-behaviour §9.2).
	ClientCertEquals certfmt.EqualsEncoding `yaml:"clientcert_equals,omitempty"`
	// StripClientHeaders removes client-sent copies of the mTLS and TLS
	// headers in every mode (default true; alb-behaviour §10.4). Turn it off to
	// rehearse what a backend does if stripping were ever missing.
	StripClientHeaders *bool `yaml:"strip_client_headers,omitempty"`
	// StripHeaderNameVariants also removes client-sent spellings that a
	// CGI-style target (WSGI, PHP, Rack, FastCGI) folds onto a header the
	// emulator owns: X_Amzn_Mtls_Clientcert_Subject, X.Amzn-Tls-Version,
	// X_Forwarded_For (default true). Whether ALB does is unknown (spec
	// §10.4); turn it off to rehearse a load balancer that forwards them.
	StripHeaderNameVariants *bool `yaml:"strip_header_name_variants,omitempty"`
	// ClientHeaderDuplicates is, with strip_client_headers false, what
	// happens to a client's copy of a header the load balancer sets:
	// "replace" (default) or both lines forwarded, "client-first" or
	// "client-last" (alb-behaviour §10.4: overwritten or passed through is unknown).
	ClientHeaderDuplicates albheader.Copies `yaml:"client_header_duplicates,omitempty"`
	// ForwardedHeaderOrder is the order of a forwarded request's header
	// lines: "alb" (default; X-Forwarded-*, mTLS, TLS, Host, trace id, the
	// client's headers; alb-behaviour §4.1) or "sorted" (Go's: Host,
	// User-Agent, the rest by name).
	ForwardedHeaderOrder albheader.Order `yaml:"forwarded_header_order,omitempty"`
	// HandshakeTimeout bounds a TLS handshake (default 10s).
	HandshakeTimeout Duration `yaml:"handshake_timeout,omitempty"`
	// AccessLogUnreleasedFields appends the two trailing "-" fields seen on
	// real access-log lines (alb-behaviour §7; default false).
	AccessLogUnreleasedFields bool `yaml:"access_log_unreleased_fields,omitempty"`
	// WatchInterval is how often trust store and certificate files are
	// checked for changes (default 2s; 0s turns watching off).
	WatchInterval *Duration `yaml:"watch_interval,omitempty"`
	// RequestHeaderTimeout bounds reading a request's headers once its
	// first byte arrived (default 60s), so a client that trickles its
	// headers is closed; the wait for that first byte is the load
	// balancer's idle_timeout. ALB's own header-read limit is not
	// documented [UNK]; 60s is nginx's documented client_header_timeout.
	RequestHeaderTimeout Duration `yaml:"request_header_timeout,omitempty"`
	// ShutdownDrainTimeout is how long requests in flight may run after
	// SIGTERM before they are cut, in the style of a target group's
	// deregistration_delay.timeout_seconds (default 10s; 0s cuts at once).
	ShutdownDrainTimeout *Duration `yaml:"shutdown_drain_timeout,omitempty"`
	// FixedResponseCharset is what a fixed-response action appends to its
	// configured content_type: "utf-8" (default; "text/plain" goes out as
	// "text/plain; charset=utf-8", observed, alb-behaviour §8.3; applied to
	// every accepted type [INF]) or "none" (the type as configured).
	FixedResponseCharset albresponse.Charset `yaml:"fixed_response_charset,omitempty"`
	// ChainCheckCache is how many client certificate paths whose
	// signatures verified each verify-mode listener remembers per trust
	// store snapshot, so a client reconnecting with the same chain skips
	// the signature checks (default, when absent, 4096; 0 turns the cache
	// off). Not an
	// ALB setting: validity, CRLs and purpose are still checked on every
	// handshake, so the outcome is the same, only faster (docs/verification.md).
	ChainCheckCache *int `yaml:"chain_check_cache,omitempty"`
	// HTTP1FrontEnd chooses what serves HTTP/1.x connections: "albmtls"
	// (emulator/http1, the default, also when empty) or "net/http" (Go's
	// server). An implementation choice, not an ALB setting; HTTP/2 stays
	// on net/http. Read it with FrontEnd.
	HTTP1FrontEnd string `yaml:"http1_front_end,omitempty"`
}

// FrontEnd is the HTTP/1.x front end in effect: HTTP1FrontEnd, or
// FrontEndALBMTLS when it is empty.
func (e Emulation) FrontEnd() string {
	if e.HTTP1FrontEnd == "" {
		return FrontEndALBMTLS
	}
	return e.HTTP1FrontEnd
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
	c, errs := ParseAll(file, data)
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// ParseAll is Parse that reports every static problem of the config in one
// list (unknown keys, refused values, ALB's rules, security policies,
// attributes, actions) and still returns what it could read, so that a
// checker (albmtls serve --check) can go on to the files it names. The
// Config is nil only when the data is not a YAML mapping; with errors, it
// must not be served (its Plans are nil).
func ParseAll(file string, data []byte) (*Config, Errors) {
	c := &Config{file: file}
	root, err := yamlstrict.Root(file, data, "the config is empty or not a mapping of keys; see docs/configuration.md for an example")
	if err != nil {
		return nil, Errors(yamlstrict.As(err))
	}
	c.root = root
	errs := Errors(yamlstrict.DecodeAllHinted(file, root, c, aliasHint))
	bad := map[string]bool{}
	for _, e := range errs {
		bad[e.Path] = true
	}
	return c, append(errs, c.validate(bad)...)
}

// LoadAll is Load with ParseAll's reporting: err is a failure to read the
// file (as Load returns it), errs the config's problems.
func LoadAll(file string) (c *Config, errs Errors, err error) {
	data, err := boundedio.ReadFile(file, "config file", boundedio.MaxConfigFile)
	if err != nil {
		return nil, nil, fmt.Errorf("reading config: %w", err)
	}
	c, errs = ParseAll(file, data)
	return c, errs, nil
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

// Marshal writes c as albmtls.yaml, leaving out the keys that are not set.
// It is the one writer of the schema: the demo, the conformance harness and
// the docker module build a Config and write it with Marshal, so that what
// they write is what Parse reads back (the golden tests check both ways).
func Marshal(c *Config) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2) // as docs/configuration.md writes it
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("config: writing albmtls.yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: writing albmtls.yaml: %w", err)
	}
	return buf.Bytes(), nil
}
