package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeAWSAPI runs `albmtls serve --aws-api --state DIR` as a user
// does, creates a load balancer and a listener with the AWS SDK, gets an
// answer from the new listener at once, lists it with `albmtls aws
// status`, exports the running state with `albmtls aws export` (which
// `serve --check` accepts), and restarts with the same state directory:
// the listener is back.
func TestServeAWSAPI(t *testing.T) {
	work := t.TempDir()
	state := filepath.Join(work, "state")
	require.NoError(t, os.WriteFile(filepath.Join(work, "albmtls.yaml"), []byte(`load_balancer: {name: local, region: eu-west-1}
listeners:
  - {port: 0, protocol: HTTP, default_action: {type: fixed-response, fixed_response: {status_code: "200", message_body: local}}}
`), 0o644))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	start := func() (string, func()) {
		cmd, out, stderr := startProcess(t, work, "serve", "-c", "albmtls.yaml", "--aws-api=127.0.0.1:0", "--state", state)
		line := readUntil(t, out, "aws api ", stderr)
		m := regexp.MustCompile(`aws api (http://127\.0\.0\.1:\d+) `).FindStringSubmatch(line[len(line)-1])
		require.NotNil(t, m, "%v", line)
		go func() { // keep the pipe drained
			for out.Scan() {
			}
		}()
		return m[1], func() {
			require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
			require.NoError(t, cmd.Wait(), "stderr: %s", stderr.String())
		}
	}
	get := func() (int, string) {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/")
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	endpoint, stop := start()
	ctx := context.Background()
	c := elb.NewFromConfig(aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	lb, err := c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("api-alb")})
	require.NoError(t, err)
	_, err = c.CreateListener(ctx, &elb.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(int32(port)),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{
			StatusCode: aws.String("200"), ContentType: aws.String("text/plain"), MessageBody: aws.String("from the API")}}},
	})
	require.NoError(t, err)
	code, body := get()
	assert.Equal(t, 200, code)
	assert.Equal(t, "from the API", body)

	code, stdout, stderr := runBin(t, "aws", "status", "--endpoint", endpoint)
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `api-alb  arn:aws:elasticloadbalancing:eu-west-1:\d+:loadbalancer/app/api-alb/[0-9a-f]{16}\n  HTTP +`+strconv.Itoa(port)+`  http://127\.0\.0\.1:`+strconv.Itoa(port), stdout)
	assert.Contains(t, stdout, "local  arn:aws:elasticloadbalancing:eu-west-1:")

	exported := filepath.Join(work, "exported.yaml")
	code, _, stderr = runBin(t, "aws", "export", "--endpoint", endpoint, "--load-balancer", "api-alb", "-o", exported)
	require.Equal(t, 0, code, stderr)
	code, stdout, stderr = runBin(t, "serve", "--check", "-c", exported)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "config OK: 1 listeners (HTTP)")
	code, _, stderr = runBin(t, "aws", "export", "--endpoint", endpoint)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "there are 2 load balancers; name one with load_balancer= (api-alb, local)")
	stop()

	code, _ = get()
	assert.Equal(t, 0, code, "stopped")
	endpoint, stop = start()
	defer stop()
	c = elb.NewFromConfig(aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	out, err := c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"api-alb"}})
	require.NoError(t, err, "the state directory kept the load balancer")
	assert.Equal(t, lb.LoadBalancers[0].LoadBalancerArn, out.LoadBalancers[0].LoadBalancerArn)
	code, body = get()
	assert.Equal(t, 200, code)
	assert.Equal(t, "from the API", body, "and its listener serves again")
}
