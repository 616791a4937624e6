package albheader

import (
	"fmt"
	"net/http"

	"github.com/albmtls/albmtls/emulator/alb"
)

// Response-side listener attribute keys (alb-behaviour §4.3).
const (
	AttrServerEnabled                 = "routing.http.response.server.enabled"
	AttrStrictTransportSecurity       = "routing.http.response.strict_transport_security.header_value"
	AttrAccessControlAllowOrigin      = "routing.http.response.access_control_allow_origin.header_value"
	AttrAccessControlAllowMethods     = "routing.http.response.access_control_allow_methods.header_value"
	AttrAccessControlAllowHeaders     = "routing.http.response.access_control_allow_headers.header_value"
	AttrAccessControlAllowCredentials = "routing.http.response.access_control_allow_credentials.header_value"
	AttrAccessControlExposeHeaders    = "routing.http.response.access_control_expose_headers.header_value"
	AttrAccessControlMaxAge           = "routing.http.response.access_control_max_age.header_value"
	AttrContentSecurityPolicy         = "routing.http.response.content_security_policy.header_value"
	AttrXContentTypeOptions           = "routing.http.response.x_content_type_options.header_value"
	AttrXFrameOptions                 = "routing.http.response.x_frame_options.header_value"
)

// responseHeaders ties each header_value attribute to the header it inserts.
var responseHeaders = []struct{ key, header string }{
	{AttrStrictTransportSecurity, "Strict-Transport-Security"},
	{AttrAccessControlAllowOrigin, "Access-Control-Allow-Origin"},
	{AttrAccessControlAllowMethods, "Access-Control-Allow-Methods"},
	{AttrAccessControlAllowHeaders, "Access-Control-Allow-Headers"},
	{AttrAccessControlAllowCredentials, "Access-Control-Allow-Credentials"},
	{AttrAccessControlExposeHeaders, "Access-Control-Expose-Headers"},
	{AttrAccessControlMaxAge, "Access-Control-Max-Age"},
	{AttrContentSecurityPolicy, "Content-Security-Policy"},
	{AttrXContentTypeOptions, "X-Content-Type-Options"},
	{AttrXFrameOptions, "X-Frame-Options"},
}

// ResponseKeys lists the response-side attribute keys this package reads.
func ResponseKeys() []string {
	keys := []string{AttrServerEnabled}
	for _, r := range responseHeaders {
		keys = append(keys, r.key)
	}
	return keys
}

// HeaderValue is one response header the listener inserts.
type HeaderValue struct {
	Name, Value string
}

// ResponseOptions is the listener's response header modification (alb-behaviour §4.3).
type ResponseOptions struct {
	// Server is routing.http.response.server.enabled (default true). When
	// false, no response carries a Server header: ALB's own lose
	// "awselb/2.0", and a target's is removed too (the attribute "allows or
	// removes the HTTP response server header"; that it reaches the target's
	// header is inferred).
	Server bool
	// Headers are the inserted headers, in attribute-key order; each adds
	// the header or overwrites the target's value.
	Headers []HeaderValue
	// InsertOnGenerated also inserts Headers into responses ALB generates
	// (error pages, redirects, fixed responses). ALB's behaviour is [UNK]
	// (alb-behaviour §10.15); the default, false, inserts them into target responses
	// only, the documented case.
	InsertOnGenerated bool
}

// DefaultResponseOptions is a listener with no response attributes set.
func DefaultResponseOptions() ResponseOptions {
	return ResponseOptions{Server: true}
}

// ResponseOptionsFromAttributes starts from DefaultResponseOptions and applies
// the keys listed by ResponseKeys, ignoring others. Values follow ALB's rules:
// at most 1 K, letters, digits and _ :;.,\/'?!(){}[]@<>=-+*#&`|~^% only; an
// empty value keeps the default (no header).
func ResponseOptionsFromAttributes(attrs map[string]string) (ResponseOptions, error) {
	o := DefaultResponseOptions()
	var err error
	if o.Server, err = parseBool(attrs, AttrServerEnabled, true); err != nil {
		return ResponseOptions{}, err
	}
	for _, r := range responseHeaders {
		v := attrs[r.key]
		if v == "" {
			continue
		}
		if err := validHeaderValue(v); err != nil {
			return ResponseOptions{}, fmt.Errorf("albheader: attribute %s: %w", r.key, err)
		}
		o.Headers = append(o.Headers, HeaderValue{Name: r.header, Value: v})
	}
	return o, nil
}

// validHeaderValue applies ALB's documented value rules (alb-behaviour §4.3).
func validHeaderValue(v string) error {
	if len(v) > maxAttributeValue {
		return fmt.Errorf("value of %d bytes is too long: at most %d", len(v), maxAttributeValue)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			containsByte("_ :;.,\\/'?!(){}[]@<>=-+*#&`|~^%", c) {
			continue
		}
		return fmt.Errorf("%q holds %q, which ALB does not allow: use letters, digits and _ :;.,\\/'?!(){}[]@<>=-+*#&`|~^%%", v, c)
	}
	return nil
}

func containsByte(set string, c byte) bool {
	for i := 0; i < len(set); i++ {
		if set[i] == c {
			return true
		}
	}
	return false
}

// Apply modifies a target's response before it goes to the client: it sets
// the inserted headers, overwriting the target's values, and removes Server
// when the server header is disabled.
func (o *ResponseOptions) Apply(h http.Header) {
	for _, hv := range o.Headers {
		h.Set(hv.Name, hv.Value)
	}
	if !o.Server {
		h.Del("Server")
	}
}

// ChangesTargetResponses reports whether Apply changes anything: a
// listener with no inserted headers and the Server header on passes a
// target's response headers as they are.
func (o *ResponseOptions) ChangesTargetResponses() bool {
	return len(o.Headers) > 0 || !o.Server
}

// ApplyGenerated sets the headers of a response ALB generates itself: Server
// "awselb/2.0" unless disabled, and the inserted headers when
// InsertOnGenerated is set.
func (o *ResponseOptions) ApplyGenerated(h http.Header) {
	if o.Server {
		h.Set("Server", alb.ServerHeader)
	} else {
		h.Del("Server")
	}
	if o.InsertOnGenerated {
		for _, hv := range o.Headers {
			h.Set(hv.Name, hv.Value)
		}
	}
}
