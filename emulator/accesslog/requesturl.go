package accesslog

import (
	"net"
	"strconv"
)

// RequestURL builds the URL of the request field as ALB writes it:
// scheme://host:port followed by the request URI (path and query), e.g.
// https://petclinic.mission-critical.site:443/petclinic/vets (alb-behaviour §7). An
// empty requestURI gives the "scheme://host:port-" of a malformed request.
func RequestURL(scheme, host string, port int, requestURI string) string {
	if requestURI == "" {
		requestURI = "-"
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port)) + requestURI
}
