package listener_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/sslpolicy"
	"github.com/albmtls/albmtls/emulator/truststore"
	"github.com/albmtls/albmtls/emulator/verify"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// This file records the handshake as the client's socket sees it, so that
// tests can compare the emulator's CertificateRequest with ALB's byte for
// byte (alb-behaviour §2.3, §S5.2) and tamper with the client's
// CertificateVerify. TLS 1.2 handshake messages are in the clear; TLS 1.3
// ones are decrypted with the client's key log.

// recordingConn keeps every byte the client reads and lets the test rewrite
// what the client writes.
type recordingConn struct {
	net.Conn
	mu      sync.Mutex
	read    bytes.Buffer
	rewrite func([]byte) []byte
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.read.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

func (c *recordingConn) Write(p []byte) (int, error) {
	if c.rewrite != nil {
		q := c.rewrite(bytes.Clone(p))
		if _, err := c.Conn.Write(q); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func (c *recordingConn) received() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.read.Bytes())
}

// verifyListener runs an emulator listener in verify mode with the standard
// PKI's trust store under policy, and reports each connection record.
func verifyListener(t *testing.T, policy string) (string, *pki.Set, <-chan *listener.Conn) {
	t.Helper()
	dir := pkitest.Dir(t)
	set, err := pki.Load(dir)
	require.NoError(t, err)
	st, err := truststore.Load(truststore.Spec{Name: "ts", BundleFile: filepath.Join(dir, "ca", "bundle.pem")})
	require.NoError(t, err)
	p, err := sslpolicy.Lookup(policy)
	require.NoError(t, err)
	cfg := &tls.Config{Certificates: []tls.Certificate{set.Server.TLSCertificate()}}
	p.Apply(cfg)
	conns := make(chan *listener.Conn, 4)
	l, err := listener.Listen("127.0.0.1:0", listener.Config{
		Protocol: "HTTPS",
		TLS: &listener.TLSSettings{Config: cfg, Mode: listener.ModeVerify,
			Verifier: verify.New(func() *truststore.Store { return st }, verify.Options{})},
		RejectWith:       listener.RejectAlert,
		HandshakeTimeout: 20 * time.Second,
		OnConnection:     func(c *listener.Conn) { conns <- c },
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close(); l.Wait() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = c.Read(make([]byte, 1)); c.Close() }()
		}
	}()
	return l.Addr().String(), set, conns
}

// transcript is one client handshake as recorded.
type transcript struct {
	state  tls.ConnectionState
	err    error
	raw    []byte // every byte the client read
	keyLog string
	info   *tls.CertificateRequestInfo
}

// dial handshakes with the emulator as the standard "valid" client at
// exactly version, optionally rewriting what the client writes.
func dial(t *testing.T, addr string, set *pki.Set, version uint16, rewrite func([]byte) []byte) transcript {
	t.Helper()
	leaf, ok := set.Client("valid")
	require.True(t, ok)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(set.Bundle())
	raw, err := net.DialTimeout("tcp", addr, 10*time.Second)
	require.NoError(t, err)
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(20 * time.Second))
	rc := &recordingConn{Conn: raw, rewrite: rewrite}
	var keyLog strings.Builder
	var tr transcript
	cert := leaf.TLSCertificate()
	c := tls.Client(rc, &tls.Config{
		RootCAs: roots, ServerName: "localhost", MinVersion: version, MaxVersion: version,
		KeyLogWriter: &keyLog,
		GetClientCertificate: func(info *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			tr.info = info
			return &cert, nil
		},
	})
	tr.err = c.Handshake()
	tr.state = c.ConnectionState()
	tr.raw, tr.keyLog = rc.received(), keyLog.String()
	return tr
}

// records splits a TLS byte stream into (type, payload) records.
func records(t *testing.T, b []byte) [][2][]byte {
	t.Helper()
	var out [][2][]byte
	for len(b) >= 5 {
		n := int(binary.BigEndian.Uint16(b[3:5]))
		require.GreaterOrEqual(t, len(b), 5+n, "truncated record")
		out = append(out, [2][]byte{b[:5], b[5 : 5+n]})
		b = b[5+n:]
	}
	return out
}

// messages splits concatenated handshake messages, header included.
func messages(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) >= 4 {
		n := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		require.GreaterOrEqual(t, len(b), 4+n, "truncated handshake message")
		out = append(out, b[:4+n])
		b = b[4+n:]
	}
	return out
}

// serverMessages returns the server's handshake messages: plaintext ones,
// then (TLS 1.3) those decrypted with the server handshake traffic secret.
func serverMessages(t *testing.T, tr transcript) [][]byte {
	t.Helper()
	var plain []byte
	var aead cipher.AEAD
	var iv []byte
	seq := uint64(0)
	for _, r := range records(t, tr.raw) {
		switch r[0][0] {
		case 20: // ChangeCipherSpec: in TLS 1.2 what follows is encrypted
			if tr.state.Version < tls.VersionTLS13 {
				return messages(t, plain)
			}
		case 22:
			plain = append(plain, r[1]...)
		case 23:
			if aead == nil {
				aead, iv = handshakeAEAD(t, tr)
			}
			nonce := bytes.Clone(iv)
			for i := range 8 {
				nonce[len(nonce)-1-i] ^= byte(seq >> (8 * i))
			}
			seq++
			pt, err := aead.Open(nil, nonce, r[1], r[0])
			if err != nil { // application data: the handshake keys are done
				return messages(t, plain)
			}
			pt = bytes.TrimRight(pt, "\x00")
			if pt[len(pt)-1] == 22 {
				plain = append(plain, pt[:len(pt)-1]...)
			}
		}
	}
	return messages(t, plain)
}

// handshakeAEAD derives the server's handshake key and IV (RFC 8446 §7.3)
// from the key log.
func handshakeAEAD(t *testing.T, tr transcript) (cipher.AEAD, []byte) {
	t.Helper()
	var secret []byte
	for _, line := range strings.Split(tr.keyLog, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "SERVER_HANDSHAKE_TRAFFIC_SECRET" {
			var err error
			secret, err = hex.DecodeString(f[2])
			require.NoError(t, err)
		}
	}
	require.NotNil(t, secret, "no SERVER_HANDSHAKE_TRAFFIC_SECRET in the key log")
	h, keyLen := sha256.New, 16
	switch tr.state.CipherSuite {
	case tls.TLS_AES_256_GCM_SHA384:
		h, keyLen = sha512.New384, 32
	case tls.TLS_CHACHA20_POLY1305_SHA256:
		keyLen = 32
	}
	key, iv := expandLabel(t, h, secret, "key", keyLen), expandLabel(t, h, secret, "iv", 12)
	if tr.state.CipherSuite == tls.TLS_CHACHA20_POLY1305_SHA256 {
		aead, err := chacha20poly1305.New(key)
		require.NoError(t, err)
		return aead, iv
	}
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	aead, err := cipher.NewGCM(block)
	require.NoError(t, err)
	return aead, iv
}

func expandLabel(t *testing.T, h func() hash.Hash, secret []byte, label string, n int) []byte {
	t.Helper()
	full := "tls13 " + label
	info := append([]byte{byte(n >> 8), byte(n), byte(len(full))}, full...)
	info = append(info, 0) // empty context
	out, err := hkdf.Expand(h, secret, string(info), n)
	require.NoError(t, err)
	return out
}

// certificateRequest finds the CertificateRequest (type 13).
func certificateRequest(t *testing.T, msgs [][]byte) []byte {
	t.Helper()
	for _, m := range msgs {
		if m[0] == 13 {
			return m
		}
	}
	var types []string
	for _, m := range msgs {
		types = append(types, fmt.Sprint(m[0]))
	}
	t.Fatalf("no CertificateRequest among the server's handshake messages (types %s)", strings.Join(types, ", "))
	return nil
}
