package conformance

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// GitHub Actions reads workflow commands from a step's standard output and
// shows a ::error line as an annotation on the run's summary page; it shows
// the Markdown appended to the file named by $GITHUB_STEP_SUMMARY on the
// same page. Both formats are documented at
// https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions
// (escaping: "%", CR and LF in the message; also ":" and "," in a
// property).

// GitHubEnv is what the GitHub Actions runner tells a step about itself.
type GitHubEnv struct {
	// Actions is set when GITHUB_ACTIONS is "true": write annotations.
	Actions bool
	// StepSummary is $GITHUB_STEP_SUMMARY: append the Markdown summary.
	StepSummary string
}

// GitHubFromEnv reads GITHUB_ACTIONS and GITHUB_STEP_SUMMARY.
func GitHubFromEnv(getenv func(string) string) GitHubEnv {
	return GitHubEnv{Actions: getenv("GITHUB_ACTIONS") == "true", StepSummary: getenv("GITHUB_STEP_SUMMARY")}
}

// MaxStepSummary is the size GitHub accepts for one step's summary (1 MiB);
// a longer summary is refused and the step shows an error.
const MaxStepSummary = 1 << 20

// WriteGitHubAnnotations writes one ::error workflow command per failed
// scenario: the title names the scenario and whether it failed or could
// not run, the message lists every difference. The commands name no file:
// the scenario files are albmtls's, not the repository the workflow runs
// in, and a file annotation outside that repository is dropped.
func (r *Report) WriteGitHubAnnotations(w io.Writer) error {
	for _, res := range r.Ordered() {
		if res.Status != StatusFail {
			continue
		}
		title := "albmtls conformance: " + res.Name + " failed"
		msg := strings.Join(res.Failures(), "\n")
		if why := res.CouldNotRun(); why != "" {
			title = "albmtls conformance: " + res.Name + " could not run"
			msg = why
		}
		msg += fmt.Sprintf("\n(%s, %s; scenario %s)", res.Reference, res.Basis, res.File)
		if _, err := fmt.Fprintf(w, "::error title=%s::%s\n", escapeProperty(title), escapeData(msg)); err != nil {
			return err
		}
	}
	return nil
}

func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// WriteGitHubSummary writes the step summary: the Markdown report, or,
// when that exceeds what GitHub accepts, its failed-only form, cut with a
// note if even that is too long.
func (r *Report) WriteGitHubSummary(w io.Writer) error {
	var b strings.Builder
	if err := r.WriteMarkdown(&b); err != nil {
		return err
	}
	out := b.String()
	if len(out) > MaxStepSummary && !r.FailedOnly {
		only := *r
		only.FailedOnly = true
		b.Reset()
		if err := only.WriteMarkdown(&b); err != nil {
			return err
		}
		out = b.String()
	}
	if len(out) > MaxStepSummary {
		const note = "\n\n… (cut: the summary exceeds GitHub's 1 MiB; --report FILE has all of it)\n"
		out = cut(out, MaxStepSummary-len(note)) + note
	}
	_, err := io.WriteString(w, out)
	return err
}

// PublishGitHub writes what the runner reads, as env describes it: the
// annotations on stdout when running under GitHub Actions, and the
// summary appended to the step summary file when one is named.
func (r *Report) PublishGitHub(env GitHubEnv, stdout io.Writer) error {
	if env.Actions {
		if err := r.WriteGitHubAnnotations(stdout); err != nil {
			return err
		}
	}
	if env.StepSummary == "" {
		return nil
	}
	f, err := os.OpenFile(env.StepSummary, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("appending the conformance summary to $GITHUB_STEP_SUMMARY (%s): %w", env.StepSummary, err)
	}
	if err := r.WriteGitHubSummary(f); err != nil {
		f.Close()
		return fmt.Errorf("appending the conformance summary to $GITHUB_STEP_SUMMARY (%s): %w", env.StepSummary, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("appending the conformance summary to $GITHUB_STEP_SUMMARY (%s): %w", env.StepSummary, err)
	}
	return nil
}
