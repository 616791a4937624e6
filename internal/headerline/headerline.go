// Package headerline renders HTTP/1.x header field values as net/http's
// Header.Write writes them, for the writers of raw request heads that do
// not go through Header.Write (targetgroup's ordered head writer, and
// albheader's per-connection lines), and the Field a response head is
// handed over as from the direct forward to emulator/http1.
package headerline

import "strings"

// AppendValue appends v as Header.Write writes a value: without leading
// and trailing whitespace (space, tab, CR, LF), each CR or LF within it
// turned into a space.
func AppendValue(b []byte, v string) []byte {
	v = strings.Trim(v, " \t\r\n")
	// Two IndexByte scans (vectorised) instead of ContainsAny's byte loop:
	// the client certificate header is ~1.5 KB on every request.
	if strings.IndexByte(v, '\r') < 0 && strings.IndexByte(v, '\n') < 0 {
		return append(b, v...)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	return b
}

// Field is one header line: a canonical name and its value. A response
// head passed as fields keeps the lines in the order they came, one per
// line, where a header map would group them by name.
type Field struct{ Name, Value string }
