package emulator_test

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/verify"
	"github.com/albmtls/albmtls/internal/golden"
	"github.com/albmtls/albmtls/internal/testtool"
)

// connLine matches the 15 fields of a connection-log line (alb-behaviour §6.2).
var connLine = regexp.MustCompile(`^(\S+) (\S+) (\d+) (\d+) (\S+) (\S+) (\S+) ("[^"]*") (\S+) (\S+) (\S+) (TID_[0-9a-f]{32}) (\S+) (\S+) (\S+)$`)

// normalise replaces the fields that change from run to run (time, client
// port, listener port, latency, validity, serial, trace ID) and checks
// their shape on the way.
func normalise(t *testing.T, line string) string {
	t.Helper()
	m := connLine.FindStringSubmatch(line)
	require.NotNil(t, m, "not a 15-field connection-log line: %q", line)
	f := m[1:]
	require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`, f[0])
	f[0], f[2], f[3], f[11] = "TIME", "PORT", "LPORT", "TID"
	if f[6] != "-" {
		require.Regexp(t, `^\d+\.\d{3}$`, f[6])
		f[6] = "LATENCY"
	}
	if f[8] != "-" {
		require.Regexp(t, `^NotBefore=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ;NotAfter=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, f[8])
		f[8] = "VALIDITY"
	}
	if f[9] != "-" {
		require.Regexp(t, `^([0-9A-F]{2})+$`, f[9])
		f[9] = "SERIAL"
	}
	return strings.Join(f, " ")
}

// TestEveryClientInEveryMode connects with each client certificate of the
// PKI (and with none) to a listener in each mode, checks the outcome against
// the PKI manifest's expectation and the client's own view, and compares the
// connection-log lines with a golden file.
func TestEveryClientInEveryMode(t *testing.T) {
	var buf bytes.Buffer
	for _, mode := range []string{"verify", "passthrough", "off"} {
		l := startLB(t, params{Mode: mode})
		clients := append([]string{""}, l.set.ClientNames()...)
		for _, name := range clients {
			n := l.connCount()
			out := l.get(name, tls.VersionTLS13, "/", nil)
			ev := l.lastConn(n)
			want := verify.Success.LogValue()
			if name == "" && mode == "verify" {
				want = verify.UnmappedConnectionError.LogValue()
			} else if name != "" && mode != "off" {
				a, ok := l.set.Manifest().Artefact(name)
				require.True(t, ok)
				want = a.Expect.Verify
				if mode == "passthrough" {
					want = a.Expect.Passthrough
				}
			}
			label := name
			if label == "" {
				label = "(no certificate)"
			}
			assert.Equal(t, want, ev.Entry.VerifyStatus, "%s in %s mode: %s", label, mode, ev.Reason)
			if want == verify.Success.LogValue() {
				if assert.NoError(t, out.err, "%s in %s mode", label, mode) {
					assert.Equal(t, 200, out.status)
					assert.Equal(t, "ok", out.body)
				}
			} else {
				assert.Error(t, out.err, "%s in %s mode must be rejected", label, mode)
			}
		}
		lines := readLog(t, filepath.Join(l.dir, "logs/conn.log"), len(clients))
		fmt.Fprintf(&buf, "# mode %s: (no certificate), %s\n", mode, strings.Join(l.set.ClientNames(), ", "))
		for _, line := range lines {
			buf.WriteString(normalise(t, line) + "\n")
		}
	}
	golden.Assert(t, "testdata/every-client.golden", buf.Bytes())
}

// TestIgnoreClientCertificateExpiry: expired and not-yet-valid clients pass
// with the listener attribute (and the default knob that also skips
// notBefore), and not-yet-valid fails again when the knob keeps notBefore.
func TestIgnoreClientCertificateExpiry(t *testing.T) {
	cases := []struct {
		knob string
		want map[string]string
	}{
		{"", map[string]string{"expired": "Success", "not-yet-valid": "Success", "revoked": "Failed:ClientCertCrlHit", "valid": "Success"}},
		{"  ignore_expiry_includes_not_before: false\n", map[string]string{"expired": "Success", "not-yet-valid": "Failed:ClientCertNotYetValid"}},
	}
	for _, tc := range cases {
		l := startLB(t, params{IgnoreExpiry: true, Emulation: tc.knob})
		for name, want := range tc.want {
			n := l.connCount()
			l.get(name, tls.VersionTLS13, "/", nil)
			assert.Equal(t, want, l.lastConn(n).Entry.VerifyStatus, "%s with knob %q", name, tc.knob)
		}
	}
}

// TestCurl drives the real curl binary: a valid certificate gets the
// fixed response, a revoked one is reset after the handshake (curl exit 56
// "recv failure" or 16 "HTTP/2 error") and logged as ClientCertCrlHit.
func TestCurl(t *testing.T) {
	curl := testtool.Need(t, "curl")
	l := startLB(t, params{Mode: "verify"})
	run := func(name string) (string, int) {
		cmd := exec.Command(curl, "-sS", "-m", "10", "--cacert", filepath.Join(l.dir, "ca/bundle.pem"),
			"--cert", filepath.Join(l.dir, "clients", name+"-chain.pem"), "--key", filepath.Join(l.dir, "clients", name+"-key.pem"),
			"https://localhost:"+strings.Split(l.httpsAddr(), ":")[1]+"/")
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	n := l.connCount()
	out, code := run("valid")
	assert.Equal(t, 0, code, out)
	assert.Equal(t, "ok", out)
	assert.Equal(t, "Success", l.lastConn(n).Entry.VerifyStatus)

	n = l.connCount()
	out, code = run("revoked")
	// 55 "send failure" or 56 "recv failure: connection reset by peer"
	// (whichever the reset hits), or 16 when curl spoke HTTP/2.
	assert.Contains(t, []int{16, 55, 56}, code, "curl should see the connection reset after the handshake: %s", out)
	assert.Equal(t, "Failed:ClientCertCrlHit", l.lastConn(n).Entry.VerifyStatus)
}

// TestOpenSSLCertificateRequestCANames uses openssl s_client to read the
// CertificateRequest: no CA names by default (alb-behaviour §2.3), the trust store's
// CA subjects with advertise_trust_store_ca_names "on".
func TestOpenSSLCertificateRequestCANames(t *testing.T) {
	openssl := testtool.Need(t, "openssl")
	for _, tc := range []struct {
		advertise string
		want      []string
	}{
		{"", []string{"No client certificate CA names sent"}},
		{"on", []string{"Acceptable client certificate CA names", "albmtls", "Intermediate"}},
	} {
		l := startLB(t, params{Advertise: tc.advertise == "on"})
		for _, version := range []string{"-tls1_3", "-tls1_2"} {
			cmd := exec.Command(openssl, "s_client", version, "-connect", l.httpsAddr(), "-servername", "localhost",
				"-CAfile", filepath.Join(l.dir, "ca/bundle.pem"),
				"-cert", filepath.Join(l.dir, "clients/valid.pem"), "-key", filepath.Join(l.dir, "clients/valid-key.pem"))
			cmd.Stdin = strings.NewReader("")
			out, _ := cmd.CombinedOutput()
			for _, w := range tc.want {
				assert.Contains(t, string(out), w, "advertise %q %s", tc.advertise, version)
			}
			if tc.advertise == "" {
				assert.NotContains(t, string(out), "Acceptable client certificate CA names")
			}
		}
	}
}

// TestRejectionSignal: by default a rejected TLS 1.3 client completes its
// handshake and then reads a TCP reset, as observed on ALB (alb-behaviour §2.3,
// §9.4); a TLS 1.2 client is reset before the server's Finished. With
// emulation.reject_with: alert the client reads a bad_certificate alert.
func TestRejectionSignal(t *testing.T) {
	for _, tc := range []struct {
		knob       string
		version    uint16
		handshake  bool // does the client's handshake succeed?
		wantErrSub string
	}{
		{"", tls.VersionTLS13, true, "connection reset by peer"},
		{"", tls.VersionTLS12, false, "connection reset by peer"},
		{"  reject_with: alert\n", tls.VersionTLS13, true, "bad certificate"},
		{"  reject_with: alert\n", tls.VersionTLS12, false, "bad certificate"},
	} {
		l := startLB(t, params{Emulation: tc.knob})
		c, err := tls.Dial("tcp", l.httpsAddr(), l.tlsConfig("revoked", tc.version))
		if !tc.handshake {
			require.Error(t, err, "knob %q version %x", tc.knob, tc.version)
			assert.Contains(t, err.Error(), tc.wantErrSub)
			continue
		}
		require.NoError(t, err, "the TLS 1.3 client finishes its handshake before the server decides")
		_, err = c.Read(make([]byte, 1)) // the first read sees the server's verdict
		c.Close()
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.wantErrSub, "knob %q", tc.knob)
	}
}
