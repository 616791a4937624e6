// Package albresponse writes the responses an Application Load Balancer
// generates itself rather than relaying from a target: its HTML error pages,
// the redirect and fixed-response actions, and the 400 it answers to requests
// whose request line or headers exceed ALB's quotas.
//
// Byte-exact output matters here: clients, monitoring probes and conformance
// tests compare status lines, reason phrases and Content-Lengths against what
// a real ALB sends (spec §8).
package albresponse

import (
	"net/http"
	"strconv"
)

// reasons holds the reason phrases ALB writes on its own responses, which are
// also the text of its error-page title and heading.
//
// Evidence (spec §8.1): 301, 400, 403, 502 and 503 are observed in captures;
// 503 is "Service Temporarily Unavailable", not the RFC phrase. ALB's page
// template, its 2018 variant with bgcolor="white", and the 503/504 phrases are
// those of nginx's built-in error pages, so the phrases marked [INF] below are
// nginx's. 460, 463, 464 and 561 are ALB-only codes with no known phrase
// [UNK]: they get an empty phrase (RFC 9112 allows it), overridable through
// ResponseOptions.Reasons.
var reasons = map[int]string{
	200: "OK",                              // [INF] fixed-response only
	301: "Moved Permanently",               // [OBS] spec §8.2
	302: "Found",                           // [INF]
	400: "Bad Request",                     // [OBS] spec §8.1
	401: "Authorization Required",          // [INF] nginx; authenticate actions are not emulated
	403: "Forbidden",                       // [OBS] spec §8.1
	404: "Not Found",                       // [INF]
	405: "Not Allowed",                     // [INF] nginx
	408: "Request Time-out",                // [INF] nginx
	413: "Request Entity Too Large",        // [INF] nginx
	414: "Request-URI Too Large",           // [INF] nginx
	460: "",                                // [UNK] never sent: the client is gone
	463: "",                                // [UNK]
	464: "",                                // [UNK]
	500: "Internal Server Error",           // [INF]
	501: "Not Implemented",                 // [INF]
	502: "Bad Gateway",                     // [OBS] spec §8.1
	503: "Service Temporarily Unavailable", // [OBS] spec §8.1, §9 item 11
	504: "Gateway Time-out",                // [INF] spec §8.1 (2018 mock)
	561: "",                                // [UNK]
}

// Reason returns the reason phrase ALB uses for code, or "" when none is
// known. Codes outside ALB's table fall back to Go's phrase, so a
// fixed-response with an ordinary status reads naturally.
func Reason(code int) string {
	if r, ok := reasons[code]; ok {
		return r
	}
	return http.StatusText(code)
}

// Page returns ALB's reason phrase for code and its HTML error page, built
// from the template of spec §8.1 with CRLF line ends: for example 503 gives
// "Service Temporarily Unavailable" and a 162-byte body.
func Page(code int) (reason string, body []byte) {
	return ResponseOptions{}.Page(code)
}

// Page is like the package-level Page but honours o.Reasons overrides.
func (o ResponseOptions) Page(code int) (reason string, body []byte) {
	reason = o.reason(code)
	return reason, pageBody(code, reason)
}

func (o ResponseOptions) reason(code int) string {
	if r, ok := o.Reasons[code]; ok {
		return r
	}
	return Reason(code)
}

// pageBody renders the spec §8.1 template. A code without a phrase renders
// as the bare number, without a trailing space [UNK].
func pageBody(code int, reason string) []byte {
	title := strconv.Itoa(code)
	if reason != "" {
		title += " " + reason
	}
	b := make([]byte, 0, 96+2*len(title))
	b = append(b, "<html>\r\n<head><title>"...)
	b = append(b, title...)
	b = append(b, "</title></head>\r\n<body>\r\n<center><h1>"...)
	b = append(b, title...)
	b = append(b, "</h1></center>\r\n</body>\r\n</html>\r\n"...)
	return b
}
