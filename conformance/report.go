package conformance

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteSummary writes the summary table: one row per scenario with its
// verdict, time and, for failures and skips, the first reason; then the
// totals and the wall time.
func (r *Report) WriteSummary(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tRESULT\tTIME\tDETAIL")
	for _, res := range r.Results {
		detail := ""
		switch res.Status {
		case StatusFail:
			if f := res.Failures(); len(f) > 0 {
				detail = f[0]
				if len(f) > 1 {
					detail += fmt.Sprintf(" (+%d more)", len(f)-1)
				}
			}
		case StatusSkip:
			detail = res.Reason
		default:
			if nc := len(res.NotChecked()); nc > 0 {
				detail = fmt.Sprintf("%d expectations not checked", nc)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", res.Name, strings.ToUpper(string(res.Status)), res.Duration.Round(time.Millisecond), truncate(detail, 160))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	pass, fail, skip := r.Counts()
	_, err := fmt.Fprintf(w, "\n%s: %d passed, %d failed, %d skipped, against %s, in %s\n",
		plural(len(r.Results), "scenario"), pass, fail, skip, r.Target, r.Duration.Round(time.Millisecond))
	return err
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func truncate(s string, n int) string {
	s = oneLine(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// WriteMarkdown writes the report as Markdown, opening on what needs
// attention: the totals, then a section per failed scenario (expected
// versus seen, the outcome, the headers the target received, the
// connection-log line), then the table of every scenario, failures first.
// With FailedOnly the table lists the failures only. PEM values are cut
// with a note (the HTML report folds them instead).
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	pass, fail, skip := r.Counts()
	fmt.Fprintf(&b, "# albmtls %s report\n\n", r.Title)
	pkiNote := ""
	if r.PKIRemoved {
		pkiNote = " (generated for this run and removed at its end; --keep DIR keeps it)"
	}
	fmt.Fprintf(&b, "- target: %s\n- PKI: `%s`%s\n- started: %s\n- wall time: %s\n- **%s: %d passed, %d failed, %d skipped**%s\n",
		r.Target, r.PKI, pkiNote, r.Started.UTC().Format(time.RFC3339), r.Duration.Round(time.Millisecond), plural(len(r.Results), "scenario"), pass, fail, skip, errorsNote(r.Errors()))
	if fail > 0 {
		fmt.Fprintf(&b, "\n## Failures (%d)\n", fail)
		for _, res := range r.Ordered() {
			if res.Status == StatusFail {
				writeFailureMD(&b, res)
			}
		}
	}
	if r.FailedOnly {
		fmt.Fprintf(&b, "\n## Scenarios\n\nFailed scenarios only (--report-failed-only): %d passed and %d skipped are left out.\n", pass, skip)
	} else {
		b.WriteString("\n## All scenarios\n")
	}
	b.WriteString("\n| scenario | result | group | basis | time | detail |\n|---|---|---|---|---|---|\n")
	for _, res := range r.Ordered() {
		if r.FailedOnly && res.Status != StatusFail {
			continue
		}
		detail := ""
		if res.Status != StatusPass {
			detail = truncate(res.Message(), 200)
		}
		name := res.Name
		if res.Status == StatusFail {
			name = "[" + res.Name + "](#" + anchor(res.Name) + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", name, verdictMark(res), Group(res.Name), res.Basis, res.Duration.Round(time.Millisecond), mdCell(detail))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// errorsNote says how many of the failures could not run, or "".
func errorsNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d of the failures could not run)", n)
}

func verdictMark(res *Result) string {
	switch {
	case res.CouldNotRun() != "":
		return "**ERROR** (could not run)"
	case res.Status == StatusPass:
		return "pass"
	case res.Status == StatusFail:
		return "**FAIL**"
	}
	return "skip"
}

func anchor(name string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
			b.WriteRune(c)
		case c == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func writeFailureMD(b *strings.Builder, res *Result) {
	fmt.Fprintf(b, "\n### %s\n\n%s\n\nSource: %s, <%s> (%s). File: `%s`. Group: %s.\n", res.Name, oneLine(res.Description), res.Reference, res.URL, res.Basis, res.File, Group(res.Name))
	if why := res.CouldNotRun(); why != "" {
		fmt.Fprintf(b, "\n**Could not run:** %s\n", mdCell(why))
	} else if res.Reason != "" {
		fmt.Fprintf(b, "\n**%s**\n", mdCell(res.Reason))
	}
	for _, st := range res.Steps {
		if len(res.Steps) > 1 {
			fmt.Fprintf(b, "\n#### Step %d\n", st.Index)
		}
		if st.Revoke != "" {
			fmt.Fprintf(b, "\n%s\n", st.Revoke)
		}
		if len(st.Checks) > 0 {
			b.WriteString("\n| check | expected | seen | |\n|---|---|---|---|\n")
			for _, c := range st.Checks {
				mark := "ok"
				switch {
				case c.NotChecked != "":
					mark, c.Seen = "not checked", c.NotChecked
				case !c.OK:
					mark = "**differs**"
				}
				fmt.Fprintf(b, "| %s | `%s` | `%s` | %s |\n", c.Name, mdCode(c.Expected), mdCode(c.Seen), mark)
			}
		}
		if st.Request != "" {
			fmt.Fprintf(b, "\nRequest: `%s` with client certificate %s", st.Request, orNone(st.Client))
			if st.TLSVersion != "" {
				fmt.Fprintf(b, " over TLS %s", st.TLSVersion)
			}
			fmt.Fprintf(b, ". Outcome: **%s**", st.Handshake)
			if st.Status != 0 {
				fmt.Fprintf(b, ", HTTP %d", st.Status)
			}
			if st.Negotiated != "" {
				fmt.Fprintf(b, ", %s", st.Negotiated)
			}
			if st.Error != "" {
				fmt.Fprintf(b, " (%s)", mdCell(st.Error))
			}
			b.WriteString(".\n")
		}
		if st.TargetHeaders != nil {
			b.WriteString("\nHeaders the target received:\n\n```\n" + headerText(st.TargetHeaders) + "```\n")
		}
		if st.ConnLogLine != "" {
			b.WriteString("\nConnection log:\n\n```\n" + st.ConnLogLine + "\n```\n")
		}
		if len(st.AccessLog) > 0 {
			b.WriteString("\nAccess log:\n\n```\n" + strings.Join(st.AccessLog, "\n") + "\n```\n")
		}
	}
	if res.Config != "" {
		b.WriteString("\n<details><summary>albmtls.yaml used</summary>\n\n```yaml\n" + res.Config + "```\n</details>\n")
	}
}

func mdCode(s string) string {
	s = strings.NewReplacer("|", `\|`, "\n", " ", "`", "'").Replace(s)
	if short, ok := fold(s); ok {
		return short
	}
	if len(s) > 300 {
		s = cut(s, 300) + "…"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return "`" + s + "`"
}

// headerText prints headers sorted, long values cut and PEM values folded
// to their first characters with a note.
func headerText(h http.Header) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range h[k] {
			if short, ok := fold(v); ok {
				v = short
			} else if len(v) > 200 {
				v = cut(v, 200) + fmt.Sprintf("… (%d bytes)", len(v))
			}
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	return b.String()
}

//go:embed report.html.tmpl
var htmlTemplate string

var reportHTML = template.Must(template.New("report").Funcs(template.FuncMap{
	"headers":  headerText,
	"oneLine":  oneLine,
	"ms":       func(d time.Duration) time.Duration { return d.Round(time.Millisecond) },
	"rfc3339":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"checkBad": func(c Check) bool { return !c.OK && c.NotChecked == "" },
	"value":    foldHTML,
	"group":    Group,
	"sorted":   sortedHeaders,
}).Parse(htmlTemplate))

// WriteHTML writes the same report as a self-contained HTML page without
// scripts: the totals, a Failures section with one section per failed
// scenario, then the table of every scenario, failures first, with a
// "failures only" switch that works in CSS alone (FailedOnly leaves the
// other rows out). PEM values and long values sit folded in <details>.
func (r *Report) WriteHTML(w io.Writer) error {
	pass, fail, skip := r.Counts()
	var rows, failed []*Result
	for _, res := range r.Ordered() {
		if res.Status == StatusFail {
			failed = append(failed, res)
		}
		if !r.FailedOnly || res.Status == StatusFail {
			rows = append(rows, res)
		}
	}
	return reportHTML.Execute(w, map[string]any{"R": r, "Pass": pass, "Fail": fail, "Skip": skip, "Errors": r.Errors(),
		"Failed": failed, "Rows": rows})
}
