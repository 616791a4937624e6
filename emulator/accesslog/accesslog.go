// Package accesslog writes and reads ALB access-log lines (alb-behaviour §7): one line
// per request, 34 space-separated fields, some quoted, in the order and with
// the "-" placement of the real lines ALB delivers.
//
// Fields 31-34 and the trailing unreleased fields changed over time (spec
// §10.14), so a Layout selects how many fields are written; the default is
// the 34 released fields. ParseLine reads any of these layouts back and
// ignores fields it does not know.
package accesslog

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/albmtls/albmtls/emulator/connlog"
)

// Request types (field 1, alb-behaviour §7).
const (
	TypeHTTP  = "http"
	TypeHTTPS = "https"
	TypeH2    = "h2"
	TypeGRPCs = "grpcs"
	TypeWS    = "ws"
	TypeWSS   = "wss"
)

// SessionReused is the chosen_cert_arn of a resumed TLS session (alb-behaviour §7).
const SessionReused = "session-reused"

// NotDispatched is a processing time ALB writes as -1: the request was not
// dispatched to a target (malformed request, fixed response, redirect).
// Any negative duration is written as -1.
const NotDispatched time.Duration = -1

// Values of matched_rule_priority besides a rule's 1-50000 (alb-behaviour §7).
const (
	DefaultRulePriority = 0  // the listener's default action
	RuleEvaluationError = -1 // rule evaluation failed
	NoRulePriority      = -2 // no rule evaluated, written "-"
)

// Fields is the number of released fields (alb-behaviour §7: 1-34).
const Fields = 34

// Layout selects the shape of a line. The zero Layout writes the 34
// released fields and nothing after them.
type Layout struct {
	// Fields is how many fields to write: 30 (up to conn_trace_id, the
	// 2025 lines), 33 (with the transform fields) or 34 (with ip_address).
	// Values outside 1..34 mean 34.
	Fields int
	// Unreleased appends that many trailing "-" fields, as the newest real
	// line carries two (alb-behaviour §7: "unreleased fields, as the docs warn").
	Unreleased int
}

// Entry is one access-log line. Empty strings are written as "-" (quoted
// fields as "-" in quotes); see each field for its other sentinels.
type Entry struct {
	// Type is the request type, one of the Type constants.
	Type string
	// Time is when the load balancer generated the response.
	Time time.Time
	// ELB is the load balancer resource ID, app/NAME/ID
	// (awsarn.LoadBalancerResourceID).
	ELB string
	// Client is the client's address and port.
	Client netip.AddrPort
	// Target is the target's address and port; the zero value writes "-".
	Target netip.AddrPort
	// RequestProcessingTime, TargetProcessingTime and ResponseProcessingTime
	// are written in seconds with 3 decimals; NotDispatched writes -1.
	RequestProcessingTime, TargetProcessingTime, ResponseProcessingTime time.Duration
	// ELBStatusCode is the status ALB sent; 0 writes "-".
	ELBStatusCode int
	// TargetStatusCode is the target's status; 0 writes "-".
	TargetStatusCode int
	// ReceivedBytes and SentBytes count the request and response bytes.
	ReceivedBytes, SentBytes int64
	// RequestMethod, RequestURL and RequestProto form the quoted request
	// field, "METHOD URL PROTO"; RequestURL is scheme://host:port/path?query
	// (see RequestURL). A malformed request is "- <url>- -": empty method
	// and protocol and a URL of scheme://host:port followed by "-".
	RequestMethod, RequestURL, RequestProto string
	// UserAgent is the client's User-Agent header.
	UserAgent string
	// SSLCipher and SSLProtocol are the negotiated suite and version (sslpolicy names).
	SSLCipher, SSLProtocol string
	// TargetGroupARN is the target group that handled the request
	// (awsarn.TargetGroup).
	TargetGroupARN string
	// TraceID is the X-Amzn-Trace-Id value, e.g. Root=1-6aab787c-….
	TraceID string
	// DomainName is the SNI server name the client sent.
	DomainName string
	// ChosenCertARN is the served certificate's ARN (awsarn.Certificate)
	// or SessionReused.
	ChosenCertARN string
	// MatchedRulePriority is the rule's priority, DefaultRulePriority,
	// RuleEvaluationError or NoRulePriority.
	MatchedRulePriority int
	// RequestCreationTime is when the request arrived; ALB writes it with
	// millisecond precision (every real line ends in 000Z). Zero writes "-".
	RequestCreationTime time.Time
	// ActionsExecuted lists the actions taken, e.g. forward, fixed-response, redirect.
	ActionsExecuted []string
	// RedirectURL is the Location of a redirect action.
	RedirectURL string
	// ErrorReason is ALB's error reason code, when there is one.
	ErrorReason string
	// TargetPortList lists the targets that processed the request, one
	// entry per attempt (targetgroup.Attempt); an invalid one writes "-".
	TargetPortList []netip.AddrPort
	// TargetStatusCodeList lists the targets' status codes, one per
	// attempt, in the same order; 0 writes "-".
	TargetStatusCodeList []int
	// Classification and ClassificationReason are the desync-mitigation fields.
	Classification, ClassificationReason string
	// ConnTraceID links to the connection log's conn_trace_id (alb-behaviour §6.4).
	ConnTraceID string
	// TransformedHost, TransformedURI and RequestTransformStatus are the
	// request-transform fields 31-33.
	TransformedHost, TransformedURI, RequestTransformStatus string
	// NodeIP is the load balancer node's address (field 34).
	NodeIP netip.Addr
}

// AppendTo appends the 34-field line, without a newline. It does not
// allocate when b has room.
func (e *Entry) AppendTo(b []byte) []byte { return e.AppendLayout(b, Layout{}) }

// AppendLayout appends the line in the given layout, without a newline.
func (e *Entry) AppendLayout(b []byte, l Layout) []byte {
	n := l.Fields
	if n < 1 || n > Fields {
		n = Fields
	}
	for i := 1; i <= n; i++ {
		if i > 1 {
			b = append(b, ' ')
		}
		b = e.appendField(b, i)
	}
	for range l.Unreleased {
		b = append(b, ` "-"`...)
	}
	return b
}

// String returns the 34-field line, for logs and test failures.
func (e *Entry) String() string { return string(e.AppendTo(nil)) }

// appendField appends field i (1-based, alb-behaviour §7 numbering) with its quoting.
func (e *Entry) appendField(b []byte, i int) []byte {
	switch i {
	case 1:
		return appendDash(b, e.Type)
	case 2:
		return connlog.AppendTime(b, e.Time)
	case 3:
		return appendDash(b, e.ELB)
	case 4:
		return appendAddrPort(b, e.Client)
	case 5:
		return appendAddrPort(b, e.Target)
	case 6:
		return appendDuration(b, e.RequestProcessingTime)
	case 7:
		return appendDuration(b, e.TargetProcessingTime)
	case 8:
		return appendDuration(b, e.ResponseProcessingTime)
	case 9:
		return appendStatus(b, e.ELBStatusCode)
	case 10:
		return appendStatus(b, e.TargetStatusCode)
	case 11:
		return strconv.AppendInt(b, e.ReceivedBytes, 10)
	case 12:
		return strconv.AppendInt(b, e.SentBytes, 10)
	case 13:
		b = append(b, '"')
		b = appendEscapedDash(b, e.RequestMethod)
		b = append(b, ' ')
		b = appendEscapedDash(b, e.RequestURL)
		b = append(b, ' ')
		b = appendEscapedDash(b, e.RequestProto)
		return append(b, '"')
	case 14:
		return appendQuoted(b, e.UserAgent)
	case 15:
		return appendDash(b, e.SSLCipher)
	case 16:
		return appendDash(b, e.SSLProtocol)
	case 17:
		return appendDash(b, e.TargetGroupARN)
	case 18:
		return appendQuoted(b, e.TraceID)
	case 19:
		return appendQuoted(b, e.DomainName)
	case 20:
		return appendQuoted(b, e.ChosenCertARN)
	case 21:
		if e.MatchedRulePriority == NoRulePriority {
			return append(b, '-')
		}
		return strconv.AppendInt(b, int64(e.MatchedRulePriority), 10)
	case 22:
		if e.RequestCreationTime.IsZero() {
			return append(b, '-')
		}
		return connlog.AppendTime(b, e.RequestCreationTime.Truncate(time.Millisecond))
	case 23:
		return appendQuotedList(b, e.ActionsExecuted)
	case 24:
		return appendQuoted(b, e.RedirectURL)
	case 25:
		return appendQuoted(b, e.ErrorReason)
	case 26:
		b = append(b, '"')
		if len(e.TargetPortList) == 0 {
			b = append(b, '-')
		}
		for j, t := range e.TargetPortList {
			if j > 0 {
				b = append(b, ' ')
			}
			b = appendAddrPort(b, t)
		}
		return append(b, '"')
	case 27:
		b = append(b, '"')
		if len(e.TargetStatusCodeList) == 0 {
			b = append(b, '-')
		}
		for j, s := range e.TargetStatusCodeList {
			if j > 0 {
				b = append(b, ' ')
			}
			b = appendStatus(b, s)
		}
		return append(b, '"')
	case 28:
		return appendQuoted(b, e.Classification)
	case 29:
		return appendQuoted(b, e.ClassificationReason)
	case 30:
		return appendDash(b, e.ConnTraceID)
	case 31:
		return appendQuoted(b, e.TransformedHost)
	case 32:
		return appendQuoted(b, e.TransformedURI)
	case 33:
		return appendQuoted(b, e.RequestTransformStatus)
	default:
		if !e.NodeIP.IsValid() {
			return append(b, '-')
		}
		return e.NodeIP.AppendTo(b)
	}
}

func appendDash(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	return append(b, s...)
}

// appendAddrPort writes ip:port without brackets, also for IPv6, so that the
// Athena regex ([^ ]*):([0-9]*) splits it at the last colon [INF]; the zero
// value writes "-".
func appendAddrPort(b []byte, ap netip.AddrPort) []byte {
	if !ap.IsValid() {
		return append(b, '-')
	}
	b = ap.Addr().AppendTo(b)
	b = append(b, ':')
	return strconv.AppendUint(b, uint64(ap.Port()), 10)
}

func appendDuration(b []byte, d time.Duration) []byte {
	if d < 0 {
		return append(b, '-', '1')
	}
	return connlog.AppendSeconds(b, d)
}

func appendStatus(b []byte, code int) []byte {
	if code == 0 {
		return append(b, '-')
	}
	return strconv.AppendInt(b, int64(code), 10)
}

func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendEscapedDash(b, s)
	return append(b, '"')
}

func appendQuotedList(b []byte, list []string) []byte {
	b = append(b, '"')
	if len(list) == 0 {
		b = append(b, '-')
	}
	for j, s := range list {
		if j > 0 {
			b = append(b, ',')
		}
		b = appendEscaped(b, s)
	}
	return append(b, '"')
}

func appendEscapedDash(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	return appendEscaped(b, s)
}

// appendEscaped copies s, writing a double quote, a backslash, a control
// byte or DEL as \xHH (upper-case hex). ALB writes a " inside the request
// as \x22 (third-party capture, DataBiosphere/azul PR #4920, 2023); the
// rest follows the same nginx-style convention [INF], so a client-controlled
// value can neither close its quoted field nor split the line. Bytes from
// 0x80 up (UTF-8) are copied unchanged [UNK].
func appendEscaped(b []byte, s string) []byte {
	const hexDigits = "0123456789ABCDEF"
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
		start = i + 1
	}
	return append(b, s[start:]...)
}
