package albresponse

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Redirect status codes, as the ELBv2 API spells them (alb-behaviour §8.2).
const (
	RedirectPermanent RedirectStatus = "HTTP_301"
	RedirectTemporary RedirectStatus = "HTTP_302"
)

// Redirect placeholders: each reuses one component of the request URI
// (alb-behaviour §8.2, [DOC: API RedirectActionConfig]).
const (
	PlaceholderProtocol = "#{protocol}"
	PlaceholderHost     = "#{host}"
	PlaceholderPort     = "#{port}"
	PlaceholderPath     = "#{path}" // the request path without its leading "/"
	PlaceholderQuery    = "#{query}"
)

// redirectFieldMax is the API's length limit for Host, Path and Query.
const redirectFieldMax = 128

// RedirectConfig is ALB's RedirectActionConfig (alb-behaviour §8.2). Empty fields keep
// the request's component, i.e. default to their placeholder: Protocol
// "#{protocol}", Host "#{host}", Port "#{port}", Path "/#{path}", Query
// "#{query}" ("Any components that you do not modify retain their original
// values", [DOC: API]).
type RedirectConfig struct {
	Protocol   string         `yaml:"protocol,omitempty" json:"protocol,omitempty"`       // HTTP, HTTPS or #{protocol}
	Port       string         `yaml:"port,omitempty" json:"port,omitempty"`               // 1-65535 or #{port}
	Host       string         `yaml:"host,omitempty" json:"host,omitempty"`               // not percent-encoded; may contain #{host}
	Path       string         `yaml:"path,omitempty" json:"path,omitempty"`               // starts with "/"; may contain #{host}, #{path}, #{port}
	Query      string         `yaml:"query,omitempty" json:"query,omitempty"`             // without the leading "?"; any placeholder
	StatusCode RedirectStatus `yaml:"status_code,omitempty" json:"status_code,omitempty"` // HTTP_301 or HTTP_302 (required)
}

// withDefaults fills empty components with their placeholders.
func (c RedirectConfig) withDefaults() RedirectConfig {
	if c.Protocol == "" {
		c.Protocol = PlaceholderProtocol
	}
	if c.Port == "" {
		c.Port = PlaceholderPort
	}
	if c.Host == "" {
		c.Host = PlaceholderHost
	}
	if c.Path == "" {
		c.Path = "/" + PlaceholderPath
	}
	if c.Query == "" {
		c.Query = PlaceholderQuery
	}
	return c
}

// Validate applies ALB's rules for a redirect action on a listener of the
// given protocol (HTTP or HTTPS), so a configuration ALB would refuse is
// refused here too. Errors name the field and the valid values.
func (c RedirectConfig) Validate(listenerProtocol string) error {
	var errs []error
	switch listenerProtocol {
	case "HTTP", "HTTPS":
	default:
		errs = append(errs, fmt.Errorf("listener protocol %q is not valid for a redirect: use HTTP or HTTPS", listenerProtocol))
	}
	switch c.StatusCode {
	case RedirectPermanent, RedirectTemporary:
	case "":
		errs = append(errs, errors.New("status_code is required: use HTTP_301 or HTTP_302"))
	default:
		errs = append(errs, fmt.Errorf("status_code %q is not valid: use HTTP_301 or HTTP_302", c.StatusCode))
	}
	d := c.withDefaults()
	switch d.Protocol {
	case "HTTP":
		if listenerProtocol == "HTTPS" {
			errs = append(errs, errors.New("protocol HTTP is not allowed on an HTTPS listener: ALB cannot redirect HTTPS to HTTP; use HTTPS or #{protocol}"))
		}
	case "HTTPS", PlaceholderProtocol:
	default:
		errs = append(errs, fmt.Errorf("protocol %q is not valid: use HTTP, HTTPS or #{protocol}", c.Protocol))
	}
	if d.Port != PlaceholderPort {
		if p, err := strconv.Atoi(d.Port); err != nil || p < 1 || p > 65535 || strings.HasPrefix(d.Port, "0") || strings.HasPrefix(d.Port, "+") {
			errs = append(errs, fmt.Errorf("port %q is not valid: use a number from 1 to 65535 or #{port}", c.Port))
		}
	}
	errs = append(errs, checkComponent("host", d.Host, 1, PlaceholderHost))
	if !strings.HasPrefix(d.Path, "/") {
		errs = append(errs, fmt.Errorf("path %q is not valid: it must start with \"/\"", c.Path))
	}
	errs = append(errs, checkComponent("path", d.Path, 1, PlaceholderHost, PlaceholderPath, PlaceholderPort))
	errs = append(errs, checkComponent("query", c.Query, 0, PlaceholderProtocol, PlaceholderHost, PlaceholderPort, PlaceholderPath, PlaceholderQuery))
	if d.Protocol == PlaceholderProtocol && d.Host == PlaceholderHost && d.Port == PlaceholderPort && d.Path == "/"+PlaceholderPath {
		errs = append(errs, errors.New("redirect would loop: change at least one of protocol, host, port or path"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("redirect action: %w", err)
	}
	return nil
}

// checkComponent checks a component's length and that every "#{...}" in it
// is one of the allowed placeholders.
func checkComponent(name, v string, minLen int, allowed ...string) error {
	if len(v) < minLen || len(v) > redirectFieldMax {
		return fmt.Errorf("%s %q is not valid: use %d to %d characters", name, v, minLen, redirectFieldMax)
	}
	rest := v
	for {
		i := strings.Index(rest, "#{")
		if i < 0 {
			return nil
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return fmt.Errorf("%s %q has an unterminated placeholder: use %s", name, v, strings.Join(allowed, ", "))
		}
		if ph := rest[i : i+j+1]; !contains(allowed, ph) {
			return fmt.Errorf("%s %q may not contain %s: use %s", name, v, ph, strings.Join(allowed, ", "))
		}
		rest = rest[i+j+1:]
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Location builds the redirect URL for r arriving on a listener with the
// given protocol and port. ALB always writes the port, even the scheme's
// default (https://host:443/path, alb-behaviour §8.2 [OBS]); Host and Path are not
// percent-encoded; #{path} is the raw request path without its leading "/";
// an empty query drops the "?". #{host} is the request's Host without its
// port and #{port} the listener port [INF]; #{protocol} expands to the
// lower-case scheme [INF].
func (c RedirectConfig) Location(r *http.Request, listenerProtocol string, listenerPort int) string {
	d := c.withDefaults()
	scheme := strings.ToLower(listenerProtocol)
	port := strconv.Itoa(listenerPort)
	host := hostOnly(r.Host)
	path := strings.TrimPrefix(rawPath(r), "/")
	repl := strings.NewReplacer(
		PlaceholderProtocol, scheme,
		PlaceholderHost, host,
		PlaceholderPort, port,
		PlaceholderPath, path,
		PlaceholderQuery, r.URL.RawQuery,
	)
	if d.Protocol != PlaceholderProtocol {
		scheme = strings.ToLower(d.Protocol)
	}
	if d.Port != PlaceholderPort {
		port = d.Port
	}
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(repl.Replace(d.Host))
	b.WriteByte(':')
	b.WriteString(port)
	b.WriteString(repl.Replace(d.Path))
	if q := repl.Replace(d.Query); q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	return b.String()
}

// hostOnly strips the port from a Host header value, keeping IPv6 brackets.
func hostOnly(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		if strings.Count(h, ":") == 1 || strings.HasPrefix(h, "[") {
			return h[:i]
		}
	}
	return h
}

// rawPath is the path exactly as the client sent it (not re-encoded).
func rawPath(r *http.Request) string {
	uri := r.RequestURI
	switch {
	case strings.HasPrefix(uri, "/"):
		if i := strings.IndexByte(uri, '?'); i >= 0 {
			return uri[:i]
		}
		return uri
	case strings.Contains(uri, "://"):
		if u, err := url.Parse(uri); err == nil {
			return u.EscapedPath()
		}
	}
	return r.URL.EscapedPath()
}

// WriteRedirect answers r with ALB's redirect (alb-behaviour §8.2): 301 or 302 with
// the Location header, Server: awselb/2.0, Content-Type: text/html and ALB's
// page for the code (134 bytes for a 301). It returns the Location, for the
// access log's redirect_url, and the bytes sent. The configuration is
// assumed valid (see Validate).
func WriteRedirect(w http.ResponseWriter, r *http.Request, cfg RedirectConfig, listenerProtocol string, listenerPort int, opts ResponseOptions) (location string, sent int64) {
	code := http.StatusMovedPermanently
	if cfg.StatusCode == RedirectTemporary {
		code = http.StatusFound
	}
	location = cfg.Location(r, listenerProtocol, listenerPort)
	reason, body := opts.Page(code)
	sent = write(w, r, response{code: code, reason: reason, contentType: "text/html", location: location, body: body}, opts)
	return location, sent
}
