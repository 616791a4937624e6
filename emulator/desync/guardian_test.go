package desync_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/albmtls/albmtls/emulator/desync"
)

type guardianCase struct {
	Name    string `yaml:"name"`
	URI     string `yaml:"uri"`
	Method  string `yaml:"method"`
	Version string `yaml:"version"`
	Headers []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"headers"`
	Expected struct {
		Tier   string `yaml:"tier"`
		Reason string `yaml:"reason"`
	} `yaml:"expected"`
}

// rawReasonExempt are the reasons for which the library's runner does not
// require the raw request's tier to match (run_test_case): building the
// raw request from the parsed parts changes what these cases mean.
var rawReasonExempt = []desync.Reason{desync.MultilineHeader, desync.MissingHeaderColon,
	desync.SpaceInURI, desync.AmbiguousURI, desync.NonCrLfLineTermination}

// TestGuardianSuite runs http_desync_guardian's own test cases
// (testdata/guardian/, copied from the library) as its runner does: the
// parsed request must get the expected tier and reason, and the same
// request written out as raw bytes the expected tier.
func TestGuardianSuite(t *testing.T) {
	files, err := filepath.Glob("testdata/guardian/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	total := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		var cases []guardianCase
		require.NoError(t, yaml.Unmarshal(data, &cases), f)
		for _, c := range cases {
			total++
			t.Run(filepath.Base(f)+"/"+c.Name, func(t *testing.T) {
				want, ok := desync.ParseClass(c.Expected.Tier)
				require.True(t, ok, "tier %q", c.Expected.Tier)
				wantReason, ok := desync.ParseReason(c.Expected.Reason)
				require.True(t, ok, "reason %q", c.Expected.Reason)
				req := desync.Request{Method: []byte(c.Method), URI: []byte(c.URI), Version: []byte(c.Version)}
				var raw bytes.Buffer
				raw.WriteString(c.Method + " " + c.URI + " " + c.Version + "\r\n")
				for _, h := range c.Headers {
					req.Headers = append(req.Headers, desync.Header{Name: []byte(h.Name), Value: []byte(h.Value)})
					raw.WriteString(h.Name + ": " + h.Value + "\r\n")
				}
				raw.WriteString("\r\n")
				class, reason := desync.ClassifyParsed(req)
				require.Equal(t, want, class, "parsed: reason %s", reason)
				require.Equal(t, wantReason, reason, "parsed")
				rc, rr := desync.Classify(raw.Bytes())
				if slices.Contains(rawReasonExempt, rr) {
					require.NotEqual(t, desync.Compliant, class)
				} else {
					require.Equal(t, want, rc, "raw %q: reason %s", raw.String(), rr)
				}
			})
		}
	}
	t.Logf("%d cases from %d files", total, len(files))
}
