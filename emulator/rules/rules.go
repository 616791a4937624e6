// Package rules evaluates ALB listener rule conditions. Rules are tried in
// priority order (lowest number first); the first whose conditions all match
// wins, otherwise the default action runs (matched_rule_priority 0 in the
// access log, alb-behaviour §7).
//
// Condition semantics follow the ALB documentation for listener rules:
// path-pattern is case-sensitive and matched against the path only; host
// header and HTTP header values are case-insensitive; '*' matches any run of
// characters and '?' exactly one; within one condition any value matches.
// Rules see the client's request as sent — the mTLS headers ALB adds are not
// visible to them (alb-behaviour §2.4, §9.3).
package rules

import (
	"net/http"
	"net/netip"
	"sort"
	"strings"
)

// Rule is one listener rule with its conditions. Action is opaque to this
// package: the caller keeps whatever it needs to run the action.
type Rule[A any] struct {
	Priority          int
	PathPattern       []string
	HostHeader        []string
	HTTPRequestMethod []string
	HeaderName        string
	HeaderValues      []string
	SourceIP          []netip.Prefix
	Action            A
}

// Table is a listener's rules, sorted by priority.
type Table[A any] struct {
	rules []Rule[A]
}

// NewTable sorts the rules by priority.
func NewTable[A any](rs []Rule[A]) *Table[A] {
	sorted := append([]Rule[A](nil), rs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Priority < sorted[j].Priority })
	return &Table[A]{rules: sorted}
}

// Match returns the first rule whose conditions all match the request, or
// nil. client is the connection's peer address (source-ip does not look at
// X-Forwarded-For).
func (t *Table[A]) Match(r *http.Request, client netip.Addr) *Rule[A] {
	if t == nil {
		return nil
	}
	for i := range t.rules {
		if t.rules[i].matches(r, client) {
			return &t.rules[i]
		}
	}
	return nil
}

func (rl *Rule[A]) matches(r *http.Request, client netip.Addr) bool {
	if len(rl.PathPattern) > 0 && !anyMatch(rl.PathPattern, r.URL.Path, false) {
		return false
	}
	if len(rl.HostHeader) > 0 && !anyMatch(rl.HostHeader, hostOnly(r.Host), true) {
		return false
	}
	if len(rl.HTTPRequestMethod) > 0 && !contains(rl.HTTPRequestMethod, r.Method) {
		return false
	}
	if rl.HeaderName != "" {
		ok := false
		for _, v := range r.Header.Values(rl.HeaderName) {
			if anyMatch(rl.HeaderValues, v, true) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(rl.SourceIP) > 0 {
		ok := false
		for _, p := range rl.SourceIP {
			if p.Contains(client.Unmap()) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			if Wildcard(strings.ToLower(p), strings.ToLower(s)) {
				return true
			}
		} else if Wildcard(p, s) {
			return true
		}
	}
	return false
}

// hostOnly strips the port from a Host header value.
func hostOnly(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
		return h[:i]
	}
	return strings.Trim(h, "[]")
}

// Wildcard reports whether s matches pattern, where '*' matches any run of
// characters (including none) and '?' exactly one.
func Wildcard(pattern, s string) bool {
	// Iterative matcher with backtracking to the last '*': linear in
	// practice, no recursion.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
