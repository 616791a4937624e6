package main

import (
	"bufio"
	"encoding/json"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/golden"
	"github.com/albmtls/albmtls/internal/testbin"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// TestHelpGolden pins the help of the root command and two subcommands:
// value placeholders (DIR, FILE, not a backquoted phrase), the exit status
// line, the completion command. Rewrite with go test ./cmd/albmtls -run
// TestHelpGolden -update and review the diff.
func TestHelpGolden(t *testing.T) {
	for _, tc := range []struct {
		file string
		args []string
	}{
		{"root.txt", []string{"--help"}},
		{"pki-issue.txt", []string{"pki", "issue", "--help"}},
		{"truststore-check.txt", []string{"truststore", "check", "--help"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			code, stdout, stderr := runBin(t, tc.args...)
			require.Equal(t, 0, code, stderr)
			golden.Assert(t, filepath.Join("testdata", "help", tc.file), stdout)
		})
	}
}

// TestHelpPlaceholders: no flag of any command takes a phrase as its value
// name, the defect of `--pki albmtls pki init`, and every command's help
// states the exit statuses.
func TestHelpPlaceholders(t *testing.T) {
	root := newRootCmd(&app{})
	var walk func(path []string)
	walk = func(path []string) {
		c, _, err := root.Find(path)
		require.NoError(t, err)
		code, stdout, stderr := runBin(t, append(append([]string{}, path...), "--help")...)
		require.Equal(t, 0, code, "%v: %s", path, stderr)
		assert.Contains(t, stdout, exitStatusHelp, "albmtls %s --help states the exit statuses", strings.Join(path, " "))
		for _, line := range strings.Split(stdout, "\n") {
			f := strings.Fields(line)
			for i, w := range f {
				if strings.HasPrefix(w, "--") && i+2 < len(f) && f[i+1] == "albmtls" {
					t.Errorf("albmtls %s --help: %q takes a phrase as its value name", strings.Join(path, " "), line)
				}
			}
		}
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" {
				continue
			}
			walk(append(append([]string{}, path...), sub.Name()))
		}
	}
	walk(nil)
}

// complete runs cobra's hidden __complete command through the binary, as
// the shell scripts do, and returns the candidates (without descriptions)
// and the directive.
func complete(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	code, stdout, stderr := runBin(t, append([]string{"__complete"}, args...)...)
	require.Equal(t, 0, code, stderr)
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	require.NotEmpty(t, lines)
	directive := lines[len(lines)-1]
	require.True(t, strings.HasPrefix(directive, ":"), "the last line is the directive: %q", stdout)
	var values []string
	for _, l := range lines[:len(lines)-1] {
		v, _, _ := strings.Cut(l, "\t")
		values = append(values, v)
	}
	return values, directive
}

// Cobra's directives as __complete prints them.
const (
	dirNoFileComp    = ":4"
	dirFilterFileExt = ":8"
	dirFilterDirs    = ":16"
)

func TestCompletion(t *testing.T) {
	dir := pkitest.Dir(t)
	for _, tc := range []struct {
		name      string
		args      []string
		want      []string // exactly these, when exact
		exact     bool
		directive string
	}{
		{"listener modes", []string{"conformance", "--mode", ""}, []string{"off", "passthrough", "verify"}, true, dirNoFileComp},
		{"demo modes", []string{"demo", "--mode", ""}, []string{"verify", "passthrough", "off"}, true, dirNoFileComp},
		{"load modes", []string{"bench", "load", "--mode", ""}, []string{"handshake", "keepalive"}, true, dirNoFileComp},
		{"log levels", []string{"--log-level", ""}, []string{"debug", "info", "warn", "error"}, true, dirNoFileComp},
		{"log levels on a subcommand", []string{"serve", "--log-level", ""}, []string{"debug", "info", "warn", "error"}, true, dirNoFileComp},
		{"log formats", []string{"--log-format", ""}, []string{"text", "json"}, true, dirNoFileComp},
		{"key types", []string{"pki", "init", "--key-type", ""}, []string{"ecdsa-p256", "rsa-2048", "ed25519"}, false, dirNoFileComp},
		{"issue key types", []string{"pki", "issue", "--key-type", ""}, []string{"ecdsa-p384"}, false, dirNoFileComp},
		{"extended key usages", []string{"pki", "issue", "--eku", ""}, []string{"client", "server"}, false, dirNoFileComp},
		{"CRL encodings", []string{"crl", "convert", "--to", ""}, []string{"pem", "der"}, true, dirNoFileComp},
		{"scenario names", []string{"conformance", "--run", ""}, []string{"verify-rejects-expired-client", "off-does-not-request-a-certificate"}, false, dirNoFileComp},
		{"PKI client names to revoke", []string{"pki", "revoke", "--pki", dir, ""}, []string{"valid", "member", "outsider", "server", "intermediate"}, false, dirNoFileComp},
		{"no PKI yet: cobra offers the required --pki", []string{"pki", "revoke", ""}, []string{"--pki"}, true, dirNoFileComp},
		{"issuing CAs", []string{"pki", "issue", "--pki", dir, "--issuer", ""}, []string{"root", "intermediate"}, false, dirNoFileComp},
		{"config files", []string{"serve", "-c", ""}, []string{"yaml", "yml"}, true, dirFilterFileExt},
		{"expectation files", []string{"conformance", "--expect", ""}, []string{"yaml", "yml"}, true, dirFilterFileExt},
		{"bundle argument", []string{"truststore", "check", ""}, []string{"pem"}, false, dirFilterFileExt},
		{"CRL files", []string{"truststore", "check", "b.pem", "--crl", ""}, []string{"pem", "crl"}, false, dirFilterFileExt},
		{"client certificate", []string{"bench", "load", "--cert", ""}, []string{"pem"}, false, dirFilterFileExt},
		{"header rename keys, no space after", []string{"backend", "--header-name", ""}, []string{"subject=", "issuer="}, false, ":6"},
		{"PKI directory", []string{"conformance", "--pki", ""}, nil, true, dirFilterDirs},
		{"output directory", []string{"pki", "init", "--out", ""}, nil, true, dirFilterDirs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, directive := complete(t, tc.args...)
			assert.Equal(t, tc.directive, directive)
			if tc.exact {
				assert.Equal(t, tc.want, got)
			} else {
				assert.Subset(t, got, tc.want)
			}
		})
	}

	// The completion command is listed, so users find it.
	got, _ := complete(t, "")
	assert.Contains(t, got, "completion")
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, stdout, stderr := runBin(t, "completion", shell)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stdout, "__complete", "the %s script asks the binary for candidates", shell)
	}
}

// TestLogFormatJSON: --log-format json makes the operational log slog's
// JSON lines; serve's shutdown line is one of them.
func TestLogFormatJSON(t *testing.T) {
	dir := pkitest.Dir(t)
	file := writeServeConfig(t, dir, "ca/bundle.pem", "127.0.0.1:1", "1s")
	s := startServe(t, dir, testbin.Command(t, "--log-format", "json", "serve", "-c", file))
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	s.exitWithin(t, 30e9)
	var msgs []string
	sc := bufio.NewScanner(strings.NewReader(s.stderr.String()))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "WARNING:") { // printed besides the log
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec), "a JSON log line: %q", sc.Text())
		assert.Contains(t, rec, "time")
		assert.Contains(t, rec, "level")
		msgs = append(msgs, rec["msg"].(string))
	}
	assert.Contains(t, strings.Join(msgs, "\n"), "shutting down")
}
