package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/albmtls/albmtls/pki"
)

// Options are the story's inputs.
type Options struct {
	PKI            string   // albmtls pki init directory
	Name           string   // resource name prefix
	Bucket         string   // S3 bucket for the bundle and CRLs
	Targets        []string // two IP:PORT targets
	Subnets        []string // real AWS only
	SecurityGroups []string // real AWS only
	VPC            string   // real AWS only
	Endpoint       string   // AWS_ENDPOINT_URL; "" = real AWS
	Keep           bool
	Timeout        time.Duration
	Out            io.Writer
	// AWS, when set, is the SDK configuration to use (tests); otherwise
	// the default chain (environment, shared config) is loaded.
	AWS *aws.Config
}

// Result is what the story saw.
type Result struct {
	Steps    []string
	Failures []string
	// LoadBalancerArn, ListenerArn and TrustStoreArn name what was created.
	LoadBalancerArn, HTTPSListenerArn, TrustStoreArn string
	// Backends are the targets that answered the valid client, in order.
	Backends []string
	// RevocationIDs are the trust store's revocation IDs after each change.
	RevocationIDs [][]int64
}

// OK says every step went as the story says.
func (r *Result) OK() bool { return len(r.Failures) == 0 }

type story struct {
	o      Options
	res    *Result
	elb    *elbv2.Client
	acm    *acm.Client
	s3     *s3.Client
	set    *pki.Set
	roots  *x509.CertPool
	server string // TLS server name
	https  string // host:port of the HTTPS listener
	http   string // host:port of the HTTP listener
}

// Run runs the whole story and, unless Keep, deletes what it created.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if len(o.Targets) != 2 {
		return nil, fmt.Errorf("-targets: want two IP:PORT targets, got %d", len(o.Targets))
	}
	set, err := pki.Load(o.PKI)
	if err != nil {
		return nil, fmt.Errorf("-pki: %w (create one with albmtls pki init)", err)
	}
	var cfg aws.Config
	if o.AWS != nil {
		cfg = *o.AWS
	} else if cfg, err = awsconfig.LoadDefaultConfig(ctx); err != nil {
		return nil, err
	}
	if o.Endpoint != "" {
		cfg.BaseEndpoint = aws.String(o.Endpoint)
		// Without credentials the SDK's first call fails deep in its
		// credential chain (an EC2 metadata error); say what albmtls wants.
		if cfg.Credentials == nil {
			return nil, errNoCredentials(o.Endpoint, errors.New("no credential provider"))
		}
		if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
			return nil, errNoCredentials(o.Endpoint, err)
		}
		if cfg.Region == "" {
			return nil, fmt.Errorf("no AWS region for %s: export AWS_REGION=eu-west-1 (albmtls accepts any region)", o.Endpoint)
		}
	}
	st := &story{o: o, res: &Result{}, set: set,
		elb: elbv2.NewFromConfig(cfg),
		acm: acm.NewFromConfig(cfg),
		// Path-style: a bucket name as a host name needs DNS that a
		// local endpoint does not have.
		s3: s3.NewFromConfig(cfg, func(so *s3.Options) { so.UsePathStyle = o.Endpoint != "" }),
	}
	if st.o.Bucket == "" {
		st.o.Bucket = strings.ToLower(o.Name) + "-truststore"
	}
	st.roots = x509.NewCertPool()
	st.roots.AppendCertsFromPEM(mustRead(filepath.Join(o.PKI, "ca", "root.pem")))
	err = st.run(ctx)
	return st.res, err
}

func mustRead(path string) []byte {
	b, _ := os.ReadFile(path)
	return b
}

func (st *story) step(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	st.res.Steps = append(st.res.Steps, msg)
	fmt.Fprintln(st.o.Out, "•", msg)
}

func (st *story) expect(ok bool, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if ok {
		fmt.Fprintln(st.o.Out, "  ✓", msg)
		return
	}
	fmt.Fprintln(st.o.Out, "  ✗", msg)
	st.res.Failures = append(st.res.Failures, msg)
}

func (st *story) run(ctx context.Context) error {
	dir := st.o.PKI
	name := st.o.Name

	st.step("ACM ImportCertificate: the listener's server certificate, key and chain")
	imp, err := st.acm.ImportCertificate(ctx, &acm.ImportCertificateInput{
		Certificate:      mustRead(filepath.Join(dir, "server", "server.pem")),
		PrivateKey:       mustRead(filepath.Join(dir, "server", "server-key.pem")),
		CertificateChain: mustRead(filepath.Join(dir, "ca", "intermediate.pem")),
	})
	if err != nil {
		return fmt.Errorf("ImportCertificate: %w", err)
	}
	certARN := aws.ToString(imp.CertificateArn)
	st.server = "localhost"

	st.step("S3: the CA bundle and the CRL, converted from DER to PEM, into bucket %s", st.o.Bucket)
	if err := st.ensureBucket(ctx); err != nil {
		return err
	}
	crlPEM, _, err := pki.ConvertCRL(mustRead(filepath.Join(dir, "crl", "intermediate.crl")))
	if err != nil {
		return fmt.Errorf("converting the DER CRL to PEM: %w", err)
	}
	if err := st.put(ctx, "bundle.pem", st.set.Bundle()); err != nil {
		return err
	}
	if err := st.put(ctx, "crl/intermediate-1.pem", crlPEM); err != nil {
		return err
	}

	st.step("ELBv2: load balancer, target group with two targets, HTTP:80 listener redirecting to HTTPS")
	lbOut, err := st.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: aws.String(name + "-alb"), Type: types.LoadBalancerTypeEnumApplication,
		Subnets: st.o.Subnets, SecurityGroups: st.o.SecurityGroups,
	})
	if err != nil {
		return fmt.Errorf("CreateLoadBalancer: %w", err)
	}
	lb := lbOut.LoadBalancers[0]
	st.res.LoadBalancerArn = aws.ToString(lb.LoadBalancerArn)
	defer st.cleanup(&st.res.LoadBalancerArn)
	tgIn := &elbv2.CreateTargetGroupInput{
		Name: aws.String(name + "-web"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		TargetType: types.TargetTypeEnumIp, HealthCheckPath: aws.String("/"),
	}
	if st.o.VPC != "" {
		tgIn.VpcId = aws.String(st.o.VPC)
	}
	tg, err := st.elb.CreateTargetGroup(ctx, tgIn)
	if err != nil {
		return fmt.Errorf("CreateTargetGroup: %w", err)
	}
	tgARN := tg.TargetGroups[0].TargetGroupArn
	var targets []types.TargetDescription
	for _, t := range st.o.Targets {
		host, port, _ := net.SplitHostPort(t)
		p, _ := strconv.Atoi(port)
		targets = append(targets, types.TargetDescription{Id: aws.String(host), Port: aws.Int32(int32(p))})
	}
	if _, err := st.elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tgARN, Targets: targets}); err != nil {
		return fmt.Errorf("RegisterTargets: %w", err)
	}
	httpL, err := st.elb.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumRedirect, RedirectConfig: &types.RedirectActionConfig{
			Protocol: aws.String("HTTPS"), Port: aws.String("443"), StatusCode: types.RedirectActionStatusCodeEnumHttp301}}},
	})
	if err != nil {
		return fmt.Errorf("CreateListener HTTP:80: %w", err)
	}

	st.step("ELBv2 CreateTrustStore from the S3 bundle, AddTrustStoreRevocations with the CRL")
	ts, err := st.elb.CreateTrustStore(ctx, &elbv2.CreateTrustStoreInput{
		Name: aws.String(name + "-ts"), CaCertificatesBundleS3Bucket: aws.String(st.o.Bucket), CaCertificatesBundleS3Key: aws.String("bundle.pem"),
	})
	if err != nil {
		return fmt.Errorf("CreateTrustStore: %w", err)
	}
	st.res.TrustStoreArn = aws.ToString(ts.TrustStores[0].TrustStoreArn)
	first, err := st.addCRL(ctx, "crl/intermediate-1.pem")
	if err != nil {
		return err
	}
	if err := st.waitTrustStore(ctx); err != nil {
		return err
	}

	st.step("ELBv2 CreateListener HTTPS:443, mutual authentication verify, forward to the target group")
	httpsL, err := st.elb.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443),
		SslPolicy:    aws.String("ELBSecurityPolicy-TLS13-1-2-2021-06"),
		Certificates: []types.Certificate{{CertificateArn: aws.String(certARN)}},
		MutualAuthentication: &types.MutualAuthenticationAttributes{
			Mode: aws.String("verify"), TrustStoreArn: aws.String(st.res.TrustStoreArn),
		},
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: tgARN}},
	})
	if err != nil {
		return fmt.Errorf("CreateListener HTTPS:443: %w", err)
	}
	st.res.HTTPSListenerArn = aws.ToString(httpsL.Listeners[0].ListenerArn)
	if err := st.locate(ctx, lb, aws.ToString(httpL.Listeners[0].ListenerArn)); err != nil {
		return err
	}
	if err := st.waitHealthy(ctx, tgARN); err != nil {
		return err
	}

	st.step("clients: valid gets 200 from both targets in turn, revoked and untrusted are refused")
	seen := map[string]bool{}
	for range 4 {
		status, who, err := st.get("valid")
		st.expect(err == nil && status == 200, "valid → 200 (got %d, %v)", status, err)
		if who != "" {
			st.res.Backends = append(st.res.Backends, who)
			seen[who] = true
		}
	}
	st.expect(len(seen) == 2, "both targets answered (round robin): %v", st.res.Backends)
	_, _, err = st.get("revoked")
	st.expect(err != nil, "revoked is refused in the handshake (ClientCertCrlHit in the connection log): %v", err)
	_, _, err = st.get("untrusted")
	st.expect(err != nil, "untrusted is refused in the handshake (ClientCertUntrusted): %v", err)
	if st.http != "" {
		code, loc := st.redirect()
		st.expect(code == 301 && strings.HasPrefix(loc, "https://"), "HTTP:80 redirects to HTTPS (got %d %s)", code, loc)
	}

	st.step("ModifyListener to passthrough: untrusted now reaches the target; then back to verify")
	if err := st.modifyMode(ctx, "passthrough"); err != nil {
		return err
	}
	status, _, err := st.get("untrusted")
	st.expect(err == nil && status > 0, "passthrough: untrusted reaches the target, which decides (got %d, %v)", status, err)
	if err := st.modifyMode(ctx, "verify"); err != nil {
		return err
	}
	_, _, err = st.get("untrusted")
	st.expect(err != nil, "verify again: untrusted is refused: %v", err)

	st.step("CRL rotation: revoke member, upload the new CRL, add it, remove the old list")
	status, _, err = st.get("member")
	st.expect(err == nil && status == 200, "member → 200 before the rotation (got %d, %v)", status, err)
	next := st.set.Clone()
	if err := next.Revoke("member"); err != nil {
		return err
	}
	if err := st.put(ctx, "crl/intermediate-2.pem", pki.EncodeCRLPEM(next.CRL("intermediate"))); err != nil {
		return err
	}
	second, err := st.addCRL(ctx, "crl/intermediate-2.pem")
	if err != nil {
		return err
	}
	st.expect(second > first, "the new revocation ID %d follows %d", second, first)
	_, _, err = st.get("member")
	st.expect(err != nil, "member is refused on the next connection: %v", err)
	if _, err := st.elb.RemoveTrustStoreRevocations(ctx, &elbv2.RemoveTrustStoreRevocationsInput{
		TrustStoreArn: aws.String(st.res.TrustStoreArn), RevocationIds: []int64{first},
	}); err != nil {
		return fmt.Errorf("RemoveTrustStoreRevocations: %w", err)
	}
	ids, entries, err := st.revocations(ctx)
	if err != nil {
		return err
	}
	st.expect(len(ids) == 1 && ids[0] == second, "DescribeTrustStoreRevocations lists only ID %d (got %v)", second, ids)
	st.expect(entries == 2, "the new CRL has 2 entries, revoked and member (got %d)", entries)
	_, _, err = st.get("member")
	st.expect(err != nil, "member is still refused after the old list is removed: %v", err)
	_, _, err = st.get("revoked")
	st.expect(err != nil, "revoked is still refused: %v", err)
	third, err := st.addCRL(ctx, "crl/intermediate-1.pem")
	if err != nil {
		return err
	}
	st.expect(third > second, "revocation IDs are never reused: re-adding the first CRL gets %d", third)
	return nil
}

func (st *story) ensureBucket(ctx context.Context) error {
	if _, err := st.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(st.o.Bucket)}); err == nil {
		return nil
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(st.o.Bucket)}
	if r := st.s3.Options().Region; r != "" && r != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(r)}
	}
	if _, err := st.s3.CreateBucket(ctx, in); err != nil {
		return fmt.Errorf("CreateBucket %s: %w", st.o.Bucket, err)
	}
	return nil
}

func (st *story) put(ctx context.Context, key string, body []byte) error {
	if _, err := st.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(st.o.Bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		return fmt.Errorf("PutObject %s: %w", key, err)
	}
	return nil
}

func (st *story) addCRL(ctx context.Context, key string) (int64, error) {
	out, err := st.elb.AddTrustStoreRevocations(ctx, &elbv2.AddTrustStoreRevocationsInput{
		TrustStoreArn: aws.String(st.res.TrustStoreArn),
		RevocationContents: []types.RevocationContent{{
			S3Bucket: aws.String(st.o.Bucket), S3Key: aws.String(key), RevocationType: types.RevocationTypeCrl,
		}},
	})
	if err != nil {
		return 0, fmt.Errorf("AddTrustStoreRevocations %s: %w", key, err)
	}
	if len(out.TrustStoreRevocations) != 1 {
		return 0, fmt.Errorf("AddTrustStoreRevocations %s: want one revocation back, got %d", key, len(out.TrustStoreRevocations))
	}
	ids, _, _ := st.revocations(ctx)
	st.res.RevocationIDs = append(st.res.RevocationIDs, ids)
	return aws.ToInt64(out.TrustStoreRevocations[0].RevocationId), nil
}

func (st *story) revocations(ctx context.Context) ([]int64, int64, error) {
	out, err := st.elb.DescribeTrustStoreRevocations(ctx, &elbv2.DescribeTrustStoreRevocationsInput{TrustStoreArn: aws.String(st.res.TrustStoreArn)})
	if err != nil {
		return nil, 0, fmt.Errorf("DescribeTrustStoreRevocations: %w", err)
	}
	var ids []int64
	var entries int64
	for _, r := range out.TrustStoreRevocations {
		ids = append(ids, aws.ToInt64(r.RevocationId))
		entries += aws.ToInt64(r.NumberOfRevokedEntries)
	}
	return ids, entries, nil
}

// waitTrustStore waits for the trust store to be ACTIVE (at once on
// albmtls; a real one takes a moment).
func (st *story) waitTrustStore(ctx context.Context) error {
	for {
		out, err := st.elb.DescribeTrustStores(ctx, &elbv2.DescribeTrustStoresInput{TrustStoreArns: []string{st.res.TrustStoreArn}})
		if err != nil {
			return fmt.Errorf("DescribeTrustStores: %w", err)
		}
		if len(out.TrustStores) == 1 && out.TrustStores[0].Status == types.TrustStoreStatusActive {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the trust store to be ACTIVE: %w", ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}

// waitHealthy waits until DescribeTargetHealth says both targets are
// healthy, as a real ALB needs too before it sends them traffic.
func (st *story) waitHealthy(ctx context.Context, tg *string) error {
	st.step("DescribeTargetHealth: wait for both targets to be healthy")
	var last []string
	for {
		out, err := st.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg})
		if err != nil {
			return fmt.Errorf("DescribeTargetHealth: %w", err)
		}
		healthy := 0
		last = last[:0]
		for _, d := range out.TargetHealthDescriptions {
			last = append(last, aws.ToString(d.Target.Id)+" "+string(d.TargetHealth.State))
			if d.TargetHealth.State == types.TargetHealthStateEnumHealthy {
				healthy++
			}
		}
		if healthy == len(st.o.Targets) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for healthy targets (%v): %w", last, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (st *story) modifyMode(ctx context.Context, mode string) error {
	ma := &types.MutualAuthenticationAttributes{Mode: aws.String(mode)}
	if mode == "verify" {
		ma.TrustStoreArn = aws.String(st.res.TrustStoreArn)
	}
	if _, err := st.elb.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(st.res.HTTPSListenerArn), MutualAuthentication: ma}); err != nil {
		return fmt.Errorf("ModifyListener %s: %w", mode, err)
	}
	return nil
}

// locate finds where to connect: on albmtls its /_albmtls/load-balancers
// route says where each listener is bound (443 is bound at 10443 unless
// configured otherwise); on AWS the load balancer's DNS name.
func (st *story) locate(ctx context.Context, lb types.LoadBalancer, httpListener string) error {
	if st.o.Endpoint == "" {
		w := elbv2.NewLoadBalancerAvailableWaiter(st.elb)
		if err := w.Wait(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{aws.ToString(lb.LoadBalancerArn)}}, st.o.Timeout); err != nil {
			return fmt.Errorf("waiting for the load balancer: %w", err)
		}
		st.https = net.JoinHostPort(aws.ToString(lb.DNSName), "443")
		st.http = net.JoinHostPort(aws.ToString(lb.DNSName), "80")
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(st.o.Endpoint, "/")+"/_albmtls/load-balancers", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("asking albmtls where the listeners are bound: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		LoadBalancers []struct {
			LoadBalancerArn string
			Listeners       []struct {
				Protocol string
				Port     int
				Address  string
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return fmt.Errorf("the endpoint is not albmtls (no /_albmtls/load-balancers): %w", err)
	}
	for _, l := range out.LoadBalancers {
		if l.LoadBalancerArn != aws.ToString(lb.LoadBalancerArn) {
			continue
		}
		for _, ln := range l.Listeners {
			switch ln.Port {
			case 443:
				st.https = ln.Address
			case 80:
				st.http = ln.Address
			}
		}
	}
	if st.https == "" {
		return errors.New("albmtls runs no HTTPS:443 listener for the load balancer")
	}
	return nil
}

// get makes one request on a new connection with the named client
// certificate and returns the status and which target answered.
func (st *story) get(client string) (int, string, error) {
	leaf, ok := st.set.Client(client)
	if !ok {
		return 0, "", fmt.Errorf("the PKI has no client %q", client)
	}
	pair, err := tls.X509KeyPair(leaf.ChainPEM, leaf.KeyPEM)
	if err != nil {
		return 0, "", err
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: st.roots, ServerName: st.server, Certificates: []tls.Certificate{pair}},
		DisableKeepAlives: true,
	}}
	resp, err := c.Get("https://" + st.https + "/?format=json")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var body struct {
		Instance string `json:"instance"`
	}
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &body)
	return resp.StatusCode, body.Instance, nil
}

func (st *story) redirect() (int, string) {
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get("http://" + st.http + "/")
	if err != nil {
		return 0, err.Error()
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// cleanup deletes the load balancer (its listeners go with it), the target
// group and the trust store, unless Keep.
func (st *story) cleanup(lbARN *string) {
	if st.o.Keep || *lbARN == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, _ = st.elb.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: lbARN})
	if st.res.TrustStoreArn != "" {
		_, _ = st.elb.DeleteTrustStore(ctx, &elbv2.DeleteTrustStoreInput{TrustStoreArn: aws.String(st.res.TrustStoreArn)})
	}
}

// errNoCredentials says how to give the SDK credentials for a local
// endpoint: albmtls accepts any well-formed signature by default.
func errNoCredentials(endpoint string, err error) error {
	return fmt.Errorf("no AWS credentials for %s (albmtls accepts any unless aws_api.access_keys is set: export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test): %w", endpoint, err)
}
