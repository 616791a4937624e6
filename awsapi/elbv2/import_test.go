package elbv2_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/awsapi/elbv2"
	"github.com/albmtls/albmtls/emulator/awsarn"
	"github.com/albmtls/albmtls/emulator/config"
)

// writeConfig writes an albmtls.yaml with absolute file paths and the
// files it names, and loads it.
func writeConfig(t *testing.T, f *fixture) *config.Config {
	t.Helper()
	dir := t.TempDir()
	put := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		return p
	}
	bundle := put("bundle.pem", f.pki.bundle)
	crl := put("crl.pem", f.pki.crl)
	cert := put("server.pem", append(append([]byte(nil), f.pki.server.CertPEM...), f.pki.inter.CertPEM...))
	key := put("server-key.pem", f.pki.server.KeyPEM)
	text := fmt.Sprintf(`load_balancer:
  name: demo-alb
  account_id: "210987654321"
  region: eu-west-1
  idle_timeout: 120s
  attributes:
    routing.http.xff_header_processing.mode: preserve
trust_stores:
  - name: demo
    ca_certificates_bundle: %s
    revocations: [%s]
target_groups:
  - name: api
    targets: ["127.0.0.1:9101"]
  - name: web
    protocol: HTTP
    targets: ["127.0.0.1:9001", "127.0.0.1:9002"]
    health_check: {path: /healthz, interval: 5s}
listeners:
  - port: 18080
    protocol: HTTP
    default_action:
      type: redirect
      redirect: {protocol: HTTPS, port: "18443", status_code: HTTP_301}
  - port: 18443
    protocol: HTTPS
    ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-06
    certificates: [{certificate: %s, private_key: %s}]
    mutual_authentication:
      mode: verify
      trust_store: demo
      advertise_trust_store_ca_names: "off"
    attributes:
      routing.http.request.x_amzn_mtls_clientcert_subject.header_name: X-Client-Subject
    default_action: {type: forward, target_group: web}
    rules:
      - priority: 10
        conditions: {path_pattern: ["/api/*"]}
        action: {type: forward, target_group: api}
logs:
  connection: {file: %s}
emulation:
  stale_crl: fail
`, bundle, crl, cert, key, filepath.Join(dir, "conn.log"))
	cfg, err := config.Parse(put("albmtls.yaml", []byte(text)), []byte(text))
	require.NoError(t, err)
	return cfg
}

// The config file and the API are one model: an imported albmtls.yaml
// appears in Describe* with stable ARNs, compiles back to an equivalent
// config, and can then be changed through the API.
func TestImportConfig(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	c := f.client
	cfg := writeConfig(t, f)
	require.NoError(t, f.svc.ImportConfig(ctx, cfg))

	const region, account = "eu-west-1", "210987654321"
	lbID := awsarn.LoadBalancerID(account, "demo-alb")
	lbARN := awsarn.LoadBalancer(region, account, "demo-alb", lbID)
	lbs, err := c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"demo-alb"}})
	require.NoError(t, err)
	require.Len(t, lbs.LoadBalancers, 1)
	assert.Equal(t, lbARN, aws.ToString(lbs.LoadBalancers[0].LoadBalancerArn))

	ls, err := c.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(lbARN)})
	require.NoError(t, err)
	require.Len(t, ls.Listeners, 2)
	httpsARN := awsarn.Listener(region, account, "demo-alb", lbID, awsarn.ListenerID(account, "demo-alb", 18443))
	assert.Equal(t, httpsARN, aws.ToString(ls.Listeners[1].ListenerArn))
	assert.Equal(t, int32(18443), aws.ToInt32(ls.Listeners[1].Port), "an imported listener reports its config port")
	assert.Regexp(t, `^arn:aws:acm:eu-west-1:210987654321:certificate/[0-9a-f-]{36}$`, aws.ToString(ls.Listeners[1].Certificates[0].CertificateArn))
	tsARN := awsarn.TrustStore(region, account, "demo", awsarn.TrustStoreID(account, "demo"))
	assert.Equal(t, tsARN, aws.ToString(ls.Listeners[1].MutualAuthentication.TrustStoreArn))
	rev, err := c.DescribeTrustStoreRevocations(ctx, &elb.DescribeTrustStoreRevocationsInput{TrustStoreArn: aws.String(tsARN)})
	require.NoError(t, err)
	require.Len(t, rev.TrustStoreRevocations, 1)
	assert.Equal(t, int64(1), aws.ToInt64(rev.TrustStoreRevocations[0].RevocationId))
	assert.Equal(t, int64(1), aws.ToInt64(rev.TrustStoreRevocations[0].NumberOfRevokedEntries))
	loc, err := c.GetTrustStoreCaCertificatesBundle(ctx, &elb.GetTrustStoreCaCertificatesBundleInput{TrustStoreArn: aws.String(tsARN)})
	require.NoError(t, err)
	assert.Equal(t, "file://"+cfg.TrustStores[0].CACertificatesBundle, aws.ToString(loc.Location))
	attrs, err := c.DescribeLoadBalancerAttributes(ctx, &elb.DescribeLoadBalancerAttributesInput{LoadBalancerArn: aws.String(lbARN)})
	require.NoError(t, err)
	assert.Equal(t, "120", attrValue(attrs.Attributes, "idle_timeout.timeout_seconds"))
	assert.Equal(t, "preserve", attrValue(attrs.Attributes, "routing.http.xff_header_processing.mode"))
	assert.Equal(t, "true", attrValue(attrs.Attributes, "connection_logs.s3.enabled"))
	assert.Equal(t, "false", attrValue(attrs.Attributes, "access_logs.s3.enabled"))

	// Round trip: the compiled config is the imported one.
	want, err := config.Marshal(cfg)
	require.NoError(t, err)
	got := f.svc.LoadBalancers()
	require.Len(t, got, 1)
	have, err := config.Marshal(got[0].Config)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(have))

	// The same file gives the same ARNs in a second service (a restart).
	f2 := newFixture(t, nil)
	require.NoError(t, f2.svc.ImportConfig(ctx, writeConfig(t, f2)))
	assert.Equal(t, lbARN, f2.svc.LoadBalancers()[0].ARN)

	// Imported resources change through the API.
	_, err = c.ModifyListenerAttributes(ctx, &elb.ModifyListenerAttributesInput{ListenerArn: aws.String(httpsARN),
		Attributes: []types.ListenerAttribute{{Key: aws.String("routing.http.request.x_amzn_mtls_clientcert_leaf.header_name"), Value: aws.String("X-Leaf")}}})
	require.NoError(t, err)
	la, err := c.DescribeListenerAttributes(ctx, &elb.DescribeListenerAttributesInput{ListenerArn: aws.String(httpsARN)})
	require.NoError(t, err)
	assert.Equal(t, "X-Leaf", listenerAttrValue(la.Attributes, "routing.http.request.x_amzn_mtls_clientcert_leaf.header_name"))
	assert.Equal(t, "X-Client-Subject", listenerAttrValue(la.Attributes, "routing.http.request.x_amzn_mtls_clientcert_subject.header_name"))
	assert.Equal(t, "X-Amzn-Mtls-Clientcert", listenerAttrValue(la.Attributes, "routing.http.request.x_amzn_mtls_clientcert.header_name"), "ALB's default")
	add, err := c.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: aws.String(tsARN),
		RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("pki"), S3Key: aws.String("crl-2.pem")}}})
	require.NoError(t, err)
	assert.Equal(t, int64(2), aws.ToInt64(add.TrustStoreRevocations[0].RevocationId))
	compiled := f.svc.LoadBalancers()[0].Config
	assert.Equal(t, "X-Leaf", compiled.Listeners[1].Attributes["routing.http.request.x_amzn_mtls_clientcert_leaf.header_name"])
	assert.Len(t, compiled.TrustStores[0].Revocations, 2)
	assert.Equal(t, cfg.TrustStores[0].Revocations[0], compiled.TrustStores[0].Revocations[0], "the imported CRL file stays the file")

	require.Error(t, f.svc.ImportConfig(ctx, cfg), "a second import of the same load balancer is a duplicate")
}

func attrValue(as []types.LoadBalancerAttribute, key string) string {
	for _, a := range as {
		if aws.ToString(a.Key) == key {
			return aws.ToString(a.Value)
		}
	}
	return "<absent>"
}

func listenerAttrValue(as []types.ListenerAttribute, key string) string {
	for _, a := range as {
		if aws.ToString(a.Key) == key {
			return aws.ToString(a.Value)
		}
	}
	return "<absent>"
}

// Snapshot and Restore keep every resource, with the revocation counter.
func TestSnapshotRestore(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	r := setUpStory(t, f)
	_, err := f.client.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: aws.String(r.ts),
		RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("pki"), S3Key: aws.String("crl-1.pem")}}})
	require.NoError(t, err)
	_, err = f.client.RemoveTrustStoreRevocations(ctx, &elb.RemoveTrustStoreRevocationsInput{TrustStoreArn: aws.String(r.ts), RevocationIds: []int64{1}})
	require.NoError(t, err)
	snap, err := f.svc.Snapshot()
	require.NoError(t, err)

	dir := t.TempDir()
	f2 := newFixture(t, func(o *elbv2.Options) {
		o.Objects = f.objs // the same S3 and ACM, as after a restart
		o.Certificates = func(arn string) (elbv2.Certificate, bool) { c, ok := f.certs[arn]; return c, ok }
		o.Dir = dir
	})
	require.NoError(t, f2.svc.Restore(ctx, snap))
	before, after := f.svc.LoadBalancers(), f2.svc.LoadBalancers()
	require.Len(t, after, len(before))
	for i := range before {
		a, _ := config.Marshal(before[i].Config)
		b, _ := config.Marshal(after[i].Config)
		assert.Equal(t, before[i].ARN, after[i].ARN)
		assert.Equal(t, strings.ReplaceAll(string(a), before[i].Config.TrustStores[0].CACertificatesBundle[:strings.Index(before[i].Config.TrustStores[0].CACertificatesBundle, "/files/")], dir), string(b))
	}
	ls, err := f2.client.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{r.https}})
	require.NoError(t, err)
	assert.Equal(t, "verify", aws.ToString(ls.Listeners[0].MutualAuthentication.Mode))
	tags, err := f2.client.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{r.lb}})
	require.NoError(t, err)
	assert.Equal(t, "payments", aws.ToString(tags.TagDescriptions[0].Tags[0].Value))
	add, err := f2.client.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: aws.String(r.ts),
		RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("pki"), S3Key: aws.String("crl-2.pem")}}})
	require.NoError(t, err)
	assert.Equal(t, int64(2), aws.ToInt64(add.TrustStoreRevocations[0].RevocationId), "ID 1 stays used after a restore")

	assert.Error(t, f2.svc.Restore(ctx, []byte(`{"version":9}`)))
	assert.Error(t, f2.svc.Restore(ctx, []byte(`not json`)))
}

// Concurrent calls on one resource never leave it half-changed (run with -race).
func TestConcurrentCalls(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	r := setUpStory(t, f)
	const n = 16
	var wg sync.WaitGroup
	ids := make(chan int64, n)
	for i := range n {
		wg.Add(3)
		go func() {
			defer wg.Done()
			_, err := f.client.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(r.tg),
				Targets: []types.TargetDescription{{Id: aws.String("127.0.0.1"), Port: aws.Int32(int32(10000 + i))}}})
			assert.NoError(t, err)
		}()
		go func() {
			defer wg.Done()
			out, err := f.client.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: aws.String(r.ts),
				RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("pki"), S3Key: aws.String("crl-1.pem")}}})
			if assert.NoError(t, err) {
				ids <- aws.ToInt64(out.TrustStoreRevocations[0].RevocationId)
			}
		}()
		go func() {
			defer wg.Done()
			_, err := f.client.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(r.tg)})
			assert.NoError(t, err)
			_ = f.svc.LoadBalancers()
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[int64]bool{}
	for id := range ids {
		assert.False(t, seen[id], "revocation ID %d given twice", id)
		seen[id] = true
	}
	assert.Len(t, seen, n)
	th, err := f.client.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(r.tg)})
	require.NoError(t, err)
	assert.Len(t, th.TargetHealthDescriptions, 2+n)
	cfg := f.configOf(t, r.lb)
	assert.Len(t, cfg.TargetGroups[0].Targets, 2+n, "the last applied config has every target")
	assert.Len(t, cfg.TrustStores[0].Revocations, n)
}
