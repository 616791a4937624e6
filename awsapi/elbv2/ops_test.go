package elbv2_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/albheader"
	"github.com/albmtls/albmtls/emulator/routing"
)

// The load balancer attributes land in the compiled config where the
// emulator reads them; Describe gives ALB's defaults for the rest.
func TestLoadBalancerAttributes(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	c := f.client
	r := setUpStory(t, f)
	d, err := c.DescribeLoadBalancerAttributes(ctx, &elb.DescribeLoadBalancerAttributesInput{LoadBalancerArn: aws.String(r.lb)})
	require.NoError(t, err)
	for k, v := range map[string]string{"idle_timeout.timeout_seconds": "60", "access_logs.s3.enabled": "false", "connection_logs.s3.enabled": "false",
		"routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false", "routing.http.xff_header_processing.mode": "append",
		"routing.http.xff_client_port.enabled": "false", "routing.http.drop_invalid_header_fields.enabled": "false",
		"deletion_protection.enabled": "false", "routing.http2.enabled": "true"} {
		assert.Equal(t, v, attrValue(d.Attributes, k), k)
	}
	set := func(kv ...string) (*elb.ModifyLoadBalancerAttributesOutput, error) {
		var as []types.LoadBalancerAttribute
		for i := 0; i < len(kv); i += 2 {
			as = append(as, types.LoadBalancerAttribute{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
		}
		return c.ModifyLoadBalancerAttributes(ctx, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(r.lb), Attributes: as})
	}
	out, err := set("access_logs.s3.enabled", "true", "access_logs.s3.bucket", "logs-bucket", "connection_logs.s3.enabled", "true",
		"routing.http.x_amzn_tls_version_and_cipher_suite.enabled", "true", "routing.http.xff_header_processing.mode", "remove",
		"idle_timeout.timeout_seconds", "300", "routing.http.preserve_host_header.enabled", "true", "deletion_protection.enabled", "true")
	require.NoError(t, err)
	assert.Equal(t, "true", attrValue(out.Attributes, "access_logs.s3.enabled"))
	assert.Equal(t, "logs-bucket", attrValue(out.Attributes, "access_logs.s3.bucket"))
	assert.Equal(t, "true", attrValue(out.Attributes, "deletion_protection.enabled"), "accepted, stored, not emulated")
	cfg := f.configOf(t, r.lb)
	assert.Equal(t, "true", cfg.LoadBalancer.Attributes[albheader.AttrTLSVersionAndCipherSuite])
	assert.Equal(t, "remove", cfg.LoadBalancer.Attributes[albheader.AttrXFFHeaderProcessingMode])
	assert.Equal(t, 300.0, cfg.LoadBalancer.IdleTimeout.D().Seconds())
	assert.Equal(t, "access.log", filepath.Base(cfg.Logs.Access.File))
	assert.Equal(t, "connection.log", filepath.Base(cfg.Logs.Connection.File))
	assert.NotEmpty(t, cfg.Logs.S3LayoutDir, "a bucket gives the S3 layout directory")
	assert.Equal(t, "true", cfg.Listeners[0].Attributes["routing.http.preserve_host_header.enabled"], "a load balancer attribute on ALB, a listener one in albmtls.yaml")

	_, err = set("access_logs.s3.enabled", "false")
	require.NoError(t, err)
	assert.Empty(t, f.configOf(t, r.lb).Logs.Access.File)
	_, err = set("routing.http.xff_header_processing.mode", "sideways")
	assert.Equal(t, "ValidationError", code(t, err))
	_, err = set("idle_timeout.timeout_seconds", "0")
	assert.Equal(t, "ValidationError", code(t, err))
	_, err = set("routing.http.xff_client_port.enabled", "yes")
	assert.Equal(t, "ValidationError", code(t, err))
}

func TestListenerChanges(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	c := f.client
	r := setUpStory(t, f)

	// A new port binds by the port rule; Describe keeps the ALB port.
	mod, err := c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(r.http), Port: aws.Int32(8000),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{
			StatusCode: aws.String("404"), ContentType: aws.String("text/plain"), MessageBody: aws.String("nothing here")}}}})
	require.NoError(t, err)
	assert.Equal(t, int32(8000), aws.ToInt32(mod.Listeners[0].Port))
	assert.Equal(t, "nothing here", aws.ToString(mod.Listeners[0].DefaultActions[0].FixedResponseConfig.MessageBody))
	cfg := f.configOf(t, r.lb)
	// Listeners compile in ALB-port order: 443, then 8000.
	assert.Equal(t, 8000, cfg.Listeners[1].Port, "port 8000 binds 127.0.0.1:8000")
	assert.Equal(t, routing.ActionFixedResponse, cfg.Listeners[1].DefaultAction.Type)

	// ForwardConfig with one target group is the same as TargetGroupArn.
	_, err = c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(r.http), DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward,
		ForwardConfig: &types.ForwardActionConfig{TargetGroups: []types.TargetGroupTuple{{TargetGroupArn: aws.String(r.tg), Weight: aws.Int32(1)}}}}}})
	require.NoError(t, err)
	assert.Equal(t, "web", f.configOf(t, r.lb).Listeners[1].DefaultAction.TargetGroup)

	// Three verify listeners exceed ALB's quota of two per load balancer.
	verify := &types.MutualAuthenticationAttributes{Mode: aws.String("verify"), TrustStoreArn: aws.String(r.ts), IgnoreClientCertificateExpiry: aws.Bool(true)}
	https := func(port int32) error {
		_, err := c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(r.lb), Protocol: types.ProtocolEnumHttps, Port: aws.Int32(port),
			Certificates: []types.Certificate{{CertificateArn: aws.String(certARN)}}, MutualAuthentication: verify,
			DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(r.tg)}}})
		return err
	}
	require.NoError(t, https(9443))
	ls, err := c.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(r.lb)})
	require.NoError(t, err)
	second := aws.ToString(ls.Listeners[2].ListenerArn)
	err = https(9444)
	assert.Equal(t, "ValidationError", code(t, err))
	assert.ErrorContains(t, err, "verify")

	la, err := c.DescribeListenerAttributes(ctx, &elb.DescribeListenerAttributesInput{ListenerArn: aws.String(r.https)})
	require.NoError(t, err)
	assert.Equal(t, "true", listenerAttrValue(la.Attributes, "routing.http.response.server.enabled"))
	_, err = c.ModifyListenerAttributes(ctx, &elb.ModifyListenerAttributesInput{ListenerArn: aws.String(r.https), Attributes: []types.ListenerAttribute{
		{Key: aws.String("routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name"), Value: aws.String("X-Serial")},
		{Key: aws.String("routing.http.response.server.enabled"), Value: aws.String("false")}}})
	require.NoError(t, err)
	attrs := f.configOf(t, r.lb).Listeners[0].Attributes
	assert.Equal(t, "X-Serial", attrs["routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name"])
	assert.Equal(t, "false", attrs["routing.http.response.server.enabled"])

	// HTTPS → HTTP drops certificates, policy and mutual authentication.
	mod, err = c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(r.https), Protocol: types.ProtocolEnumHttp})
	require.NoError(t, err)
	assert.Nil(t, mod.Listeners[0].MutualAuthentication)
	assert.Empty(t, mod.Listeners[0].Certificates)
	assert.Equal(t, []string{second}, f.svc.CertificateInUse(certARN), "only the other HTTPS listener uses the certificate now")

	_, err = c.DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: aws.String(r.https)})
	require.NoError(t, err)
	ls, err = c.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(r.lb)})
	require.NoError(t, err)
	assert.Len(t, ls.Listeners, 2)
}

func TestTrustStoreLocationsAndDeletes(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	c := f.client
	r := setUpStory(t, f)
	loc, err := c.GetTrustStoreCaCertificatesBundle(ctx, &elb.GetTrustStoreCaCertificatesBundleInput{TrustStoreArn: aws.String(r.ts)})
	require.NoError(t, err)
	assert.Regexp(t, `^http://127\.0\.0\.1:[0-9]+/pki/bundle\.pem$`, aws.ToString(loc.Location), "path style against the request's Host")
	_, err = c.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: aws.String(r.ts),
		RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("pki"), S3Key: aws.String("crl-1.pem")}}})
	require.NoError(t, err)
	rl, err := c.GetTrustStoreRevocationContent(ctx, &elb.GetTrustStoreRevocationContentInput{TrustStoreArn: aws.String(r.ts), RevocationId: aws.Int64(1)})
	require.NoError(t, err)
	assert.Regexp(t, `/pki/crl-1\.pem$`, aws.ToString(rl.Location))

	// ModifyTrustStore with a new (valid) bundle: the intermediate alone still issues the CRL.
	f.objs.put("pki", "inter.pem", f.pki.inter.CertPEM)
	mts, err := c.ModifyTrustStore(ctx, &elb.ModifyTrustStoreInput{TrustStoreArn: aws.String(r.ts),
		CaCertificatesBundleS3Bucket: aws.String("pki"), CaCertificatesBundleS3Key: aws.String("inter.pem")})
	require.NoError(t, err)
	assert.Equal(t, int32(1), aws.ToInt32(mts.TrustStores[0].NumberOfCaCertificates))

	// Deleting in the order ALB allows.
	_, err = c.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(r.lb)})
	require.NoError(t, err)
	ls, err := c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	require.NoError(t, err)
	assert.Empty(t, ls.LoadBalancers)
	th, err := c.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(r.tg)})
	require.NoError(t, err)
	assert.Equal(t, types.TargetHealthReasonEnumNotInUse, th.TargetHealthDescriptions[0].TargetHealth.Reason)
	_, err = c.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(r.tg)})
	require.NoError(t, err)
	_, err = c.DeleteTrustStore(ctx, &elb.DeleteTrustStoreInput{TrustStoreArn: aws.String(r.ts)})
	require.NoError(t, err)
	tss, err := c.DescribeTrustStores(ctx, &elb.DescribeTrustStoresInput{})
	require.NoError(t, err)
	assert.Empty(t, tss.TrustStores)
	assert.Empty(t, f.svc.LoadBalancers())
}

func TestSSLPoliciesAndTags(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	c := f.client
	r := setUpStory(t, f)
	pol, err := c.DescribeSSLPolicies(ctx, &elb.DescribeSSLPoliciesInput{Names: []string{"ELBSecurityPolicy-TLS13-1-2-2021-06"}})
	require.NoError(t, err)
	require.Len(t, pol.SslPolicies, 1)
	assert.Equal(t, []string{"TLSv1.2", "TLSv1.3"}, pol.SslPolicies[0].SslProtocols)
	assert.Equal(t, "TLS_AES_128_GCM_SHA256", aws.ToString(pol.SslPolicies[0].Ciphers[0].Name))
	assert.Equal(t, int32(1), aws.ToInt32(pol.SslPolicies[0].Ciphers[0].Priority))
	all, err := c.DescribeSSLPolicies(ctx, &elb.DescribeSSLPoliciesInput{})
	require.NoError(t, err)
	assert.Greater(t, len(all.SslPolicies), 10)

	_, err = c.AddTags(ctx, &elb.AddTagsInput{ResourceArns: []string{r.lb, r.ts}, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}})
	require.NoError(t, err)
	_, err = c.RemoveTags(ctx, &elb.RemoveTagsInput{ResourceArns: []string{r.lb}, TagKeys: []string{"team"}})
	require.NoError(t, err)
	tags, err := c.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{r.lb, r.ts}})
	require.NoError(t, err)
	require.Len(t, tags.TagDescriptions, 2)
	assert.Equal(t, []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}, tags.TagDescriptions[0].Tags)
	assert.Len(t, tags.TagDescriptions[1].Tags, 1)
	_, err = c.AddTags(ctx, &elb.AddTagsInput{ResourceArns: []string{r.lb}, Tags: []types.Tag{{Key: aws.String("a")}, {Key: aws.String("a")}}})
	var dup *types.DuplicateTagKeysException
	assert.ErrorAs(t, err, &dup)
}

// Target group attributes are stored and described (not emulated), so
// that clients that set them, like Terraform, work.
func TestTargetGroupAttributes(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	c := f.client
	r := setUpStory(t, f)
	d, err := c.DescribeTargetGroupAttributes(ctx, &elb.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(r.tg)})
	require.NoError(t, err)
	assert.Equal(t, "300", tgAttrValue(d.Attributes, "deregistration_delay.timeout_seconds"), "ALB's default")
	m, err := c.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(r.tg),
		Attributes: []types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("30")}}})
	require.NoError(t, err)
	assert.Equal(t, "30", tgAttrValue(m.Attributes, "deregistration_delay.timeout_seconds"))
	_, err = c.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(r.tg),
		Attributes: []types.TargetGroupAttribute{{Key: aws.String("nope"), Value: aws.String("1")}}})
	assert.Equal(t, "ValidationError", code(t, err))
}

func tgAttrValue(as []types.TargetGroupAttribute, key string) string {
	for _, a := range as {
		if aws.ToString(a.Key) == key {
			return aws.ToString(a.Value)
		}
	}
	return "<absent>"
}

// The verify options' off values are accepted with every mode (Terraform
// sends them); a value that would take effect is refused outside verify.
func TestMutualAuthenticationOffValues(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	c := f.client
	r := setUpStory(t, f)
	_, err := c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(r.https),
		MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("passthrough"),
			IgnoreClientCertificateExpiry: aws.Bool(false), AdvertiseTrustStoreCaNames: types.AdvertiseTrustStoreCaNamesEnumOff}})
	require.NoError(t, err)
	_, err = c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(r.https),
		MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("off"), IgnoreClientCertificateExpiry: aws.Bool(true)}})
	assert.Equal(t, "ValidationError", code(t, err))
	_, err = c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(r.https),
		MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("passthrough"), TrustStoreArn: aws.String(r.ts)}})
	assert.Equal(t, "ValidationError", code(t, err))
	_, err = c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(r.https),
		MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("verify")}})
	assert.Equal(t, "ValidationError", code(t, err), "verify needs a trust store")
	assert.ErrorContains(t, err, "TrustStoreArn")
}
