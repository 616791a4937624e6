package main

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/testbin"
	"github.com/albmtls/albmtls/pki/pkitest"
)

func runConformanceCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(append([]string{"conformance"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Skipped  int `xml:"skipped,attr"`
	Suites   []struct {
		Cases []struct {
			Name    string    `xml:"name,attr"`
			Failure *struct{} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// TestConformanceFromAFreshCheckout is the "done when": the real
// binary, run with no PKI in a fresh directory, runs every scenario, all
// pass, and the JUnit file lists each one. Its wall time is logged.
func TestConformanceFromAFreshCheckout(t *testing.T) {
	dir := t.TempDir()
	list := testbin.Command(t, "conformance", "--list")
	listing, err := list.CombinedOutput()
	require.NoError(t, err, string(listing))
	m := regexp.MustCompile(`(?m)^(\d+) scenarios$`).FindStringSubmatch(string(listing))
	require.NotNil(t, m, string(listing))
	total, _ := strconv.Atoi(m[1])

	cmd := testbin.Command(t, "conformance", "--junit", "out.xml", "--report", "out.md")
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	started := time.Now()
	require.NoError(t, cmd.Run(), "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	t.Logf("albmtls conformance: %d scenarios in %s (wall time of the process)", total, time.Since(started).Round(time.Millisecond))

	assert.Contains(t, stdout.String(), strconv.Itoa(total)+" scenarios: "+strconv.Itoa(total)+" passed, 0 failed, 0 skipped")
	data, err := os.ReadFile(filepath.Join(dir, "out.xml"))
	require.NoError(t, err)
	var j junitDoc
	require.NoError(t, xml.Unmarshal(data, &j))
	assert.Equal(t, total, j.Tests)
	assert.Zero(t, j.Failures)
	require.Len(t, j.Suites, 1)
	assert.Len(t, j.Suites[0].Cases, total)
	names := map[string]bool{}
	for _, c := range j.Suites[0].Cases {
		names[c.Name] = true
	}
	for _, line := range strings.Split(strings.TrimSpace(string(listing)), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] != "scenarios" {
			assert.True(t, names[f[0]], "JUnit lists %s", f[0])
		}
	}
	md, err := os.ReadFile(filepath.Join(dir, "out.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "passed, 0 failed")
}

// TestConformanceBreakingABehaviourExits1: --set breaks stripping; the
// spoofing scenarios fail, the exit status is 1, and the reports say why.
//
// It runs as under GitHub Actions: each failure is an ::error annotation on
// stdout and the failed-only summary (--report-failed-only) is appended to
// $GITHUB_STEP_SUMMARY.
func TestConformanceBreakingABehaviourExits1(t *testing.T) {
	dir := t.TempDir()
	junit, html, summary := filepath.Join(dir, "out.xml"), filepath.Join(dir, "out.html"), filepath.Join(dir, "summary.md")
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	code, stdout, stderr := runConformanceCLI("--pki", pkitest.Dir(t), "--run", "spoof", "--set", "emulation.strip_client_headers=false",
		"--junit", junit, "--report", html, "--report-failed-only")
	assert.Equal(t, 1, code, stderr)
	assert.Regexp(t, `verify-replaces-spoofed-mtls-headers +FAIL +\d+ms +target_headers_absent.X-Amzn-Mtls-Clientcert: expected \(absent\)`, stdout)
	assert.Contains(t, stderr, "FAIL off-strips-spoofed-mtls-headers: target_headers_absent.X-Amzn-Mtls-Clientcert-Subject: expected (absent), saw CN=member")
	assert.Contains(t, stderr, "done: 0 passed, 5 failed, 0 skipped")
	var j junitDoc
	data, err := os.ReadFile(junit)
	require.NoError(t, err)
	require.NoError(t, xml.Unmarshal(data, &j))
	assert.Equal(t, 5, j.Failures)
	page, err := os.ReadFile(html)
	require.NoError(t, err)
	assert.Contains(t, string(page), "<!DOCTYPE html>")
	assert.Contains(t, string(page), `<section class="failure" id="off-strips-spoofed-mtls-headers">`)
	assert.Contains(t, string(page), "Failed scenarios only (--report-failed-only)")

	assert.Equal(t, 5, strings.Count(stdout, "\n::error title=albmtls conformance%3A "), stdout)
	assert.Regexp(t, `(?m)^::error title=albmtls conformance%3A off-strips-spoofed-mtls-headers failed::target_headers_absent\.X-Amzn-Mtls-Clientcert-Subject: expected \(absent\), saw CN=member`, stdout)
	sum, err := os.ReadFile(summary)
	require.NoError(t, err)
	assert.Contains(t, string(sum), "**5 scenarios: 0 passed, 5 failed, 0 skipped**")
	assert.Contains(t, string(sum), "\n### off-strips-spoofed-mtls-headers\n")
}

func TestConformanceBackendFlag(t *testing.T) {
	naive := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer naive.Close()
	expect := filepath.Join(t.TempDir(), "expect.yaml")
	require.NoError(t, os.WriteFile(expect, []byte("spoof_probes: false\ncases:\n  member: {status: 2xx}\n"), 0o644))
	code, stdout, stderr := runConformanceCLI("--pki", pkitest.Dir(t), "--backend", naive.URL, "--expect", expect, "-q")
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "backend/member")
	assert.Contains(t, stdout, "1 scenario: 1 passed")
	code, stdout, _ = runConformanceCLI("--pki", pkitest.Dir(t), "--backend", naive.URL, "-q")
	assert.Equal(t, 1, code)
	assert.Regexp(t, `backend/outsider +FAIL .*status: expected 403, saw 200`, stdout)
	assert.Regexp(t, `backend/spoofed-name-variants +FAIL .*status: expected 4xx, saw 200`, stdout)
}

func TestConformanceFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--expect", "x.yaml"}, "--expect belongs to --backend"},
		{[]string{"--backend", "http://127.0.0.1:1", "--target", "https://127.0.0.1:2"}, "--backend and --target exclude each other"},
		{[]string{"--target", "https://127.0.0.1:1", "--set", "a=b"}, "--set changes the configs of the in-process emulator"},
		{[]string{"--admin", "http://127.0.0.1:1"}, "without --target the catalogue runs in-process"},
		{[]string{"--run", "("}, "--run \"(\": error parsing regexp"},
		{[]string{"--set", "novalue"}, "want PATH=VALUE"},
		{[]string{"--scenarios", "/nonexistent"}, "/nonexistent"},
		{[]string{"--pki", "/nonexistent"}, "loading the PKI (--pki)"},
	} {
		code, _, stderr := runConformanceCLI(tc.args...)
		assert.Equal(t, 2, code, "usage or configuration error: %v", tc.args)
		assert.Contains(t, stderr, tc.want, tc.args)
	}
}
