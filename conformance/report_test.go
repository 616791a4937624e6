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
// report has passes and failures, and adds a skipped result as a remote
// run would.
func brokenReport(t *testing.T) *Report {
	t.Helper()
	rep, err := Run(context.Background(), Options{
		PKIDir: pkitest.Dir(t), Run: regexp.MustCompile("^verify-(rejects-revoked-client|accepts-valid-client)$|^xff-appends-client-address$"),
		Mutate: func(_ string, cfg map[string]any) { trustStoreOf(cfg)["revocations"] = []any{} },
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
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// TestJUnitParsesBack writes the JUnit XML of a run with a pass, a failure
// and a skip and reads it back: counts, one testcase per scenario, times
// as seconds, the failure's expected-versus-seen text and the skip reason.
func TestJUnitParsesBack(t *testing.T) {
	rep := brokenReport(t)
	var buf bytes.Buffer
	require.NoError(t, rep.WriteJUnit(&buf))
	var j parsedJUnit
	require.NoError(t, xml.Unmarshal(buf.Bytes(), &j), buf.String())
	assert.Equal(t, 4, j.Tests)
	assert.Equal(t, 1, j.Failures)
	assert.Equal(t, 1, j.Skipped)
	require.Len(t, j.Suites, 1)
	s := j.Suites[0]
	assert.Equal(t, "albmtls conformance catalogue", s.Name)
	assert.Equal(t, []int{4, 1, 0, 1}, []int{s.Tests, s.Failures, s.Errors, s.Skipped})
	_, err := time.Parse("2006-01-02T15:04:05", s.Stamp)
	assert.NoError(t, err)
	names := map[string]bool{}
	for _, c := range s.Cases {
		names[c.Name] = true
		_, err := strconv.ParseFloat(c.Time, 64)
		assert.NoError(t, err, "time of %s", c.Name)
		assert.True(t, strings.HasPrefix(c.Classname, "albmtls.conformance."), c.Classname)
		switch c.Name {
		case "verify-rejects-revoked-client":
			require.NotNil(t, c.Failure)
			assert.Contains(t, c.Failure.Message, "connection_log.tls_verify_status: expected Failed:ClientCertCrlHit, saw Success")
			assert.Contains(t, c.Failure.Text, "alb-behaviour §2.3")
			assert.Contains(t, c.Failure.Text, "connection log: ", "the connection-log line is in the failure")
		case "xff-remove-drops-header":
			require.NotNil(t, c.Skipped)
			assert.Contains(t, c.Skipped.Message, "cannot impose")
		default:
			assert.Nil(t, c.Failure, c.Name)
			assert.Nil(t, c.Skipped, c.Name)
		}
	}
	assert.Equal(t, map[string]bool{"verify-rejects-revoked-client": true, "verify-accepts-valid-client": true,
		"xff-appends-client-address": true, "xff-remove-drops-header": true}, names)
	_, err = strconv.ParseFloat(j.Time, 64)
	assert.NoError(t, err)
}

// TestReportsShowExpectedAndSeen: the Markdown and HTML reports have the
// summary and, per failure, the checks with expected and seen, the outcome,
// the target's headers and the connection-log line.
func TestReportsShowExpectedAndSeen(t *testing.T) {
	rep := brokenReport(t)

	var md bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&md))
	out := md.String()
	assert.Contains(t, out, "**4 scenarios: 2 passed, 1 failed, 1 skipped**")
	assert.Contains(t, out, "| [verify-rejects-revoked-client](#verify-rejects-revoked-client) | **FAIL** |")
	assert.Contains(t, out, "\n### verify-rejects-revoked-client\n")
	assert.Contains(t, out, "| connection_log.tls_verify_status | `Failed:ClientCertCrlHit` | `Success` | **differs** |")
	assert.Contains(t, out, "| handshake | `rejected` | `accepted (HTTP 200)` | **differs** |")
	assert.Contains(t, out, "Outcome: **accepted**, HTTP 200")
	assert.Contains(t, out, "Headers the target received:")
	assert.Contains(t, out, "X-Amzn-Mtls-Clientcert-Subject: CN=revoked")
	assert.Regexp(t, "Connection log:\n\n```\n.* Success TID_", out)
	assert.NotContains(t, out, "### verify-accepts-valid-client", "passes get no section")

	var page bytes.Buffer
	require.NoError(t, rep.WriteHTML(&page))
	doc, err := html.Parse(bytes.NewReader(page.Bytes()))
	require.NoError(t, err)
	text := textOf(doc)
	assert.Contains(t, text, "4 scenarios: 2 passed, 1 failed, 1 skipped")
	assert.Contains(t, text, "connection_log.tls_verify_statusFailed:ClientCertCrlHitSuccessdiffers")
	assert.Contains(t, page.String(), `<section id="verify-rejects-revoked-client">`)

	var sum bytes.Buffer
	require.NoError(t, rep.WriteSummary(&sum))
	assert.Regexp(t, `verify-rejects-revoked-client +FAIL +\d+ms +handshake: expected rejected, saw accepted \(HTTP 200\) \(\+\d+ more\)`, sum.String())
	assert.Contains(t, sum.String(), "4 scenarios: 2 passed, 1 failed, 1 skipped, against the in-process emulator")
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
