// Command aws-sdk-story runs the product story of ALB mutual TLS as an AWS
// SDK for Go v2 program: import the server certificate into ACM, upload the
// CA bundle and the CRL (converted from DER to PEM) to S3, create the load
// balancer, a target group with two targets, an HTTP:80 listener that
// redirects to HTTPS, the trust store and an HTTPS:443 listener in verify
// mode; connect with the valid, revoked and untrusted client certificates;
// switch the listener to passthrough and back; and rehearse a CRL
// rotation: revoke a client, upload the new CRL, AddTrustStoreRevocations,
// see the client refused, RemoveTrustStoreRevocations of the old list.
//
// Against albmtls (albmtls demo, or albmtls serve --aws-api):
//
//	AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
//	  go run ./examples/aws-sdk-story -pki albmtls-demo -targets ADDR1,ADDR2
//
// with the demo's PKI directory and the two backend addresses its guide
// prints (or any two HTTP servers).
//
// Against a real AWS account, unchanged but for the endpoint: leave
// AWS_ENDPOINT_URL unset, use your own credentials, and give -subnets,
// -security-groups, -vpc and the targets' private IPs (see docs/aws-api.md).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"
)

func main() {
	var o Options
	flag.StringVar(&o.PKI, "pki", "pki", "the test PKI directory (albmtls pki init)")
	flag.StringVar(&o.Name, "name", "story", "prefix of every resource name")
	flag.StringVar(&o.Bucket, "bucket", "", "S3 bucket for the CA bundle and CRLs (default NAME-truststore-ACCOUNT-ish; created if missing)")
	targets := flag.String("targets", "127.0.0.1:8081,127.0.0.1:8082", "the two targets, IP:PORT,IP:PORT")
	subnets := flag.String("subnets", "", "real AWS: subnet IDs for CreateLoadBalancer, comma-separated")
	sgs := flag.String("security-groups", "", "real AWS: security group IDs, comma-separated")
	flag.StringVar(&o.VPC, "vpc", "", "real AWS: the VPC ID of the target group")
	flag.StringVar(&o.Endpoint, "endpoint", os.Getenv("AWS_ENDPOINT_URL"), "the AWS API endpoint (albmtls: http://127.0.0.1:4566); empty means real AWS")
	flag.BoolVar(&o.Keep, "keep", false, "keep the resources at the end (default: delete them)")
	flag.DurationVar(&o.Timeout, "timeout", 10*time.Minute, "give up after this long (a real ALB takes minutes to provision)")
	flag.Parse()
	o.Targets = split(*targets)
	o.Subnets, o.SecurityGroups = split(*subnets), split(*sgs)
	o.Out = os.Stdout

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	res, err := Run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "aws-sdk-story:", err)
		os.Exit(1)
	}
	if !res.OK() {
		fmt.Fprintln(os.Stderr, "aws-sdk-story: some steps did not go as the story says:")
		for _, f := range res.Failures {
			fmt.Fprintln(os.Stderr, "  -", f)
		}
		os.Exit(1)
	}
	fmt.Println("story complete: every step went as ALB's documentation says")
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
