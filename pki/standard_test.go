package pki_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// briefTable is the product brief's client table: name -> outcome in verify
// mode with the default trust store (both CRLs loaded), and with
// ignore_client_certificate_expiry.
var briefTable = []struct {
	name, verify, ignoreExpiry string
}{
	{"valid", "Success", "Success"},
	{"valid-rsa", "Success", "Success"},
	{"member", "Success", "Success"},
	{"outsider", "Success", "Success"},
	{"revoked", "Failed:ClientCertCrlHit", "Failed:ClientCertCrlHit"},
	{"revoked-intermediate", "Failed:ClientCertCrlHit", "Failed:ClientCertCrlHit"},
	{"expired", "Failed:ClientCertExpired", "Success"},
	{"not-yet-valid", "Failed:ClientCertNotYetValid", "Success"},
	{"untrusted", "Failed:ClientCertUntrusted", "Failed:ClientCertUntrusted"},
	{"self-signed", "Failed:ClientCertUntrusted", "Failed:ClientCertUntrusted"},
	{"server-purpose", "Failed:ClientCertPurposeInvalid", "Failed:ClientCertPurposeInvalid"},
	{"weak-rsa", "Failed:ClientCertTypeUnsupported", "Failed:ClientCertTypeUnsupported"},
	{"deep-chain", "Failed:ClientCertMaxChainDepthExceeded", "Failed:ClientCertMaxChainDepthExceeded"},
	{"oversized", "Failed:ClientCertMaxSizeExceeded", "Failed:ClientCertMaxSizeExceeded"},
}

func TestStandardClientNamesFollowTheBrief(t *testing.T) {
	set := pkitest.Standard(t)
	var want []string
	for _, row := range briefTable {
		want = append(want, row.name)
	}
	assert.Equal(t, want, set.ClientNames())
}

func TestManifestExpectationsMatchTheBrief(t *testing.T) {
	m := pkitest.Standard(t).Manifest()
	for _, row := range briefTable {
		t.Run(row.name, func(t *testing.T) {
			a, ok := m.Artefact(row.name)
			require.True(t, ok)
			require.NotNil(t, a.Expect)
			assert.Equal(t, pki.KindClient, a.Kind)
			assert.Equal(t, row.verify, a.Expect.Verify)
			assert.Equal(t, row.ignoreExpiry, a.Expect.VerifyIgnoreExpiry)
			if row.name == "oversized" {
				assert.Equal(t, "Failed:ClientCertMaxSizeExceeded", a.Expect.Passthrough)
			} else {
				assert.Equal(t, "Success", a.Expect.Passthrough)
			}
			assert.NotEmpty(t, a.Purpose)
		})
	}
	ri, _ := m.Artefact("revoked-intermediate")
	assert.Equal(t, []string{"crl/root.crl.pem"}, ri.Expect.RequiresCRLs)
	assert.Contains(t, ri.Expect.Note, "without it the outcome is Success")
	r, _ := m.Artefact("revoked")
	assert.Equal(t, []string{"crl/intermediate.crl.pem"}, r.Expect.RequiresCRLs)
	assert.Equal(t, pki.TrustStoreFiles{Bundle: "ca/bundle.pem", Revocations: []string{"crl/intermediate.crl.pem", "crl/root.crl.pem"}}, m.TrustStore)
	assert.Equal(t, pki.BaseDN{O: "Example Corp", OU: "Engineering"}, m.Organization)
}

// verifyWith runs Go's chain verification against the given roots with the
// client's own chain as intermediates, at the given time.
func verifyWith(t *testing.T, leaf *pki.Leaf, roots []*x509.Certificate, at time.Time) error {
	t.Helper()
	rp, ip := x509.NewCertPool(), x509.NewCertPool()
	for _, r := range roots {
		rp.AddCert(r)
	}
	for _, der := range leaf.Chain[1:] {
		c, err := x509.ParseCertificate(der)
		require.NoError(t, err)
		ip.AddCert(c)
	}
	_, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: rp, Intermediates: ip, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err
}

func crlSerials(t *testing.T, der []byte) []string {
	t.Helper()
	crl, _, err := pki.ParseCRL(der)
	require.NoError(t, err)
	var s []string
	for _, e := range crl.RevokedCertificateEntries {
		s = append(s, certfmt.SerialNumber(e.SerialNumber))
	}
	return s
}

// TestStandardClientsAreWhatTheyClaim proves each client of the table has
// the property its name promises, with the certificates themselves.
func TestStandardClientsAreWhatTheyClaim(t *testing.T) {
	set := pkitest.Standard(t)
	now := time.Now()
	root, inter := set.Root.Cert, set.Intermediate.Cert
	client := func(name string) *pki.Leaf {
		l, ok := set.Client(name)
		require.True(t, ok, name)
		return l
	}
	ca := func(name string) *pki.CA {
		c, ok := set.CA(name)
		require.True(t, ok, name)
		return c
	}
	hasClientAuth := func(l *pki.Leaf) bool {
		return len(l.Cert.ExtKeyUsage) == 1 && l.Cert.ExtKeyUsage[0] == x509.ExtKeyUsageClientAuth
	}
	fromIntermediate := func(t *testing.T, l *pki.Leaf) {
		require.Len(t, l.Chain, 2)
		assert.Equal(t, inter.Raw, l.Chain[1])
		require.NoError(t, verifyWith(t, l, []*x509.Certificate{root}, now))
	}
	checks := map[string]func(t *testing.T, l *pki.Leaf){
		"valid": func(t *testing.T, l *pki.Leaf) {
			k, ok := l.Cert.PublicKey.(*ecdsa.PublicKey)
			require.True(t, ok)
			assert.Equal(t, elliptic.P256(), k.Curve)
			assert.True(t, hasClientAuth(l))
			fromIntermediate(t, l)
		},
		"valid-rsa": func(t *testing.T, l *pki.Leaf) {
			k, ok := l.Cert.PublicKey.(*rsa.PublicKey)
			require.True(t, ok)
			assert.Equal(t, 2048, k.N.BitLen())
			assert.True(t, hasClientAuth(l))
			fromIntermediate(t, l)
		},
		"member": func(t *testing.T, l *pki.Leaf) {
			assert.Equal(t, []string{"Example Corp"}, l.Cert.Subject.Organization)
			assert.Equal(t, []string{"Engineering"}, l.Cert.Subject.OrganizationalUnit)
			fromIntermediate(t, l)
		},
		"outsider": func(t *testing.T, l *pki.Leaf) {
			require.Len(t, l.Cert.Subject.Organization, 1)
			assert.NotEqual(t, "Example Corp", l.Cert.Subject.Organization[0])
			require.Len(t, l.Cert.Subject.OrganizationalUnit, 1)
			assert.NotEqual(t, "Engineering", l.Cert.Subject.OrganizationalUnit[0])
			fromIntermediate(t, l)
		},
		"revoked": func(t *testing.T, l *pki.Leaf) {
			fromIntermediate(t, l)
			assert.Equal(t, []string{certfmt.SerialNumber(l.Cert.SerialNumber)}, crlSerials(t, set.CRL("intermediate")))
		},
		"revoked-intermediate": func(t *testing.T, l *pki.Leaf) {
			ri := ca("revoked-intermediate-ca")
			assert.Equal(t, [][]byte{l.Cert.Raw, ri.Cert.Raw}, l.Chain, "chain file = leaf + that intermediate")
			require.NoError(t, verifyWith(t, l, []*x509.Certificate{root}, now))
			assert.Equal(t, []string{certfmt.SerialNumber(ri.Cert.SerialNumber)}, crlSerials(t, set.CRL("root")))
			assert.NotContains(t, crlSerials(t, set.CRL("intermediate")), certfmt.SerialNumber(l.Cert.SerialNumber))
		},
		"expired": func(t *testing.T, l *pki.Leaf) {
			assert.True(t, l.Cert.NotAfter.Before(now))
			require.Error(t, verifyWith(t, l, []*x509.Certificate{root}, now))
			require.NoError(t, verifyWith(t, l, []*x509.Certificate{root}, l.Cert.NotAfter.Add(-time.Hour)), "valid but for the date")
		},
		"not-yet-valid": func(t *testing.T, l *pki.Leaf) {
			assert.True(t, l.Cert.NotBefore.After(now))
			require.Error(t, verifyWith(t, l, []*x509.Certificate{root}, now))
			require.NoError(t, verifyWith(t, l, []*x509.Certificate{root}, l.Cert.NotBefore.Add(time.Hour)), "valid but for the date")
		},
		"untrusted": func(t *testing.T, l *pki.Leaf) {
			require.Error(t, verifyWith(t, l, []*x509.Certificate{root, inter}, now))
			require.NoError(t, verifyWith(t, l, []*x509.Certificate{ca("untrusted-root").Cert}, now), "properly chained to its own root")
			assert.Equal(t, ca("untrusted-intermediate").Cert.Raw, l.Chain[1])
		},
		"self-signed": func(t *testing.T, l *pki.Leaf) {
			assert.Equal(t, l.Cert.RawSubject, l.Cert.RawIssuer)
			require.NoError(t, l.Cert.CheckSignature(l.Cert.SignatureAlgorithm, l.Cert.RawTBSCertificate, l.Cert.Signature))
			assert.Len(t, l.Chain, 1)
			require.Error(t, verifyWith(t, l, []*x509.Certificate{root, inter}, now))
		},
		"server-purpose": func(t *testing.T, l *pki.Leaf) {
			assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, l.Cert.ExtKeyUsage)
			fromIntermediate(t, l)
		},
		"weak-rsa": func(t *testing.T, l *pki.Leaf) {
			k, ok := l.Cert.PublicKey.(*rsa.PublicKey)
			require.True(t, ok)
			assert.Equal(t, 1024, k.N.BitLen())
			fromIntermediate(t, l)
		},
		"deep-chain": func(t *testing.T, l *pki.Leaf) {
			require.Len(t, l.Chain, 5, "leaf + 4 intermediates")
			for i := 1; i <= 4; i++ {
				assert.Equal(t, ca("deep-ca-"+string(rune('0'+5-i))).Cert.Raw, l.Chain[i])
			}
			for i := 0; i < 4; i++ {
				child, _ := x509.ParseCertificate(l.Chain[i])
				parent, _ := x509.ParseCertificate(l.Chain[i+1])
				require.NoError(t, child.CheckSignatureFrom(parent), "chain entry %d is signed by entry %d", i, i+1)
			}
			last, _ := x509.ParseCertificate(l.Chain[4])
			require.NoError(t, last.CheckSignatureFrom(root), "the top intermediate chains to the trust store's root")
			require.NoError(t, verifyWith(t, l, []*x509.Certificate{root}, now))
		},
		"oversized": func(t *testing.T, l *pki.Leaf) {
			assert.LessOrEqual(t, len(l.Chain), 4, "size, not depth, must be what fails")
			size := pki.CertificateMessageSize(l.Chain)
			assert.Greater(t, size, 64*1024)
			assert.Less(t, size, 128*1024, "well under Go's 256 KiB limit")
			fromIntermediate(t, l)
		},
	}
	require.Len(t, checks, len(briefTable))
	for _, row := range briefTable {
		t.Run(row.name, func(t *testing.T) { checks[row.name](t, client(row.name)) })
	}
}

func TestStandardServer(t *testing.T) {
	set := pkitest.Standard(t)
	s := set.Server
	assert.Equal(t, []string{"localhost", "alb"}, s.Cert.DNSNames)
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, s.Cert.ExtKeyUsage)
	pool := x509.NewCertPool()
	pool.AddCert(set.Root.Cert)
	inter := x509.NewCertPool()
	inter.AddCert(set.Intermediate.Cert)
	for _, host := range []string{"localhost", "alb", "127.0.0.1", "::1"} {
		_, err := s.Cert.Verify(x509.VerifyOptions{DNSName: host, Roots: pool, Intermediates: inter})
		assert.NoError(t, err, host)
	}
	assert.Equal(t, [][]byte{s.Cert.Raw, set.Intermediate.Cert.Raw}, s.Chain)
}

func TestBundleIsALBValid(t *testing.T) {
	set := pkitest.Standard(t)
	b := string(set.Bundle())
	assert.Equal(t, string(set.Intermediate.CertPEM)+string(set.Root.CertPEM), b, "intermediate then root")
	assert.NotContains(t, b, "\n\n", "ALB rejects blank lines (alb-behaviour §1.2)")
	assert.NotContains(t, b, "#")
	assert.NotContains(t, b, "\r")
}

// countingConn counts the bytes a server reads from the client.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// TestOversizedOnTheWire sends the oversized chain over a real TLS 1.3
// connection: Go's server (256 KiB limit) accepts it, and more than 64 KiB
// cross the wire from the client.
func TestOversizedOnTheWire(t *testing.T) {
	set := pkitest.Standard(t)
	for _, tc := range []struct {
		name     string
		min, max int64
	}{
		{"oversized", 64 * 1024, 256 * 1024},
		{"valid", 0, 8 * 1024},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaf, _ := set.Client(tc.name)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			defer ln.Close()
			var read atomic.Int64
			type result struct {
				certs int
				err   error
			}
			done := make(chan result, 1)
			go func() {
				raw, err := ln.Accept()
				if err != nil {
					done <- result{err: err}
					return
				}
				conn := tls.Server(countingConn{raw, &read}, &tls.Config{
					Certificates: []tls.Certificate{set.Server.TLSCertificate()},
					ClientAuth:   tls.RequireAnyClientCert,
					MinVersion:   tls.VersionTLS13,
				})
				defer conn.Close()
				err = conn.Handshake()
				done <- result{certs: len(conn.ConnectionState().PeerCertificates), err: err}
			}()
			pool := x509.NewCertPool()
			pool.AddCert(set.Root.Cert)
			conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{
				RootCAs: pool, ServerName: "localhost", Certificates: []tls.Certificate{leaf.TLSCertificate()},
			})
			require.NoError(t, err)
			defer conn.Close()
			r := <-done
			require.NoError(t, r.err)
			assert.Equal(t, len(leaf.Chain), r.certs)
			assert.Greater(t, read.Load(), tc.min)
			assert.Less(t, read.Load(), tc.max)
		})
	}
}

func TestGenerateOptions(t *testing.T) {
	at := time.Date(2029, 2, 3, 4, 5, 6, 0, time.UTC)
	var steps []string
	set, err := pki.Generate(pki.GenerateOptions{
		KeyType:      pki.ECDSAP384,
		Organization: pki.BaseDN{O: "Acme", OU: "Ops"},
		Clock:        func() time.Time { return at },
		Progress:     func(s string) { steps = append(steps, s) },
	})
	require.NoError(t, err)
	assert.NotEmpty(t, steps)
	valid, _ := set.Client("valid")
	assert.Equal(t, pki.ECDSAP384, pki.KeyTypeOf(valid.Cert.PublicKey))
	assert.Equal(t, pki.ECDSAP384, pki.KeyTypeOf(set.Server.Cert.PublicKey))
	wr, _ := set.Client("weak-rsa")
	assert.Equal(t, pki.RSA1024, pki.KeyTypeOf(wr.Cert.PublicKey), "fixed-purpose clients keep their key type")
	member, _ := set.Client("member")
	assert.Equal(t, []string{"Acme"}, member.Cert.Subject.Organization)
	assert.Equal(t, at.Add(-5*time.Minute), valid.Cert.NotBefore)
	assert.Equal(t, at.Add(-90*24*time.Hour), set.Root.Cert.NotBefore)
	m := set.Manifest()
	assert.Equal(t, at, m.GeneratedAt)
	assert.Equal(t, pki.ECDSAP384, m.DefaultKeyType)

	_, err = pki.Generate(pki.GenerateOptions{KeyType: "dsa"})
	require.ErrorContains(t, err, "valid values are")
}

// TestUnsupportedDefaultKeyType: with an Ed25519 default, the expectations
// follow the keys rather than the names.
func TestUnsupportedDefaultKeyType(t *testing.T) {
	set, err := pki.Generate(pki.GenerateOptions{KeyType: pki.Ed25519})
	require.NoError(t, err)
	m := set.Manifest()
	for name, want := range map[string]string{
		"valid":     "Failed:ClientCertTypeUnsupported",
		"valid-rsa": "Success",
		"oversized": "Failed:ClientCertMaxSizeExceeded",
	} {
		a, _ := m.Artefact(name)
		assert.Equal(t, want, a.Expect.Verify, name)
	}
}
