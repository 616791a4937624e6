package conformance

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/golden"
	"github.com/albmtls/albmtls/scenarios"
)

// fixedReport is a report with fixed values (no ports, times or serials),
// for the golden files: a pass, a failure with a PEM header, one that could
// not run and a skip.
func fixedReport() *Report {
	pem := "-----BEGIN%20CERTIFICATE-----%0A" + strings.Repeat("MIIBszCCAVmgAwIBAgIQ", 40) + "%0A-----END%20CERTIFICATE-----%0A"
	return &Report{
		Title: "conformance catalogue", Target: "the in-process emulator", PKI: "/tmp/pki", PKIRemoved: true,
		Started: time.Date(2026, 12, 2, 4, 30, 0, 0, time.UTC), Duration: 1500 * time.Millisecond,
		Results: []*Result{
			{Name: "verify-accepts-valid-client", File: "scenarios/verify-accepts-valid-client.yaml", Basis: "DOC",
				Reference: "alb-behaviour §2.3", URL: "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/mutual-authentication.html",
				Status: StatusPass, Duration: 20 * time.Millisecond},
			{Name: "verify-rejects-revoked-client", File: "scenarios/verify-rejects-revoked-client.yaml", Basis: "DOC",
				Description: "A revoked client is rejected.", Reference: "alb-behaviour §2.3, §3",
				URL:    "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-connection-logs.html",
				Status: StatusFail, Duration: 30 * time.Millisecond,
				Steps: []*StepRecord{{Index: 1, Client: "revoked", Request: "GET https://127.0.0.1:8443/", Handshake: "accepted", Status: 200,
					Negotiated:    "TLSv1.3 TLS_AES_128_GCM_SHA256",
					TargetHeaders: http.Header{"X-Amzn-Mtls-Clientcert-Leaf": {pem}, "X-Amzn-Mtls-Clientcert-Subject": {"CN=revoked"}},
					ConnLogLine:   "2026-12-02T04:30:00.000000Z 127.0.0.1:50000 8443 Success TID_1",
					Checks: []Check{
						{Name: "handshake", Expected: "rejected", Seen: "accepted (HTTP 200)"},
						{Name: "connection_log.tls_verify_status", Expected: "Failed:ClientCertCrlHit", Seen: "Success"},
						{Name: "target_headers.X-Amzn-Mtls-Clientcert-Leaf", Expected: "(absent)", Seen: pem},
					}}}},
			{Name: "tls-headers-tls13", File: "scenarios/tls-headers-tls13.yaml", Basis: "DOC", Reference: "alb-behaviour §4.3",
				URL:    "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html",
				Status: StatusFail, Duration: 10 * time.Millisecond,
				Steps: []*StepRecord{{Index: 1, Request: "GET https://127.0.0.1:8443/", Handshake: "error",
					Error:  "cannot connect to 127.0.0.1:8443: connection refused",
					Checks: []Check{{Name: "connection", Expected: "a TLS connection and an answer", Seen: "error (cannot connect to 127.0.0.1:8443: connection refused)"}}}}},
			{Name: "xff-remove-drops-header", File: "scenarios/xff-remove-drops-header.yaml", Basis: "DOC", Reference: "alb-behaviour §4.4",
				Status: StatusSkip, Reason: "needs attribute routing.http.xff_header_processing.mode=remove, which the harness cannot impose on a remote target"},
		},
	}
}

// TestGitHubGolden pins the annotations, the step summary, the Markdown
// and HTML reports and the JUnit XML of a fixed report.
func TestGitHubGolden(t *testing.T) {
	rep := fixedReport()
	for file, write := range map[string]func(*bytes.Buffer) error{
		"annotations.golden": func(b *bytes.Buffer) error { return rep.WriteGitHubAnnotations(b) },
		"summary.md.golden":  func(b *bytes.Buffer) error { return rep.WriteGitHubSummary(b) },
		"report.md.golden":   func(b *bytes.Buffer) error { return rep.WriteMarkdown(b) },
		"report.html.golden": func(b *bytes.Buffer) error { return rep.WriteHTML(b) },
		"junit.xml.golden":   func(b *bytes.Buffer) error { return rep.WriteJUnit(b) },
	} {
		t.Run(file, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, write(&b))
			assert.NotContains(t, b.String(), "github.com/albmtls", "no links into albmtls's repository")
			golden.Assert(t, filepath.Join("testdata", file), b.String())
		})
	}
}

// TestGitHubActionsOutput runs with the runner's variables set: one
// ::error line per failed scenario on stdout, each one line with the
// message escaped, titled "failed" or "could not run", and the summary
// appended (not written over) to $GITHUB_STEP_SUMMARY. Without the
// variables nothing is written.
func TestGitHubActionsOutput(t *testing.T) {
	rep := fixedReport()
	summary := filepath.Join(t.TempDir(), "step_summary.md")
	require.NoError(t, os.WriteFile(summary, []byte("# an earlier step's summary\n"), 0o644))
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)

	var stdout bytes.Buffer
	require.NoError(t, rep.PublishGitHub(GitHubFromEnv(os.Getenv), &stdout))
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	require.Len(t, lines, 2, stdout.String())
	cmd := regexp.MustCompile(`^::error title=([^:]*)::(.*)$`)
	var titles []string
	for _, l := range lines {
		m := cmd.FindStringSubmatch(l)
		require.NotNil(t, m, "a workflow command: %q", l)
		titles = append(titles, m[1])
		assert.NotContains(t, m[2], "\r")
	}
	assert.Equal(t, []string{"albmtls conformance%3A verify-rejects-revoked-client failed", "albmtls conformance%3A tls-headers-tls13 could not run"}, titles)
	assert.Contains(t, lines[0], "::handshake: expected rejected, saw accepted (HTTP 200)%0Aconnection_log.tls_verify_status: expected Failed:ClientCertCrlHit, saw Success%0A")
	assert.Contains(t, lines[1], "could not reach the load balancer: cannot connect to 127.0.0.1:8443: connection refused")

	data, err := os.ReadFile(summary)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(data), "# an earlier step's summary\n# albmtls conformance catalogue report\n"), string(data))
	assert.Contains(t, string(data), "\n## Failures (2)\n")

	// A second run (another step) appends again.
	require.NoError(t, rep.PublishGitHub(GitHubFromEnv(os.Getenv), &bytes.Buffer{}))
	again, err := os.ReadFile(summary)
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(again), "# albmtls conformance catalogue report\n"))

	t.Setenv("GITHUB_ACTIONS", "")
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	stdout.Reset()
	require.NoError(t, rep.PublishGitHub(GitHubFromEnv(os.Getenv), &stdout))
	assert.Empty(t, stdout.String(), "outside GitHub Actions no workflow commands")

	t.Setenv("GITHUB_STEP_SUMMARY", filepath.Join(t.TempDir(), "missing", "summary.md"))
	err = rep.PublishGitHub(GitHubFromEnv(os.Getenv), &stdout)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "$GITHUB_STEP_SUMMARY")
}

// TestStepSummaryStaysUnderGitHubsLimit: a summary too long for GitHub
// falls back to the failed-only form, and is cut with a note past that.
func TestStepSummaryStaysUnderGitHubsLimit(t *testing.T) {
	rep := fixedReport()
	pass := rep.Results[0]
	for i := 0; len(rep.Results) < 20000; i++ {
		p := *pass
		p.Name = pass.Name + "-" + strings.Repeat("x", 40) + "-" + string(rune('a'+i%26)) + strings.Repeat("y", i%7)
		rep.Results = append(rep.Results, &p)
	}
	var full, sum bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&full))
	require.Greater(t, full.Len(), MaxStepSummary)
	require.NoError(t, rep.WriteGitHubSummary(&sum))
	assert.LessOrEqual(t, sum.Len(), MaxStepSummary)
	assert.Contains(t, sum.String(), "Failed scenarios only (--report-failed-only)")
	assert.NotContains(t, sum.String(), "| verify-accepts-valid-client |")

	big := strings.Repeat("z", MaxStepSummary)
	rep.Results[1].Steps[0].Checks[0].Seen = big
	rep.Results[1].Reason = big
	sum.Reset()
	require.NoError(t, rep.WriteGitHubSummary(&sum))
	assert.LessOrEqual(t, sum.Len(), MaxStepSummary)
	assert.True(t, strings.HasSuffix(sum.String(), "--report FILE has all of it)\n"))
}

// TestEveryScenarioHasAGroup: each catalogue scenario's name starts with a
// prefix of the group table, so JUnit classnames are behaviour groups
// rather than a name's first word.
func TestEveryScenarioHasAGroup(t *testing.T) {
	list, err := scenarios.Catalogue()
	require.NoError(t, err)
	require.NotEmpty(t, list)
	seen := map[string]int{}
	for _, s := range list {
		g, ok := knownGroup(s.Name)
		assert.True(t, ok, "scenario %s: add its prefix to conformance.groups", s.Name)
		seen[g]++
	}
	for _, g := range groups {
		if g.group != "backend" {
			assert.NotZero(t, seen[g.group], "group %s has no scenario", g.group)
		}
	}
}
