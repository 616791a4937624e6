package conformance

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// runningEmulator is `albmtls serve` with the template's verify setup, the
// harness's echo address as its target, file logs and the admin endpoint:
// what a user runs before `albmtls conformance --target`.
type runningEmulator struct {
	https, http, admin string
	connLog, accLog    string
}

func startRunningEmulator(t *testing.T, pkiDir, echo string) runningEmulator {
	t.Helper()
	return startRunningEmulatorWithToken(t, pkiDir, echo, "")
}

// startRunningEmulatorWithToken sets admin.token as well.
func startRunningEmulatorWithToken(t *testing.T, pkiDir, echo, token string) runningEmulator {
	t.Helper()
	return startRunningEmulatorWith(t, pkiDir, echo, token, config.FrontEndNetHTTP)
}

// startRunningEmulatorWith sets admin.token and emulation.http1_front_end.
func startRunningEmulatorWith(t *testing.T, pkiDir, echo, token, frontEnd string) runningEmulator {
	t.Helper()
	dir := t.TempDir()
	re := runningEmulator{connLog: filepath.Join(dir, "conn.log"), accLog: filepath.Join(dir, "access.log")}
	data, err := TargetConfig{PKIDir: pkiDir, Echo: echo, ConnectionLog: re.connLog, AccessLog: re.accLog, Admin: "127.0.0.1:0"}.YAML()
	require.NoError(t, err)
	c, err := config.Parse(filepath.Join(dir, "albmtls.yaml"), data)
	require.NoError(t, err, string(data))
	c.Admin.Token = token
	c.Emulation.HTTP1FrontEnd = frontEnd
	srv, err := emulator.New(c, emulator.Options{})
	require.NoError(t, err)
	require.NoError(t, srv.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	for _, l := range srv.Listeners() {
		if l.Protocol == "HTTPS" {
			re.https = l.URL()
		} else {
			re.http = l.URL()
		}
	}
	re.admin = "http://" + srv.AdminAddr().String()
	return re
}

// TestRemoteRunningEmulator runs the catalogue against a running emulator
// as a user would: the scenarios of its setup run and pass (log fields read
// from its log files, the runtime revocation through its admin API, then
// undone), the others are skipped with the setting they need.
// It runs once per HTTP/1.x front end (emulation.http1_front_end).
func TestRemoteRunningEmulator(t *testing.T) {
	for _, fe := range []string{config.FrontEndNetHTTP, config.FrontEndALBMTLS} {
		t.Run(strings.ReplaceAll(fe, "/", ""), func(t *testing.T) { testRemoteRunningEmulator(t, fe) })
	}
}

func testRemoteRunningEmulator(t *testing.T, frontEnd string) {
	pkiDir := pkitest.Dir(t)
	echo := freeAddr(t)
	re := startRunningEmulatorWith(t, pkiDir, echo, "", frontEnd)
	started := time.Now()
	rep, err := Run(context.Background(), Options{
		PKIDir: pkiDir, Target: re.https, HTTPTarget: re.http, EchoListen: echo,
		ConnectionLog: re.connLog, AccessLog: re.accLog, Admin: re.admin, Timeout: 5 * time.Second,
	})
	require.NoError(t, err)
	t.Logf("remote run: %d scenarios in %s", len(rep.Results), time.Since(started).Round(time.Millisecond))
	pass, fail, skip := rep.Counts()
	for _, r := range rep.Results {
		if r.Status == StatusFail {
			t.Errorf("%s: %s\n%s", r.Name, r.Message(), Detail(r))
		}
	}
	assert.Zero(t, fail)
	assert.Greater(t, pass, 20, "the verify-mode scenarios of the template's setup run")
	assert.Greater(t, skip, 20)
	assert.Equal(t, re.https, rep.Target)

	assert.Equal(t, StatusPass, resultOf(t, rep, "verify-applies-runtime-revocation").Status)
	assert.Equal(t, StatusPass, resultOf(t, rep, "http-listener-redirects-to-https").Status)
	revoked := resultOf(t, rep, "verify-rejects-revoked-client")
	assert.Equal(t, StatusPass, revoked.Status)
	assert.Empty(t, revoked.NotChecked(), "the connection log was read")
	assert.Contains(t, revoked.Steps[0].ConnLogLine, "Failed:ClientCertCrlHit")

	for name, reason := range map[string]string{
		"xff-remove-drops-header":                     "attribute routing.http.xff_header_processing.mode=remove",
		"truststore-refuses-der-crl":                  "InvalidRevocationContent",
		"passthrough-forwards-any-client-chain/valid": "needs a listener in mode passthrough; the target runs mode verify",
		"target-timeout-504":                          "targets: silent",
		"verify-applies-stale-crl":                    "a different trust store",
	} {
		r := resultOf(t, rep, name)
		assert.Equal(t, StatusSkip, r.Status, name)
		assert.Contains(t, r.Reason, reason, name)
	}

	// The revocation was undone: valid is accepted again.
	again, err := Run(context.Background(), Options{PKIDir: pkiDir, Target: re.https, EchoListen: echo, Run: regexp.MustCompile("^verify-accepts-valid-client$")})
	require.NoError(t, err)
	assert.Equal(t, StatusPass, again.Results[0].Status, again.Results[0].Message())
}

// TestRemoteWithoutLogs: without the log files the log expectations are
// reported as not checked, which neither passes nor fails them.
func TestRemoteWithoutLogs(t *testing.T) {
	pkiDir := pkitest.Dir(t)
	echo := freeAddr(t)
	re := startRunningEmulator(t, pkiDir, echo)
	rep, err := Run(context.Background(), Options{PKIDir: pkiDir, Target: re.https, EchoListen: echo,
		Run: regexp.MustCompile("^verify-(rejects-revoked-client|applies-runtime-revocation)$")})
	require.NoError(t, err)
	r := resultOf(t, rep, "verify-rejects-revoked-client")
	assert.Equal(t, StatusPass, r.Status, r.Message())
	require.NotEmpty(t, r.NotChecked())
	assert.Contains(t, r.NotChecked()[0].NotChecked, "pass --connection-log FILE")
	rt := resultOf(t, rep, "verify-applies-runtime-revocation")
	assert.Equal(t, StatusSkip, rt.Status)
	assert.Contains(t, rt.Reason, "--admin")
}

// TestBadTargetsFailWithTheReason: an unreachable target, one that accepts
// and never answers, and one whose certificate the PKI does not vouch for
// each become failed scenarios with the reason, within the step timeout.
func TestBadTargetsFailWithTheReason(t *testing.T) {
	pkiDir := pkitest.Dir(t)
	stalled, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer stalled.Close()
	go func() {
		for {
			c, err := stalled.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, silent, until the test ends
		}
	}()
	foreign := httptest.NewUnstartedServer(http.NotFoundHandler())
	foreign.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	foreign.StartTLS()
	defer foreign.Close()

	cases := []struct{ name, target, want string }{
		{"unreachable", "https://" + freeAddr(t), "cannot connect to"},
		{"stalled", "https://" + stalled.Addr().String(), "the TLS handshake did not complete within 300ms"},
		{"foreign certificate", foreign.URL, "the server's certificate is not trusted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			started := time.Now()
			rep, err := Run(context.Background(), Options{PKIDir: pkiDir, Target: tc.target, EchoListen: "127.0.0.1:0",
				Timeout: 300 * time.Millisecond, Run: regexp.MustCompile("^verify-(accepts-valid|rejects-revoked)-client$")})
			require.NoError(t, err)
			require.Len(t, rep.Results, 2)
			for _, r := range rep.Results {
				assert.Equal(t, StatusFail, r.Status, r.Name)
				assert.Contains(t, r.Message(), "connection: expected a TLS connection and an answer, saw error (")
				assert.Contains(t, r.Message(), tc.want)
				assert.Contains(t, r.CouldNotRun(), tc.want, "an unreachable target is \"could not run\", not a difference")
			}
			j := parseJUnit(t, rep)
			assert.Equal(t, []int{0, 2}, []int{j.Failures, j.Errors}, "JUnit: errors, not failures")
			t.Logf("%s: %s", tc.name, time.Since(started).Round(time.Millisecond))
		})
	}
}

func TestRemoteOptionErrors(t *testing.T) {
	pkiDir := pkitest.Dir(t)
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Target: "http://127.0.0.1:1"}, "want the HTTPS listener's URL"},
		{Options{Target: "https://127.0.0.1:1", HTTPTarget: "127.0.0.1:80"}, "--http-target"},
		{Options{Target: "https://127.0.0.1:1", RemoteMode: "strict"}, `--mode "strict"`},
		{Options{Target: "https://127.0.0.1:1", ConnectionLog: "/nonexistent/conn.log"}, "--connection-log"},
	} {
		tc.opts.PKIDir = pkiDir
		_, err := Run(context.Background(), tc.opts)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
	}
	_, err := Run(context.Background(), Options{PKIDir: filepath.Join(t.TempDir(), "nope")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "loading the PKI (--pki)")
}

// TestTailSkipsALineBeingWritten: a log file read in the middle of a write
// ends in part of a line; tail must not take it for the whole line (it did,
// and a remote run saw tls_verify_status "Fa").
func TestTailSkipsALineBeingWritten(t *testing.T) {
	file := filepath.Join(t.TempDir(), "conn.log")
	port := func(p string) func([]string) bool {
		return func(f []string) bool { return len(f) > 2 && f[2] == p }
	}
	require.NoError(t, os.WriteFile(file, []byte("2026-11-29T00:00:00Z 127.0.0.1 1001 443 Success\n2026-11-29T00:00:01Z 127.0.0.1 1002 443 Fa"), 0o644))
	assert.Equal(t, []string{"2026-11-29T00:00:00Z 127.0.0.1 1001 443 Success"}, tail(context.Background(), file, 1, 0, port("1001")))
	assert.Empty(t, tail(context.Background(), file, 1, 0, port("1002")), "the unfinished line is not returned")

	// The writer finishes the line while tail waits for it.
	go func() {
		time.Sleep(50 * time.Millisecond)
		f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
		if err == nil {
			_, _ = f.WriteString("iled:ClientCertCrlHit\n")
			_ = f.Close()
		}
	}()
	assert.Equal(t, []string{"2026-11-29T00:00:01Z 127.0.0.1 1002 443 Failed:ClientCertCrlHit"}, tail(context.Background(), file, 1, 5*time.Second, port("1002")))

	assert.Empty(t, completeLines([]byte("no newline yet")))
	assert.Empty(t, completeLines(nil))
}

// TestRemoteAdminToken: the harness sends --admin-token to an emulator
// whose admin API requires it (issue 19 item 5); without it the runtime
// revocation fails with the endpoint's 401.
func TestRemoteAdminToken(t *testing.T) {
	const token = "conformance-token-0123456789"
	pkiDir := pkitest.Dir(t)
	echo := freeAddr(t)
	re := startRunningEmulatorWithToken(t, pkiDir, echo, token)
	only := regexp.MustCompile("^verify-applies-runtime-revocation$")
	rep, err := Run(context.Background(), Options{PKIDir: pkiDir, Target: re.https, EchoListen: echo,
		Admin: re.admin, Timeout: 5 * time.Second, Run: only})
	require.NoError(t, err)
	r := resultOf(t, rep, "verify-applies-runtime-revocation")
	assert.NotEqual(t, StatusPass, r.Status)
	assert.Contains(t, r.Message()+Detail(r), "HTTP 401")

	rep, err = Run(context.Background(), Options{PKIDir: pkiDir, Target: re.https, EchoListen: echo,
		Admin: re.admin, AdminToken: token, Timeout: 5 * time.Second, Run: only})
	require.NoError(t, err)
	r = resultOf(t, rep, "verify-applies-runtime-revocation")
	assert.Equal(t, StatusPass, r.Status, r.Message())
}
