package elbv2_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/awsapi/elbv2"
	"github.com/albmtls/albmtls/emulator/truststore"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// Each ELBv2 error code reaches the SDK as its typed exception.
func TestErrorCodesAsSDKExceptions(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	c := f.client
	r := setUpStory(t, f)
	const missingLB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/nope/0000000000000000"
	const missingTS = "arn:aws:elasticloadbalancing:us-east-1:123456789012:truststore/nope/0000000000000000"
	const missingTG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/nope/0000000000000000"
	forward := []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(r.tg)}}

	t.Run("ValidationError", func(t *testing.T) {
		_, err := c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("-bad-")})
		assert.Equal(t, "ValidationError", code(t, err))
		assert.ErrorContains(t, err, "Name")
		_, err = c.ModifyLoadBalancerAttributes(ctx, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(r.lb),
			Attributes: []types.LoadBalancerAttribute{{Key: aws.String("no.such.attribute"), Value: aws.String("1")}}})
		assert.Equal(t, "ValidationError", code(t, err))
		assert.ErrorContains(t, err, "no.such.attribute")
		_, err = c.ModifyListenerAttributes(ctx, &elb.ModifyListenerAttributesInput{ListenerArn: aws.String(r.https),
			Attributes: []types.ListenerAttribute{{Key: aws.String("routing.http.request.x_amzn_mtls_clientcert.header_name"), Value: aws.String("bad name")}}})
		assert.Equal(t, "ValidationError", code(t, err), "the config package refuses a header name with a space")
	})
	t.Run("LoadBalancerNotFound", func(t *testing.T) {
		_, err := c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{missingLB}})
		var e *types.LoadBalancerNotFoundException
		assert.True(t, errors.As(err, &e), "%v", err)
	})
	t.Run("DuplicateLoadBalancerName", func(t *testing.T) {
		_, err := c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("story-alb")})
		var e *types.DuplicateLoadBalancerNameException
		assert.True(t, errors.As(err, &e), "%v", err)
	})
	t.Run("DuplicateTargetGroupName", func(t *testing.T) {
		_, err := c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("web"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80)})
		var e *types.DuplicateTargetGroupNameException
		assert.True(t, errors.As(err, &e), "%v", err)
	})
	t.Run("TargetGroupNotFound", func(t *testing.T) {
		_, err := c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(r.lb), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(8081),
			DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(missingTG)}}})
		var e *types.TargetGroupNotFoundException
		assert.True(t, errors.As(err, &e), "%v", err)
	})
	t.Run("ListenerNotFound", func(t *testing.T) {
		_, err := c.DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: aws.String(r.https + "0")})
		var e *types.ListenerNotFoundException
		assert.True(t, errors.As(err, &e), "%v", err)
	})
	t.Run("DuplicateListener", func(t *testing.T) {
		_, err := c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(r.lb), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), DefaultActions: forward})
		var e *types.DuplicateListenerException
		assert.True(t, errors.As(err, &e), "%v", err)
	})
	t.Run("CertificateNotFound", func(t *testing.T) {
		_, err := c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(r.lb), Protocol: types.ProtocolEnumHttps, Port: aws.Int32(8444),
			Certificates: []types.Certificate{{CertificateArn: aws.String(certARN + "0")}}, DefaultActions: forward})
		var e *types.CertificateNotFoundException
		assert.True(t, errors.As(err, &e), "%v", err)
	})
	t.Run("SSLPolicyNotFound", func(t *testing.T) {
		_, err := c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(r.https), SslPolicy: aws.String("ELBSecurityPolicy-Nope")})
		var e *types.SSLPolicyNotFoundException
		assert.True(t, errors.As(err, &e), "%v", err)
	})
	t.Run("UnsupportedProtocol", func(t *testing.T) {
		_, err := c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(r.lb), Protocol: types.ProtocolEnumTcp, Port: aws.Int32(9999), DefaultActions: forward})
		var e *types.UnsupportedProtocolException
		assert.True(t, errors.As(err, &e), "%v", err)
	})
	t.Run("TrustStoreNotFound", func(t *testing.T) {
		_, err := c.DescribeTrustStores(ctx, &elb.DescribeTrustStoresInput{TrustStoreArns: []string{missingTS}})
		var e *types.TrustStoreNotFoundException
		assert.True(t, errors.As(err, &e), "%v", err)
		_, err = c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(r.https),
			MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("verify"), TrustStoreArn: aws.String(missingTS)}})
		assert.True(t, errors.As(err, &e), "%v", err)
	})
	t.Run("DuplicateTrustStoreName", func(t *testing.T) {
		_, err := c.CreateTrustStore(ctx, &elb.CreateTrustStoreInput{Name: aws.String("story-ts"),
			CaCertificatesBundleS3Bucket: aws.String("pki"), CaCertificatesBundleS3Key: aws.String("bundle.pem")})
		var e *types.DuplicateTrustStoreNameException
		assert.True(t, errors.As(err, &e), "%v", err)
	})
	t.Run("TrustStoreInUse", func(t *testing.T) {
		_, err := c.DeleteTrustStore(ctx, &elb.DeleteTrustStoreInput{TrustStoreArn: aws.String(r.ts)})
		var e *types.TrustStoreInUseException
		assert.True(t, errors.As(err, &e), "%v", err)
	})
	t.Run("ResourceInUse", func(t *testing.T) {
		_, err := c.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(r.tg)})
		var e *types.ResourceInUseException
		assert.True(t, errors.As(err, &e), "%v", err)
	})
	t.Run("InvalidTarget", func(t *testing.T) {
		_, err := c.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(r.tg),
			Targets: []types.TargetDescription{{Id: aws.String("127.0.0.1"), Port: aws.Int32(9999)}}})
		var e *types.InvalidTargetException
		assert.True(t, errors.As(err, &e), "%v", err)
	})
	t.Run("CaCertificatesBundleNotFound", func(t *testing.T) {
		_, err := c.CreateTrustStore(ctx, &elb.CreateTrustStoreInput{Name: aws.String("other"),
			CaCertificatesBundleS3Bucket: aws.String("pki"), CaCertificatesBundleS3Key: aws.String("missing.pem")})
		var e *types.CaCertificatesBundleNotFoundException
		assert.True(t, errors.As(err, &e), "%v", err)
	})
	t.Run("InvalidCaCertificatesBundle", func(t *testing.T) {
		f.objs.put("pki", "garbage.pem", []byte("not a certificate\n"))
		_, err := c.CreateTrustStore(ctx, &elb.CreateTrustStoreInput{Name: aws.String("other"),
			CaCertificatesBundleS3Bucket: aws.String("pki"), CaCertificatesBundleS3Key: aws.String("garbage.pem")})
		var e *types.InvalidCaCertificatesBundleException
		assert.True(t, errors.As(err, &e), "%v", err)
		assert.ErrorContains(t, err, "s3://pki/garbage.pem", "the message names the object")
	})
	t.Run("RevocationContentNotFound", func(t *testing.T) {
		_, err := c.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: aws.String(r.ts),
			RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("pki"), S3Key: aws.String("missing.crl")}}})
		var e *types.RevocationContentNotFoundException
		assert.True(t, errors.As(err, &e), "%v", err)
	})
	t.Run("InvalidRevocationContent", func(t *testing.T) {
		f.objs.put("pki", "crl.der", pkitest.CRL(t, f.pki.inter, f.pki.revoked))
		_, err := c.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: aws.String(r.ts),
			RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("pki"), S3Key: aws.String("crl.der")}}})
		var e *types.InvalidRevocationContentException
		assert.True(t, errors.As(err, &e), "a DER CRL (ALB takes PEM only): %v", err)
		f.objs.put("pki", "foreign.pem", pemCRL(t, pkitest.CRL(t, f.pki.other)))
		_, err = c.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: aws.String(r.ts),
			RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("pki"), S3Key: aws.String("foreign.pem")}}})
		assert.True(t, errors.As(err, &e), "a CRL of a CA outside the bundle: %v", err)
	})
	t.Run("RevocationIdNotFound", func(t *testing.T) {
		_, err := c.RemoveTrustStoreRevocations(ctx, &elb.RemoveTrustStoreRevocationsInput{TrustStoreArn: aws.String(r.ts), RevocationIds: []int64{99}})
		var e *types.RevocationIdNotFoundException
		assert.True(t, errors.As(err, &e), "%v", err)
		_, err = c.GetTrustStoreRevocationContent(ctx, &elb.GetTrustStoreRevocationContentInput{TrustStoreArn: aws.String(r.ts), RevocationId: aws.Int64(99)})
		assert.True(t, errors.As(err, &e), "%v", err)
	})
	t.Run("TooManyTrustStoreRevocationEntries", func(t *testing.T) {
		// The 30-lists quota (alb-behaviour §1.2) is answered with this code.
		for i := 1; i <= 30; i++ {
			_, err := c.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: aws.String(r.ts),
				RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("pki"), S3Key: aws.String("crl-1.pem")}}})
			require.NoError(t, err, "list %d", i)
		}
		_, err := c.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: aws.String(r.ts),
			RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("pki"), S3Key: aws.String("crl-1.pem")}}})
		var e *types.TooManyTrustStoreRevocationEntriesException
		assert.True(t, errors.As(err, &e), "%v", err)
		desc, err := c.DescribeTrustStoreRevocations(ctx, &elb.DescribeTrustStoreRevocationsInput{TrustStoreArn: aws.String(r.ts)})
		require.NoError(t, err)
		assert.Len(t, desc.TrustStoreRevocations, 30, "the refused list was not added")
	})
	t.Run("TooManyTrustStores", func(t *testing.T) {
		out, err := c.DescribeTrustStores(ctx, &elb.DescribeTrustStoresInput{})
		require.NoError(t, err)
		for i := len(out.TrustStores); i < 20; i++ {
			_, err := c.CreateTrustStore(ctx, &elb.CreateTrustStoreInput{Name: aws.String(fmt.Sprintf("ts-%d", i)),
				CaCertificatesBundleS3Bucket: aws.String("pki"), CaCertificatesBundleS3Key: aws.String("bundle.pem")})
			require.NoError(t, err)
		}
		_, err = c.CreateTrustStore(ctx, &elb.CreateTrustStoreInput{Name: aws.String("one-too-many"),
			CaCertificatesBundleS3Bucket: aws.String("pki"), CaCertificatesBundleS3Key: aws.String("bundle.pem")})
		var e *types.TooManyTrustStoresException
		assert.True(t, errors.As(err, &e), "%v", err)
	})
	t.Run("InvalidConfigurationRequest: two load balancers would bind one address", func(t *testing.T) {
		lb2, err := c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("second")})
		require.NoError(t, err)
		_, err = c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lb2.LoadBalancers[0].LoadBalancerArn, Protocol: types.ProtocolEnumHttp,
			Port: aws.Int32(80), DefaultActions: forward})
		assert.Equal(t, "InvalidConfigurationRequest", code(t, err))
		assert.ErrorContains(t, err, "127.0.0.1:10080")
	})
}

func pemCRL(t *testing.T, der []byte) []byte {
	t.Helper()
	return []byte("-----BEGIN X509 CRL-----\n" + wrap64(der) + "-----END X509 CRL-----\n")
}

// A refused change changes nothing: the model, and what was applied.
func TestRefusedChangeChangesNothing(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	c := f.client
	r := setUpStory(t, f)
	applied := len(f.rec.calls)

	f.objs.put("pki", "garbage.pem", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	_, err := c.ModifyTrustStore(ctx, &elb.ModifyTrustStoreInput{TrustStoreArn: aws.String(r.ts),
		CaCertificatesBundleS3Bucket: aws.String("pki"), CaCertificatesBundleS3Key: aws.String("garbage.pem")})
	assert.Equal(t, "InvalidCaCertificatesBundle", code(t, err))
	assert.Equal(t, applied, len(f.rec.calls), "nothing applied")

	// A bundle without the CA of a loaded CRL is refused too: the CRL would lose its issuer.
	_, err = c.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: aws.String(r.ts),
		RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("pki"), S3Key: aws.String("crl-1.pem")}}})
	require.NoError(t, err)
	applied = len(f.rec.calls)
	f.objs.put("pki", "root-only.pem", f.pki.root.CertPEM)
	_, err = c.ModifyTrustStore(ctx, &elb.ModifyTrustStoreInput{TrustStoreArn: aws.String(r.ts),
		CaCertificatesBundleS3Bucket: aws.String("pki"), CaCertificatesBundleS3Key: aws.String("root-only.pem")})
	assert.Equal(t, "InvalidRevocationContent", code(t, err))
	assert.Equal(t, applied, len(f.rec.calls))
	ts, err := c.DescribeTrustStores(ctx, &elb.DescribeTrustStoresInput{TrustStoreArns: []string{r.ts}})
	require.NoError(t, err)
	assert.Equal(t, int32(2), aws.ToInt32(ts.TrustStores[0].NumberOfCaCertificates), "the old bundle still serves")

	// An Apply failure rolls the call back.
	f.rec.fail = errors.New("bind 127.0.0.1:9443: address already in use")
	_, err = c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(r.lb), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(1443),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200")}}}})
	assert.Equal(t, "InvalidConfigurationRequest", code(t, err))
	assert.ErrorContains(t, err, "address already in use")
	f.rec.fail = nil
	ls, err := c.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(r.lb)})
	require.NoError(t, err)
	assert.Len(t, ls.Listeners, 2, "the listener was not created")
}

// Requests the SDK cannot send: an unknown action, a wrong version, a bad
// method, and the shape WriteError writes for the lead's dispatcher.
func TestRawQueryProtocol(t *testing.T) {
	f := newFixture(t, nil)
	srv := httptest.NewServer(f.svc)
	defer srv.Close()
	post := func(form url.Values) (int, string) {
		resp, err := http.PostForm(srv.URL, form)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	st, body := post(url.Values{"Action": {"CreateRule"}, "Version": {"2015-12-01"}})
	assert.Equal(t, 400, st)
	assert.Contains(t, body, "<Type>Sender</Type><Code>InvalidAction</Code>")
	assert.Contains(t, body, `<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">`)
	assert.Regexp(t, `<RequestId>[0-9a-f-]{36}</RequestId></ErrorResponse>`, body)
	st, body = post(url.Values{"Action": {"DescribeLoadBalancers"}, "Version": {"2012-06-01"}})
	assert.Equal(t, 400, st)
	assert.Contains(t, body, "<Code>ValidationError</Code>")
	st, body = post(url.Values{"Action": {"DescribeLoadBalancers"}, "Version": {"2015-12-01"}})
	assert.Equal(t, 200, st)
	assert.Contains(t, body, "<DescribeLoadBalancersResponse xmlns=")
	assert.Contains(t, body, "<DescribeLoadBalancersResult><LoadBalancers></LoadBalancers></DescribeLoadBalancersResult>")
	st, body = post(url.Values{"Action": {"DeleteListener"}, "Version": {"2015-12-01"}})
	assert.Equal(t, 400, st)
	assert.Contains(t, body, "ListenerArn", "the error names the missing parameter")

	resp, err := http.Get(srv.URL + "/?Action=DescribeSSLPolicies&Version=2015-12-01&Names.member.1=ELBSecurityPolicy-2016-08")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode, "GET with a query string works too")
	assert.Contains(t, string(b), "<Name>ELBSecurityPolicy-2016-08</Name>")

	req, _ := http.NewRequest(http.MethodPut, srv.URL, strings.NewReader(""))
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	// A body over the dispatcher's limit (http.MaxBytesReader) is refused.
	limited := httptest.NewServer(http.MaxBytesHandler(f.svc, 1024))
	defer limited.Close()
	resp, err = http.PostForm(limited.URL, url.Values{"Action": {"DescribeLoadBalancers"}, "Version": {"2015-12-01"}, "Pad": {strings.Repeat("x", 4096)}})
	require.NoError(t, err)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Contains(t, string(b), "exceeds 1024 bytes")

	rec := httptest.NewRecorder()
	elbv2.WriteError(rec, 403, "InvalidClientTokenId", "The security token included in the request is invalid.")
	assert.Equal(t, 403, rec.Code)
	assert.Contains(t, rec.Body.String(), "<Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message>")
}

// The adjustable trust store quotas, lowered, give ALB's codes: revocation
// entries (TooManyTrustStoreRevocationEntries), CA certificates
// (InvalidCaCertificatesBundle, inferred) and trust stores.
func TestTrustStoreQuotas(t *testing.T) {
	f := newFixture(t, func(o *elbv2.Options) {
		o.Limits = truststore.Limits{MaxRevocationEntries: 2, MaxCACertificates: 2}
		o.MaxTrustStores = 1
	})
	ctx := context.Background()
	c := f.client
	ts, err := c.CreateTrustStore(ctx, &elb.CreateTrustStoreInput{Name: aws.String("q"),
		CaCertificatesBundleS3Bucket: aws.String("pki"), CaCertificatesBundleS3Key: aws.String("bundle.pem")})
	require.NoError(t, err)
	arn := ts.TrustStores[0].TrustStoreArn
	add := func(key string) error {
		_, err := c.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: arn,
			RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("pki"), S3Key: aws.String(key)}}})
		return err
	}
	require.NoError(t, add("crl-1.pem"), "1 entry of 2")
	err = add("crl-2.pem")
	var tooMany *types.TooManyTrustStoreRevocationEntriesException
	assert.ErrorAs(t, err, &tooMany, "1 + 2 entries exceed 2")
	require.NoError(t, add("crl-1.pem"), "1 + 1 entries fit")

	f.objs.put("pki", "three.pem", append(append([]byte(nil), f.pki.bundle...), f.pki.other.CertPEM...))
	_, err = c.ModifyTrustStore(ctx, &elb.ModifyTrustStoreInput{TrustStoreArn: arn,
		CaCertificatesBundleS3Bucket: aws.String("pki"), CaCertificatesBundleS3Key: aws.String("three.pem")})
	var badBundle *types.InvalidCaCertificatesBundleException
	assert.ErrorAs(t, err, &badBundle, "3 CAs exceed 2")

	_, err = c.CreateTrustStore(ctx, &elb.CreateTrustStoreInput{Name: aws.String("second"),
		CaCertificatesBundleS3Bucket: aws.String("pki"), CaCertificatesBundleS3Key: aws.String("bundle.pem")})
	var tooManyStores *types.TooManyTrustStoresException
	assert.ErrorAs(t, err, &tooManyStores)
}
