package elbv2_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/awsapi/elbv2"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

var errNoSuchKey = errors.New("NoSuchKey: the object does not exist")

// objects is an in-memory S3: bucket/key[/version] → bytes.
type objects struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (o *objects) put(bucket, key string, data []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = map[string][]byte{}
	}
	o.m[bucket+"/"+key] = data
}

func (o *objects) GetObject(_ context.Context, bucket, key, version string) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	id := bucket + "/" + key
	if version != "" {
		id += "?" + version
	}
	d, ok := o.m[id]
	if !ok {
		return nil, fmt.Errorf("s3://%s/%s: %w", bucket, key, errNoSuchKey)
	}
	return d, nil
}

// recorder keeps every Apply call's configs.
type recorder struct {
	mu    sync.Mutex
	calls [][]elbv2.LoadBalancer
	fail  error
}

func (r *recorder) apply(_ context.Context, lbs []elbv2.LoadBalancer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.calls = append(r.calls, lbs)
	return nil
}

func (r *recorder) last() []elbv2.LoadBalancer {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.calls) == 0 {
		return nil
	}
	return r.calls[len(r.calls)-1]
}

// fixture is a running service, its fakes and an SDK client.
type fixture struct {
	svc      *elbv2.Service
	objs     *objects
	rec      *recorder
	client   *elb.Client
	certs    map[string]elbv2.Certificate
	pki      fixturePKI
	changes  int
	changeMu sync.Mutex
}

type fixturePKI struct {
	root, inter   *pki.CA
	server        *pki.Leaf
	good, revoked *pki.Leaf
	other         *pki.CA // not in the bundle
	bundle        []byte  // root + intermediate PEM
	crl, crl2     []byte  // PEM CRLs of the intermediate: revoked; revoked + good
	certARN       string
}

const certARN = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-4333-8444-555555555555"

func newPKI(t testing.TB) fixturePKI {
	root := pkitest.NewCA(t, pkitest.WithCommonName("story Root CA"))
	inter := pkitest.Intermediate(t, root, pkitest.WithCommonName("story Issuing CA"))
	p := fixturePKI{root: root, inter: inter, server: pkitest.Server(t, inter),
		good: pkitest.Client(t, inter, "good-client"), revoked: pkitest.Client(t, inter, "revoked-client"),
		other: pkitest.NewCA(t, pkitest.WithCommonName("untrusted CA")), certARN: certARN}
	p.bundle = append(append([]byte(nil), root.CertPEM...), inter.CertPEM...)
	p.crl = pki.EncodeCRLPEM(pkitest.CRL(t, inter, p.revoked))
	p.crl2 = pki.EncodeCRLPEM(pkitest.CRL(t, inter, p.revoked, p.good))
	return p
}

func newFixture(t testing.TB, mod func(*elbv2.Options)) *fixture {
	t.Helper()
	f := &fixture{objs: &objects{}, rec: &recorder{}, pki: newPKI(t), certs: map[string]elbv2.Certificate{}}
	f.certs[certARN] = elbv2.Certificate{ARN: certARN, DomainName: "localhost", CertificatePEM: f.pki.server.CertPEM,
		ChainPEM: f.pki.inter.CertPEM, PrivateKeyPEM: f.pki.server.KeyPEM}
	opts := elbv2.Options{
		Objects:      f.objs,
		IsNotFound:   func(err error) bool { return errors.Is(err, errNoSuchKey) },
		Certificates: func(arn string) (elbv2.Certificate, bool) { c, ok := f.certs[arn]; return c, ok },
		Dir:          t.TempDir(),
		Apply:        f.rec.apply,
		OnChange: func() {
			f.changeMu.Lock()
			f.changes++
			f.changeMu.Unlock()
		},
	}
	if mod != nil {
		mod(&opts)
	}
	svc, err := elbv2.New(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })
	f.svc = svc
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	f.client = elb.New(elb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		RetryMaxAttempts: 1,
	})
	f.objs.put("pki", "bundle.pem", f.pki.bundle)
	f.objs.put("pki", "crl-1.pem", f.pki.crl)
	f.objs.put("pki", "crl-2.pem", f.pki.crl2)
	return f
}

// code returns the API error code of err ("" for nil).
func code(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	require.True(t, errors.As(err, &ae), "not an API error: %v", err)
	return ae.ErrorCode()
}

// configOf returns the compiled config of a load balancer from the last
// Apply.
func (f *fixture) configOf(t *testing.T, lbARN string) *config.Config {
	t.Helper()
	for _, lb := range f.rec.last() {
		if lb.ARN == lbARN {
			return lb.Config
		}
	}
	t.Fatalf("load balancer %s not in the last Apply", lbARN)
	return nil
}

func wrap64(der []byte) string {
	s := base64.StdEncoding.EncodeToString(der)
	var b strings.Builder
	for len(s) > 64 {
		b.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	return b.String() + s + "\n"
}
