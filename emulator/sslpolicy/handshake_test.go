package sslpolicy

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/testtool"
)

// These tests run a real TLS server on 127.0.0.1 configured by Policy.Apply
// and talk to it with Go's client and with the openssl binary, proving which
// versions, suites and groups each policy accepts and refuses.

var (
	certsOnce sync.Once
	certs     []tls.Certificate
)

// serverCerts returns an RSA-2048 and an ECDSA P-256 certificate for
// 127.0.0.1, so that both RSA and ECDSA suites can be negotiated.
func serverCerts(t *testing.T) []tls.Certificate {
	t.Helper()
	certsOnce.Do(func() {
		rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		for i, key := range []any{rsaKey, ecKey} {
			tmpl := &x509.Certificate{
				SerialNumber: big.NewInt(int64(i + 1)),
				Subject:      pkix.Name{CommonName: "localhost"},
				NotBefore:    time.Now().Add(-time.Hour),
				NotAfter:     time.Now().Add(time.Hour),
				KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
				ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
				IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
				DNSNames:     []string{"localhost"},
			}
			pub := key.(crypto.Signer).Public()
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
			require.NoError(t, err)
			certs = append(certs, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key})
		}
	})
	require.Len(t, certs, 2)
	return certs
}

// handshakeResult is what the server saw for one connection.
type handshakeResult struct {
	state tls.ConnectionState
	err   error
}

// startServer serves TLS with the named policy on 127.0.0.1:0 and reports
// each server-side handshake result.
func startServer(t *testing.T, policy string) (string, <-chan handshakeResult) {
	t.Helper()
	p, err := Lookup(policy)
	require.NoError(t, err)
	cfg := &tls.Config{Certificates: serverCerts(t)}
	p.Apply(cfg)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	require.NoError(t, err)
	results := make(chan handshakeResult, 16)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tc := c.(*tls.Conn)
			_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
			err = tc.Handshake()
			results <- handshakeResult{state: tc.ConnectionState(), err: err}
			if err == nil {
				// Wait for the client to finish reading, then close.
				buf := make([]byte, 1)
				_, _ = tc.Read(buf)
			}
			_ = tc.Close()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return ln.Addr().String(), results
}

func serverResult(t *testing.T, results <-chan handshakeResult) handshakeResult {
	t.Helper()
	select {
	case r := <-results:
		return r
	case <-time.After(15 * time.Second):
		t.Fatal("server saw no handshake")
		return handshakeResult{}
	}
}

// goDial connects with Go's client, limited to the given versions, suites and groups.
func goDial(addr string, minV, maxV uint16, suites []uint16, groups []tls.CurveID) (tls.ConnectionState, error) {
	d := &net.Dialer{Timeout: 10 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{
		InsecureSkipVerify: true, // the test only checks negotiation, not the server's identity
		MinVersion:         minV,
		MaxVersion:         maxV,
		CipherSuites:       suites,
		CurvePreferences:   groups,
	})
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	return c.ConnectionState(), nil
}

// opensslResult is what `openssl s_client -brief` reported.
type opensslResult struct {
	ok       bool
	protocol string
	cipher   string
	output   string
}

// opensslDial runs `openssl s_client` with extra arguments, e.g. -tls1_2 and -cipher.
func opensslDial(t *testing.T, addr string, args ...string) opensslResult {
	t.Helper()
	bin := testtool.Need(t, "openssl")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	full := append([]string{"s_client", "-connect", addr, "-brief"}, args...)
	cmd := exec.CommandContext(ctx, bin, full...)
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	r := opensslResult{ok: err == nil && strings.Contains(string(out), "CONNECTION ESTABLISHED"), output: string(out)}
	for _, line := range strings.Split(string(out), "\n") {
		if v, found := strings.CutPrefix(line, "Protocol version: "); found {
			r.protocol = strings.TrimSpace(v)
		}
		if v, found := strings.CutPrefix(line, "Ciphersuite: "); found {
			r.cipher = strings.TrimSpace(v)
		}
	}
	return r
}

// legacy lets OpenSSL 3 offer TLS 1.0/1.1 and SHA-1 suites, which its default
// security level refuses on the client side.
const legacy = "DEFAULT:@SECLEVEL=0"

func TestTLS13OnlyPolicyRefusesTLS12(t *testing.T) {
	addr, results := startServer(t, "ELBSecurityPolicy-TLS13-1-3-2021-06")

	r := opensslDial(t, addr, "-tls1_3")
	require.True(t, r.ok, r.output)
	assert.Equal(t, "TLSv1.3", r.protocol)
	require.NoError(t, serverResult(t, results).err)

	r = opensslDial(t, addr, "-tls1_2")
	assert.False(t, r.ok, r.output)
	assert.Error(t, serverResult(t, results).err)

	_, err := goDial(addr, tls.VersionTLS12, tls.VersionTLS12, nil, nil)
	assert.Error(t, err)
	assert.Error(t, serverResult(t, results).err)

	st, err := goDial(addr, tls.VersionTLS13, tls.VersionTLS13, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "TLSv1.3", VersionName(st.Version))
	require.NoError(t, serverResult(t, results).err)
}

func TestDefaultPolicyAcceptsTLS10AndRefusesTLS13(t *testing.T) {
	addr, results := startServer(t, Default)

	r := opensslDial(t, addr, "-tls1", "-cipher", legacy)
	require.True(t, r.ok, r.output)
	assert.Equal(t, "TLSv1", r.protocol)
	s := serverResult(t, results)
	require.NoError(t, s.err)
	assert.Equal(t, "TLSv1", VersionName(s.state.Version))

	r = opensslDial(t, addr, "-tls1_1", "-cipher", legacy)
	require.True(t, r.ok, r.output)
	assert.Equal(t, "TLSv1.1", r.protocol)
	require.NoError(t, serverResult(t, results).err)

	r = opensslDial(t, addr, "-tls1_3")
	assert.False(t, r.ok, r.output)
	assert.Error(t, serverResult(t, results).err)

	_, err := goDial(addr, tls.VersionTLS13, tls.VersionTLS13, nil, nil)
	assert.Error(t, err)
	assert.Error(t, serverResult(t, results).err)

	st, err := goDial(addr, tls.VersionTLS10, tls.VersionTLS10, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "TLSv1", VersionName(st.Version))
	require.NoError(t, serverResult(t, results).err)
}

func TestCipherSuitesPerPolicy(t *testing.T) {
	tests := []struct {
		policy, cipher string
		accept         bool
	}{
		// TLS-1-2-2017-01 drops CBC-SHA1 (alb-behaviour §5); 2016-08 has it.
		{"ELBSecurityPolicy-TLS-1-2-2017-01", "ECDHE-RSA-AES128-SHA", false},
		{"ELBSecurityPolicy-2016-08", "ECDHE-RSA-AES128-SHA", true},
		{"ELBSecurityPolicy-TLS-1-2-2017-01", "ECDHE-RSA-AES128-SHA256", true},
		// Res keeps only ECDHE GCM: no RSA key transport, no CBC.
		{"ELBSecurityPolicy-TLS13-1-2-Res-2021-06", "AES128-GCM-SHA256", false},
		{"ELBSecurityPolicy-TLS13-1-2-Res-2021-06", "ECDHE-RSA-AES128-SHA256", false},
		{"ELBSecurityPolicy-TLS13-1-2-Res-2021-06", "ECDHE-ECDSA-AES256-GCM-SHA384", true},
		{"ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", "AES128-GCM-SHA256", true},
		// FS policies have no RSA key transport.
		{"ELBSecurityPolicy-FS-1-2-2019-08", "AES128-SHA", false},
		{"ELBSecurityPolicy-FS-1-2-2019-08", "ECDHE-ECDSA-AES128-SHA", true},
		// A suite ALB offers but Go cannot (documented gap): refused here.
		{"ELBSecurityPolicy-2016-08", "AES256-SHA256", false},
	}
	for _, tt := range tests {
		t.Run(tt.policy+"/"+tt.cipher, func(t *testing.T) {
			addr, results := startServer(t, tt.policy)
			r := opensslDial(t, addr, "-tls1_2", "-cipher", tt.cipher+":@SECLEVEL=0")
			s := serverResult(t, results)
			if tt.accept {
				require.True(t, r.ok, r.output)
				assert.Equal(t, tt.cipher, r.cipher)
				require.NoError(t, s.err)
				assert.Equal(t, tt.cipher, CipherName(s.state.CipherSuite))
			} else {
				assert.False(t, r.ok, r.output)
				assert.Error(t, s.err)
			}
		})
	}
}

func TestFIPSPolicyStillNegotiatesChaCha20InTLS13(t *testing.T) {
	// Documented gap: Go cannot restrict TLS 1.3 suites, so a FIPS policy
	// still accepts ChaCha20, which ALB's FIPS policies leave out.
	addr, results := startServer(t, "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04")
	r := opensslDial(t, addr, "-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256")
	require.True(t, r.ok, r.output)
	assert.Equal(t, "TLS_CHACHA20_POLY1305_SHA256", r.cipher)
	require.NoError(t, serverResult(t, results).err)
}

func TestKeyExchangeGroupsPerPolicy(t *testing.T) {
	tests := []struct {
		policy string
		client []tls.CurveID // nil: Go's default list, hybrids first
		want   string        // KeyExchangeName of the negotiated group; "" = refused
	}{
		{"ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", nil, "X25519MLKEM768"},
		{"ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", []tls.CurveID{tls.SecP256r1MLKEM768}, "SecP256r1MLKEM768"},
		{"ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", []tls.CurveID{tls.SecP384r1MLKEM1024}, "SecP384r1MLKEM1024"},
		{"ELBSecurityPolicy-TLS13-1-2-2021-06", nil, "x25519"},
		{"ELBSecurityPolicy-TLS13-1-2-2021-06", []tls.CurveID{tls.X25519MLKEM768}, ""},
		{"ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04", nil, "secp256r1"},
		{"ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09", []tls.CurveID{tls.X25519}, ""},
		{"ELBSecurityPolicy-TLS13-1-2-RFC9151-FIPS-2023-07", []tls.CurveID{tls.CurveP256}, ""},
		{"ELBSecurityPolicy-TLS13-1-2-RFC9151-FIPS-2023-07", nil, "secp384r1"},
	}
	for _, tt := range tests {
		t.Run(tt.policy+"/"+tt.want, func(t *testing.T) {
			addr, results := startServer(t, tt.policy)
			st, err := goDial(addr, tls.VersionTLS13, tls.VersionTLS13, nil, tt.client)
			s := serverResult(t, results)
			if tt.want == "" {
				assert.Error(t, err)
				assert.Error(t, s.err)
				return
			}
			require.NoError(t, err)
			require.NoError(t, s.err)
			assert.Equal(t, tt.want, KeyExchangeName(st.CurveID))
			assert.Equal(t, tt.want, KeyExchangeName(s.state.CurveID))
		})
	}
}

func TestTLS12GroupFromOpenSSL(t *testing.T) {
	// The observed classical value: secp256r1 under a TLS 1.2 ECDHE suite.
	addr, results := startServer(t, Default)
	r := opensslDial(t, addr, "-tls1_2", "-groups", "P-256", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")
	require.True(t, r.ok, r.output)
	s := serverResult(t, results)
	require.NoError(t, s.err)
	assert.Equal(t, "secp256r1", KeyExchangeName(s.state.CurveID))
	assert.Equal(t, "ECDHE-ECDSA-AES128-GCM-SHA256", CipherName(s.state.CipherSuite))

	r = opensslDial(t, addr, "-tls1_2", "-groups", "X25519", "-cipher", "ECDHE")
	assert.False(t, r.ok, "2016-08 offers secp256r1 and secp384r1 only: %s", r.output)
	assert.Error(t, serverResult(t, results).err)
}
