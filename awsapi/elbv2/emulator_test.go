package elbv2_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/awsapi/elbv2"
	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/verify"
	"github.com/albmtls/albmtls/pki"
)

// fleet is a minimal stand-in for the lead's fleet: every Apply checks each
// config as `albmtls serve --check` does, then replaces the running
// emulator of each load balancer with one built from the new config.
type fleet struct {
	mu      sync.Mutex
	servers map[string]*emulator.Server
	codes   []verify.Code // tls_verify_status codes of HTTPS connections, in log order
}

func (fl *fleet) onConnection(ev emulator.ConnectionEvent) {
	if ev.Code == "" {
		return
	}
	fl.mu.Lock()
	fl.codes = append(fl.codes, ev.Code)
	fl.mu.Unlock()
}

// waitCode waits until the connection log's latest entry has a code and
// returns it, clearing the record.
func (fl *fleet) waitCode(t *testing.T, n int) []verify.Code {
	t.Helper()
	var got []verify.Code
	require.Eventually(t, func() bool {
		fl.mu.Lock()
		defer fl.mu.Unlock()
		if len(fl.codes) < n {
			return false
		}
		got, fl.codes = fl.codes, nil
		return true
	}, 10*time.Second, 5*time.Millisecond, "waiting for %d connection log entries", n)
	return got
}

func (fl *fleet) apply(ctx context.Context, lbs []elbv2.LoadBalancer) error {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	for _, lb := range lbs {
		if len(lb.Config.Listeners) == 0 {
			continue
		}
		if errs := emulator.Check(lb.Config, nil, emulator.Options{}); len(errs) > 0 {
			return errs
		}
	}
	for arn, s := range fl.servers {
		_ = s.Shutdown(ctx)
		delete(fl.servers, arn)
	}
	for _, lb := range lbs {
		if len(lb.Config.Listeners) == 0 {
			continue
		}
		s, err := emulator.New(lb.Config, emulator.Options{OnConnection: fl.onConnection})
		if err != nil {
			return err
		}
		if err := s.Start(ctx); err != nil {
			return err
		}
		// Requests sent before the first health checks would see only the
		// targets already healthy (as on ALB, which also waits).
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = s.WaitReady(wctx)
		cancel()
		if err != nil {
			return err
		}
		fl.servers[lb.ARN] = s
	}
	return nil
}

func (fl *fleet) url(t *testing.T, lbARN, protocol string) string {
	t.Helper()
	fl.mu.Lock()
	defer fl.mu.Unlock()
	s := fl.servers[lbARN]
	require.NotNil(t, s, "no server runs for %s", lbARN)
	for _, l := range s.Listeners() {
		if l.Protocol == protocol {
			return l.URL()
		}
	}
	t.Fatalf("no %s listener runs", protocol)
	return ""
}

func (fl *fleet) close() {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	for _, s := range fl.servers {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.Shutdown(ctx)
		cancel()
	}
}

// The compiled configs are ones the emulator accepts and serves: the story
// over real TLS, a revocation taking effect, passthrough and back.
func TestCompiledConfigsServeRealTLS(t *testing.T) {
	fl := &fleet{servers: map[string]*emulator.Server{}}
	t.Cleanup(fl.close)
	f := newFixture(t, func(o *elbv2.Options) {
		o.Apply = fl.apply
		o.ListenAddress = func(int) string { return "127.0.0.1:0" } // a free port each
	})
	ctx := context.Background()
	c := f.client
	r := setUpStory(t, f)

	var backends []string
	for i := 1; i <= 2; i++ {
		name := fmt.Sprintf("backend-%d", i)
		b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, name) }))
		t.Cleanup(b.Close)
		_, port, _ := net.SplitHostPort(b.Listener.Addr().String())
		p, _ := strconv.Atoi(port)
		_, err := c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(r.tg),
			Targets: []types.TargetDescription{{Id: aws.String("127.0.0.1"), Port: aws.Int32(int32(p))}}})
		require.NoError(t, err)
		backends = append(backends, name)
	}
	_, err := c.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(r.tg), Targets: []types.TargetDescription{
		{Id: aws.String("127.0.0.1"), Port: aws.Int32(9001)}, {Id: aws.String("127.0.0.1"), Port: aws.Int32(9002)}}})
	require.NoError(t, err)

	roots := x509.NewCertPool()
	roots.AddCert(f.pki.root.Cert)
	get := func(client *pki.Leaf) (string, error) {
		tc := &tls.Config{RootCAs: roots, ServerName: "localhost"}
		if client != nil {
			tc.Certificates = []tls.Certificate{client.TLSCertificate()}
		}
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true}}
		resp, err := hc.Get(fl.url(t, r.lb, "HTTPS") + "/")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return "", fmt.Errorf("status %d: %s", resp.StatusCode, b)
		}
		return string(b), nil
	}

	seen := map[string]bool{}
	for range 4 {
		body, err := get(f.pki.good)
		require.NoError(t, err, "a trusted client certificate in verify mode")
		seen[body] = true
	}
	for _, b := range backends {
		assert.True(t, seen[b], "both targets answer in turn; saw %v", seen)
	}
	_, err = get(f.pki.revoked)
	require.NoError(t, err, "not revoked yet")
	_, err = get(pkiLeafOf(t, f))
	assert.Error(t, err, "a client of a CA outside the trust store is refused")
	codes := fl.waitCode(t, 6)
	assert.ElementsMatch(t, []verify.Code{"Success", "Success", "Success", "Success", "Success", verify.ClientCertUntrusted}, codes,
		"five verified connections, one untrusted (log order may differ)")

	_, err = c.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: aws.String(r.ts),
		RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("pki"), S3Key: aws.String("crl-1.pem")}}})
	require.NoError(t, err)
	_, err = get(f.pki.revoked)
	assert.Error(t, err, "the revoked client is refused after AddTrustStoreRevocations")
	assert.Equal(t, []verify.Code{verify.ClientCertCrlHit}, fl.waitCode(t, 1))
	_, err = get(f.pki.good)
	assert.NoError(t, err)

	_, err = c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(r.https),
		MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("passthrough")}})
	require.NoError(t, err)
	_, err = get(f.pki.revoked)
	assert.NoError(t, err, "passthrough does not check revocation")
	_, err = c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(r.https),
		MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("verify"), TrustStoreArn: aws.String(r.ts)}})
	require.NoError(t, err)
	_, err = get(f.pki.revoked)
	assert.Error(t, err, "verify again, with the CRL")

	// The HTTP listener redirects to HTTPS on the ALB port.
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(fl.url(t, r.lb, "HTTP") + "/path?q=1")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Location"), "https://")
	assert.Contains(t, resp.Header.Get("Location"), ":443/path?q=1")
}

// pkiLeafOf issues a client certificate from the CA outside the bundle.
func pkiLeafOf(t *testing.T, f *fixture) *pki.Leaf {
	t.Helper()
	l, err := f.pki.other.Issue(pki.LeafRequest{Subject: pki.Name{CommonName: "stranger"}})
	require.NoError(t, err)
	return l
}
