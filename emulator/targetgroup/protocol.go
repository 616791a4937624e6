package targetgroup

import (
	"slices"

	"github.com/albmtls/albmtls/internal/enum"
)

// Protocol is a target group's protocol to its targets.
type Protocol string

// Target group protocols.
const (
	ProtocolHTTP  Protocol = "HTTP"
	ProtocolHTTPS Protocol = "HTTPS"
)

// Protocols lists the target group protocols.
var Protocols = []Protocol{ProtocolHTTP, ProtocolHTTPS}

// UnmarshalText reads a target group protocol; "" stays unset (HTTP).
func (p *Protocol) UnmarshalText(b []byte) (err error) {
	*p, err = enum.Parse(string(b), "a target protocol", Protocols...)
	return err
}

// valid reports whether p is one of Protocols (a Config built in Go, not
// read from YAML, may hold anything).
func (p Protocol) valid() bool { return slices.Contains(Protocols, p) }
