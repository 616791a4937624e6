package listener_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/sslpolicy"
	"github.com/albmtls/albmtls/emulator/truststore"
	"github.com/albmtls/albmtls/emulator/verify"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// otherCertificate is a self-signed server certificate for another name,
// listed first so that the SNI match must pick the second.
func otherCertificate(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "other.example"}, DNSNames: []string{"other.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// recordListener is an HTTPS listener with two certificates (the PKI's
// server certificate second) whose accepted connections arrive on the
// returned channel, and whose records arrive on conns.
func recordListener(t *testing.T, mode listener.Mode, reject listener.RejectWith, order bool) (*listener.Listener, *pki.Set, func(listener.Mode) *listener.TLSSettings, <-chan net.Conn, <-chan *listener.Conn) {
	t.Helper()
	dir := pkitest.Dir(t)
	set, err := pki.Load(dir)
	require.NoError(t, err)
	st, err := truststore.Load(truststore.Spec{Name: "ts", BundleFile: filepath.Join(dir, "ca", "bundle.pem")})
	require.NoError(t, err)
	p, err := sslpolicy.Lookup("ELBSecurityPolicy-TLS13-1-2-2021-06")
	require.NoError(t, err)
	v := verify.New(func() *truststore.Store { return st }, verify.Options{})
	settings := func(m listener.Mode) *listener.TLSSettings {
		cfg := &tls.Config{Certificates: []tls.Certificate{otherCertificate(t), set.Server.TLSCertificate()}}
		p.Apply(cfg)
		return &listener.TLSSettings{Config: cfg, Mode: m, Verifier: v}
	}
	conns := make(chan *listener.Conn, 4)
	l, err := listener.Listen("127.0.0.1:0", listener.Config{
		Protocol: "HTTPS", TLS: settings(mode), RejectWith: reject, HandshakeTimeout: 20 * time.Second,
		OnConnection: func(c *listener.Conn) { conns <- c }, RecordHeaderOrder: order,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close(); l.Wait() })
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	return l, set, settings, accepted, conns
}

func acceptedConn(t *testing.T, accepted <-chan net.Conn) net.Conn {
	t.Helper()
	select {
	case c := <-accepted:
		t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(20 * time.Second):
		t.Fatal("the listener accepted no connection")
		return nil
	}
}

// TestLookupFindsTheRecord: the record of an accepted connection is found
// from the connection Accept returned, whatever wraps it (the held
// flights of RejectReset, the header-order recorder, neither), carries the
// certificate the SNI name chose, and is gone after Forget; a connection
// the listener did not make has none.
func TestLookupFindsTheRecord(t *testing.T) {
	for _, tt := range []struct {
		name   string
		mode   listener.Mode
		reject listener.RejectWith
		order  bool
	}{
		{"verify, reset, header order recorded", listener.ModeVerify, listener.RejectReset, true},
		{"verify, alert", listener.ModeVerify, listener.RejectAlert, false},
		{"passthrough", listener.ModePassthrough, listener.RejectReset, false},
		{"off, header order recorded", listener.ModeOff, listener.RejectReset, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, set, _, accepted, conns := recordListener(t, tt.mode, tt.reject, tt.order)
			tr := dial(t, l.Addr().String(), set, tls.VersionTLS13, nil)
			require.NoError(t, tr.err)
			rec := connRecord(t, conns)
			c := acceptedConn(t, accepted)
			assert.Same(t, rec, l.Lookup(c))
			assert.Equal(t, tt.mode, rec.Mode)
			assert.Equal(t, 1, rec.CertificateIndex, "localhost matches the second certificate")
			assert.Equal(t, tt.order, rec.HeaderOrder != nil)
			if tt.mode == listener.ModeOff {
				assert.Nil(t, rec.Leaf, "no client certificate is requested with mTLS off")
			} else {
				assert.NotNil(t, rec.Leaf)
			}
			l.Forget(c)
			assert.Nil(t, l.Lookup(c), "after Forget")
			a, b := net.Pipe()
			defer a.Close()
			defer b.Close()
			assert.Nil(t, l.Lookup(a), "a connection the listener did not make")
		})
	}
}

// TestSetTLSAppliesToTheNextHandshake: the TLS configuration prepared from
// one TLSSettings is rebuilt when SetTLS replaces them, so the next
// handshake runs under the new mode, and back.
func TestSetTLSAppliesToTheNextHandshake(t *testing.T) {
	l, set, settings, accepted, conns := recordListener(t, listener.ModeVerify, listener.RejectAlert, false)
	for i, mode := range []listener.Mode{listener.ModeVerify, listener.ModeOff, listener.ModeVerify, listener.ModePassthrough} {
		if i > 0 {
			l.SetTLS(settings(mode))
		}
		tr := dial(t, l.Addr().String(), set, tls.VersionTLS13, nil)
		require.NoError(t, tr.err, "%s", mode)
		rec := connRecord(t, conns)
		acceptedConn(t, accepted)
		assert.Equal(t, mode, rec.Mode, "handshake %d", i+1)
		assert.Equal(t, mode != listener.ModeOff, tr.info != nil, "handshake %d (%s): a client certificate is requested unless mTLS is off", i+1, mode)
		if mode == listener.ModeVerify {
			require.NotNil(t, rec.Verify, "handshake %d", i+1)
			assert.Equal(t, verify.Success, rec.Verify.Code)
		} else {
			assert.Nil(t, rec.Verify, "handshake %d (%s)", i+1, mode)
		}
	}
}
