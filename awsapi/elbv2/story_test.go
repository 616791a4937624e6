package elbv2_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/listener"
)

// storyResources are the ARNs the product story's set-up creates.
type storyResources struct {
	lb, tg, http, https, ts string
}

// setUpStory runs the product story's set-up through the SDK: load
// balancer, target group with two targets, HTTP:80 redirecting to HTTPS,
// the trust store from the S3 bundle and the HTTPS:443 verify listener.
func setUpStory(t testing.TB, f *fixture) storyResources {
	t.Helper()
	ctx := context.Background()
	c := f.client
	var r storyResources
	lbOut, err := c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("story-alb"), Subnets: []string{"subnet-1", "subnet-2"},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("payments")}}})
	require.NoError(t, err)
	require.Len(t, lbOut.LoadBalancers, 1)
	r.lb = aws.ToString(lbOut.LoadBalancers[0].LoadBalancerArn)
	assert.Regexp(t, `^arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/story-alb/[0-9a-f]{16}$`, r.lb)
	assert.Equal(t, types.LoadBalancerStateEnumActive, lbOut.LoadBalancers[0].State.Code)
	assert.Equal(t, types.LoadBalancerTypeEnumApplication, lbOut.LoadBalancers[0].Type)
	if assert.NotNil(t, lbOut.LoadBalancers[0].CreatedTime, "the SDK parses CreatedTime") {
		assert.WithinDuration(t, time.Now(), *lbOut.LoadBalancers[0].CreatedTime, time.Hour)
	}

	tgOut, err := c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("web"), Protocol: types.ProtocolEnumHttp,
		Port: aws.Int32(80), TargetType: types.TargetTypeEnumIp, VpcId: aws.String("vpc-1"), HealthCheckPath: aws.String("/healthz")})
	require.NoError(t, err)
	r.tg = aws.ToString(tgOut.TargetGroups[0].TargetGroupArn)
	assert.Equal(t, "/healthz", aws.ToString(tgOut.TargetGroups[0].HealthCheckPath))
	assert.Equal(t, int32(30), aws.ToInt32(tgOut.TargetGroups[0].HealthCheckIntervalSeconds), "ALB's default interval")
	_, err = c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(r.tg), Targets: []types.TargetDescription{
		{Id: aws.String("127.0.0.1"), Port: aws.Int32(9001)}, {Id: aws.String("127.0.0.1"), Port: aws.Int32(9002)}}})
	require.NoError(t, err)

	httpOut, err := c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(r.lb), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumRedirect, RedirectConfig: &types.RedirectActionConfig{
			Protocol: aws.String("HTTPS"), Port: aws.String("443"), StatusCode: types.RedirectActionStatusCodeEnumHttp301}}}})
	require.NoError(t, err)
	r.http = aws.ToString(httpOut.Listeners[0].ListenerArn)

	tsOut, err := c.CreateTrustStore(ctx, &elb.CreateTrustStoreInput{Name: aws.String("story-ts"),
		CaCertificatesBundleS3Bucket: aws.String("pki"), CaCertificatesBundleS3Key: aws.String("bundle.pem")})
	require.NoError(t, err)
	r.ts = aws.ToString(tsOut.TrustStores[0].TrustStoreArn)
	assert.Equal(t, int32(2), aws.ToInt32(tsOut.TrustStores[0].NumberOfCaCertificates))
	assert.Equal(t, types.TrustStoreStatusActive, tsOut.TrustStores[0].Status)

	httpsOut, err := c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(r.lb), Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443),
		Certificates: []types.Certificate{{CertificateArn: aws.String(certARN)}}, SslPolicy: aws.String("ELBSecurityPolicy-TLS13-1-2-2021-06"),
		MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("verify"), TrustStoreArn: aws.String(r.ts)},
		DefaultActions:       []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(r.tg)}}})
	require.NoError(t, err)
	r.https = aws.ToString(httpsOut.Listeners[0].ListenerArn)
	l := httpsOut.Listeners[0]
	assert.Equal(t, int32(443), aws.ToInt32(l.Port), "the ALB port, not the bound one")
	assert.Equal(t, "verify", aws.ToString(l.MutualAuthentication.Mode))
	assert.Equal(t, r.ts, aws.ToString(l.MutualAuthentication.TrustStoreArn))
	assert.Equal(t, types.AdvertiseTrustStoreCaNamesEnumOff, l.MutualAuthentication.AdvertiseTrustStoreCaNames)
	return r
}

// The product story as one SDK program: every step compiles to a config
// the recorder receives, with the listeners bound by the default port rule.
func TestProductStory(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	c := f.client
	r := setUpStory(t, f)

	cfg := f.configOf(t, r.lb)
	require.Len(t, cfg.Listeners, 2)
	assert.Equal(t, 80, cfg.Listeners[0].Port, "the ALB port, as logged and forwarded")
	assert.Equal(t, 10080, cfg.Listeners[0].BindPort, "HTTP:80 binds 127.0.0.1:10080")
	assert.Equal(t, 443, cfg.Listeners[1].Port)
	assert.Equal(t, 10443, cfg.Listeners[1].BindPort, "HTTPS:443 binds 127.0.0.1:10443")
	assert.Equal(t, "127.0.0.1", cfg.Listeners[1].Address)
	assert.Equal(t, listener.ModeVerify, cfg.Listeners[1].MutualAuthentication.Mode)
	assert.Equal(t, "story-ts", cfg.Listeners[1].MutualAuthentication.TrustStore)
	assert.Equal(t, "web", cfg.Listeners[1].DefaultAction.TargetGroup)
	require.Len(t, cfg.TargetGroups, 1)
	assert.Equal(t, []string{"127.0.0.1:9001", "127.0.0.1:9002"}, cfg.TargetGroups[0].Targets)
	require.Len(t, cfg.TrustStores, 1)
	assert.Empty(t, cfg.TrustStores[0].Revocations)
	require.Len(t, cfg.Plans(), 2, "the config validated and compiled")

	// Describe shows what was created.
	ls, err := c.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(r.lb)})
	require.NoError(t, err)
	require.Len(t, ls.Listeners, 2)
	assert.Equal(t, int32(80), aws.ToInt32(ls.Listeners[0].Port))
	assert.Equal(t, "HTTPS", aws.ToString(ls.Listeners[0].DefaultActions[0].RedirectConfig.Protocol))
	assert.Equal(t, "#{host}", aws.ToString(ls.Listeners[0].DefaultActions[0].RedirectConfig.Host))
	assert.Equal(t, r.tg, aws.ToString(ls.Listeners[1].DefaultActions[0].TargetGroupArn))
	assert.Equal(t, certARN, aws.ToString(ls.Listeners[1].Certificates[0].CertificateArn))
	tgs, err := c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(r.lb)})
	require.NoError(t, err)
	require.Len(t, tgs.TargetGroups, 1)
	assert.Equal(t, []string{r.lb}, tgs.TargetGroups[0].LoadBalancerArns)
	th, err := c.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(r.tg)})
	require.NoError(t, err)
	require.Len(t, th.TargetHealthDescriptions, 2)
	assert.Equal(t, int32(9002), aws.ToInt32(th.TargetHealthDescriptions[1].Target.Port))
	assert.Equal(t, types.TargetHealthStateEnumInitial, th.TargetHealthDescriptions[0].TargetHealth.State)

	// CRL rotation: add, count, add the next, remove the old, IDs never reused.
	add, err := c.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: aws.String(r.ts),
		RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("pki"), S3Key: aws.String("crl-1.pem"), RevocationType: types.RevocationTypeCrl}}})
	require.NoError(t, err)
	require.Len(t, add.TrustStoreRevocations, 1)
	assert.Equal(t, int64(1), aws.ToInt64(add.TrustStoreRevocations[0].RevocationId))
	assert.Equal(t, int64(1), aws.ToInt64(add.TrustStoreRevocations[0].NumberOfRevokedEntries))
	assert.Len(t, f.configOf(t, r.lb).TrustStores[0].Revocations, 1, "the CRL reaches the served config")

	add, err = c.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: aws.String(r.ts),
		RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("pki"), S3Key: aws.String("crl-2.pem")}}})
	require.NoError(t, err)
	assert.Equal(t, int64(2), aws.ToInt64(add.TrustStoreRevocations[0].RevocationId))
	assert.Equal(t, int64(2), aws.ToInt64(add.TrustStoreRevocations[0].NumberOfRevokedEntries))
	desc, err := c.DescribeTrustStoreRevocations(ctx, &elb.DescribeTrustStoreRevocationsInput{TrustStoreArn: aws.String(r.ts)})
	require.NoError(t, err)
	require.Len(t, desc.TrustStoreRevocations, 2)
	ts, err := c.DescribeTrustStores(ctx, &elb.DescribeTrustStoresInput{TrustStoreArns: []string{r.ts}})
	require.NoError(t, err)
	assert.Equal(t, int64(3), aws.ToInt64(ts.TrustStores[0].TotalRevokedEntries))

	_, err = c.RemoveTrustStoreRevocations(ctx, &elb.RemoveTrustStoreRevocationsInput{TrustStoreArn: aws.String(r.ts), RevocationIds: []int64{1}})
	require.NoError(t, err)
	desc, err = c.DescribeTrustStoreRevocations(ctx, &elb.DescribeTrustStoreRevocationsInput{TrustStoreArn: aws.String(r.ts)})
	require.NoError(t, err)
	require.Len(t, desc.TrustStoreRevocations, 1)
	assert.Equal(t, int64(2), aws.ToInt64(desc.TrustStoreRevocations[0].RevocationId))
	add, err = c.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: aws.String(r.ts),
		RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("pki"), S3Key: aws.String("crl-1.pem")}}})
	require.NoError(t, err)
	assert.Equal(t, int64(3), aws.ToInt64(add.TrustStoreRevocations[0].RevocationId), "revocation IDs are never reused")
	assert.Len(t, f.configOf(t, r.lb).TrustStores[0].Revocations, 2)

	// Passthrough and back.
	mod, err := c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(r.https),
		MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("passthrough")}})
	require.NoError(t, err)
	assert.Equal(t, "passthrough", aws.ToString(mod.Listeners[0].MutualAuthentication.Mode))
	cfg = f.configOf(t, r.lb)
	assert.Equal(t, listener.ModePassthrough, cfg.Listeners[1].MutualAuthentication.Mode)
	assert.Empty(t, cfg.TrustStores, "no listener of this load balancer uses the trust store now")
	mod, err = c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(r.https),
		MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("verify"), TrustStoreArn: aws.String(r.ts)}})
	require.NoError(t, err)
	assert.Equal(t, "verify", aws.ToString(mod.Listeners[0].MutualAuthentication.Mode))
	cfg = f.configOf(t, r.lb)
	assert.Equal(t, listener.ModeVerify, cfg.Listeners[1].MutualAuthentication.Mode)
	assert.Len(t, cfg.TrustStores[0].Revocations, 2, "the trust store comes back with its CRLs")
	assert.Equal(t, []string{r.https}, f.svc.CertificateInUse(certARN))
}
