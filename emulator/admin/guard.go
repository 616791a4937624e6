package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Access is who may use the admin endpoint. The endpoint can un-revoke a
// certificate, so it is guarded three ways (docs/admin.md):
//
//   - a bearer token (admin.token), when set, on every mutating request;
//   - a Host check on every request that carries no valid token, against
//     the listen address and the loopback names: a DNS-rebinding page
//     reaches 127.0.0.1 under its own name, which the Host header betrays;
//   - a cross-origin check (Origin, Sec-Fetch-Site) on mutating requests,
//     so that a browser page on another origin cannot post a form at it.
//
// GET /healthz and GET /metrics are open to all: container health checks
// and Prometheus scrapers address the endpoint by any name, and they change
// nothing.
type Access struct {
	// Token is the bearer token; "" requires none.
	Token string
	// Addr is the bound address: its port is the one the Host must carry,
	// its IP is accepted as a host name.
	Addr net.Addr
	// ListenHost is the host of admin.listen as configured (it may be a
	// name); accepted as a host name.
	ListenHost string
	// AllowedHosts are extra accepted host names (admin.allowed_hosts).
	AllowedHosts []string
}

// Error codes of the guard's answers.
const (
	CodeUnauthorized       = "Unauthorized"
	CodeForbiddenHost      = "ForbiddenHost"
	CodeCrossOriginRequest = "CrossOriginRequest"
)

func (g Access) wrap(next http.Handler) http.Handler {
	var want [32]byte
	if g.Token != "" {
		want = sha256.Sum256([]byte(g.Token))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if open(r) {
			next.ServeHTTP(w, r)
			return
		}
		mutating := r.Method != http.MethodGet && r.Method != http.MethodHead
		authed := g.Token != "" && bearer(r, want)
		if mutating && g.Token != "" && !authed {
			w.Header().Set("WWW-Authenticate", `Bearer realm="albmtls admin"`)
			writeStatus(w, http.StatusUnauthorized, CodeUnauthorized,
				"this admin request needs the header Authorization: Bearer TOKEN, with the admin.token (or "+tokenEnvName+") the endpoint was started with")
			return
		}
		if !authed && !g.hostAllowed(r.Host) {
			writeStatus(w, http.StatusForbidden, CodeForbiddenHost, fmt.Sprintf(
				"the Host header %q is not this admin endpoint's address; use %s, or list the name in admin.allowed_hosts, or send the admin.token (a DNS-rebinding defence, docs/admin.md)",
				r.Host, g.example()))
			return
		}
		if mutating {
			if why := crossOrigin(r); why != "" {
				writeStatus(w, http.StatusForbidden, CodeCrossOriginRequest,
					why+": the admin API does not accept requests from browser pages of other origins; use curl or the albmtls clients")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// tokenEnvName is config.AdminTokenEnv, repeated to keep admin free of the
// config package.
const tokenEnvName = "ALBMTLS_ADMIN_TOKEN"

func open(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		(r.URL.Path == "/healthz" || r.URL.Path == "/metrics")
}

func bearer(r *http.Request, want [32]byte) bool {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(h[len(prefix):])))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// hostAllowed accepts localhost, 127.0.0.1, [::1], the bound IP, the
// listen host and the allowed hosts, with the bound port. On a wildcard
// address (0.0.0.0, [::]: a container, whose port is published under
// another number) any port is accepted.
func (g Access) hostAllowed(hostport string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil { // no port: the scheme's default
		host, port = hostport, "80"
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	ip, boundPort := g.bound()
	if !ip.IsUnspecified() && port != boundPort {
		return false
	}
	names := append([]string{"localhost", "127.0.0.1", "::1"}, g.AllowedHosts...)
	if lip := net.ParseIP(strings.Trim(g.ListenHost, "[]")); lip == nil || !lip.IsUnspecified() {
		names = append(names, g.ListenHost)
	}
	if ip != nil && !ip.IsUnspecified() {
		names = append(names, ip.String())
	}
	for _, n := range names {
		if n != "" && strings.EqualFold(host, strings.Trim(n, "[]")) {
			return true
		}
	}
	return false
}

func (g Access) bound() (net.IP, string) {
	if g.Addr == nil {
		return nil, ""
	}
	host, port, err := net.SplitHostPort(g.Addr.String())
	if err != nil {
		return nil, ""
	}
	return net.ParseIP(host), port
}

func (g Access) example() string {
	_, port := g.bound()
	return "http://127.0.0.1:" + port + " or http://localhost:" + port
}

// crossOrigin says why a request comes from a browser page of another
// origin, or "". Non-browser clients send neither header.
func crossOrigin(r *http.Request) string {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return fmt.Sprintf("Sec-Fetch-Site is %q", site)
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return ""
	}
	u, err := url.Parse(o)
	if o == "null" || err != nil || !strings.EqualFold(u.Host, r.Host) {
		return fmt.Sprintf("the Origin %q is not this endpoint", o)
	}
	return ""
}

// ExposureWarning is the warning for an admin endpoint bound to a
// non-loopback address, or "" on loopback. Whoever reaches it can
// un-revoke certificates; without a token, anyone on the network can.
func ExposureWarning(addr net.Addr, token bool) string {
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return ""
	}
	msg := "admin endpoint listens on a non-loopback address " + addr.String() + ": whoever reaches it can remove trust store revocations and reload"
	if !token {
		msg += "; no admin.token is set, so anyone on the network can: set admin.token or " + tokenEnvName + ", or listen on 127.0.0.1"
	} else {
		msg += "; mutations need the admin.token"
	}
	return msg
}
