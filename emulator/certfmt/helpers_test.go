package certfmt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/albmtls/albmtls/internal/testtool"
)

// Attribute type OIDs used by the tests.
const (
	oidCN       = "2.5.4.3"
	oidSN       = "2.5.4.4"
	oidSerial   = "2.5.4.5"
	oidC        = "2.5.4.6"
	oidL        = "2.5.4.7"
	oidST       = "2.5.4.8"
	oidStreet   = "2.5.4.9"
	oidO        = "2.5.4.10"
	oidOU       = "2.5.4.11"
	oidTitle    = "2.5.4.12"
	oidPostal   = "2.5.4.17"
	oidGN       = "2.5.4.42"
	oidOrgID    = "2.5.4.97"
	oidEmail    = "1.2.840.113549.1.9.1"
	oidDC       = "0.9.2342.19200300.100.1.25"
	oidUID      = "0.9.2342.19200300.100.1.1"
	oidJurC     = "1.3.6.1.4.1.311.60.2.1.3"
	oidRSA      = "1.2.840.113549.1.1.1" // known to OpenSSL, not a name attribute
	oidUnknown  = "1.3.6.1.4.1.55555.1.2"
	oidUnknown2 = "2.999.4294967296.1"
	oidLongArcs = "1.3.6.1.4.1.123456789.123456789.123456789.123456789.123456789.123456789.123456789.1"
	oidBigFirst = "2.18446744073709551616.5"
)

// testKey is shared by the certificates of a test run: key generation is the
// slow part and the tests are about names.
var testKey = func() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}()

var (
	testNotBefore = time.Date(2023, 9, 21, 1, 50, 17, 0, time.UTC)
	testNotAfter  = time.Date(2024, 9, 20, 1, 50, 17, 0, time.UTC)
)

// newCert returns the DER of a certificate with the given raw subject and
// issuer (issuer nil: self-issued) and serial.
func newCert(tb testing.TB, subject, issuer []byte, serial *big.Int) []byte {
	tb.Helper()
	if issuer == nil {
		issuer = subject
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		RawSubject:            subject,
		NotBefore:             testNotBefore,
		NotAfter:              testNotAfter,
		BasicConstraintsValid: true,
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	parent := &x509.Certificate{RawSubject: issuer}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &testKey.PublicKey, testKey)
	require.NoError(tb, err)
	return der
}

// certRawNames extracts RawSubject and RawIssuer with encoding/asn1-free
// parsing, for certificates crypto/x509 refuses (odd string types).
func certRawNames(tb testing.TB, der []byte) (subject, issuer []byte) {
	tb.Helper()
	in := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	require.True(tb, in.ReadASN1(&cert, cbasn1.SEQUENCE))
	require.True(tb, cert.ReadASN1(&tbs, cbasn1.SEQUENCE))
	var iss, sub cryptobyte.String
	require.True(tb, tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()))
	require.True(tb, tbs.SkipASN1(cbasn1.INTEGER))
	require.True(tb, tbs.SkipASN1(cbasn1.SEQUENCE))
	require.True(tb, tbs.ReadASN1Element(&iss, cbasn1.SEQUENCE))
	require.True(tb, tbs.SkipASN1(cbasn1.SEQUENCE))
	require.True(tb, tbs.ReadASN1Element(&sub, cbasn1.SEQUENCE))
	return sub, iss
}

func pemOf(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func opensslVersion(tb testing.TB) string {
	tb.Helper()
	testtool.Need(tb, "openssl")
	out, err := exec.Command("openssl", "version").Output()
	require.NoError(tb, err)
	// "OpenSSL 3.0.19 27 Jan 2026 (Library: …)" → "OpenSSL 3.0.19"
	f := strings.Fields(string(out))
	require.GreaterOrEqual(tb, len(f), 2)
	return f[0] + " " + f[1]
}

// opensslX509 is `openssl x509 -noout -subject -issuer -serial -nameopt RFC2253`
// for one certificate.
type opensslX509 struct{ subject, issuer, serial string }

func runOpenSSLX509(tb testing.TB, der []byte) opensslX509 {
	tb.Helper()
	testtool.Need(tb, "openssl")
	cmd := exec.Command("openssl", "x509", "-noout", "-subject", "-issuer", "-serial", "-nameopt", "RFC2253")
	cmd.Stdin = bytes.NewReader(pemOf(der))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(tb, err, "openssl x509: %s", stderr.String())
	var r opensslX509
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		k, v, ok := strings.Cut(line, "=")
		require.True(tb, ok, "unexpected openssl output %q", line)
		switch k {
		case "subject":
			r.subject = v
		case "issuer":
			r.issuer = v
		case "serial":
			r.serial = v
		}
	}
	return r
}

// opensslSubjects prints the subjects of many self-issued certificates with
// one openssl process: `openssl verify -show_chain -nameopt RFC2253`, with the
// certificates as their own trust anchors, prints "depth=0: <subject>" for
// each one it accepts, and the subject before the error for one it refuses
// (an empty name cannot be looked up as a trust anchor).
func opensslSubjects(tb testing.TB, ders [][]byte) []string {
	tb.Helper()
	testtool.Need(tb, "openssl")
	dir := tb.TempDir()
	var all bytes.Buffer
	args := []string{"verify", "-no_check_time", "-show_chain", "-nameopt", "RFC2253", "-CAfile", filepath.Join(dir, "all.pem")}
	for i, der := range ders {
		f := filepath.Join(dir, fmt.Sprintf("c%d.pem", i))
		require.NoError(tb, os.WriteFile(f, pemOf(der), 0o600))
		all.Write(pemOf(der))
		args = append(args, f)
	}
	require.NoError(tb, os.WriteFile(filepath.Join(dir, "all.pem"), all.Bytes(), 0o600))
	cmd := exec.Command("openssl", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run() // exits non-zero when any certificate is refused; parsed below

	subjects := make([]string, len(ders))
	found := make([]bool, len(ders))
	index := func(path string) int {
		var i int
		_, err := fmt.Sscanf(filepath.Base(path), "c%d.pem", &i)
		require.NoError(tb, err, path)
		return i
	}
	current := -1
	for _, line := range strings.Split(stdout.String(), "\n") {
		switch {
		case strings.HasSuffix(line, ".pem: OK"):
			current = index(strings.TrimSuffix(line, ": OK"))
		case strings.HasPrefix(line, "depth=0: ") && current >= 0:
			subjects[current], found[current] = strings.TrimPrefix(line, "depth=0: "), true
			current = -1
		}
	}
	lines := strings.Split(stderr.String(), "\n")
	var refused string
	for i, line := range lines {
		switch {
		case strings.HasPrefix(line, "error ") && strings.Contains(line, " depth lookup: ") && i > 0:
			refused = lines[i-1]
		case strings.HasPrefix(line, "error ") && strings.HasSuffix(line, ": verification failed"):
			n := index(strings.TrimSuffix(strings.TrimPrefix(line, "error "), ": verification failed"))
			subjects[n], found[n] = refused, true
		}
	}
	for i, ok := range found {
		require.True(tb, ok, "openssl verify printed no subject for certificate %d:\n%s\n%s", i, stdout.String(), stderr.String())
	}
	return subjects
}

func runCmd(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	require.NoError(tb, err, "%s %s: %s", name, strings.Join(args, " "), out)
	return string(out)
}
