package pkitest

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/albmtls/albmtls/internal/testtool"
)

// OpenSSLView is what `openssl x509 -noout -subject -issuer -serial -nameopt
// RFC2253` prints for a PEM certificate: the values ALB's
// X-Amzn-Mtls-Clientcert-Subject, -Issuer and -Serial-Number must equal
// (alb-behaviour §4.1). A missing openssl skips the test locally and fails it under CI
// (testtool.Need).
func OpenSSLView(tb testing.TB, certPEM []byte) (subject, issuer, serial string) {
	tb.Helper()
	cmd := exec.Command(testtool.Need(tb, "openssl"), "x509", "-noout", "-subject", "-issuer", "-serial", "-nameopt", "RFC2253")
	cmd.Stdin = bytes.NewReader(certPEM)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("openssl x509: %v: %s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "subject":
			subject = v
		case "issuer":
			issuer = v
		case "serial":
			serial = v
		}
	}
	return subject, issuer, serial
}
