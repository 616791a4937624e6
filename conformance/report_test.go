package conformance

import (
	"bytes"
	"context"
	"encoding/xml"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/albmtls/albmtls/pki/pkitest"
)

// brokenReport runs a few scenarios with the CRLs removed, so that the
// report has passes and a failure, breaks one scenario's generated config
// so that it cannot run, and adds a skipped result as a remote run would.
func brokenReport(t *testing.T) *Report {
	t.Helper()
	rep, err := Run(context.Background(), Options{
		PKIDir: pkitest.Dir(t), Run: regexp.MustCompile("^verify-(rejects-revoked-client|accepts-valid-client)$|^xff-appends-client-address$|^tls-headers-tls13$"),
		Mutate: func(name string, cfg map[string]any) {
			trustStoreOf(cfg)["revocations"] = []any{}
			if name == "tls-headers-tls13" {
				cfg["load_balancer_arn"] = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/x/0123456789abcdef"
			}
		},
	})
	require.NoError(t, err)
	rep.Results = append(rep.Results, &Result{Name: "xff-remove-drops-header", File: "scenarios/xff-remove-drops-header.yaml", Status: StatusSkip,
		Reason: "needs attribute routing.http.xff_header_processing.mode=remove, which the harness cannot impose on a remote target", Duration: time.Millisecond})
	return rep
}

// The JUnit schema as CI parsers read it.
type parsedJUnit struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Time     string   `xml:"time,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Time     string `xml:"time,attr"`
		Stamp    string `xml:"timestamp,attr"`
		Cases    []struct {
			Name      string        `xml:"name,attr"`
			Classname string        `xml:"classname,attr"`
			Time      string        `xml:"time,attr"`
			Failure   *parsedJUnitM `xml:"failure"`
			Error     *parsedJUnitM `xml:"error"`
			Skipped   *parsedJUnitM `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

type parsedJUnitM struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func parseJUnit(t *testing.T, rep *Report) parsedJUnit {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, rep.WriteJUnit(&buf))
	var j parsedJUnit
	require.NoError(t, xml.Unmarshal(buf.Bytes(), &j), buf.String())
	assert.NotContains(t, buf.String(), "github.com/albmtls", "no links into albmtls's repository")
	return j
}

// TestJUnitParsesBack writes the JUnit XML of a run with passes, a
// failure, a scenario that could not run and a skip, and reads it back:
// counts (the one that could not run is an error, not a failure), one
// testcase per scenario with its behaviour group as classname, times as
// seconds, the failure's expected-versus-seen text, the error's cause and
// the skip reason.
func TestJUnitParsesBack(t *testing.T) {
	rep := brokenReport(t)
	j := parseJUnit(t, rep)
	assert.Equal(t, []int{5, 1, 1, 1}, []int{j.Tests, j.Failures, j.Errors, j.Skipped})
	require.Len(t, j.Suites, 1)
	s := j.Suites[0]
	assert.Equal(t, "albmtls conformance catalogue", s.Name)
	assert.Equal(t, []int{5, 1, 1, 1}, []int{s.Tests, s.Failures, s.Errors, s.Skipped})
	_, err := time.Parse("2006-01-02T15:04:05", s.Stamp)
	assert.NoError(t, err)
	classes := map[string]string{}
	for _, c := range s.Cases {
		classes[c.Name] = c.Classname
		_, err := strconv.ParseFloat(c.Time, 64)
		assert.NoError(t, err, "time of %s", c.Name)
		switch c.Name {
		case "verify-rejects-revoked-client":
			require.NotNil(t, c.Failure)
			assert.Nil(t, c.Error)
			assert.Contains(t, c.Failure.Message, "connection_log.tls_verify_status: expected Failed:ClientCertCrlHit, saw Success")
			assert.Contains(t, c.Failure.Text, "alb-behaviour §2.3")
			assert.Contains(t, c.Failure.Text, "connection log: ", "the connection-log line is in the failure")
		case "tls-headers-tls13":
			require.NotNil(t, c.Error, "a setup that does not load is an error")
			assert.Nil(t, c.Failure)
			assert.Contains(t, c.Error.Message, "could not run: the setup did not load: ")
			assert.Contains(t, c.Error.Message, `unknown key "load_balancer_arn"`)
		case "xff-remove-drops-header":
			require.NotNil(t, c.Skipped)
			assert.Contains(t, c.Skipped.Message, "cannot impose")
		default:
			assert.Nil(t, c.Failure, c.Name)
			assert.Nil(t, c.Error, c.Name)
			assert.Nil(t, c.Skipped, c.Name)
		}
	}
	assert.Equal(t, map[string]string{
		"verify-rejects-revoked-client": "albmtls.conformance.verify",
		"verify-accepts-valid-client":   "albmtls.conformance.verify",
		"xff-appends-client-address":    "albmtls.conformance.forwarded-headers",
		"xff-remove-drops-header":       "albmtls.conformance.forwarded-headers",
		"tls-headers-tls13":             "albmtls.conformance.tls-headers",
	}, classes)
	_, err = strconv.ParseFloat(j.Time, 64)
	assert.NoError(t, err)
}

// TestReportsShowExpectedAndSeen: the Markdown and HTML reports have the
// totals and, per failure, the checks with expected and seen, the outcome,
// the target's headers and the connection-log line.
func TestReportsShowExpectedAndSeen(t *testing.T) {
	rep := brokenReport(t)

	var md bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&md))
	out := md.String()
	assert.Contains(t, out, "**5 scenarios: 2 passed, 2 failed, 1 skipped** (1 of the failures could not run)")
	assert.Contains(t, out, "| [verify-rejects-revoked-client](#verify-rejects-revoked-client) | **FAIL** | verify |")
	assert.Contains(t, out, "| [tls-headers-tls13](#tls-headers-tls13) | **ERROR** (could not run) | tls-headers |")
	assert.Contains(t, out, "\n### verify-rejects-revoked-client\n")
	assert.Contains(t, out, "| connection_log.tls_verify_status | `Failed:ClientCertCrlHit` | `Success` | **differs** |")
	assert.Contains(t, out, "| handshake | `rejected` | `accepted (HTTP 200)` | **differs** |")
	assert.Contains(t, out, "Outcome: **accepted**, HTTP 200")
	assert.Contains(t, out, "Headers the target received:")
	assert.Contains(t, out, "X-Amzn-Mtls-Clientcert-Subject: CN=revoked")
	assert.Contains(t, out, "\n**Could not run:** the setup did not load: ")
	assert.Regexp(t, "Connection log:\n\n```\n.* Success TID_", out)
	assert.NotContains(t, out, "### verify-accepts-valid-client", "passes get no section")

	var page bytes.Buffer
	require.NoError(t, rep.WriteHTML(&page))
	doc, err := html.Parse(bytes.NewReader(page.Bytes()))
	require.NoError(t, err)
	text := textOf(doc)
	assert.Contains(t, text, "5 scenarios: 2 passed, 2 failed, 1 skipped (1 of the failures could not run)")
	assert.Contains(t, text, "connection_log.tls_verify_statusFailed:ClientCertCrlHitSuccessdiffers")
	assert.NotNil(t, byID(doc, "verify-rejects-revoked-client"))

	var sum bytes.Buffer
	require.NoError(t, rep.WriteSummary(&sum))
	assert.Regexp(t, `verify-rejects-revoked-client +FAIL +\d+ms +handshake: expected rejected, saw accepted \(HTTP 200\) \(\+\d+ more\)`, sum.String())
	assert.Contains(t, sum.String(), "5 scenarios: 2 passed, 2 failed, 1 skipped, against the in-process emulator")
	for _, f := range []string{md.String(), page.String()} {
		assert.NotContains(t, f, "github.com/albmtls", "no links into albmtls's repository")
	}
}

// TestHTMLReportOpensOnItsFailures parses the HTML report: the Failures
// section comes before the table of all scenarios, holds one section per
// failed scenario and nothing else, the table lists failures first, then
// skips, then passes, and a CSS-only "failures only" switch (no script)
// hides the other rows. PEM header values are folded in <details>. With
// FailedOnly the table has the failed rows only.
func TestHTMLReportOpensOnItsFailures(t *testing.T) {
	rep := brokenReport(t)
	var page bytes.Buffer
	require.NoError(t, rep.WriteHTML(&page))
	doc, err := html.Parse(bytes.NewReader(page.Bytes()))
	require.NoError(t, err)

	var order []string // h2 ids, h3 texts and table ids, in document order
	walk(doc, func(n *html.Node) {
		switch {
		case n.Data == "h2", n.Data == "table" && attr(n, "id") != "":
			order = append(order, n.Data+"#"+attr(n, "id"))
		case n.Data == "h3":
			order = append(order, "h3 "+textOf(n))
		case n.Data == "script":
			t.Errorf("the report has a script; it must work without JavaScript")
		}
	})
	assert.Equal(t, []string{"h2#failures", "h3 tls-headers-tls13", "h3 verify-rejects-revoked-client", "h2#all", "table#results"}, order)

	rows := resultRows(doc)
	assert.Equal(t, [][2]string{
		{"tls-headers-tls13", "error"}, {"verify-rejects-revoked-client", "fail"},
		{"xff-remove-drops-header", "skip"},
		{"verify-accepts-valid-client", "pass"}, {"xff-appends-client-address", "pass"},
	}, rows, "failures first, then skips, then passes, each in catalogue order")

	toggle := byID(doc, "failed-only")
	require.NotNil(t, toggle, "the failures-only switch")
	assert.Equal(t, "checkbox", attr(toggle, "type"))
	assert.Contains(t, page.String(), "#failed-only:checked ~ table tr.pass, #failed-only:checked ~ table tr.skip { display: none; }")

	// The leaf certificate header the target received is PEM: folded.
	sec := byID(doc, "verify-rejects-revoked-client")
	require.NotNil(t, sec)
	var folded []string
	walk(sec, func(n *html.Node) {
		if n.Data == "details" && attr(n, "class") == "fold" {
			folded = append(folded, textOf(n))
		}
	})
	require.NotEmpty(t, folded, "PEM values sit in <details>")
	for _, f := range folded {
		assert.Regexp(t, `\(PEM, \d+ bytes\)-----BEGIN`, f, "the summary gives the size, the body the whole value")
	}

	rep.FailedOnly = true
	page.Reset()
	require.NoError(t, rep.WriteHTML(&page))
	doc, err = html.Parse(bytes.NewReader(page.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, [][2]string{{"tls-headers-tls13", "error"}, {"verify-rejects-revoked-client", "fail"}}, resultRows(doc))
	assert.Contains(t, textOf(doc), "2 passed and 1 skipped are left out")
	assert.Nil(t, byID(doc, "failed-only"), "no switch when there is nothing to hide")
}

// TestMarkdownReportOpensOnItsFailures: the Markdown report's Failures
// section comes before the table, the table lists failures first, PEM
// values are cut with a note, and FailedOnly leaves passes and skips out.
func TestMarkdownReportOpensOnItsFailures(t *testing.T) {
	rep := brokenReport(t)
	var md bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&md))
	out := md.String()
	failures, all := strings.Index(out, "\n## Failures (2)\n"), strings.Index(out, "\n## All scenarios\n")
	require.True(t, failures > 0 && all > failures, "Failures, then All scenarios:\n%s", out)
	assert.Less(t, strings.Index(out, "\n### tls-headers-tls13\n"), strings.Index(out, "\n### verify-rejects-revoked-client\n"))
	var order []string
	for _, l := range strings.Split(out[all:], "\n") {
		if m := regexp.MustCompile(`^\| \[?([a-z0-9-]+)`).FindStringSubmatch(l); m != nil && m[1] != "scenario" {
			order = append(order, m[1])
		}
	}
	assert.Equal(t, []string{"tls-headers-tls13", "verify-rejects-revoked-client", "xff-remove-drops-header", "verify-accepts-valid-client", "xff-appends-client-address"}, order)
	assert.Regexp(t, "X-Amzn-Mtls-Clientcert-Leaf: -----BEGIN%20CERTIFICATE-----.{0,40}… \\(PEM, \\d+ bytes, folded; the HTML report has it in full\\)\n", out)
	assert.NotRegexp(t, "-----END", out, "no whole PEM value")

	rep.FailedOnly = true
	md.Reset()
	require.NoError(t, rep.WriteMarkdown(&md))
	out = md.String()
	assert.Contains(t, out, "Failed scenarios only (--report-failed-only): 2 passed and 1 skipped are left out.")
	assert.NotContains(t, out, "| verify-accepts-valid-client |")
	assert.NotContains(t, out, "| xff-remove-drops-header |")
	assert.Contains(t, out, "| [verify-rejects-revoked-client](#verify-rejects-revoked-client) | **FAIL** |")
}

func walk(n *html.Node, f func(*html.Node)) {
	if n.Type == html.ElementNode {
		f(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func byID(doc *html.Node, id string) *html.Node {
	var found *html.Node
	walk(doc, func(n *html.Node) {
		if found == nil && attr(n, "id") == id {
			found = n
		}
	})
	return found
}

// resultRows returns the table's rows as (scenario, result cell).
func resultRows(doc *html.Node) [][2]string {
	table := byID(doc, "results")
	var rows [][2]string
	walk(table, func(n *html.Node) {
		if n.Data != "tr" {
			return
		}
		var cells []string
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.Data == "td" {
				cells = append(cells, textOf(c))
			}
		}
		if len(cells) > 1 {
			rows = append(rows, [2]string{cells[0], cells[1]})
		}
	})
	return rows
}

// TestReportNamesARemovedPKI: a report whose PKI was thrown away says so,
// rather than pointing at a directory that no longer exists.
func TestReportNamesARemovedPKI(t *testing.T) {
	for _, removed := range []bool{false, true} {
		var md bytes.Buffer
		rep := &Report{Title: "conformance catalogue", Target: "the in-process emulator", PKI: "/tmp/x/pki", PKIRemoved: removed}
		require.NoError(t, rep.WriteMarkdown(&md))
		if removed {
			assert.Contains(t, md.String(), "- PKI: `/tmp/x/pki` (generated for this run and removed at its end; --keep DIR keeps it)\n")
		} else {
			assert.Contains(t, md.String(), "- PKI: `/tmp/x/pki`\n")
		}
	}
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(strings.TrimSpace(n.Data))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

func TestParseSetting(t *testing.T) {
	cases := []struct {
		in   string
		path []string
		val  any
		err  string
	}{
		{"emulation.strip_client_headers=false", []string{"emulation", "strip_client_headers"}, false, ""},
		{"trust_stores[0].revocations=[]", []string{"trust_stores", "[0]", "revocations"}, []any{}, ""},
		{`listeners[0].attributes["routing.http.xff_header_processing.mode"]=remove`, []string{"listeners", "[0]", "attributes", "routing.http.xff_header_processing.mode"}, "remove", ""},
		{"no-equals", nil, nil, "want PATH=VALUE"},
		{"a[x]=1", nil, nil, `"x" is not a list index`},
		{`a["b=1`, nil, nil, "unterminated"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			s, err := ParseSetting(tc.in)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.path, s.Path)
			assert.Equal(t, tc.val, s.Value)
		})
	}
	s, _ := ParseSetting("listeners[5].port=1")
	err := s.apply(map[string]any{"listeners": []any{map[string]any{}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "listeners[5] does not exist in the generated config")
}
