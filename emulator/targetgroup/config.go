// Package targetgroup is the forward action of an Application Load Balancer:
// a target group of HTTP(S) targets, round robin over the healthy ones,
// health checks with ALB's settings and states, fail-open when every target is
// unhealthy, and the classification of target failures into the status codes
// and access-log fields ALB would write (alb-behaviour §7, §8.1).
package targetgroup

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/albmtls/albmtls/emulator/albresponse"
)

// ALB defaults for target groups. Sources: "Health checks for your target
// groups" and the ELBv2 API reference (CreateTargetGroup) [DOC: TGHC]; the
// troubleshooting guide for the 10 s connect timeout [DOC: TS]; the load
// balancer attribute idle_timeout.timeout_seconds, default 60 [DOC].
const (
	// DefaultHealthCheckPath is HealthCheckPath's default.
	DefaultHealthCheckPath = "/"
	// DefaultHealthCheckInterval is HealthCheckIntervalSeconds' default (range 5-300 s).
	DefaultHealthCheckInterval = 30 * time.Second
	// DefaultHealthCheckTimeout is HealthCheckTimeoutSeconds' default (range 2-120 s).
	DefaultHealthCheckTimeout = 5 * time.Second
	// DefaultHealthyThreshold is HealthyThresholdCount's default (range 2-10).
	DefaultHealthyThreshold = 5
	// DefaultUnhealthyThreshold is UnhealthyThresholdCount's default (range 2-10).
	DefaultUnhealthyThreshold = 2
	// DefaultMatcher is Matcher.HttpCode's default (codes or ranges within 200-499).
	DefaultMatcher = "200"
	// DefaultConnectTimeout is ALB's target connect timeout: "failed to
	// establish a connection to the target before the connection timeout
	// expired (10 seconds)" is a 504 [DOC: TS].
	DefaultConnectTimeout = 10 * time.Second
	// DefaultIdleTimeout is ALB's default idle timeout: a target that does
	// not respond within it is a 504 [DOC: TS].
	DefaultIdleTimeout = 60 * time.Second
	// TrafficPort is HealthCheckPort's default: each target's own port.
	TrafficPort = "traffic-port"
	// DefaultInitialHealthyChecks: "After your target is registered, it must
	// pass one health check to be considered healthy" [DOC: TGHC].
	DefaultInitialHealthyChecks = 1
)

// ALB's ranges for health check settings [DOC: TGHC].
const (
	healthCheckPathMax             = 1024
	minInterval, maxInterval       = 5 * time.Second, 300 * time.Second
	minTimeout, maxTimeout         = 2 * time.Second, 120 * time.Second
	minThreshold, maxThreshold     = 2, 10
	minMatcherCode, maxMatcherCode = 200, 499
)

// Config describes one target group. Zero fields take ALB's defaults.
type Config struct {
	// Name is the target group name: 1-32 letters, digits and hyphens, not
	// starting or ending with a hyphen (ALB's rule).
	Name string
	// Protocol to the targets: HTTP (default) or HTTPS. With HTTPS the
	// target's certificate is not verified, as ALB does not verify it.
	Protocol Protocol
	// Targets are the registered targets, "host:port". None is valid: every
	// request then gets ALB's 503 (alb-behaviour §8.1).
	Targets []string
	// HealthCheck configures the target health checks.
	HealthCheck HealthCheck
	// ConnectTimeout bounds the TCP connect to a target; exceeding it is a
	// 504 (default 10 s, [DOC: TS]).
	ConnectTimeout time.Duration
	// IdleTimeout is ALB's idle timeout towards the target: a target that
	// sends nothing for this long is a 504 (default 60 s). It also closes
	// pooled keep-alive connections idle for that long.
	IdleTimeout time.Duration
	// Response shapes the error pages Forward writes (Server header, reason
	// phrases); the listener's options should be passed here.
	Response albresponse.ResponseOptions
	// StrictInitial keeps targets in the initial state out of rotation even
	// when no target is healthy, so requests get 503 until a first check
	// passes. ALB's behaviour in that window is [UNK]; the default routes to
	// every target then, like fail-open.
	StrictInitial bool
	// LogErrorReason fills Outcome.ErrorReason with the emulator's failure
	// name (TargetConnectionError, ...). ALB documents error_reason only for
	// Lambda, WAF and authenticate failures and logs "-" otherwise [DOC: AL],
	// so the default leaves it empty.
	LogErrorReason bool
}

// HealthCheck holds ALB's health check settings for a target group
// (API names in comments).
type HealthCheck struct {
	// Enabled turns health checks on (HealthCheckEnabled); nil means true.
	// Without health checks every target is "unavailable" and receives
	// traffic.
	Enabled *bool
	// Protocol of the check: HTTP (default) or HTTPS (HealthCheckProtocol).
	Protocol Protocol
	// Path requested with GET (HealthCheckPath), default "/".
	Path string
	// Port is "traffic-port" (default) or a port number (HealthCheckPort).
	Port string
	// Interval between checks of one target (HealthCheckIntervalSeconds):
	// 30 s by default, 5-300 s in whole seconds.
	Interval time.Duration
	// Timeout after which no response fails the check
	// (HealthCheckTimeoutSeconds): 5 s by default, 2-120 s, below Interval.
	Timeout time.Duration
	// HealthyThreshold consecutive successes bring an unhealthy target back
	// (HealthyThresholdCount): 5 by default, 2-10.
	HealthyThreshold int
	// UnhealthyThreshold consecutive failures take a target out
	// (UnhealthyThresholdCount): 2 by default, 2-10.
	UnhealthyThreshold int
	// Matcher lists the success codes (Matcher.HttpCode): "200" by default,
	// e.g. "200,202" or "200-299", within 200-499.
	Matcher string
	// InitialHealthyChecks is how many successes take a newly registered
	// target from initial to healthy. ALB documents one ("must pass one
	// health check"); the API text "the minimum number of health checks" is
	// vaguer, hence the knob. Default 1.
	InitialHealthyChecks int
	// AllowShortIntervals lifts ALB's minimums and whole-second rule for
	// Interval and Timeout so tests and demos can use milliseconds. Not an
	// ALB setting.
	AllowShortIntervals bool
}

// enabled reports whether health checks run.
func (h HealthCheck) enabled() bool { return h.Enabled == nil || *h.Enabled }

// withDefaults fills zero fields with ALB's defaults.
func (c Config) withDefaults() Config {
	if c.Protocol == "" {
		c.Protocol = ProtocolHTTP
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	h := &c.HealthCheck
	if h.Protocol == "" {
		h.Protocol = ProtocolHTTP
	}
	if h.Path == "" {
		h.Path = DefaultHealthCheckPath
	}
	if h.Port == "" {
		h.Port = TrafficPort
	}
	if h.Interval == 0 {
		h.Interval = DefaultHealthCheckInterval
	}
	if h.Timeout == 0 {
		h.Timeout = DefaultHealthCheckTimeout
	}
	if h.HealthyThreshold == 0 {
		h.HealthyThreshold = DefaultHealthyThreshold
	}
	if h.UnhealthyThreshold == 0 {
		h.UnhealthyThreshold = DefaultUnhealthyThreshold
	}
	if h.Matcher == "" {
		h.Matcher = DefaultMatcher
	}
	if h.InitialHealthyChecks == 0 {
		h.InitialHealthyChecks = DefaultInitialHealthyChecks
	}
	c.Targets = append([]string(nil), c.Targets...)
	return c
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$`)

// Validate checks c against ALB's rules after applying defaults. The error
// names each bad field (with its config key) and the valid values.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !namePattern.MatchString(c.Name) {
		bad("name %q is not valid: use 1 to 32 letters, digits or hyphens, not starting or ending with a hyphen", c.Name)
	}
	if !c.Protocol.valid() {
		bad("protocol %q is not valid: use HTTP or HTTPS", c.Protocol)
	}
	seen := map[string]bool{}
	for i, t := range c.Targets {
		if err := checkHostPort(t); err != nil {
			bad("targets[%d] %q is not valid: %w", i, t, err)
		} else if seen[t] {
			bad("targets[%d] %q is registered twice: list each target once", i, t)
		}
		seen[t] = true
	}
	if c.ConnectTimeout < 0 {
		bad("connect_timeout %v is not valid: use a positive duration such as 10s", c.ConnectTimeout)
	}
	if c.IdleTimeout < 0 {
		bad("idle_timeout %v is not valid: use a positive duration such as 60s", c.IdleTimeout)
	}
	errs = append(errs, c.HealthCheck.validate()...)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("target group %q: %w", c.Name, err)
	}
	return nil
}

func (h HealthCheck) validate() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !h.Protocol.valid() {
		bad("health_check.protocol %q is not valid: use HTTP or HTTPS", h.Protocol)
	}
	if !strings.HasPrefix(h.Path, "/") || len(h.Path) > healthCheckPathMax {
		bad("health_check.path %q is not valid: use a path starting with \"/\", at most %d characters", h.Path, healthCheckPathMax)
	}
	if h.Port != TrafficPort {
		if p, err := strconv.Atoi(h.Port); err != nil || p < 1 || p > 65535 {
			bad("health_check.port %q is not valid: use traffic-port or a number from 1 to 65535", h.Port)
		}
	}
	if h.AllowShortIntervals {
		if h.Interval < 0 || h.Timeout < 0 {
			bad("health_check.interval and health_check.timeout must be positive")
		}
	} else {
		checkSeconds := func(key string, d, lo, hi time.Duration) {
			if d < lo || d > hi || d%time.Second != 0 {
				bad("health_check.%s %v is not valid: ALB allows whole seconds from %v to %v (allow_short_intervals lifts this for tests)", key, d, lo, hi)
			}
		}
		checkSeconds("interval", h.Interval, minInterval, maxInterval)
		checkSeconds("timeout", h.Timeout, minTimeout, maxTimeout)
	}
	if h.Timeout >= h.Interval {
		// [OBS] the API refuses it: "ValidationError: Health check interval
		// must be greater than the timeout" (e.g. interval 5 with the default
		// timeout 5, tflint-ruleset-aws issue 404).
		bad("health_check.timeout %v is not valid: ALB requires it to be shorter than health_check.interval %v "+
			"(\"Health check interval must be greater than the timeout\"); set health_check.timeout explicitly, e.g. %v",
			h.Timeout, h.Interval, suggestTimeout(h.Interval))
	}
	if h.HealthyThreshold < minThreshold || h.HealthyThreshold > maxThreshold {
		bad("health_check.healthy_threshold %d is not valid: use %d to %d", h.HealthyThreshold, minThreshold, maxThreshold)
	}
	if h.UnhealthyThreshold < minThreshold || h.UnhealthyThreshold > maxThreshold {
		bad("health_check.unhealthy_threshold %d is not valid: use %d to %d", h.UnhealthyThreshold, minThreshold, maxThreshold)
	}
	if h.InitialHealthyChecks < 1 || h.InitialHealthyChecks > maxThreshold {
		bad("health_check.initial_healthy_checks %d is not valid: use 1 to %d", h.InitialHealthyChecks, maxThreshold)
	}
	if _, err := ParseMatcher(h.Matcher); err != nil {
		errs = append(errs, fmt.Errorf("health_check.matcher: %w", err))
	}
	return errs
}

// suggestTimeout proposes a timeout below interval for error messages.
func suggestTimeout(interval time.Duration) time.Duration {
	if interval > minTimeout+time.Second {
		return min(interval-time.Second, DefaultHealthCheckTimeout)
	}
	return interval / 2
}

func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("use host:port, e.g. 127.0.0.1:9001: %w", err)
	}
	if host == "" {
		return errors.New("the host is empty: use host:port, e.g. 127.0.0.1:9001")
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return nil
}

// Matcher is a parsed health check success-code list.
type Matcher []codeRange

type codeRange struct{ lo, hi int }

// ParseMatcher parses ALB's Matcher.HttpCode syntax: codes and ranges
// separated by commas ("200", "200,202", "200-299"), each within 200-499
// [DOC: TGHC].
func ParseMatcher(s string) (Matcher, error) {
	var m Matcher
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		loS, hiS, isRange := strings.Cut(part, "-")
		lo, err1 := strconv.Atoi(loS)
		hi, err2 := lo, error(nil)
		if isRange {
			hi, err2 = strconv.Atoi(hiS)
		}
		if err1 != nil || err2 != nil || lo > hi || lo < minMatcherCode || hi > maxMatcherCode {
			return nil, fmt.Errorf("%q is not valid: use codes or ranges from %d to %d, e.g. \"200\", \"200,202\" or \"200-299\"", s, minMatcherCode, maxMatcherCode)
		}
		m = append(m, codeRange{lo, hi})
	}
	return m, nil
}

// Match reports whether code is a success.
func (m Matcher) Match(code int) bool {
	for _, r := range m {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}
