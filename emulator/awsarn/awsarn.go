// Package awsarn is the one home of the AWS identifiers albmtls writes: the
// load balancer's resource ID (app/NAME/ID, the elb field of the connection
// and access logs) and the ARNs of the load balancer, its listeners, target
// groups, trust stores and ACM certificates (alb-behaviour §1.2, §6.2 field
// 14, §7 fields 3, 17 and 21).
//
// Building an ARN and choosing its ID are separate steps. The builders
// (LoadBalancer, Listener, TargetGroup, TrustStore, Certificate) take the ID
// they are given, so that resources created through an AWS-style API can
// carry IDs minted there. The derivations (LoadBalancerID, ListenerID,
// TargetGroupID, TrustStoreID, CertificateID) give resources defined in the
// config file a deterministic ID, so log lines, S3 object keys and ARNs stay
// the same across restarts of the same configuration. Real AWS IDs are
// random; a derived one only looks like one.
//
// The package is named awsarn rather than arn so that it does not take the
// natural name of a variable holding an ARN.
package awsarn

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// partition is the AWS partition of every ARN albmtls writes; the emulator
// models the commercial partition only.
const partition = "aws"

func elbARN(region, account, resource string) string {
	return "arn:" + partition + ":elasticloadbalancing:" + region + ":" + account + ":" + resource
}

// LoadBalancerResourceID is the load balancer's resource ID as both logs
// write it, app/NAME/ID (alb-behaviour §6.2 field 14, §7 field 3), and the
// resource part of its ARN.
func LoadBalancerResourceID(name, id string) string { return "app/" + name + "/" + id }

// LoadBalancer is an application load balancer's ARN,
// arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID.
func LoadBalancer(region, account, name, id string) string {
	return elbARN(region, account, "loadbalancer/"+LoadBalancerResourceID(name, id))
}

// Listener is the ARN of one listener of the load balancer lbName/lbID,
// arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/NAME/LBID/ID.
func Listener(region, account, lbName, lbID, id string) string {
	return elbARN(region, account, "listener/"+LoadBalancerResourceID(lbName, lbID)+"/"+id)
}

// TargetGroup is a target group's ARN, as the access log's field 17 carries
// it: arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID.
func TargetGroup(region, account, name, id string) string {
	return elbARN(region, account, "targetgroup/"+name+"/"+id)
}

// TrustStore is a trust store's ARN, as the ELBv2 API returns it
// (TrustStoreArn, alb-behaviour §1.2):
// arn:aws:elasticloadbalancing:REGION:ACCOUNT:truststore/NAME/ID.
func TrustStore(region, account, name, id string) string {
	return elbARN(region, account, "truststore/"+name+"/"+id)
}

// Certificate is an ACM certificate's ARN, as the access log's
// chosen_cert_arn carries it (alb-behaviour §7):
// arn:aws:acm:REGION:ACCOUNT:certificate/ID, ID a UUID.
func Certificate(region, account, id string) string {
	return "arn:" + partition + ":acm:" + region + ":" + account + ":certificate/" + id
}

// The kinds of resource an ID is derived for; each is part of the hashed
// input, so a load balancer and a target group of the same name get
// different IDs.
const (
	kindLoadBalancer = "elb"
	kindListener     = "listener"
	kindTargetGroup  = "targetgroup"
	kindTrustStore   = "truststore"
)

// deriveID is the one derivation rule of the config-defined resources: the
// first 8 bytes of SHA-256("albmtls:" + kind + ":" + account + ":" + key),
// in lower-case hex, the 16 hex digits of an ELBv2 resource ID. The region
// is left out, so moving a configuration to another region keeps its IDs.
func deriveID(kind, account, key string) string {
	sum := sha256.Sum256([]byte("albmtls:" + kind + ":" + account + ":" + key))
	return hex.EncodeToString(sum[:8])
}

// LoadBalancerID is the ID of a load balancer defined in the config
// (load_balancer.id overrides it).
func LoadBalancerID(account, name string) string { return deriveID(kindLoadBalancer, account, name) }

// ListenerID is the ID of the load balancer's listener on port.
func ListenerID(account, lbName string, port int) string {
	return deriveID(kindListener, account, lbName+":"+strconv.Itoa(port))
}

// TargetGroupID is the ID of a target group defined in the config.
func TargetGroupID(account, name string) string { return deriveID(kindTargetGroup, account, name) }

// TrustStoreID is the ID of a trust store defined in the config.
func TrustStoreID(account, name string) string { return deriveID(kindTrustStore, account, name) }

// CertificateID is the UUID of a listener certificate: SHA-256 of its DER
// bytes shaped as a version-4 UUID like ACM's
// (be524858-3414-4e98-be52-240358d85b1c in alb-behaviour §7). The same
// certificate gets the same ID in every account and region.
func CertificateID(certDER []byte) string {
	sum := sha256.Sum256(certDER)
	return formatUUID([16]byte(sum[:16]))
}

// LambdaFunction is a Lambda function's ARN, as the Runtime API gives it to
// the handler (Lambda-Runtime-Invoked-Function-Arn). A name that already is
// an ARN is returned as is.
func LambdaFunction(region, account, name string) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	return "arn:" + partition + ":lambda:" + region + ":" + account + ":function:" + name
}

// NewID mints a random 16-hex-digit resource ID, as the ELBv2 API gives a
// resource it creates (a real one is random too). r is the randomness,
// crypto/rand in production.
func NewID(r io.Reader) (string, error) {
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("awsarn: minting a resource ID: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// ARN is an Amazon Resource Name taken apart:
// arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE.
type ARN struct {
	Partition, Service, Region, Account string
	// Resource is everything after the fifth colon, e.g.
	// "loadbalancer/app/NAME/ID" or "certificate/UUID".
	Resource string
}

// Type is the resource type, the part of Resource before its first '/'
// ("loadbalancer", "listener", "targetgroup", "truststore", "certificate").
func (a ARN) Type() string {
	t, _, _ := strings.Cut(a.Resource, "/")
	return t
}

// Parse splits an ARN into its parts. It checks the shape only (six
// colon-separated fields, "arn" first, a non-empty service and resource),
// not that the resource exists.
func Parse(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return ARN{}, fmt.Errorf("%q is not an ARN: want arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE", s)
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, nil
}
