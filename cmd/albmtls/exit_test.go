package main

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/testbin"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// runBin runs the real binary and returns its exit status and outputs.
func runBin(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := testbin.Command(t, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.String(), errb.String()
	}
	require.NoError(t, err, "running albmtls %v", args)
	return 0, out.String(), errb.String()
}

// exitCase is one row of the exit-status table: a command line, the
// status it must end with, and for a usage error the command whose --help
// the hint names ("" for no hint).
type exitCase struct {
	name   string
	args   []string
	code   int
	hint   string
	stderr string // a part of stderr, when the row says what failed
}

// TestExitStatus runs every command through the binary, as CI does: 0 ok,
// 1 the check found problems (or the work failed), 2 a usage or
// configuration error, with the --help hint after a usage error only.
func TestExitStatus(t *testing.T) {
	dir := pkitest.Dir(t)
	p := func(rel string) string { return filepath.Join(dir, rel) }
	tmp := t.TempDir()
	write := func(name, content string) string {
		f := filepath.Join(tmp, name)
		require.NoError(t, os.WriteFile(f, []byte(content), 0o644))
		return f
	}
	bundle, err := os.ReadFile(p("ca/bundle.pem"))
	require.NoError(t, err)
	intermediate, err := os.ReadFile(p("ca/intermediate.pem"))
	require.NoError(t, err)
	blank := write("blank.pem", "\n"+string(bundle))
	duplicate := write("duplicate.pem", string(bundle)+string(intermediate)) // a warning, not a refusal

	good := writeServeConfig(t, dir, "ca/bundle.pem", "127.0.0.1:1", "1s")
	badCfg := filepath.Join(dir, "bad.yaml")
	cfgText, err := os.ReadFile(good)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(badCfg, bytes.Replace(cfgText, []byte("mode: verify"), []byte("mode: verifyy"), 1), 0o644))

	okSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(okSrv.Close)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { busy.Close() })
	_, busyPort, _ := net.SplitHostPort(busy.Addr().String())

	load200, load503 := benchServer(t, dir, 200), benchServer(t, dir, 503)
	creds := []string{"--cert", p("clients/valid-chain.pem"), "--key", p("clients/valid-key.pem")}
	newPKI := filepath.Join(tmp, "newpki")

	groups := map[string][]exitCase{
		"root": {
			{"no command shows help", nil, 0, "", ""},
			{"unknown command", []string{"frobnicate"}, 2, "albmtls", `unknown command "frobnicate" for "albmtls"`},
			{"unknown flag", []string{"--frobnicate"}, 2, "albmtls", "unknown flag: --frobnicate"},
			{"bad --log-level", []string{"--log-level", "loud", "version"}, 2, "albmtls version", "--log-level"},
			{"bad --log-format", []string{"--log-format", "yaml", "version"}, 2, "albmtls version", `"yaml" is not a log format`},
			{"unknown subcommand of a group", []string{"pki", "frobnicate"}, 2, "albmtls pki", `unknown command "frobnicate" for "albmtls pki"`},
		},
		"import": {
			{"fields that cannot be emulated", []string{"import", "terraform", "../../importer/terraform/testdata/plan.json"}, 1, "", "cannot be emulated or resolved"},
			{"a missing file", []string{"import", "terraform", filepath.Join(tmp, "nope.json")}, 2, "", "no such file"},
			{"not a plan", []string{"import", "terraform", write("notaplan.json", "[1, 2]")}, 2, "", "import:"},
			{"a bad --target", []string{"import", "terraform", "../../importer/terraform/testdata/plan.json", "--target", "x"}, 2, "albmtls import terraform", "want ID=host:port"},
		},
		"version": {
			{"ok", []string{"version"}, 0, "", ""},
			{"--version", []string{"--version"}, 0, "", ""},
			{"extra argument", []string{"version", "x"}, 2, "albmtls version", `unknown command "x"`},
		},
		"pki": {
			{"init ok", []string{"pki", "init", "--out", newPKI, "-q"}, 0, "", ""},
			{"init over a PKI without --force", []string{"pki", "init", "--out", newPKI, "-q"}, 2, "albmtls pki init", "already holds a PKI"},
			{"init without --out", []string{"pki", "init"}, 2, "albmtls pki init", `required flag(s) "out" not set`},
			{"init with a bad --key-type", []string{"pki", "init", "--out", filepath.Join(tmp, "k"), "--key-type", "rsa-512"}, 2, "albmtls pki init", "--key-type"},
			{"init cannot write", []string{"pki", "init", "--out", "/proc/albmtls-test/pki", "-q"}, 1, "", "/proc/albmtls-test"},
			{"issue ok", []string{"pki", "issue", "--pki", newPKI, "--name", "alice", "--cn", "alice"}, 0, "", ""},
			{"issue with a bad --ip", []string{"pki", "issue", "--pki", newPKI, "--name", "x", "--cn", "x", "--ip", "300.1.1.1"}, 2, "albmtls pki issue", "is not an IP address"},
			{"issue into no PKI", []string{"pki", "issue", "--pki", tmp, "--name", "x", "--cn", "x"}, 2, "", "has no manifest.json"},
			{"revoke ok", []string{"pki", "revoke", "--pki", newPKI, "alice"}, 0, "", ""},
			{"revoke an unknown name", []string{"pki", "revoke", "--pki", newPKI, "nobody"}, 2, "albmtls pki revoke", `unknown name "nobody"`},
		},
		"crl": {
			{"convert ok", []string{"crl", "convert", p("crl/root.crl"), filepath.Join(tmp, "root.crl.pem")}, 0, "", ""},
			{"convert no CRL", []string{"crl", "convert", blank, filepath.Join(tmp, "x.crl")}, 2, "", "not a CRL"},
			{"convert a missing file", []string{"crl", "convert", filepath.Join(tmp, "nope.crl"), filepath.Join(tmp, "x.crl")}, 2, "", "no such file"},
			{"convert with one argument", []string{"crl", "convert", p("crl/root.crl")}, 2, "albmtls crl convert", "accepts 2 arg(s)"},
			{"convert with a bad --to", []string{"crl", "convert", "--to", "txt", p("crl/root.crl"), filepath.Join(tmp, "x")}, 2, "albmtls crl convert", `--to "txt"`},
			{"convert cannot write", []string{"crl", "convert", p("crl/root.crl"), filepath.Join(blank, "x.pem")}, 1, "", blank},
		},
		"truststore": {
			{"check ok", []string{"truststore", "check", p("ca/bundle.pem"), "--crl", p("crl/intermediate.crl.pem")}, 0, "", ""},
			{"check a bundle ALB refuses", []string{"truststore", "check", blank}, 1, "", ""},
			{"check a warning passes", []string{"truststore", "check", duplicate}, 0, "", ""},
			{"check --strict fails on a warning", []string{"truststore", "check", "--strict", duplicate}, 1, "", "--strict: 1 warning(s) fail the check"},
			{"check --strict passes a clean store", []string{"truststore", "check", "--strict", p("ca/bundle.pem")}, 0, "", ""},
			{"check a missing bundle", []string{"truststore", "check", filepath.Join(tmp, "nope.pem")}, 2, "", "no such file"},
			{"check a missing CRL", []string{"truststore", "check", p("ca/bundle.pem"), "--crl", filepath.Join(tmp, "nope.crl")}, 2, "", "nope.crl"},
			{"check a bad quota value", []string{"truststore", "check", p("ca/bundle.pem"), "--max-ca-certificates", "many"}, 2, "albmtls truststore check", "--max-ca-certificates"},
		},
		"serve": {
			{"a bad --aws-api", []string{"serve", "--aws-api=nope"}, 2, "albmtls serve", `--aws-api "nope": want HOST:PORT`},
			{"--check ok", []string{"serve", "--check", "-c", good}, 0, "", ""},
			{"--check finds problems", []string{"serve", "--check", "-c", badCfg}, 1, "", "verifyy"},
			{"--check of a missing file", []string{"serve", "--check", "-c", filepath.Join(tmp, "nope.yaml")}, 2, "", "nope.yaml"},
			{"serve an invalid config", []string{"serve", "-c", badCfg}, 2, "", "verifyy"},
			{"serve a missing file", []string{"serve", "-c", filepath.Join(tmp, "nope.yaml")}, 2, "", "nope.yaml"},
			{"serve with an argument", []string{"serve", "x"}, 2, "albmtls serve", `unknown command "x"`},
		},
		"backend": {
			{"a bad --header-name", []string{"backend", "--header-name", "subject"}, 2, "albmtls backend", "want KEY=NAME"},
			{"a missing --ca", []string{"backend", "--ca", filepath.Join(tmp, "nope.pem")}, 2, "", "--ca"},
			{"a busy --listen", []string{"backend", "--listen", busy.Addr().String()}, 1, "", "address already in use"},
		},
		"demo": {
			{"a bad --color", []string{"demo", "--dir", filepath.Join(tmp, "demo"), "--color", "pink"}, 2, "albmtls demo", `--color "pink"`},
			{"a bad --mode", []string{"demo", "--dir", filepath.Join(tmp, "demo"), "--mode", "strict"}, 2, "albmtls demo", `"strict" is not a mode`},
			{"a busy port", []string{"demo", "--aws-api", "off", "--dir", filepath.Join(tmp, "demo"), "--https-port", busyPort, "--http-port", "0", "--admin-addr", ""}, 1, "", "already in use"},
		},
		"conformance": {
			{"--list", []string{"conformance", "--list"}, 0, "", ""},
			{"a passing run", []string{"conformance", "--pki", dir, "--run", "^off-does-not-request-a-certificate$", "-q"}, 0, "", ""},
			{"a failing run", []string{"conformance", "--pki", dir, "--run", "spoof", "--set", "emulation.strip_client_headers=false", "-q"}, 1, "", ""},
			{"a bad --run", []string{"conformance", "--run", "("}, 2, "albmtls conformance", "--run"},
			{"a bad --mode", []string{"conformance", "--mode", "strict"}, 2, "albmtls conformance", `--mode "strict"`},
			{"--json without --list", []string{"conformance", "--json"}, 2, "albmtls conformance", "--json belongs to --list"},
			{"a missing --pki", []string{"conformance", "--pki", filepath.Join(tmp, "nope")}, 2, "", "loading the PKI (--pki)"},
			{"a bad --timeout", []string{"conformance", "--timeout", "soon"}, 2, "albmtls conformance", "--timeout"},
		},
		"bench": {
			{"load ok", append([]string{"bench", "load", load200, "-n", "3", "-c", "1"}, creds...), 0, "", ""},
			{"load with failed requests", append([]string{"bench", "load", load503, "-n", "3", "-c", "1"}, creds...), 1, "", ""},
			{"load a remote URL", []string{"bench", "load", "https://203.0.113.5/"}, 2, "albmtls bench load", "not a loopback address"},
			{"load with a bad --mode", []string{"bench", "load", load200, "--mode", "h2"}, 2, "albmtls bench load", `"h2" is not a load mode`},
			{"load with a bad -c", []string{"bench", "load", load200, "-c", "many"}, 2, "albmtls bench load", "-c"},
			{"load without URL", []string{"bench", "load"}, 2, "albmtls bench load", "accepts 1 arg(s)"},
			{"compare without albmtls", []string{"bench", "compare", "--servers", "nginx"}, 2, "albmtls bench compare", "must include albmtls"},
			{"soak an unknown phase", []string{"bench", "soak", "--phases", "nope"}, 2, "albmtls bench soak", `no phase "nope"`},
		},
		"healthcheck": {
			{"healthy", []string{"healthcheck", okSrv.URL + "/healthz"}, 0, "", ""},
			{"unhealthy", []string{"healthcheck", okSrv.URL + "/other"}, 1, "", "503"},
			{"a bad URL", []string{"healthcheck", "::"}, 2, "albmtls healthcheck", "healthcheck:"},
		},
		"aws": {
			{"export with nothing listening", []string{"aws", "export", "--endpoint", "http://127.0.0.1:1"}, 1, "", "no albmtls AWS API answers at 127.0.0.1:1"},
			{"status with nothing listening", []string{"aws", "status", "--endpoint", "http://127.0.0.1:1"}, 1, "", "start one with albmtls serve --aws-api"},
			{"a bad --endpoint", []string{"aws", "export", "--endpoint", "::"}, 2, "albmtls aws export", "--endpoint"},
			{"an unknown subcommand", []string{"aws", "bogus"}, 2, "albmtls aws", `unknown command "bogus"`},
		},
		"completion": {
			{"bash", []string{"completion", "bash"}, 0, "", ""},
			{"an unknown shell", []string{"completion", "tcsh"}, 2, "albmtls completion", `unknown command "tcsh"`},
		},
	}
	// The PKI rows depend on each other (init, then issue, then revoke).
	order := []string{"root", "version", "pki", "crl", "truststore", "serve", "backend", "demo", "conformance", "bench", "healthcheck", "completion", "import", "aws"}
	require.Len(t, order, len(groups))
	for _, g := range order {
		t.Run(g, func(t *testing.T) {
			for _, tc := range groups[g] {
				t.Run(tc.name, func(t *testing.T) {
					code, stdout, stderr := runBin(t, tc.args...)
					require.Equal(t, tc.code, code, "albmtls %s\nstdout:\n%s\nstderr:\n%s", strings.Join(tc.args, " "), stdout, stderr)
					assert.Contains(t, stderr, tc.stderr)
					hint := "Run '" + tc.hint + " --help' for usage.\n"
					if tc.hint != "" {
						assert.True(t, strings.HasSuffix(stderr, hint), "a usage error ends with %q; stderr:\n%s", hint, stderr)
					} else {
						assert.NotContains(t, stderr, "--help' for usage.", "no --help hint unless the usage was wrong")
					}
				})
			}
		})
	}
}

// TestVersionFlag: --version prints what `albmtls version` prints.
func TestVersionFlag(t *testing.T) {
	code, flag, _ := runBin(t, "--version")
	require.Equal(t, 0, code)
	code, cmd, _ := runBin(t, "version")
	require.Equal(t, 0, code)
	assert.Equal(t, cmd, flag)
	assert.Regexp(t, `^albmtls \S+ .*go1\.\d+.* \w+/\w+\n$`, flag)
}
