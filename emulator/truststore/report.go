package truststore

import (
	"encoding/json"
	"fmt"
	"io"
)

// Report is the outcome of Check: every finding in file order and what
// the trust store would hold. It is what `albmtls truststore check` prints.
type Report struct {
	Findings        []Finding `json:"findings"`
	CACertificates  int       `json:"ca_certificates"`
	RevocationLists int       `json:"revocation_lists"`
	RevokedEntries  int       `json:"revoked_entries"`
}

// Check lints a bundle and revocation files against ALB's rules and quotas
// with exactly the code Load uses, without building a store or checking a
// trust store name. It is for people uploading to a real ALB as much as for
// the emulator.
func Check(spec Spec) Report {
	fs, cas, revs := spec.check(false)
	r := Report{Findings: fs, CACertificates: len(cas), RevocationLists: len(revs)}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	for _, rv := range revs {
		r.RevokedEntries += rv.crl.Len()
	}
	return r
}

// Accepted reports whether ALB would accept the upload: no fatal finding.
func (r Report) Accepted() bool { return !HasFatal(r.Findings) }

// Counts returns the number of fatal findings (errors) and warnings.
func (r Report) Counts() (errors, warnings int) {
	for _, f := range r.Findings {
		if f.Fatal {
			errors++
		} else {
			warnings++
		}
	}
	return errors, warnings
}

// Summary is the one-line verdict printed after the findings.
func (r Report) Summary() string {
	e, w := r.Counts()
	what := fmt.Sprintf("%s, %s, %s", plural(r.CACertificates, "CA certificate"),
		plural(r.RevocationLists, "revocation list"), plural(r.RevokedEntries, "revoked entry"))
	if !r.Accepted() {
		return fmt.Sprintf("FAIL: ALB would refuse this trust store: %s, %s (read: %s)", plural(e, "error"), plural(w, "warning"), what)
	}
	return fmt.Sprintf("OK: ALB would accept this trust store: %s; %s", what, plural(w, "warning"))
}

// WriteText prints one finding per line (`FILE:LINE: ALBError: problem;
// fix`) and the summary.
func (r Report) WriteText(w io.Writer) error {
	for _, f := range r.Findings {
		if _, err := fmt.Fprintln(w, f.String()); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, r.Summary())
	return err
}

// WriteJSON prints the report as one indented JSON object with an
// "accepted" verdict, for scripts and CI.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Accepted bool `json:"accepted"`
		Report
	}{r.Accepted(), r})
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if word[len(word)-1] == 'y' {
		return fmt.Sprintf("%d %sies", n, word[:len(word)-1])
	}
	return fmt.Sprintf("%d %ss", n, word)
}
