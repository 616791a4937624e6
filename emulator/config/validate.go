package config

import (
	"cmp"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/albmtls/albmtls/emulator/desync"

	"github.com/albmtls/albmtls/emulator/alb"
	"github.com/albmtls/albmtls/emulator/albheader"
	"github.com/albmtls/albmtls/emulator/albresponse"
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/routing"
	"github.com/albmtls/albmtls/emulator/targetgroup"
	"github.com/albmtls/albmtls/emulator/verify"
	"github.com/albmtls/albmtls/internal/enum"
)

// The values of emulation.http1_front_end.
const (
	FrontEndNetHTTP = "net/http"
	FrontEndALBMTLS = "albmtls"
)

// Defaults applied by Load when a key is absent.
const (
	DefaultLoadBalancerName = "albmtls"
	DefaultAccountID        = "123456789012"
	DefaultRegion           = "us-east-1"
	DefaultListenAddress    = "127.0.0.1"
	DefaultIdleTimeout      = 60 * time.Second // ALB idle_timeout.timeout_seconds
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultRequestHeaderTimeout: ALB's is [UNK]; nginx's documented
	// client_header_timeout default.
	DefaultRequestHeaderTimeout = 60 * time.Second
	// DefaultShutdownDrainTimeout is the drain serve always used.
	DefaultShutdownDrainTimeout = 10 * time.Second
	DefaultS3Interval           = 5 * time.Minute // ALB delivers logs every 5 minutes (alb-behaviour §6.1)
	DefaultWatchInterval        = 2 * time.Second

	// MaxVerifyListeners is ALB's quota of listeners using mTLS verify mode
	// per load balancer (alb.MaxVerifyListeners, alb-behaviour §1.2).
	MaxVerifyListeners = alb.MaxVerifyListeners
	// MaxRevocationFiles is ALB's default quota of revocation lists per
	// trust store (alb.DefaultMaxRevocationLists, alb-behaviour §1.2).
	MaxRevocationFiles = alb.DefaultMaxRevocationLists
)

var (
	// Trust store names (alb-behaviour §1.2): 1–32 characters.
	trustStoreNameRE = regexp.MustCompile(`^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$`)
	// Load balancer and target group names: alphanumerics and hyphens, not
	// starting or ending with a hyphen, 1–32 characters.
	resourceNameRE   = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$`)
	accountIDRE      = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE         = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	loadBalancerIDRE = regexp.MustCompile(`^[0-9a-f]{16}$`)
	// ListenerAttributeKey pattern (alb-behaviour §4.2, API).
	attributeKeyRE = regexp.MustCompile(`^[a-zA-Z0-9._]{1,256}$`)
)

// validate applies the defaults and checks everything that needs no file
// but the config: ALB's control-plane rules, and the values other packages
// own (security policies, listener attributes, action contents), which it
// compiles into the listener plans. bad holds the key paths whose values
// were refused while decoding; checks that depend on them are skipped, so
// one mistake gives one error.
func (c *Config) validate(bad map[string]bool) Errors {
	v := &validator{c: c, bad: bad}
	c.applyDefaults()
	v.loadBalancer()
	stores := v.trustStores()
	groups := v.targetGroups()
	v.listeners(stores, groups)
	v.logsAndAdmin()
	v.awsAPI()
	v.emulation()
	c.plans = v.compile()
	return v.errs
}

type validator struct {
	c    *Config
	bad  map[string]bool
	errs Errors
	// lbAttributesBad: a load balancer attribute was refused, so the
	// listeners' merged attributes need no error of their own.
	lbAttributesBad bool
}

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, v.c.Errorf(path, format, args...))
}

func (c *Config) applyDefaults() {
	lb := &c.LoadBalancer
	if lb.Name == "" {
		lb.Name = DefaultLoadBalancerName
	}
	if lb.AccountID == "" {
		lb.AccountID = DefaultAccountID
	}
	if lb.Region == "" {
		lb.Region = DefaultRegion
	}
	if lb.IdleTimeout == 0 {
		lb.IdleTimeout = Duration(DefaultIdleTimeout)
	}
	for i := range c.TargetGroups {
		if c.TargetGroups[i].Protocol == "" {
			c.TargetGroups[i].Protocol = targetgroup.ProtocolHTTP
		}
	}
	for i := range c.Listeners {
		l := &c.Listeners[i]
		if l.Address == "" {
			l.Address = DefaultListenAddress
		}
	}
	if c.Logs.S3Interval == 0 {
		c.Logs.S3Interval = Duration(DefaultS3Interval)
	}
	e := &c.Emulation
	if e.RejectWith == "" {
		e.RejectWith = listener.RejectReset
	}
	if e.MissingClientCertificate == "" {
		e.MissingClientCertificate = verify.UnmappedConnectionError
	}
	if e.IgnoreExpiryIncludesNotBefore == nil {
		e.IgnoreExpiryIncludesNotBefore = ptr(true)
	}
	if e.CRLMissingForIssuer == "" {
		e.CRLMissingForIssuer = verify.CRLMissingSkip
	}
	if e.StaleCRL == "" {
		e.StaleCRL = verify.StaleCRLApply
	}
	if e.IgnoreExpiryScope == "" {
		e.IgnoreExpiryScope = verify.ExpiryScopeChain
	}
	if e.UnhandledCriticalExtension == "" {
		e.UnhandledCriticalExtension = verify.ClientCertUntrusted
	}
	if e.PassthroughSizeLimit == nil {
		e.PassthroughSizeLimit = ptr(true)
	}
	if e.StripClientHeaders == nil {
		e.StripClientHeaders = ptr(true)
	}
	if e.StripHeaderNameVariants == nil {
		e.StripHeaderNameVariants = ptr(true)
	}
	if e.ClientHeaderDuplicates == "" {
		e.ClientHeaderDuplicates = albheader.CopiesReplace
	}
	if e.ForwardedHeaderOrder == "" {
		e.ForwardedHeaderOrder = albheader.OrderALB
	}
	if e.HandshakeTimeout == 0 {
		e.HandshakeTimeout = Duration(DefaultHandshakeTimeout)
	}
	if e.WatchInterval == nil {
		d := Duration(DefaultWatchInterval)
		e.WatchInterval = &d
	}
	if e.RequestHeaderTimeout == 0 {
		e.RequestHeaderTimeout = Duration(DefaultRequestHeaderTimeout)
	}
	if e.ShutdownDrainTimeout == nil {
		d := Duration(DefaultShutdownDrainTimeout)
		e.ShutdownDrainTimeout = &d
	}
	if e.FixedResponseCharset == "" {
		e.FixedResponseCharset = albresponse.CharsetUTF8
	}
}

func ptr[T any](v T) *T { return &v }

func (v *validator) loadBalancer() {
	lb := v.c.LoadBalancer
	if len(lb.Name) > 32 || !resourceNameRE.MatchString(lb.Name) || strings.HasPrefix(lb.Name, "internal-") {
		v.add("load_balancer.name", "%q is not a valid load balancer name: use 1–32 letters, digits and hyphens, not starting or ending with a hyphen, not starting with \"internal-\"", lb.Name)
	}
	if !accountIDRE.MatchString(lb.AccountID) {
		v.add("load_balancer.account_id", "%q is not an AWS account ID: write 12 digits, quoted (\"123456789012\")", lb.AccountID)
	}
	if !regionRE.MatchString(lb.Region) {
		v.add("load_balancer.region", "%q is not an AWS region name such as us-east-1", lb.Region)
	}
	if lb.ID != "" && !loadBalancerIDRE.MatchString(lb.ID) {
		v.add("load_balancer.id", "%q is not a load balancer ID: write 16 lowercase hex digits, or leave it out to derive one from the name", lb.ID)
	}
	if lb.IPAddress != "" {
		// Parsed once, as the logs use it (netip); a zone is no node address.
		ip, err := netip.ParseAddr(lb.IPAddress)
		if err != nil || ip.Zone() != "" {
			v.add("load_balancer.ip_address", "%q is not an IP address", lb.IPAddress)
		}
		v.c.nodeIP = ip
	}
	if lb.IdleTimeout.D() < time.Second || lb.IdleTimeout.D() > 4000*time.Second {
		v.add("load_balancer.idle_timeout", "%s is outside ALB's range for idle_timeout.timeout_seconds (1s–4000s)", lb.IdleTimeout.D())
	}
	for _, k := range slices.Sorted(maps.Keys(lb.Attributes)) {
		parse, ok := loadBalancerAttributes[k]
		if !ok {
			v.add("load_balancer.attributes."+k, "albmtls does not support the load balancer attribute %q; supported: %s", k, strings.Join(LoadBalancerAttributeKeys(), ", "))
			v.lbAttributesBad = true
			continue
		}
		if err := parse(lb.Attributes[k]); err != nil {
			v.add("load_balancer.attributes."+k, "%v (quoted)", err)
			v.lbAttributesBad = true
		}
	}
}

// loadBalancerAttributes are the load balancer attributes albmtls emulates,
// each with the parser of its values (ELBv2 LoadBalancerAttribute; the idle
// timeout is load_balancer.idle_timeout). An empty value is refused here,
// as it always was.
var loadBalancerAttributes = map[string]func(string) error{
	albheader.AttrDropInvalidHeaderFields:  boolAttribute,
	albheader.AttrTLSVersionAndCipherSuite: boolAttribute,
	albheader.AttrXFFClientPort:            boolAttribute,
	albheader.AttrXFFHeaderProcessingMode:  xffModeAttribute,
	desync.AttrMode:                        desyncModeAttribute,
}

// desyncModeAttribute checks routing.http.desync_mitigation_mode.
func desyncModeAttribute(s string) error {
	if s == "" {
		return fmt.Errorf("%q is not valid; use monitor, defensive or strictest", s)
	}
	_, err := desync.ParseMode(s)
	return err
}

// boolAttribute checks an attribute value of "true" or "false".
func boolAttribute(s string) error {
	if s == "true" || s == "false" {
		return nil
	}
	return fmt.Errorf("%q is not valid; use true or false", s)
}

// xffModeAttribute checks routing.http.xff_header_processing.mode; unlike
// the listener attribute, an empty value is refused (as it always was).
func xffModeAttribute(s string) error {
	if s == "" {
		return fmt.Errorf("%q is not valid; use %s", s, enum.List(albheader.XFFModes, " or ", " or "))
	}
	var m albheader.XFFMode
	return m.UnmarshalText([]byte(s))
}

// LoadBalancerAttributeKeys lists the supported keys of
// load_balancer.attributes, sorted.
func LoadBalancerAttributeKeys() []string { return slices.Sorted(maps.Keys(loadBalancerAttributes)) }

// ListenerAttributes returns the attributes a listener's header processing
// reads: the load balancer's, overridden by the listener's own.
func (c *Config) ListenerAttributes(l *Listener) map[string]string {
	if len(c.LoadBalancer.Attributes) == 0 {
		return l.Attributes
	}
	out := maps.Clone(c.LoadBalancer.Attributes)
	maps.Copy(out, l.Attributes)
	return out
}

func (v *validator) trustStores() map[string]bool {
	names := map[string]bool{}
	for i, ts := range v.c.TrustStores {
		p := fmt.Sprintf("trust_stores[%d]", i)
		switch {
		case ts.Name == "":
			v.add(p+".name", "a trust store needs a name")
		case len(ts.Name) > 32 || !trustStoreNameRE.MatchString(ts.Name):
			v.add(p+".name", "%q is not a valid trust store name: 1–32 letters and digits, hyphens only between them (alb-behaviour §1.2)", ts.Name)
		case names[ts.Name]:
			v.add(p+".name", "DuplicateTrustStoreName: another trust store is already named %q", ts.Name)
		}
		names[ts.Name] = true
		if ts.CACertificatesBundle == "" {
			v.add(p+".ca_certificates_bundle", "a trust store needs a CA bundle (PEM file of the root and intermediate CAs)")
		}
		if len(ts.Revocations) > MaxRevocationFiles {
			v.add(p+".revocations", "%d revocation files exceed ALB's quota of %d revocation lists per trust store", len(ts.Revocations), MaxRevocationFiles)
		}
		for j, r := range ts.Revocations {
			if r == "" {
				v.add(fmt.Sprintf("%s.revocations[%d]", p, j), "empty file name")
			}
		}
	}
	return names
}

func (v *validator) targetGroups() map[string]bool {
	names := map[string]bool{}
	for i, tg := range v.c.TargetGroups {
		p := fmt.Sprintf("target_groups[%d]", i)
		switch {
		case tg.Name == "":
			v.add(p+".name", "a target group needs a name")
		case len(tg.Name) > 32 || !resourceNameRE.MatchString(tg.Name):
			v.add(p+".name", "%q is not a valid target group name: 1–32 letters, digits and hyphens, not starting or ending with a hyphen", tg.Name)
		case names[tg.Name]:
			v.add(p+".name", "DuplicateTargetGroupName: another target group is already named %q", tg.Name)
		}
		names[tg.Name] = true
		v.lambdaTargetGroup(p, tg) // lambda.go
		for j, t := range tg.Targets {
			if _, port, err := net.SplitHostPort(t); err != nil || !validPort(port) {
				v.add(fmt.Sprintf("%s.targets[%d]", p, j), "%q is not host:port (e.g. 127.0.0.1:9001)", t)
			}
		}
	}
	return names
}

func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535
}

func (v *validator) listeners(stores, groups map[string]bool) {
	if len(v.c.Listeners) == 0 {
		v.add("listeners", "no listeners: add at least one HTTP or HTTPS listener")
		return
	}
	verify := 0
	bound := map[string]int{}
	for i := range v.c.Listeners {
		l := &v.c.Listeners[i]
		p := fmt.Sprintf("listeners[%d]", i)
		if l.Port < 0 || l.Port > 65535 {
			v.add(p+".port", "%d is not a port (1–65535; 0 picks a free port, for tests)", l.Port)
		}
		if l.BindPort < 0 || l.BindPort > 65535 {
			v.add(p+".bind_port", "%d is not a port (1–65535)", l.BindPort)
		}
		if local := cmp.Or(l.BindPort, l.Port); local != 0 {
			key := net.JoinHostPort(l.Address, strconv.Itoa(local))
			if j, dup := bound[key]; dup {
				v.add(p+".port", "listeners[%d] already uses %s", j, key)
			}
			bound[key] = i
		}
		if net.ParseIP(l.Address) == nil && l.Address != "localhost" {
			v.add(p+".address", "%q is not an IP address to bind (e.g. 127.0.0.1, or 0.0.0.0 in a container)", l.Address)
		}
		switch l.Protocol {
		case listener.ProtocolHTTPS:
			if len(l.Certificates) == 0 {
				v.add(p+".certificates", "an HTTPS listener needs at least one certificate (the first is the default, the others are chosen by SNI)")
			}
			for j, c := range l.Certificates {
				cp := fmt.Sprintf("%s.certificates[%d]", p, j)
				if c.Certificate == "" {
					v.add(cp+".certificate", "missing the PEM certificate (chain) file")
				}
				if c.PrivateKey == "" {
					v.add(cp+".private_key", "missing the PEM private key file")
				}
			}
			if v.mutualAuthentication(p+".mutual_authentication", l.MutualAuthentication, stores) {
				verify++
				if verify > MaxVerifyListeners {
					v.add(p+".mutual_authentication.mode", "only %d listeners per load balancer may use mTLS verify mode (ALB quota, not adjustable)", MaxVerifyListeners)
				}
			}
		case listener.ProtocolHTTP:
			if l.SSLPolicy != "" {
				v.add(p+".ssl_policy", "an HTTP listener has no security policy; use protocol HTTPS or remove ssl_policy")
			}
			if len(l.Certificates) > 0 {
				v.add(p+".certificates", "an HTTP listener has no certificates; use protocol HTTPS or remove certificates")
			}
			if l.MutualAuthentication != (MutualAuthentication{}) {
				v.add(p+".mutual_authentication", "mutual authentication needs an HTTPS listener")
			}
		case "":
			if !v.bad[p+".protocol"] {
				v.add(p+".protocol", "missing; use %s", enum.List(listener.Protocols, ", ", " or "))
			}
		}
		for k := range l.Attributes {
			if !attributeKeyRE.MatchString(k) {
				v.add(p+".attributes."+k, "%q is not a listener attribute key (letters, digits, '.' and '_', at most 256)", k)
			}
		}
		v.action(p+".default_action", l.DefaultAction, groups)
		prio := map[int]bool{}
		for j, r := range l.Rules {
			rp := fmt.Sprintf("%s.rules[%d]", p, j)
			if r.Priority < 1 || r.Priority > 50000 {
				v.add(rp+".priority", "%d is not a rule priority (1–50000)", r.Priority)
			} else if prio[r.Priority] {
				v.add(rp+".priority", "PriorityInUse: another rule of this listener has priority %d", r.Priority)
			}
			prio[r.Priority] = true
			c := r.Conditions
			if len(c.PathPattern)+len(c.HostHeader)+len(c.HTTPRequestMethod)+len(c.SourceIP) == 0 && c.HTTPHeader == nil {
				v.add(rp+".conditions", "a rule needs at least one condition (path_pattern, host_header, http_request_method, http_header, source_ip)")
			}
			if h := c.HTTPHeader; h != nil && (h.Name == "" || len(h.Values) == 0) {
				v.add(rp+".conditions.http_header", "http_header needs a name and at least one value")
			}
			v.action(rp+".action", r.Action, groups)
		}
	}
}

// mutualAuthentication applies ALB's rules for MutualAuthenticationAttributes
// (alb-behaviour §1.1: verify needs a trust store; the trust store options are
// refused in off and passthrough, as the CDK enforces). It reports whether
// the listener uses verify mode.
func (v *validator) mutualAuthentication(p string, m MutualAuthentication, stores map[string]bool) bool {
	if v.bad[p+".mode"] {
		return false // reported while decoding
	}
	mode := m.EffectiveMode()
	switch mode {
	case listener.ModeVerify:
		if m.TrustStore == "" {
			v.add(p+".trust_store", "verify mode needs a trust store: name one of trust_stores")
		} else if !stores[m.TrustStore] {
			v.add(p+".trust_store", "TrustStoreNotFound: no trust store named %q in trust_stores", m.TrustStore)
		}
		return true
	case listener.ModeOff, listener.ModePassthrough:
		for _, opt := range []struct {
			key string
			set bool
		}{
			{"trust_store", m.TrustStore != ""},
			{"ignore_client_certificate_expiry", m.IgnoreClientCertificateExpiry != nil},
			{"advertise_trust_store_ca_names", m.AdvertiseTrustStoreCaNames != ""},
		} {
			if opt.set {
				v.add(p+"."+opt.key, "you cannot set %s when mode is %q; it applies to verify mode only", opt.key, mode)
			}
		}
	}
	return false
}

// action checks the shape of an action; the redirect and fixed-response
// contents are checked against ALB's rules by the emulator (albresponse).
func (v *validator) action(p string, a Action, groups map[string]bool) {
	switch a.Type {
	case routing.ActionForward:
		if a.TargetGroup == "" {
			v.add(p+".target_group", "a forward action needs a target_group")
		} else if !groups[a.TargetGroup] {
			v.add(p+".target_group", "TargetGroupNotFound: no target group named %q in target_groups", a.TargetGroup)
		}
		if a.Redirect != nil || a.FixedResponse != nil {
			v.add(p, "a forward action takes only target_group")
		}
	case routing.ActionRedirect:
		if a.Redirect == nil {
			v.add(p+".redirect", "a redirect action needs a redirect block (protocol, port, host, path, query, status_code)")
		}
		if a.TargetGroup != "" || a.FixedResponse != nil {
			v.add(p, "a redirect action takes only redirect")
		}
	case routing.ActionFixedResponse:
		if a.FixedResponse == nil {
			v.add(p+".fixed_response", "a fixed-response action needs a fixed_response block (status_code, content_type, message_body)")
		}
		if a.TargetGroup != "" || a.Redirect != nil {
			v.add(p, "a fixed-response action takes only fixed_response")
		}
	case "":
		if !v.bad[p+".type"] {
			v.add(p+".type", "missing; use %s", enum.List(routing.ActionTypes, ", ", " or "))
		}
	}
}

func (v *validator) logsAndAdmin() {
	if v.c.Logs.S3Interval.D() < time.Second {
		v.add("logs.s3_interval", "%s is too short; ALB delivers every 5m, use at least 1s", v.c.Logs.S3Interval.D())
	}
	if l := v.c.Admin.Listen; l != "" {
		if _, port, err := net.SplitHostPort(l); err != nil || (port != "0" && !validPort(port)) {
			v.add("admin.listen", "%q is not host:port (e.g. 127.0.0.1:9090)", l)
		}
	}
	if tok := v.c.Admin.Token; tok != "" {
		if msg := checkAdminToken(tok); msg != "" {
			v.add("admin.token", "%s", msg)
		}
	}
	for i, h := range v.c.Admin.AllowedHosts {
		if h == "" || net.ParseIP(strings.Trim(h, "[]")) == nil && strings.ContainsAny(h, ":/ []") {
			v.add(fmt.Sprintf("admin.allowed_hosts[%d]", i), "%q is not a host name (no port, no scheme; e.g. alb.internal)", h)
		}
	}
}

// awsAPI checks the aws_api section (docs/aws-api.md).
func (v *validator) awsAPI() {
	a := v.c.AWSAPI
	if l := a.Listen; l != "" {
		if _, port, err := net.SplitHostPort(l); err != nil || (port != "0" && !validPort(port)) {
			v.add("aws_api.listen", "%q is not host:port (e.g. 127.0.0.1:4566)", l)
		}
	}
	if u := a.S3Endpoint; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		v.add("aws_api.s3_endpoint", "%q is not an http:// or https:// URL (e.g. http://127.0.0.1:9000 for MinIO)", u)
	}
	if h := a.ListenerAddress; h != "" && net.ParseIP(strings.Trim(h, "[]")) == nil && h != "localhost" {
		v.add("aws_api.listener_address", "%q is not an IP address (e.g. 127.0.0.1, or 0.0.0.0 in a container)", h)
	}
	if o := a.PrivilegedPortOffset; o != nil && (*o < 0 || *o+1023 > 65535) {
		v.add("aws_api.privileged_port_offset", "%d is out of range: 0 (bind the port as given; needs root below 1024) to 64512", *o)
	}
	for i, k := range a.AccessKeys {
		if k.AccessKeyID == "" || k.SecretAccessKey == "" {
			v.add(fmt.Sprintf("aws_api.access_keys[%d]", i), "both access_key_id and secret_access_key are needed")
		}
	}
}

func (v *validator) emulation() {
	e := v.c.Emulation
	// The enumerations were checked while decoding; the codes must also be
	// failures, since they name why a connection is refused.
	for _, c := range []struct {
		key  string
		code verify.Code
	}{
		{"missing_client_certificate", e.MissingClientCertificate},
		{"unhandled_critical_extension", e.UnhandledCriticalExtension},
	} {
		if err := verify.FailureCode(c.code); err != nil {
			v.add("emulation."+c.key, "%v", err)
		}
	}
	if e.ClientHeaderDuplicates != albheader.CopiesReplace && *e.StripClientHeaders {
		v.add("emulation.client_header_duplicates", "%q applies only when client copies reach the target: set strip_client_headers: false too, or remove this key", e.ClientHeaderDuplicates)
	}
	if e.HandshakeTimeout.D() <= 0 {
		v.add("emulation.handshake_timeout", "must be positive")
	}
	if e.WatchInterval.D() < 0 {
		v.add("emulation.watch_interval", "must be 0s (off) or positive")
	}
	if e.RequestHeaderTimeout.D() <= 0 {
		v.add("emulation.request_header_timeout", "must be positive")
	}
	if e.ShutdownDrainTimeout.D() < 0 {
		v.add("emulation.shutdown_drain_timeout", "must be 0s (cut at once) or positive")
	}
	if e.HTTP1FrontEnd != "" && e.HTTP1FrontEnd != FrontEndNetHTTP && e.HTTP1FrontEnd != FrontEndALBMTLS {
		v.add("emulation.http1_front_end", "%q is not a front end: write %q (the default) or %q", e.HTTP1FrontEnd, FrontEndALBMTLS, FrontEndNetHTTP)
	}
	if e.ChainCheckCache != nil && *e.ChainCheckCache < 0 {
		v.add("emulation.chain_check_cache", "%d is negative: write a number of chains, or 0 to turn the cache off", *e.ChainCheckCache)
	}
}

// ListenerPath is the key path of listener i, for messages from other
// packages ("listeners[1]").
func ListenerPath(i int) string { return "listeners[" + itoa(i) + "]" }

func itoa(i int) string { return strconv.Itoa(i) }
