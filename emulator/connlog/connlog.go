// Package connlog writes and reads ALB connection-log lines (alb-behaviour §6): one
// line per connection attempt, 15 space-separated fields, only the client
// certificate subject quoted.
//
// The emulator writes a line for every TLS handshake, failed or not, and for
// every plain-HTTP connection, as ALB does (alb-behaviour §6.3 real lines). ParseLine
// reads lines back for the conformance harness and tests; it accepts the
// older 12-field lines and ignores fields that a newer ALB may append.
package connlog

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"

	"github.com/albmtls/albmtls/emulator/alb"
)

// Field counts of the two documented versions of the format (alb-behaviour §6.2):
// the current one, and the earlier one that stops at conn_trace_id.
const (
	Fields       = 15
	LegacyFields = 12
)

// NoLatency is the HandshakeLatency of a connection without a completed TLS
// handshake: plain HTTP, or a handshake that failed (alb-behaviour §6.2 field 7).
// Any negative latency is written as "-".
const NoLatency time.Duration = -1

// Verification statuses (alb-behaviour §6.2 field 11). A failure is "Failed:" and the
// ALB code of alb-behaviour §3; plain HTTP has no status ("" is written as "-").
const (
	StatusSuccess = alb.VerifySuccess
	statusFailed  = alb.VerifyFailedPrefix
)

// StatusFailed returns the tls_verify_status for a failed verification, e.g.
// StatusFailed("ClientCertUntrusted") = "Failed:ClientCertUntrusted".
func StatusFailed(code string) string { return statusFailed + code }

// Entry is one connection-log line. Empty strings are written as "-" (the
// subject as "-" in quotes), so the zero value of a TLS field means "not
// TLS" or "no certificate".
type Entry struct {
	// Time is when the connection was established or failed.
	Time time.Time
	// Client is the client's address and port (fields 2 and 3).
	Client netip.AddrPort
	// ListenerPort is the port of the listener the client connected to.
	ListenerPort int
	// TLSProtocol is the negotiated version, e.g. TLSv1.2 (sslpolicy.VersionName).
	TLSProtocol string
	// TLSCipher is the negotiated suite, e.g. ECDHE-RSA-AES128-GCM-SHA256 (sslpolicy.CipherName).
	TLSCipher string
	// HandshakeLatency is written in seconds with 3 decimals; NoLatency writes "-".
	HandshakeLatency time.Duration
	// Subject is the leaf client certificate's subject, already RFC 2253-formatted.
	Subject string
	// Validity is "NotBefore=…Z;NotAfter=…Z" as in the mTLS headers.
	Validity string
	// Serial is the leaf serial number in upper-case hex, as in the mTLS headers.
	Serial string
	// VerifyStatus is StatusSuccess, StatusFailed(code), or "" for plain HTTP.
	VerifyStatus string
	// TraceID is the connection's conn_trace_id (NewTraceID), shared with the access log.
	TraceID string
	// KeyExchange is the negotiated group, e.g. secp256r1 (sslpolicy.KeyExchangeName).
	KeyExchange string
	// ELB is the load balancer resource ID, app/NAME/ID
	// (awsarn.LoadBalancerResourceID).
	ELB string
	// NodeIP is the address of the load balancer node that handled the connection.
	NodeIP netip.Addr
}

// AppendTo appends the current 15-field line, without a newline. It does not
// allocate when b has room, so the proxy can format into a pooled buffer.
func (e *Entry) AppendTo(b []byte) []byte { return e.AppendFields(b, Fields) }

// AppendFields appends the first n fields of the line (LegacyFields for the
// 12-field format of the earlier AWS documentation); n outside 1..Fields
// means Fields.
func (e *Entry) AppendFields(b []byte, n int) []byte {
	if n < 1 || n > Fields {
		n = Fields
	}
	for i := 1; i <= n; i++ {
		if i > 1 {
			b = append(b, ' ')
		}
		b = e.appendField(b, i)
	}
	return b
}

// appendField appends field i (1-based, alb-behaviour §6.2 numbering).
func (e *Entry) appendField(b []byte, i int) []byte {
	switch i {
	case 1:
		return AppendTime(b, e.Time)
	case 2:
		if !e.Client.IsValid() {
			return append(b, '-')
		}
		return e.Client.Addr().AppendTo(b)
	case 3:
		if !e.Client.IsValid() {
			return append(b, '-')
		}
		return strconv.AppendUint(b, uint64(e.Client.Port()), 10)
	case 4:
		return strconv.AppendInt(b, int64(e.ListenerPort), 10)
	case 5:
		return appendDash(b, e.TLSProtocol)
	case 6:
		return appendDash(b, e.TLSCipher)
	case 7:
		if e.HandshakeLatency < 0 {
			return append(b, '-')
		}
		return AppendSeconds(b, e.HandshakeLatency)
	case 8:
		b = append(b, '"')
		b = appendSubject(b, e.Subject)
		return append(b, '"')
	case 9:
		return appendDash(b, e.Validity)
	case 10:
		return appendDash(b, e.Serial)
	case 11:
		return appendDash(b, e.VerifyStatus)
	case 12:
		return appendDash(b, e.TraceID)
	case 13:
		return appendDash(b, e.KeyExchange)
	case 14:
		return appendDash(b, e.ELB)
	default:
		if !e.NodeIP.IsValid() {
			return append(b, '-')
		}
		return e.NodeIP.AppendTo(b)
	}
}

// String returns the 15-field line, for logs and test failures.
func (e *Entry) String() string { return string(e.AppendTo(nil)) }

func appendDash(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	return append(b, s...)
}

// appendSubject appends an RFC 2253 subject, "-" when empty. A well-formed
// RFC 2253 string is copied unchanged; a bare double quote or a control byte,
// which RFC 2253 would have escaped, is escaped here (\" and \XX) so that a
// malformed subject can neither close the quoted field nor split the line.
func appendSubject(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	const hexDigits = "0123456789ABCDEF"
	start := 0 // safe bytes are copied in runs, not one by one
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' && c != '"' && c >= 0x20 && c != 0x7f {
			continue
		}
		b = append(b, s[start:i]...)
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] >= 0x20 && s[i+1] != 0x7f:
			b = append(b, c, s[i+1])
			i++
		case c == '\\' || c == '"':
			b = append(b, '\\', c)
		default:
			b = append(b, '\\', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	return append(b, s[start:]...)
}

// ParseLine reads a connection-log line. It needs at least the 12 fields of
// the earlier format and ignores fields after the 15th, which ALB may add
// ("you might see an additional trailing "-"", alb-behaviour §6.2).
func ParseLine(line string) (Entry, error) {
	var buf [Fields + 4]string
	f, err := SplitFields(line, buf[:0])
	if err != nil {
		return Entry{}, fmt.Errorf("parse connection log line: %w", err)
	}
	if len(f) < LegacyFields {
		return Entry{}, fmt.Errorf("parse connection log line: %d fields, want at least %d (alb-behaviour §6.2)", len(f), LegacyFields)
	}
	for len(f) < Fields {
		f = append(f, "-")
	}
	var e Entry
	if e.Time, err = ParseTime(f[0]); err != nil {
		return Entry{}, fmt.Errorf("parse connection log field 1: %w", err)
	}
	if f[1] != "-" {
		addr, err := netip.ParseAddr(f[1])
		if err != nil {
			return Entry{}, fmt.Errorf("parse connection log field 2 (client_ip): %w", err)
		}
		port, err := strconv.ParseUint(f[2], 10, 16)
		if err != nil {
			return Entry{}, fmt.Errorf("parse connection log field 3 (client_port): %w", err)
		}
		e.Client = netip.AddrPortFrom(addr, uint16(port))
	}
	if e.ListenerPort, err = strconv.Atoi(f[3]); err != nil {
		return Entry{}, fmt.Errorf("parse connection log field 4 (listener_port): %w", err)
	}
	e.TLSProtocol = undash(f[4])
	e.TLSCipher = undash(f[5])
	e.HandshakeLatency = NoLatency
	if f[6] != "-" {
		if e.HandshakeLatency, err = ParseSeconds(f[6]); err != nil {
			return Entry{}, fmt.Errorf("parse connection log field 7 (tls_handshake_latency): %w", err)
		}
	}
	e.Subject = undash(f[7])
	e.Validity = undash(f[8])
	e.Serial = undash(f[9])
	e.VerifyStatus = undash(f[10])
	e.TraceID = undash(f[11])
	e.KeyExchange = undash(f[12])
	e.ELB = undash(f[13])
	if f[14] != "-" {
		if e.NodeIP, err = netip.ParseAddr(f[14]); err != nil {
			return Entry{}, fmt.Errorf("parse connection log field 15 (ip_address): %w", err)
		}
	}
	return e, nil
}

func undash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// NewTraceID returns a fresh conn_trace_id: "TID_" and 32 lower-case hex
// digits (alb-behaviour §6.2 field 12 [OBS]). It reads 16 bytes from rnd, or from
// crypto/rand when rnd is nil or fails, and allocates only the result.
func NewTraceID(rnd io.Reader) string {
	var raw [16]byte
	if rnd == nil {
		_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails
	} else if _, err := io.ReadFull(rnd, raw[:]); err != nil {
		_, _ = rand.Read(raw[:])
	}
	var out [4 + 32]byte
	copy(out[:], "TID_")
	hex.Encode(out[4:], raw[:])
	return string(out[:])
}
