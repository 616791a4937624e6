package conformance

import (
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"
)

// PEM values (client certificate headers, expected chains) run to
// kilobytes and push the rest of a report off the screen. The Markdown
// report cuts them to their first characters with a note; the HTML report
// shows that and folds the whole value in a <details> element.

// foldHead is how much of a folded value is shown.
const foldHead = 48

// foldLong is the length from which a value that is not PEM is folded too.
const foldLong = 200

func isPEM(s string) bool { return strings.Contains(s, "-----BEGIN") }

// fold returns a PEM value's first characters and a note, and true; or
// s and false for any other value.
func fold(s string) (string, bool) {
	if !isPEM(s) {
		return s, false
	}
	return cut(s, foldHead) + fmt.Sprintf("… (PEM, %d bytes, folded; the HTML report has it in full)", len(s)), true
}

// cut shortens s to at most n bytes without splitting a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// foldHTML renders a value as <code>, or, when it is PEM or long, as a
// <details> whose summary is its first characters and size.
func foldHTML(s string) template.HTML {
	esc := template.HTMLEscapeString
	if !isPEM(s) && len(s) <= foldLong {
		return template.HTML("<code>" + esc(s) + "</code>")
	}
	kind := "value"
	if isPEM(s) {
		kind = "PEM"
	}
	return template.HTML(fmt.Sprintf(`<details class="fold"><summary><code>%s…</code> (%s, %d bytes)</summary><pre>%s</pre></details>`,
		esc(cut(s, foldHead)), kind, len(s), esc(s)))
}

// header is one header line, for the HTML report's table.
type header struct{ Name, Value string }

func sortedHeaders(h http.Header) []header {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []header
	for _, k := range keys {
		for _, v := range h[k] {
			out = append(out, header{k, v})
		}
	}
	return out
}
