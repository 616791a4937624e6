package listener

import (
	"fmt"

	"github.com/albmtls/albmtls/internal/enum"
)

// Modes lists the mutual authentication modes, as the config spells them.
var Modes = []Mode{ModeOff, ModePassthrough, ModeVerify}

// UnmarshalText reads a mode; "" stays unset (off, ALB's default).
func (m *Mode) UnmarshalText(b []byte) (err error) {
	*m, err = enum.Parse(string(b), "a mutual authentication mode", Modes...)
	return err
}

// Protocol is a listener's protocol (alb-behaviour §1.1: mutual TLS needs HTTPS).
type Protocol string

// Listener protocols.
const (
	ProtocolHTTP  Protocol = "HTTP"
	ProtocolHTTPS Protocol = "HTTPS"
)

// Protocols lists the listener protocols.
var Protocols = []Protocol{ProtocolHTTP, ProtocolHTTPS}

// UnmarshalText reads a listener protocol; "" stays unset (the config
// requires one).
func (p *Protocol) UnmarshalText(b []byte) (err error) {
	*p, err = enum.Parse(string(b), "a listener protocol", Protocols...)
	return err
}

// RejectWiths lists the values of emulation.reject_with.
var RejectWiths = []RejectWith{RejectReset, RejectAlert}

// UnmarshalText reads emulation.reject_with; "" stays unset (reset).
func (r *RejectWith) UnmarshalText(b []byte) (err error) {
	*r, err = enum.ParseKnob(string(b), RejectWiths...)
	return err
}

// AdvertiseCANames is the mutual authentication attribute
// advertise_trust_store_ca_names: whether the CertificateRequest carries
// the trust store's CA subjects (alb-behaviour §2.3; off by default, as on ALB).
type AdvertiseCANames string

// The values of advertise_trust_store_ca_names.
const (
	AdvertiseCANamesOn  AdvertiseCANames = "on"
	AdvertiseCANamesOff AdvertiseCANames = "off"
)

// UnmarshalText reads advertise_trust_store_ca_names; "" stays unset (off).
// The message asks for quotes: YAML 1.1 tools read a bare on/off as a
// boolean.
func (a *AdvertiseCANames) UnmarshalText(b []byte) error {
	switch v := AdvertiseCANames(b); v {
	case "", AdvertiseCANamesOn, AdvertiseCANamesOff:
		*a = v
		return nil
	}
	return fmt.Errorf("%q is not valid; use %q or %q (quoted)", b, AdvertiseCANamesOn, AdvertiseCANamesOff)
}
