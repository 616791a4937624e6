package awsapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/pki/pkitest"
)

// selfSigned makes a server certificate for localhost and its key, PEM.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte, serial *big.Int) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial = big.NewInt(time.Now().UnixNano())
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), serial
}

// TestReimportedCertificateIsServed: ImportCertificate onto the ARN a
// listener uses (ACM's rotation of an imported certificate) changes the
// certificate the listener presents, as on ALB.
func TestReimportedCertificateIsServed(t *testing.T) {
	ctx := context.Background()
	dir := pkitest.Dir(t)
	read := func(p string) []byte { b, err := os.ReadFile(filepath.Join(dir, p)); require.NoError(t, err); return b }
	api := startAPI(t, "")
	defer api.Shutdown(ctx)
	cfg := sdkConfig(api)
	certs, lbs := acm.NewFromConfig(cfg), elb.NewFromConfig(cfg)

	imp, err := certs.ImportCertificate(ctx, &acm.ImportCertificateInput{
		Certificate: read("server/server.pem"), PrivateKey: read("server/server-key.pem"), CertificateChain: read("ca/intermediate.pem")})
	require.NoError(t, err)
	lb, err := lbs.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("rotate")})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	_, err = lbs.CreateListener(ctx, &elb.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: types.ProtocolEnumHttps, Port: aws.Int32(int32(port)),
		Certificates:   []types.Certificate{{CertificateArn: imp.CertificateArn}},
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200")}}},
	})
	require.NoError(t, err)
	served := func() *big.Int {
		c, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port), &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
		require.NoError(t, err)
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber
	}
	first, _ := pem.Decode(read("server/server.pem"))
	want, err := x509.ParseCertificate(first.Bytes)
	require.NoError(t, err)
	assert.Equal(t, want.SerialNumber, served())

	certPEM, keyPEM, serial := selfSigned(t)
	_, err = certs.ImportCertificate(ctx, &acm.ImportCertificateInput{CertificateArn: imp.CertificateArn, Certificate: certPEM, PrivateKey: keyPEM})
	require.NoError(t, err)
	assert.Equal(t, serial, served(), "the listener presents the re-imported certificate")
}
