package accesslog

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/albmtls/albmtls/emulator/connlog"
)

// MinFields is the shortest line ParseLine accepts: the 27 fields ALB wrote
// before classification and classification_reason (fields 28-29) were added
// in 2020, which are the fields of the older AWS documentation's example
// (alb-behaviour §7, §9.5). Production buckets still hold such lines, so
// refusing them would break reading old logs. Earlier, shorter layouts are
// not documented in the reference and are refused.
const MinFields = 27

// fieldNames are the alb-behaviour §7 names, for error messages.
var fieldNames = [Fields]string{
	"type", "time", "elb", "client:port", "target:port",
	"request_processing_time", "target_processing_time", "response_processing_time",
	"elb_status_code", "target_status_code", "received_bytes", "sent_bytes",
	"request", "user_agent", "ssl_cipher", "ssl_protocol", "target_group_arn",
	"trace_id", "domain_name", "chosen_cert_arn", "matched_rule_priority",
	"request_creation_time", "actions_executed", "redirect_url", "error_reason",
	"target:port_list", "target_status_code_list", "classification",
	"classification_reason", "conn_trace_id", "transformed_host",
	"transformed_uri", "request_transform_status", "ip_address",
}

// ParseLine reads an access-log line of any layout ALB has written: 27
// fields (before classification), 29 (classification), 30 (conn_trace_id),
// 33 (transforms), 34 (ip_address), and any number of further fields, such
// as the two unreleased trailing ones, which it ignores (alb-behaviour §7,
// §9.5). Missing fields read as "-". Quoted
// values are unescaped (\xHH back to the byte) and "-" reads as empty.
func ParseLine(line string) (Entry, error) {
	var buf [Fields + 8]string
	f, err := connlog.SplitFields(line, buf[:0])
	if err != nil {
		return Entry{}, fmt.Errorf("parse access log line: %w", err)
	}
	if len(f) < MinFields {
		return Entry{}, fmt.Errorf("parse access log line: %d fields, want at least %d (alb-behaviour §7)", len(f), MinFields)
	}
	for len(f) < Fields {
		f = append(f, "-")
	}
	p := parser{f: f}
	e := Entry{
		Type:                   p.str(0),
		Time:                   p.time(1),
		ELB:                    p.str(2),
		Client:                 p.addrPort(3),
		Target:                 p.addrPort(4),
		RequestProcessingTime:  p.duration(5),
		TargetProcessingTime:   p.duration(6),
		ResponseProcessingTime: p.duration(7),
		ELBStatusCode:          p.status(8),
		TargetStatusCode:       p.status(9),
		ReceivedBytes:          p.int64(10),
		SentBytes:              p.int64(11),
		UserAgent:              p.str(13),
		SSLCipher:              p.str(14),
		SSLProtocol:            p.str(15),
		TargetGroupARN:         p.str(16),
		TraceID:                p.str(17),
		DomainName:             p.str(18),
		ChosenCertARN:          p.str(19),
		MatchedRulePriority:    p.priority(20),
		RequestCreationTime:    p.time(21),
		RedirectURL:            p.str(23),
		ErrorReason:            p.str(24),
		Classification:         p.str(27),
		ClassificationReason:   p.str(28),
		ConnTraceID:            p.str(29),
		TransformedHost:        p.str(30),
		TransformedURI:         p.str(31),
		RequestTransformStatus: p.str(32),
		NodeIP:                 p.addr(33),
	}
	e.RequestMethod, e.RequestURL, e.RequestProto = splitRequest(f[12])
	if a := p.str(22); a != "" {
		e.ActionsExecuted = strings.Split(a, ",")
	}
	if l := p.str(25); l != "" {
		for _, s := range strings.Fields(l) {
			e.TargetPortList = append(e.TargetPortList, p.parseAddrPort(25, s))
		}
	}
	if l := p.str(26); l != "" {
		for _, s := range strings.Fields(l) {
			e.TargetStatusCodeList = append(e.TargetStatusCodeList, p.parseStatus(26, s))
		}
	}
	if p.err != nil {
		return Entry{}, fmt.Errorf("parse access log line: %w", p.err)
	}
	return e, nil
}

// parser reads fields and keeps the first error, so ParseLine reads as a table.
type parser struct {
	f   []string
	err error
}

func (p *parser) fail(i int, v string, err error) {
	if p.err == nil {
		p.err = fmt.Errorf("field %d (%s) %q: %w", i+1, fieldNames[i], v, err)
	}
}

func (p *parser) str(i int) string {
	if p.f[i] == "-" {
		return ""
	}
	return unescape(p.f[i])
}

func (p *parser) time(i int) time.Time {
	if p.f[i] == "-" {
		return time.Time{}
	}
	t, err := connlog.ParseTime(p.f[i])
	if err != nil {
		p.fail(i, p.f[i], err)
	}
	return t
}

func (p *parser) addrPort(i int) netip.AddrPort {
	if p.f[i] == "-" {
		return netip.AddrPort{}
	}
	return p.parseAddrPort(i, p.f[i])
}

// parseAddrPort reads ip:port, with or without brackets around an IPv6 address.
func (p *parser) parseAddrPort(i int, s string) netip.AddrPort {
	k := strings.LastIndexByte(s, ':')
	if k < 0 {
		p.fail(i, s, fmt.Errorf("want ip:port"))
		return netip.AddrPort{}
	}
	addr, err := netip.ParseAddr(strings.Trim(s[:k], "[]"))
	if err != nil {
		p.fail(i, s, err)
		return netip.AddrPort{}
	}
	port, err := strconv.ParseUint(s[k+1:], 10, 16)
	if err != nil {
		p.fail(i, s, err)
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(addr, uint16(port))
}

func (p *parser) addr(i int) netip.Addr {
	if p.f[i] == "-" {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(p.f[i])
	if err != nil {
		p.fail(i, p.f[i], err)
	}
	return a
}

func (p *parser) duration(i int) time.Duration {
	if p.f[i] == "-1" {
		return NotDispatched
	}
	d, err := connlog.ParseSeconds(p.f[i])
	if err != nil {
		p.fail(i, p.f[i], err)
	}
	return d
}

func (p *parser) status(i int) int { return p.parseStatus(i, p.f[i]) }

func (p *parser) parseStatus(i int, s string) int {
	if s == "-" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 999 {
		p.fail(i, s, fmt.Errorf("want an HTTP status code or -"))
	}
	return n
}

func (p *parser) int64(i int) int64 {
	if p.f[i] == "-" {
		return 0
	}
	n, err := strconv.ParseInt(p.f[i], 10, 64)
	if err != nil {
		p.fail(i, p.f[i], err)
	}
	return n
}

func (p *parser) priority(i int) int {
	if p.f[i] == "-" {
		return NoRulePriority
	}
	n, err := strconv.Atoi(p.f[i])
	if err != nil || n < RuleEvaluationError || n > 50000 {
		p.fail(i, p.f[i], fmt.Errorf("want 0-50000, -1 or -"))
	}
	return n
}

// splitRequest splits the quoted request field at its first and last space
// into method, URL and protocol, unescaping each; "-" reads as empty.
func splitRequest(s string) (method, url, proto string) {
	i, j := strings.IndexByte(s, ' '), strings.LastIndexByte(s, ' ')
	if i < 0 || i == j {
		return "", unescapeDash(s), ""
	}
	return unescapeDash(s[:i]), unescapeDash(s[i+1 : j]), unescapeDash(s[j+1:])
}

func unescapeDash(s string) string {
	if s == "-" {
		return ""
	}
	return unescape(s)
}

// unescape reverses appendEscaped: \xHH becomes the byte HH. Other
// backslashes are kept, so lines from other writers read back as written.
func unescape(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if v, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
