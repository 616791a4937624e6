package conformance

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Status is a scenario's verdict.
type Status string

// Verdicts. A skipped scenario could not be run against the target (the
// reason says why); it neither passes nor fails.
const (
	StatusPass Status = "pass"
	StatusFail Status = "fail"
	StatusSkip Status = "skip"
)

// Check is one expectation, compared.
type Check struct {
	// Name is the expectation's key path, e.g.
	// connection_log.tls_verify_status or target_headers.X-Forwarded-For.
	Name     string
	Expected string
	Seen     string
	OK       bool
	// NotChecked, when set, says why the harness could not look (a remote
	// target's connection log, for instance); such a check does not fail.
	NotChecked string
	// CouldNotRun marks a failed check that is about the harness's own
	// set-up (a listener the target does not offer, a certificate the PKI
	// lacks, a refused runtime revocation), not about the load balancer's
	// answer: the scenario could not be run (a JUnit error).
	CouldNotRun bool
}

// String is "NAME: expected X, saw Y".
func (c Check) String() string {
	if c.NotChecked != "" {
		return fmt.Sprintf("%s: not checked (%s)", c.Name, c.NotChecked)
	}
	return fmt.Sprintf("%s: expected %s, saw %s", c.Name, short(c.Expected), short(c.Seen))
}

// short cuts a value for one-line messages; reports show more.
func short(s string) string {
	const n = 120
	if isPEM(s) && len(s) > foldHead {
		return fmt.Sprintf("%s… (PEM, %d bytes)", cut(s, foldHead), len(s))
	}
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("%s… (%d bytes)", cut(s, n), len(s))
}

// StepRecord is what one step did and what was seen, for the report.
type StepRecord struct {
	Index int // 1-based
	// Revoke describes a runtime revocation step; empty for requests.
	Revoke string

	Client     string // PKI client certificate, "" for none
	TLSVersion string // asked for: "1.2", "1.3" or "" (either)
	Request    string // "GET https://127.0.0.1:43121/"
	// Handshake is accepted, rejected or error (could not connect, timed
	// out, or the server's certificate was not trusted).
	Handshake string
	Error     string // the handshake or read error, if any
	// Negotiated is the TLS version and cipher in ALB's spelling.
	Negotiated      string
	Status          int
	ResponseHeaders http.Header
	Body            string // the first bytes of the response body
	// TargetHeaders are the headers the harness's echo target received;
	// nil when the request did not reach it.
	TargetHeaders http.Header
	ConnLogLine   string
	AccessLog     []string
	Checks        []Check
}

// Failed lists the checks that failed.
func (s *StepRecord) Failed() []Check {
	var out []Check
	for _, c := range s.Checks {
		if !c.OK && c.NotChecked == "" {
			out = append(out, c)
		}
	}
	return out
}

// Result is one scenario's run.
type Result struct {
	Name        string
	File        string
	Description string
	Reference   string
	URL         string
	Basis       string

	Status Status
	// Reason explains a skip, or a failure that happened before any step
	// (the setup did not load, the emulator did not start).
	Reason string
	// Advice, on a failure, says what the failure means and how to fix it
	// (backend mode's spoof probes); it ends the list of Failures.
	Advice   string
	Duration time.Duration
	// Config is the albmtls.yaml the harness generated (in-process runs).
	Config string
	Steps  []*StepRecord
}

// Failures lists every failed check, prefixed with its step when the
// scenario has several.
func (r *Result) Failures() []string {
	var out []string
	if r.Status == StatusFail && r.Reason != "" {
		out = append(out, r.Reason)
	}
	for _, st := range r.Steps {
		for _, c := range st.Failed() {
			if len(r.Steps) > 1 {
				out = append(out, fmt.Sprintf("step %d: %s", st.Index, c))
			} else {
				out = append(out, c.String())
			}
		}
	}
	if r.Status == StatusFail && r.Advice != "" {
		out = append(out, r.Advice)
	}
	return out
}

// Message is the failure (or skip) in one line, for summaries and JUnit.
func (r *Result) Message() string {
	switch r.Status {
	case StatusSkip:
		return r.Reason
	case StatusFail:
		return strings.Join(r.Failures(), "; ")
	}
	return ""
}

// CouldNotRun says why a failed scenario could not be run to a verdict,
// or "" when it ran and what it saw differed from what was expected (or it
// did not fail). A scenario could not run when its setup failed before any
// step (the setup did not load, the emulator did not start, the run was
// cancelled), when a step could not reach the load balancer (connection
// refused, a timeout, an untrusted server certificate: the "error"
// outcome) or when the harness could not set a step up. JUnit reports the
// former as an error and the latter as a failure.
func (r *Result) CouldNotRun() string {
	if r.Status != StatusFail {
		return ""
	}
	if r.Reason != "" {
		return r.Reason
	}
	for _, st := range r.Steps {
		prefix := ""
		if len(r.Steps) > 1 {
			prefix = fmt.Sprintf("step %d: ", st.Index)
		}
		if st.Handshake == outcomeError {
			return prefix + "could not reach the load balancer: " + st.Error
		}
		for _, c := range st.Failed() {
			if c.CouldNotRun {
				return prefix + c.String()
			}
		}
	}
	return ""
}

// NotChecked lists the checks the harness could not make.
func (r *Result) NotChecked() []Check {
	var out []Check
	for _, st := range r.Steps {
		for _, c := range st.Checks {
			if c.NotChecked != "" {
				out = append(out, c)
			}
		}
	}
	return out
}

// finish sets the verdict from the checks.
func (r *Result) finish() {
	if r.Status == StatusSkip || r.Status == StatusFail {
		return
	}
	r.Status = StatusPass
	for _, st := range r.Steps {
		if len(st.Failed()) > 0 {
			r.Status = StatusFail
		}
	}
}

// Report is a whole run.
type Report struct {
	// Title names the run: "conformance catalogue" or "backend".
	Title string
	// Target is where the scenarios ran: "in-process emulator", a URL.
	Target string
	// PKI is the directory of the PKI the clients used; PKIRemoved says it
	// was generated for the run and deleted at its end.
	PKI        string
	PKIRemoved bool
	Started    time.Time
	// Duration is the wall time of the whole run.
	Duration time.Duration
	Results  []*Result
	// FailedOnly makes the Markdown and HTML reports list the failed
	// scenarios only (--report-failed-only); the totals still count all.
	FailedOnly bool
}

// Counts returns how many scenarios passed, failed and were skipped.
func (r *Report) Counts() (pass, fail, skip int) {
	for _, res := range r.Results {
		switch res.Status {
		case StatusPass:
			pass++
		case StatusFail:
			fail++
		case StatusSkip:
			skip++
		}
	}
	return
}

// Errors counts the failed scenarios that could not run (CouldNotRun).
func (r *Report) Errors() int {
	n := 0
	for _, res := range r.Results {
		if res.CouldNotRun() != "" {
			n++
		}
	}
	return n
}

// Ordered returns the results failures first (in catalogue order), then
// the skipped scenarios, then the passes: the order the reports use, so
// that they open on what needs attention.
func (r *Report) Ordered() []*Result {
	out := make([]*Result, 0, len(r.Results))
	for _, st := range []Status{StatusFail, StatusSkip, StatusPass} {
		for _, res := range r.Results {
			if res.Status == st {
				out = append(out, res)
			}
		}
	}
	return out
}

// Failed reports whether any scenario failed (the CLI then exits 1).
func (r *Report) Failed() bool {
	_, fail, _ := r.Counts()
	return fail > 0
}

// Detail describes what a scenario saw, step by step: the request, the
// outcome, the connection- and access-log lines. Test failures print it.
func Detail(r *Result) string {
	var b strings.Builder
	for _, st := range r.Steps {
		if st.Revoke != "" {
			fmt.Fprintf(&b, "  step %d: %s\n", st.Index, st.Revoke)
			continue
		}
		fmt.Fprintf(&b, "  step %d: client %q %s -> %s", st.Index, st.Client, st.Request, st.Handshake)
		if st.Status != 0 {
			fmt.Fprintf(&b, " HTTP %d", st.Status)
		}
		if st.Error != "" {
			fmt.Fprintf(&b, " (%s)", st.Error)
		}
		b.WriteString("\n")
		if st.ConnLogLine != "" {
			fmt.Fprintf(&b, "    connection log: %s\n", st.ConnLogLine)
		}
		for _, l := range st.AccessLog {
			fmt.Fprintf(&b, "    access log: %s\n", l)
		}
	}
	return b.String()
}
