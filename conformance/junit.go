package conformance

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// JUnit XML, in the shape Jenkins, GitLab, GitHub Actions reporters and
// Azure DevOps read: testsuites > testsuite > testcase with failure or
// skipped, times in seconds.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure"`
	Error     *junitMessage `xml:"error"`
	Skipped   *junitMessage `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes the report as JUnit XML: one testcase per scenario,
// classname "albmtls.conformance.<behaviour group>" (Group), and for a
// failed scenario a failure element ("ran and differed": every failed check
// and the connection-log line) or an error element ("could not run": the
// setup failed, the load balancer could not be reached, a step timed out;
// CouldNotRun), or a skipped element with the reason. The two kinds differ
// so that a CI dashboard tells a broken emulator from a broken job.
func (r *Report) WriteJUnit(w io.Writer) error {
	pass, fail, skip := r.Counts()
	errs := r.Errors()
	fail -= errs
	suite := junitSuite{
		Name: "albmtls " + r.Title, Tests: pass + fail + errs + skip, Failures: fail, Errors: errs, Skipped: skip,
		Time: seconds(r.Duration), Timestamp: r.Started.UTC().Format("2006-01-02T15:04:05"),
		Properties: []junitProperty{{"target", r.Target}, {"pki", r.PKI}},
	}
	for _, res := range r.Results {
		c := junitCase{Name: res.Name, Classname: classname(res.Name), File: res.File, Time: seconds(res.Duration)}
		switch why := res.CouldNotRun(); {
		case why != "":
			c.Error = &junitMessage{Message: "could not run: " + why, Type: "ConformanceError", Text: failureText(res)}
		case res.Status == StatusFail:
			c.Failure = &junitMessage{Message: res.Message(), Type: "ConformanceFailure", Text: failureText(res)}
		case res.Status == StatusSkip:
			c.Skipped = &junitMessage{Message: res.Reason}
		}
		if nc := res.NotChecked(); len(nc) > 0 {
			var b strings.Builder
			for _, ch := range nc {
				b.WriteString(ch.String() + "\n")
			}
			c.SystemOut = b.String()
		}
		suite.Cases = append(suite.Cases, c)
	}
	doc := junitSuites{Name: "albmtls", Tests: suite.Tests, Failures: fail, Errors: errs, Skipped: skip, Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// classname groups scenarios by behaviour (Group: verify, passthrough,
// off, truststore, forwarded-headers, …), which CI reporters show as a
// package.
func classname(name string) string { return "albmtls.conformance." + Group(name) }

// failureText is the body of a failure: the description, then expected
// versus seen per check, then what was seen per step.
func failureText(res *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nsource: %s (%s), basis %s\n\n", oneLine(res.Description), res.Reference, res.URL, res.Basis)
	for _, f := range res.Failures() {
		b.WriteString("  " + f + "\n")
	}
	b.WriteString("\n" + Detail(res))
	return b.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
