package targetgroup

import (
	"net"
	"strconv"
	"strings"
)

// TargetHost returns the Host header ALB sends to a target for a request
// that arrived with host on a listener port. With
// routing.http.preserve_host_header.enabled=false (the default) ALB "appends
// listener port before sending it to targets", e.g. www.amazon.com becomes
// www.amazon.com:8443 [DOC: AWS launch announcement, re:Post]; with true the
// header is sent unchanged. A Host that already carries a port is kept, and
// no port is appended on the default ports 80 and 443 [INF].
//
// Forward itself keeps the client's Host; call TargetHost from the rewrite
// function to apply ALB's rule: pr.Out.Host = TargetHost(pr.In.Host, port, preserve).
func TargetHost(host string, listenerPort int, preserve bool) string {
	if preserve || host == "" || listenerPort == 80 || listenerPort == 443 || hasPort(host) {
		return host
	}
	return host + ":" + strconv.Itoa(listenerPort)
}

// hasPort reports whether a Host value ends in ":port" (IPv6 aware).
func hasPort(host string) bool {
	if strings.HasPrefix(host, "[") {
		return strings.Contains(host, "]:")
	}
	_, _, err := net.SplitHostPort(host)
	return err == nil
}
