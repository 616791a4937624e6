package acm_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	acmsdk "github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/awsapi/acm"
)

const (
	region  = "us-east-1"
	account = "123456789012"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Millisecond)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a Service behind a real HTTP server on 127.0.0.1 and the AWS
// SDK for Go v2's ACM client pointed at it.
type fixture struct {
	svc    *acm.Service
	client *acmsdk.Client
	url    string
	clock  *clock
}

func newFixture(t testing.TB, opts acm.Options) *fixture {
	t.Helper()
	c := newClock()
	if opts.Now == nil {
		opts.Now = c.Now
	}
	opts.Region, opts.AccountID = region, account
	svc := acm.New(opts)
	srv := httptest.NewServer(svc) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	client := acmsdk.New(acmsdk.Options{
		Region:           region,
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:       srv.Client(),
		RetryMaxAttempts: 1,
	})
	return &fixture{svc: svc, client: client, url: srv.URL, clock: c}
}

// material is a certificate, its key and chain, all PEM.
type material struct {
	cert, key, chain []byte
	x509             *x509.Certificate
}

func (f *fixture) importMaterial(t testing.TB, m material) string {
	t.Helper()
	out, err := f.client.ImportCertificate(context.Background(), &acmsdk.ImportCertificateInput{
		Certificate: m.cert, PrivateKey: m.key, CertificateChain: m.chain,
	})
	require.NoError(t, err)
	return aws.ToString(out.CertificateArn)
}

// selfSigned makes a self-signed certificate for key, after edit changes
// the template (names, validity, extensions).
func selfSigned(t *testing.T, key crypto.Signer, edit func(*x509.Certificate)) material {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(0x0fe17a),
		Subject:      pkix.Name{CommonName: "self.example.com", Organization: []string{"albmtls test"}},
		DNSNames:     []string{"self.example.com", "www.self.example.com"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if edit != nil {
		edit(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return material{
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}),
		x509: c,
	}
}

func ecKey(t *testing.T, curve elliptic.Curve) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	require.NoError(t, err)
	return k
}

var (
	rsaKeysMu sync.Mutex
	rsaKeys   = map[int]*rsa.PrivateKey{}
)

// rsaKey is one RSA key per size for the whole test process: generating
// 4096-bit keys is slow.
func rsaKey(t *testing.T, bits int) crypto.Signer {
	t.Helper()
	rsaKeysMu.Lock()
	defer rsaKeysMu.Unlock()
	if k := rsaKeys[bits]; k != nil {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	require.NoError(t, err)
	rsaKeys[bits] = k
	return k
}

func ed25519Key(t *testing.T) crypto.Signer {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return k
}

// requireAPIError asserts err is the SDK's typed exception *T and returns it.
func requireAPIError[T error](t *testing.T, err error) T {
	t.Helper()
	require.Error(t, err)
	var target T
	require.Truef(t, errors.As(err, &target), "want %T, got %T: %v", target, err, err)
	return target
}

// apiCode is the error code of an SDK error, for codes without a typed
// exception.
func apiCode(t *testing.T, err error) (string, string) {
	t.Helper()
	var ae smithy.APIError
	require.Truef(t, errors.As(err, &ae), "want an API error, got %T: %v", err, err)
	return ae.ErrorCode(), ae.ErrorMessage()
}
