// Package importer turns the infrastructure definitions users deploy an ALB
// from (a Terraform plan, a CloudFormation or CDK template, Kubernetes
// Ingress annotations) into albmtls.yaml, so that what they test locally is
// what they deploy (issue 18). Each source has its own package
// (importer/terraform, …); this one holds what they share: the options that
// stand local files in for AWS resources (S3 objects, ACM certificates,
// instance and IP targets), the listener attribute names, and the list of
// every field that could not be mapped.
//
// The importers build a config.Config and write it with config.Marshal, the
// one writer of the schema, and check the result with config.Parse, so an
// import never writes a file `albmtls serve` would refuse.
package importer

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/albmtls/albmtls/emulator/config"
)

// Problem is one field of the source that albmtls could not map or resolve:
// the resource address (Terraform address, CloudFormation logical ID,
// Kubernetes object), the attribute path within it, and why.
type Problem struct {
	Address   string
	Attribute string
	Message   string
}

func (p Problem) String() string {
	if p.Attribute == "" {
		return p.Address + ": " + p.Message
	}
	return p.Address + ": " + p.Attribute + " " + p.Message
}

// Problems is every problem of one import, reported all at once.
type Problems []Problem

// Add records a problem.
func (ps *Problems) Add(addr, attr, format string, args ...any) {
	*ps = append(*ps, Problem{Address: addr, Attribute: attr, Message: fmt.Sprintf(format, args...)})
}

// Sort orders problems by address and attribute, so reports are stable.
func (ps Problems) Sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Address != ps[j].Address {
			return ps[i].Address < ps[j].Address
		}
		return ps[i].Attribute < ps[j].Attribute
	})
}

// Error lists every problem, one a line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// CertPair is a local certificate chain and key standing in for an ACM
// certificate.
type CertPair struct {
	Certificate string
	PrivateKey  string
}

// TrustStoreFiles are a trust store's CA bundle and revocation lists.
type TrustStoreFiles struct {
	Bundle      string
	Revocations []string
}

// Options say how to resolve what lives in AWS and not in the definition.
type Options struct {
	// S3Dir mirrors S3: the object s3://BUCKET/KEY is the file
	// S3Dir/BUCKET/KEY (`--s3-dir`).
	S3Dir string
	// BaseDir is where relative local paths of the definition (Terraform's
	// aws_s3_object.source) are read from: the directory Terraform ran in.
	BaseDir string
	// Certs maps ACM certificate ARNs to local files (`--cert ARN=cert.pem,key.pem`).
	Certs map[string]CertPair
	// DefaultCert, when set, stands in for every certificate not in Certs:
	// the test PKI's server certificate (`--pki DIR`).
	DefaultCert *CertPair
	// Targets maps instance IDs and IP addresses of registered targets to
	// local host:port (`--target ID=host:port`).
	Targets map[string]string
	// TrustStores stand local files in for trust stores the definition
	// names but does not define (a Kubernetes annotation's trustStore),
	// by name or ARN (`--trust-store NAME=bundle.pem[,crl.pem…]`).
	TrustStores map[string]TrustStoreFiles
	// Ports rebinds listener ports (`--port 443=8443`); 0 picks a free port.
	Ports map[int]int
}

// PKICert is the server certificate of a test PKI directory (pki init).
func PKICert(dir string) *CertPair {
	return &CertPair{
		Certificate: filepath.Join(dir, "server", "server.pem"),
		PrivateKey:  filepath.Join(dir, "server", "server-key.pem"),
	}
}

// S3Object resolves an S3 object through S3Dir; it reports a problem and
// returns "" when it cannot. A version ID cannot be honoured by a directory
// mirror, so it is reported unless the object resolves to a local source.
func (o *Options) S3Object(ps *Problems, addr, attr, bucket, key, versionAttr, version string) string {
	switch {
	case bucket == "" || key == "":
		ps.Add(addr, attr, "names no S3 bucket and key that are known before apply; use a bucket name and key from the definition or an aws_s3_object with source")
		return ""
	case o.S3Dir == "":
		ps.Add(addr, attr, "is s3://%s/%s: pass --s3-dir DIR with the object at DIR/%s/%s", bucket, key, bucket, key)
		return ""
	}
	p := filepath.Join(o.S3Dir, bucket, filepath.FromSlash(key))
	if _, err := os.Stat(p); err != nil {
		ps.Add(addr, attr, "is s3://%s/%s, but %s cannot be read: %v", bucket, key, p, err)
		return ""
	}
	if version != "" {
		ps.Add(addr, versionAttr, "%q is not emulated: --s3-dir holds one version of s3://%s/%s", version, bucket, key)
	}
	return p
}

// LocalFile resolves a path of the definition against BaseDir.
func (o *Options) LocalFile(ps *Problems, addr, attr, path string) string {
	if !filepath.IsAbs(path) && o.BaseDir != "" {
		path = filepath.Join(o.BaseDir, path)
	}
	if _, err := os.Stat(path); err != nil {
		ps.Add(addr, attr, "names %s, which cannot be read: %v", path, err)
		return ""
	}
	return path
}

// Certificate stands a local certificate in for an ACM certificate ARN
// ("" when the ARN is not known before apply).
func (o *Options) Certificate(ps *Problems, addr, attr, arn string) (config.Certificate, bool) {
	if c, ok := o.Certs[arn]; ok && arn != "" {
		return config.Certificate{Certificate: c.Certificate, PrivateKey: c.PrivateKey, ARN: arn}, true
	}
	if o.DefaultCert != nil {
		return config.Certificate{Certificate: o.DefaultCert.Certificate, PrivateKey: o.DefaultCert.PrivateKey, ARN: arn}, true
	}
	name := arn
	if name == "" {
		name = "ARN"
	}
	ps.Add(addr, attr, "is an ACM certificate: pass --cert %s=cert.pem,key.pem or --pki DIR for the test PKI's server certificate", name)
	return config.Certificate{}, false
}

// Target stands a local address in for a registered target.
func (o *Options) Target(ps *Problems, addr, attr, id string, port int) (string, bool) {
	if t, ok := o.Targets[id]; ok {
		return t, true
	}
	if port != 0 {
		if t, ok := o.Targets[fmt.Sprintf("%s:%d", id, port)]; ok {
			return t, true
		}
	}
	ps.Add(addr, attr, "is target %q: pass --target %s=host:port", id, id)
	return "", false
}

// ExternalTrustStore adds to cfg the local files of a trust store the
// definition names (by name or ARN) but does not define: a shared trust
// store, a Terraform data source, a Kubernetes annotation. It returns the
// config name, reporting the flag to pass when no files are given.
func (o *Options) ExternalTrustStore(cfg *config.Config, ps *Problems, addr, attr, ref string) string {
	name := ref
	if i := strings.Index(ref, ":truststore/"); i >= 0 {
		name, _, _ = strings.Cut(ref[i+len(":truststore/"):], "/")
	}
	for _, ts := range cfg.TrustStores {
		if ts.Name == name {
			return name
		}
	}
	files, ok := o.TrustStores[ref]
	if !ok {
		files, ok = o.TrustStores[name]
	}
	if !ok {
		ps.Add(addr, attr, "names trust store %q, which lives in AWS: pass --trust-store %s=bundle.pem[,crl.pem...]", ref, name)
		return name
	}
	cfg.TrustStores = append(cfg.TrustStores, config.TrustStore{Name: name, CACertificatesBundle: files.Bundle, Revocations: files.Revocations})
	return name
}

// Port is the local port for a listener port of the definition.
func (o *Options) Port(port int) int {
	if p, ok := o.Ports[port]; ok {
		return p
	}
	return port
}

// flatAttributes maps Terraform's flat listener arguments
// (routing_http_request_x_amzn_mtls_clientcert_serial_number_header_name)
// to the API's dotted keys, derived from the keys config supports so the
// two lists cannot drift.
var flatAttributes = func() map[string]string {
	m := map[string]string{}
	for _, k := range config.ListenerAttributeKeys() {
		m[strings.NewReplacer(".", "_", "-", "_").Replace(k)] = k
	}
	return m
}()

// ListenerAttribute returns the dotted API key of a Terraform flat listener
// argument, and whether albmtls supports it.
func ListenerAttribute(flat string) (string, bool) {
	k, ok := flatAttributes[flat]
	return k, ok
}

// SupportedListenerAttribute says whether a dotted API key is supported.
func SupportedListenerAttribute(key string) bool {
	for _, k := range config.ListenerAttributeKeys() {
		if k == key {
			return true
		}
	}
	return false
}

// SupportedLoadBalancerAttribute says whether albmtls emulates a load
// balancer attribute (config.LoadBalancerAttributeKeys).
func SupportedLoadBalancerAttribute(key string) bool {
	for _, k := range config.LoadBalancerAttributeKeys() {
		if k == key {
			return true
		}
	}
	return false
}

// ControlPlaneAttribute says whether a load balancer attribute only
// concerns AWS's control plane or placement, not what a client or target
// sees of one load balancer node, so that an import passes over it
// silently.
func ControlPlaneAttribute(key string) bool {
	switch key {
	case "deletion_protection.enabled", "load_balancing.cross_zone.enabled", "zonal_shift.config.enabled":
		return true
	}
	return false
}

// Write marshals cfg with config.Marshal and checks it parses back as
// `albmtls serve` would read it, from file (the output path: relative
// paths are read from its directory).
func Write(cfg *config.Config, file string) ([]byte, error) {
	data, err := config.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	if _, errs := config.ParseAll(file, data); len(errs) > 0 {
		return data, fmt.Errorf("importer: the imported config does not validate:\n%w", errs)
	}
	return data, nil
}

// Describe is a one-line summary of an imported config, for the CLI.
func Describe(cfg *config.Config) string {
	var parts []string
	for _, l := range cfg.Listeners {
		parts = append(parts, fmt.Sprintf("%s:%d", l.Protocol, l.Port))
	}
	return fmt.Sprintf("%d listener(s) (%s), %d trust store(s), %d target group(s)",
		len(cfg.Listeners), strings.Join(parts, ", "), len(cfg.TrustStores), len(cfg.TargetGroups))
}
