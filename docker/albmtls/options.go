package albmtls

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/listener"
)

// Mode is the listener's mutual authentication mode, as ALB's
// MutualAuthenticationAttributes.Mode.
//
//	ModeVerify       the emulator checks the client certificate against the trust store (default)
//	ModePassthrough  the emulator checks nothing and forwards the chain in X-Amzn-Mtls-Clientcert
//	ModeOff          no client certificate is requested
//
// It is the emulator's own listener.Mode, so the generated config needs no
// conversion.
type Mode = listener.Mode

// The mutual authentication modes.
const (
	ModeVerify      = listener.ModeVerify
	ModePassthrough = listener.ModePassthrough
	ModeOff         = listener.ModeOff
)

// DefaultSSLPolicy is the security policy of the generated listener: the
// policy the ALB console proposes, which offers TLS 1.3 (the API's default,
// ELBSecurityPolicy-2016-08, stops at TLS 1.2).
const DefaultSSLPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"

// HostGateway is the name under which the container reaches the Docker
// host: Run maps it to the bridge gateway (`--add-host
// host.docker.internal:host-gateway`, Docker 20.10 or later), because Linux
// does not provide it on its own. A service on the host must listen on an
// address the bridge reaches (0.0.0.0 or the gateway IP), not 127.0.0.1.
const HostGateway = "host.docker.internal"

// options are the settings gathered from the Option values given to Run.
type options struct {
	mode         Mode
	configFile   string
	pkiDir       string
	bundle       string
	revocations  []string
	trustStore   bool
	targets      []string
	attributes   map[string]string
	sslPolicy    string
	ignoreExpiry bool
	adminToken   string              // "" until Run draws one
	health       *config.HealthCheck // the target group's health check; nil: ALB's defaults
	emulation    []knob              // WithEmulation, in order
	advertise    bool
	httpRedirect bool
	// generated lists the options that shape the generated config, so that
	// combining one with WithConfig is refused instead of silently ignored.
	generated []string
}

func defaultOptions() options {
	return options{mode: ModeVerify, sslPolicy: DefaultSSLPolicy, attributes: map[string]string{}}
}

// Compile-time check that Option is a testcontainers.ContainerCustomizer.
var _ testcontainers.ContainerCustomizer = Option(nil)

// Option configures the emulator. Options are read by Run before the
// container request is built (they decide the config file and what is
// copied into the container); their Customize method does nothing, as in
// testcontainers' own modules.
type Option func(*options) error

// Customize does nothing: Run applies Option values itself. It exists so an
// Option can be passed where testcontainers expects a ContainerCustomizer.
func (o Option) Customize(*testcontainers.GenericContainerRequest) error { return nil }

// generatedOnly marks an option that only applies to the generated config.
func generatedOnly(name string, f func(*options) error) Option {
	return func(o *options) error {
		o.generated = append(o.generated, name)
		return f(o)
	}
}

// WithMode sets the listener's mutual authentication mode (default
// ModeVerify). In passthrough and off modes the listener has no trust store,
// as ALB requires.
func WithMode(m Mode) Option {
	return generatedOnly("WithMode", func(o *options) error {
		switch m {
		case ModeVerify, ModePassthrough, ModeOff:
			o.mode = m
			return nil
		}
		return fmt.Errorf("WithMode(%q): not a mutual authentication mode; use ModeVerify, ModePassthrough or ModeOff", string(m))
	})
}

// WithConfig runs the emulator with your own albmtls.yaml instead of the
// generated one. The file is copied to /etc/albmtls/albmtls.yaml, so its
// relative paths resolve against /etc/albmtls; the PKI (generated, or
// WithPKI's) is copied to /etc/albmtls/pki, so `pki/ca/bundle.pem` works.
// The config must have admin.listen on 0.0.0.0 (Run waits on /healthz), and
// listeners on 0.0.0.0. ConnectionLog and AccessLog read logs.*.file.
// Options that shape the generated config (WithMode, WithTarget, …) cannot be
// combined with it.
func WithConfig(file string) Option {
	return func(o *options) error {
		if file == "" {
			return fmt.Errorf("WithConfig: empty file name; pass the path of an albmtls.yaml")
		}
		o.configFile = file
		return nil
	}
}

// WithAdminToken sets the admin endpoint's bearer token (admin.token).
// Without it Run draws a random one. Either way the container gets it as
// ALBMTLS_ADMIN_TOKEN, which wins over a WithConfig file's admin.token, and
// Revoke and the other helpers send it; Container.AdminToken returns it for
// your own admin requests. The container's admin endpoint listens on
// 0.0.0.0 (a published port must), so it is guarded by this token.
func WithAdminToken(token string) Option {
	return func(o *options) error {
		if len(token) < config.MinAdminTokenLength || strings.ContainsAny(token, " \t\r\n") {
			return fmt.Errorf("WithAdminToken: use at least %d characters and no white space (e.g. openssl rand -hex 32)", config.MinAdminTokenLength)
		}
		o.adminToken = token
		return nil
	}
}

// WithPKI uses the test PKI in dir (written by `albmtls pki init` or
// pki.Set.WriteDir) instead of generating a fresh one. Run works on a copy:
// Revoke never changes dir.
func WithPKI(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return fmt.Errorf("WithPKI: empty directory name; pass a directory written by `albmtls pki init`")
		}
		o.pkiDir = dir
		return nil
	}
}

// WithTrustStore replaces the trust store's CA bundle and CRLs (by default
// the PKI's ca/bundle.pem and both PEM CRLs) with files on the host, for
// testing your own CA. The files are copied into the container and checked
// there with ALB's rules; a bundle or CRL that ALB would refuse makes Run
// fail with the emulator's message.
func WithTrustStore(bundle string, revocations ...string) Option {
	return generatedOnly("WithTrustStore", func(o *options) error {
		if bundle == "" {
			return fmt.Errorf("WithTrustStore: empty bundle file name; pass a PEM CA bundle")
		}
		o.trustStore, o.bundle, o.revocations = true, bundle, append([]string(nil), revocations...)
		return nil
	})
}

// WithTarget adds a target (host:port) to the listener's target group, which
// the listener forwards to. Use HostGateway for a service on the Docker host
// (see WithHostTarget), a container name or network alias for a service on a
// shared network. Without a target the listener answers every request with a
// fixed 200 response.
func WithTarget(hostPort string) Option {
	return generatedOnly("WithTarget", func(o *options) error {
		host, port, err := net.SplitHostPort(hostPort)
		if err != nil || host == "" {
			return fmt.Errorf("WithTarget(%q): want host:port, e.g. %s:8080 or backend:8080", hostPort, HostGateway)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("WithTarget(%q): port %q is not 1-65535", hostPort, port)
		}
		o.targets = append(o.targets, hostPort)
		return nil
	})
}

// WithHostTarget adds a service on the Docker host, listening on port on an
// address the container can reach (0.0.0.0, or the bridge gateway), as a
// target: WithTarget(HostGateway:port).
func WithHostTarget(port int) Option {
	return WithTarget(net.JoinHostPort(HostGateway, strconv.Itoa(port)))
}

// WithListenerAttribute sets an ALB listener attribute, for example
// routing.http.request.x_amzn_mtls_clientcert_subject.header_name. Keys and
// values are checked by the emulator: one it refuses makes Run fail with its
// message.
func WithListenerAttribute(key, value string) Option {
	return generatedOnly("WithListenerAttribute", func(o *options) error {
		if strings.TrimSpace(key) == "" {
			return fmt.Errorf("WithListenerAttribute: empty key; see docs/headers.md for the attribute names")
		}
		o.attributes[key] = value
		return nil
	})
}

// WithSSLPolicy sets the listener's ALB security policy (default
// DefaultSSLPolicy).
func WithSSLPolicy(name string) Option {
	return generatedOnly("WithSSLPolicy", func(o *options) error {
		o.sslPolicy = name
		return nil
	})
}

// WithIgnoreClientCertificateExpiry turns on the verify-mode setting
// ignore_client_certificate_expiry, so expired (and not-yet-valid) client
// certificates are accepted.
func WithIgnoreClientCertificateExpiry() Option {
	return generatedOnly("WithIgnoreClientCertificateExpiry", func(o *options) error {
		o.ignoreExpiry = true
		return nil
	})
}

// knob is one WithEmulation setting.
type knob struct{ key, value string }

// WithHealthCheck sets the target group's health check: the path ALB's
// checker requests on each target and the interval between checks (0 keeps
// ALB's 30 s). ALB's default path is "/", and a target that answers it with
// anything but 200 turns unhealthy; point it at your service's health
// route. Intervals below ALB's 5 s minimum are accepted, to keep tests fast.
func WithHealthCheck(path string, interval time.Duration) Option {
	return generatedOnly("WithHealthCheck", func(o *options) error {
		if !strings.HasPrefix(path, "/") {
			return fmt.Errorf("WithHealthCheck(%q): the path must start with /, e.g. /healthz", path)
		}
		if interval < 0 {
			return fmt.Errorf("WithHealthCheck: interval %v is negative", interval)
		}
		hc := config.HealthCheck{Path: path, Interval: config.Duration(interval)}
		if interval > 0 && interval <= 5*time.Second {
			// ALB's default timeout (5 s) must stay below the interval.
			hc.Timeout = config.Duration(max(interval*4/5, time.Millisecond))
		}
		o.health = &hc
		return nil
	})
}

// WithoutHealthCheck turns the target group's health checks off
// (health_check.enabled: false): every target is in rotation from the first
// request, in ALB's "unavailable" state.
func WithoutHealthCheck() Option {
	return generatedOnly("WithoutHealthCheck", func(o *options) error {
		no := false
		o.health = &config.HealthCheck{Enabled: &no}
		return nil
	})
}

// WithEmulation sets one key of the config's emulation: block, the knobs
// for ALB behaviour nobody outside AWS knows (docs/configuration.md lists
// them), for example WithEmulation("reject_with", "alert") or
// WithEmulation("stale_crl", "fail"). The value is read as YAML ("true",
// "2s", "fail"). An unknown key or a value the emulator refuses makes Run
// fail before Docker is touched, or with the emulator's message.
func WithEmulation(key, value string) Option {
	return generatedOnly("WithEmulation", func(o *options) error {
		if strings.TrimSpace(key) == "" {
			return fmt.Errorf("WithEmulation: empty key; see docs/configuration.md for the emulation knobs")
		}
		o.emulation = append(o.emulation, knob{key, value})
		return nil
	})
}

// WithAdvertiseTrustStoreCANames turns on the verify-mode setting
// advertise_trust_store_ca_names: the CertificateRequest lists the trust
// store's CA subjects, so a client with several certificates (a browser)
// can pick the right one. It needs ModeVerify, as on ALB.
func WithAdvertiseTrustStoreCANames() Option {
	return generatedOnly("WithAdvertiseTrustStoreCANames", func(o *options) error {
		o.advertise = true
		return nil
	})
}

// WithHTTPRedirectListener adds an HTTP listener on HTTPPort whose default
// action redirects to HTTPS on port 8443 with a 301, as an ALB's port 80
// listener usually does. The Location header names the container port
// (https://HOST:8443/…), as ALB's names its own; HTTPEndpoint returns the
// published URL of the HTTP listener.
func WithHTTPRedirectListener() Option {
	return generatedOnly("WithHTTPRedirectListener", func(o *options) error {
		o.httpRedirect = true
		return nil
	})
}
