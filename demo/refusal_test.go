package demo_test

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/testtool"
)

// TestEventsNameWhatTheClientDid is issue 16's demo item: a client that
// refused the server's certificate is not printed as "no certificate" (it
// never sent one), and a connection that closes without a request (the
// spares browsers open) is labelled as such, whether it closed during the
// handshake or after it. Real clients on 127.0.0.1: openssl s_client
// (TLS 1.3 and 1.2), Go's crypto/tls, a bare TCP connection.
func TestEventsNameWhatTheClientDid(t *testing.T) {
	testtool.Need(t, "openssl")
	d, events := start(t, filepath.Join(t.TempDir(), "albmtls-demo"), "verify")
	addr := strings.TrimSuffix(strings.TrimPrefix(d.HTTPSURL(), "https://"), "/")
	clients := filepath.Join(d.Workspace().Dir, "clients")
	// expectLine waits for one new line matching re and returns it.
	expectLine := func(t *testing.T, before int, re string) string {
		t.Helper()
		var line string
		require.Eventually(t, func() bool {
			for _, l := range strings.Split(events.String()[before:], "\n") {
				if regexp.MustCompile(re).MatchString(l) {
					line = l
					return true
				}
			}
			return false
		}, 5*time.Second, 20*time.Millisecond, "want a line matching %s; events:\n%s", re, events)
		return line
	}
	opensslRefuses := func(t *testing.T, version string) {
		// -verify_return_error with no trusted CA: the server certificate
		// fails, and openssl aborts before sending the client certificate
		// it was given.
		cmd := exec.Command("openssl", "s_client", version, "-connect", addr, "-servername", "localhost",
			"-verify_return_error", "-no-CAfile", "-no-CApath", "-no-CAstore",
			"-cert", filepath.Join(clients, "valid.pem"), "-key", filepath.Join(clients, "valid-key.pem"))
		cmd.Stdin = strings.NewReader("")
		out, err := cmd.CombinedOutput()
		require.Error(t, err, "openssl must refuse the server certificate:\n%s", out)
		require.Contains(t, string(out), "verify error", "%s", out)
	}

	t.Run("openssl TLS 1.3 refuses the server certificate", func(t *testing.T) {
		n := len(events.String())
		opensslRefuses(t, "-tls1_3")
		line := expectLine(t, n, `Failed:UnmappedConnectionError +→ client refused the server certificate \(an alert sent in clear`)
		assert.NotContains(t, line, "no certificate")
		assert.Contains(t, line, "trust ca/root.pem")
	})
	t.Run("openssl TLS 1.2 refuses the server certificate", func(t *testing.T) {
		n := len(events.String())
		opensslRefuses(t, "-tls1_2")
		line := expectLine(t, n, `→ client refused the server certificate \(alert unknown_ca\)`)
		assert.NotContains(t, line, "no certificate")
	})
	t.Run("Go client refuses the server certificate", func(t *testing.T) {
		n := len(events.String())
		leaf, ok := d.Workspace().Set.Client("valid")
		require.True(t, ok)
		_, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "localhost", Certificates: []tls.Certificate{leaf.TLSCertificate()}})
		require.ErrorContains(t, err, "certificate signed by unknown authority")
		line := expectLine(t, n, `→ client refused the server certificate \(alert bad_certificate\)`)
		assert.NotContains(t, line, "no certificate")
	})
	t.Run("idle connection closed before the ClientHello", func(t *testing.T) {
		n := len(events.String())
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		time.Sleep(100 * time.Millisecond)
		require.NoError(t, c.Close())
		expectLine(t, n, `^\S+  -  +Failed:UnmappedConnectionError +→ speculative connection: closed by the client during the handshake`)
	})
	t.Run("handshake, then closed without a request", func(t *testing.T) {
		n := len(events.String())
		leaf, ok := d.Workspace().Set.Client("valid")
		require.True(t, ok)
		roots := x509.NewCertPool()
		roots.AddCert(d.Workspace().Set.Root.Cert)
		cfg := &tls.Config{ServerName: "localhost", RootCAs: roots, Certificates: []tls.Certificate{leaf.TLSCertificate()}}
		c, err := tls.Dial("tcp", addr, cfg)
		require.NoError(t, err)
		// TLS 1.3: the server decides after the client's Finished; a read
		// makes sure the decision (and the handshake) is over.
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		_, _ = c.Read(make([]byte, 1))
		require.NoError(t, c.Close())
		expectLine(t, n, `valid +Success +→ speculative connection: closed without a request`)
	})
	t.Run("a connection with a request gets no such line", func(t *testing.T) {
		before := strings.Count(events.String(), "speculative connection: closed without a request")
		checkRoundRobin(t, d)
		time.Sleep(200 * time.Millisecond)
		assert.Equal(t, before, strings.Count(events.String(), "speculative connection: closed without a request"), "events:\n%s", events)
	})
}
