// Package albresponse writes the responses an Application Load Balancer
// generates itself rather than relaying from a target: its HTML error pages,
// the redirect and fixed-response actions, and the 400 it answers to requests
// whose request line or headers exceed ALB's quotas.
//
// Byte-exact output matters here: clients, monitoring probes and conformance
// tests compare status lines, reason phrases and Content-Lengths against what
// a real ALB sends (alb-behaviour §8).
package albresponse

import (
	"net/http"
	"strconv"
)

// titles holds the phrases of ALB's page titles and headings, which are
// also its status-line reason phrases except where statusReasons differs.
//
// Evidence (alb-behaviour §8.1): 301, 400, 403, 502 and 503 are observed in
// captures; 503 is "Service Temporarily Unavailable", not the RFC phrase.
// ALB's page template, its 2018 variant with bgcolor="white", and the
// 503/504 phrases are those of nginx's built-in error pages, so the phrases
// marked [INF] below are nginx's. 460, 463, 464 and 561 are ALB-only codes
// with no known phrase [UNK]: they get an empty phrase (RFC 9112 allows it),
// overridable through ResponseOptions.Reasons.
var titles = map[int]string{
	200: "OK",                              // [INF] fixed-response only
	301: "Moved Permanently",               // [OBS] alb-behaviour §8.2
	302: "Found",                           // [OBS] issue 15 capture: the page title; the status line differs
	400: "Bad Request",                     // [OBS] alb-behaviour §8.1
	401: "Authorization Required",          // [INF] nginx; authenticate actions are not emulated
	403: "Forbidden",                       // [OBS] alb-behaviour §8.1
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
	502: "Bad Gateway",                     // [OBS] alb-behaviour §8.1
	503: "Service Temporarily Unavailable", // [OBS] alb-behaviour §8.1, §9.11
	504: "Gateway Time-out",                // [INF] alb-behaviour §8.1 (2018 mock)
	561: "",                                // [UNK]
}

// statusReasons holds the status-line phrases that differ from the page
// title. nginx, whose tables ALB's pages follow, keeps two such pairs: its
// status line says "302 Moved Temporarily" over a "302 Found" page, and
// "401 Unauthorized" over "401 Authorization Required". The 302 pair is
// observed on ALB (issue 15's capture); the 401 pair is inferred from it.
var statusReasons = map[int]string{
	302: "Moved Temporarily", // [OBS] issue 15 capture
	401: "Unauthorized",      // [INF] nginx's status line
}

// Reason returns the reason phrase ALB writes on the status line for code,
// or "" when none is known. Codes outside ALB's tables fall back to Go's
// phrase, so a fixed-response with an ordinary status reads naturally.
func Reason(code int) string {
	if r, ok := statusReasons[code]; ok {
		return r
	}
	return Title(code)
}

// Title returns the phrase of ALB's page title for code ("302 Found" has
// "Found"), falling back to Go's phrase like Reason.
func Title(code int) string {
	if r, ok := titles[code]; ok {
		return r
	}
	return http.StatusText(code)
}

// Page returns ALB's status-line reason phrase for code and its HTML error
// page, built from the template of alb-behaviour §8.1 with CRLF line ends:
// for example 503 gives "Service Temporarily Unavailable" and a 162-byte
// body, 302 gives "Moved Temporarily" and a page titled "302 Found".
func Page(code int) (reason string, body []byte) {
	return ResponseOptions{}.Page(code)
}

// Page is like the package-level Page but honours o.Reasons overrides,
// which set both the status line and the title.
func (o ResponseOptions) Page(code int) (reason string, body []byte) {
	if r, ok := o.Reasons[code]; ok {
		return r, pageBody(code, r)
	}
	return Reason(code), pageBody(code, Title(code))
}

func (o ResponseOptions) reason(code int) string {
	if r, ok := o.Reasons[code]; ok {
		return r
	}
	return Reason(code)
}

// pageBody renders the alb-behaviour §8.1 template. A code without a phrase renders
// as the bare number, without a trailing space [UNK].
func pageBody(code int, phrase string) []byte {
	title := strconv.Itoa(code)
	if phrase != "" {
		title += " " + phrase
	}
	b := make([]byte, 0, 96+2*len(title))
	b = append(b, "<html>\r\n<head><title>"...)
	b = append(b, title...)
	b = append(b, "</title></head>\r\n<body>\r\n<center><h1>"...)
	b = append(b, title...)
	b = append(b, "</h1></center>\r\n</body>\r\n</html>\r\n"...)
	return b
}
