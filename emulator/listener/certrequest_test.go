package listener_test

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/sslpolicy"
	"github.com/albmtls/albmtls/emulator/verify"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// hexLines writes b as lowercase hex, 16 bytes a line.
func hexLines(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		n := min(16, len(b))
		sb.WriteString(hex.EncodeToString(b[:n]) + "\n")
		b = b[n:]
	}
	return sb.String()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(file, []byte(hexLines(got)), 0o644))
	}
	want, err := os.ReadFile(file)
	require.NoError(t, err, "run go test -update to create %s", file)
	assert.Equal(t, string(want), hexLines(got), "%s: the CertificateRequest changed (Go upgrade?); review it against docs/ssl-policies.md and run -update", file)
}

func connRecord(t *testing.T, conns <-chan *listener.Conn) *listener.Conn {
	t.Helper()
	select {
	case c := <-conns:
		return c
	case <-time.After(20 * time.Second):
		t.Fatal("the listener recorded no connection")
		return nil
	}
}

// TestCertificateRequestOnTheWire captures the CertificateRequest the
// emulator sends in verify mode with AdvertiseTrustStoreCaNames off, as
// bytes from the client's socket, and sets it against the message s2n
// would build with ALB's list (alb-behaviour §2.3, §S5.3). Go's message is
// pinned in testdata/ and documented in docs/ssl-policies.md; Go offers no
// setting to send s2n's list, so the two differ and this test says by how
// much.
func TestCertificateRequestOnTheWire(t *testing.T) {
	tests := []struct {
		policy  string
		version uint16
		golden  string
		s2n     []tls.SignatureScheme
		goLen   int // Go's message, header included
		s2nLen  int // s2n's, header included
	}{
		{"ELBSecurityPolicy-TLS13-1-2-2021-06", tls.VersionTLS13, "certificaterequest-tls13.hex", sslpolicy.S2N20200207, 65, 45},
		{"ELBSecurityPolicy-TLS13-1-2-2021-06", tls.VersionTLS12, "certificaterequest-tls12.hex", sslpolicy.S2N20200207, 31, 43},
		{"ELBSecurityPolicy-2016-08", tls.VersionTLS12, "certificaterequest-tls12.hex", sslpolicy.S2N20140601, 31, 31},
	}
	for _, tt := range tests {
		t.Run(tt.policy+"/"+sslpolicy.VersionName(tt.version), func(t *testing.T) {
			addr, set, conns := verifyListener(t, tt.policy)
			tr := dial(t, addr, set, tt.version, nil)
			require.NoError(t, tr.err)
			c := connRecord(t, conns)
			require.Equal(t, verify.Success, c.Status, "%v", c.Err)

			got := certificateRequest(t, serverMessages(t, tr))
			golden(t, tt.golden, got)
			assert.Len(t, got, tt.goLen)
			require.NotNil(t, tr.info, "the client was not asked for a certificate")
			assert.Equal(t, sslpolicy.GoCertificateRequestSchemes(tt.version), tr.info.SignatureSchemes)
			assert.Empty(t, tr.info.AcceptableCAs)

			alb := sslpolicy.S2NCertificateRequest(tt.version, tt.s2n)
			assert.Len(t, alb, tt.s2nLen)
			assert.NotEqual(t, alb, got, "Go now sends s2n's message: update docs/ssl-policies.md")
			t.Logf("emulator (%d bytes):\n%sALB/s2n (%d bytes):\n%s", len(got), hexLines(got), len(alb), hexLines(alb))
		})
	}
}

// rewriteScheme changes the signature scheme of the client's TLS 1.2
// CertificateVerify (plaintext, before ChangeCipherSpec) from one value to
// another, so the emulator receives a scheme Go's client would not choose.
func rewriteScheme(from, to tls.SignatureScheme) (func([]byte) []byte, *bool) {
	afterCCS, done := false, false
	return func(p []byte) []byte {
		for b := p; len(b) >= 5 && !afterCCS; {
			n := int(binary.BigEndian.Uint16(b[3:5]))
			if len(b) < 5+n {
				break
			}
			rec := b[5 : 5+n]
			switch {
			case b[0] == 20:
				afterCCS = true
			case b[0] == 22 && n >= 6 && rec[0] == 15 && int(rec[1])<<16|int(rec[2])<<8|int(rec[3]) == n-4 &&
				tls.SignatureScheme(binary.BigEndian.Uint16(rec[4:6])) == from:
				binary.BigEndian.PutUint16(rec[4:6], uint16(to))
				done = true
			}
			b = b[5+n:]
		}
		return p
	}, &done
}

// TestCertificateVerifySchemeOutsideTheList: a client that signs its
// CertificateVerify with a scheme the CertificateRequest did not offer.
// s2n refuses it with S2N_ERR_INVALID_SIGNATURE_SCHEME, which maps to no
// certificate code: ALB logs UnmappedConnectionError, not
// ClientCertIncompatible, which is about the certificates' own keys and
// signatures under policies that restrict them (alb-behaviour §S1.7, §S5.2
// and the code table of Part two). Go refuses such a scheme before it
// checks the signature, and the listener maps Go's error the same way.
// ecdsa_sha1 and ecdsa_sha224 are in s2n's ELB list but not in Go's, so
// here the emulator refuses what ALB would accept: the documented gap.
func TestCertificateVerifySchemeOutsideTheList(t *testing.T) {
	tests := []struct {
		name   string
		to     tls.SignatureScheme
		status verify.Code
	}{
		{"as signed", tls.ECDSAWithP256AndSHA256, verify.Success},
		{"ecdsa_sha1 (in s2n's ELB list, not Go's)", tls.ECDSAWithSHA1, verify.UnmappedConnectionError},
		{"ecdsa_sha224 (in s2n's ELB list, not Go's)", 0x0303, verify.UnmappedConnectionError},
		{"rsa_pss_pss_sha256 (in neither list)", 0x0809, verify.UnmappedConnectionError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, set, conns := verifyListener(t, "ELBSecurityPolicy-2016-08")
			rewrite, done := rewriteScheme(tls.ECDSAWithP256AndSHA256, tt.to)
			tr := dial(t, addr, set, tls.VersionTLS12, rewrite)
			c := connRecord(t, conns)
			require.True(t, *done, "the client's CertificateVerify was not found (is the standard client ECDSA P-256?)")
			assert.Equal(t, tt.status, c.Status, "server error: %v", c.Err)
			if tt.status == verify.Success {
				assert.NoError(t, tr.err)
				return
			}
			assert.Error(t, tr.err)
			assert.True(t, c.CertificateRejected)
			require.Error(t, c.Err)
			assert.Contains(t, c.Err.Error(), "client certificate used with invalid signature algorithm")
			assert.False(t, bytes.Contains([]byte(c.Status.LogValue()), []byte("Incompatible")))
		})
	}
}
