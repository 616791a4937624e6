package conformance

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/albmtls/albmtls/emulator/albresponse"
	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/routing"
	"github.com/albmtls/albmtls/emulator/targetgroup"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/scenarios"
)

// Template values: the load balancer every scenario starts from
// (docs/conformance.md shows it as YAML).
const (
	// DefaultSSLPolicy offers TLS 1.3 and 1.2, so scenarios can pin either.
	DefaultSSLPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"
	// TrustStoreName and TargetGroupName name the template's trust store
	// and target group.
	TrustStoreName  = "conformance"
	TargetGroupName = "echo"
)

// targetAddrs are the harness's own targets for the template.
type targetAddrs struct {
	echo, refused, silent string
	// backend, when set, replaces the echo target (backend mode).
	backend         string
	backendProtocol targetgroup.Protocol
	// lambda is the harness's Invoke API endpoint (lambda.go).
	lambda string
}

// trustStoreFiles are the files of one scenario's trust store.
type trustStoreFiles struct {
	bundle      string
	revocations []string
}

// templateConfig builds the albmtls.yaml of a scenario: the template (an
// HTTPS listener on port 0 with the scenario's mutual authentication, a
// trust store from the PKI, a target group holding the echo target, and an
// HTTP listener redirecting to HTTPS:443, the story's HTTP:80 listener) with
// the scenario's overrides, as a config.Config, written by config.Marshal.
func templateConfig(s scenarios.Setup, pkiDir string, ts trustStoreFiles, t targetAddrs) (*config.Config, error) {
	var ma config.MutualAuthentication
	if err := ma.Mode.UnmarshalText([]byte(s.Mode)); err != nil {
		return nil, fmt.Errorf("setup.mode: %w", err)
	}
	if ma.Mode == listener.ModeVerify {
		ma.TrustStore = TrustStoreName
		if s.IgnoreClientCertificateExpiry {
			yes := true
			ma.IgnoreClientCertificateExpiry = &yes
		}
		if err := ma.AdvertiseTrustStoreCaNames.UnmarshalText([]byte(s.AdvertiseTrustStoreCaNames)); err != nil {
			return nil, fmt.Errorf("setup.advertise_trust_store_ca_names: %w", err)
		}
	}
	policy := s.SSLPolicy
	if policy == "" {
		policy = DefaultSSLPolicy
	}
	https := config.Listener{
		Protocol:  listener.ProtocolHTTPS,
		SSLPolicy: policy,
		Certificates: []config.Certificate{{
			Certificate: filepath.Join(pkiDir, "server", "server.pem"),
			PrivateKey:  filepath.Join(pkiDir, "server", "server-key.pem"),
		}},
		MutualAuthentication: ma,
		Attributes:           maps.Clone(s.Attributes),
		DefaultAction:        templateAction(s.Action),
	}
	httpListener := config.Listener{
		Protocol: listener.ProtocolHTTP,
		DefaultAction: config.Action{Type: routing.ActionRedirect,
			Redirect: &config.Redirect{Protocol: "HTTPS", Port: "443", StatusCode: albresponse.RedirectPermanent}},
	}
	var targets []string
	switch {
	case t.backend != "":
		targets = []string{t.backend}
	case s.Targets == scenarios.TargetsNone:
	case s.Targets == scenarios.TargetsRefused:
		targets = []string{t.refused}
	case s.Targets == scenarios.TargetsSilent:
		targets = []string{t.silent}
	default:
		targets = []string{t.echo}
	}
	no := false
	group := config.TargetGroup{Name: TargetGroupName, Protocol: t.backendProtocol, Targets: targets,
		HealthCheck: config.HealthCheck{Enabled: &no}}
	if s.Lambda != nil {
		group = lambdaGroup(s.Lambda, t.lambda)
	}
	cfg := &config.Config{
		LoadBalancer: config.LoadBalancer{Name: "conformance", AccountID: "123456789012", Region: "us-east-1"},
		TrustStores: []config.TrustStore{{
			Name: TrustStoreName, CACertificatesBundle: ts.bundle, Revocations: ts.revocations,
		}},
		TargetGroups: []config.TargetGroup{group},
		Listeners:    []config.Listener{https, httpListener},
	}
	// The setup's idle timeout and knobs are YAML values; decoding them
	// into the typed fields refuses a bad one here, with its key.
	if s.IdleTimeout != "" {
		if err := yaml.Unmarshal([]byte(strconv.Quote(s.IdleTimeout)), &cfg.LoadBalancer.IdleTimeout); err != nil {
			return nil, fmt.Errorf("setup.idle_timeout: %w", err)
		}
	}
	off := config.Duration(0)
	cfg.Emulation.WatchInterval = &off
	if len(s.Emulation) > 0 {
		knobs, err := yaml.Marshal(s.Emulation)
		if err != nil {
			return nil, err
		}
		if err := yaml.Unmarshal(knobs, &cfg.Emulation); err != nil {
			return nil, fmt.Errorf("setup.emulation: %w", err)
		}
	}
	return cfg, nil
}

// configMap is templateConfig as written, read back as a map, so that
// tests (Options.Mutate) and --set can change any key before the emulator
// reads it.
func configMap(s scenarios.Setup, pkiDir string, ts trustStoreFiles, t targetAddrs) (map[string]any, error) {
	cfg, err := templateConfig(s, pkiDir, ts, t)
	if err != nil {
		return nil, err
	}
	data, err := config.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// templateAction is the scenario's action, or a forward to the echo target
// group; a forward without a target group forwards there too.
func templateAction(a *config.Action) config.Action {
	if a == nil || (a.Type == routing.ActionForward && a.TargetGroup == "") || a.Type == "" {
		return config.Action{Type: routing.ActionForward, TargetGroup: TargetGroupName}
	}
	return *a
}

// writeTrustStore writes the scenario's trust store files into dir where
// they differ from the PKI's own, and returns the paths to use.
func writeTrustStore(set *pki.Set, pkiDir, dir string, ts *scenarios.TrustStore, now time.Time) (trustStoreFiles, error) {
	out := trustStoreFiles{bundle: filepath.Join(pkiDir, pki.BundleFile)}
	for _, f := range set.CRLFiles() {
		out.revocations = append(out.revocations, filepath.Join(pkiDir, f))
	}
	if ts == nil {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return out, err
	}
	if b := ts.Bundle; b != nil {
		data, err := bundle(set, b)
		if err != nil {
			return out, err
		}
		out.bundle = filepath.Join(dir, "bundle.pem")
		if err := os.WriteFile(out.bundle, data, 0o644); err != nil {
			return out, err
		}
	}
	if ts.Revocations != nil {
		out.revocations = nil
		for i, c := range *ts.Revocations {
			der, err := crlFor(set, c, now)
			if err != nil {
				return out, err
			}
			data, ext := pki.EncodeCRLPEM(der), ".crl.pem"
			if c.Format == "der" {
				data, ext = der, ".crl"
			}
			file := filepath.Join(dir, fmt.Sprintf("%d-%s%s", i+1, c.CA.Value, ext))
			if err := os.WriteFile(file, data, 0o644); err != nil {
				return out, err
			}
			out.revocations = append(out.revocations, file)
		}
	}
	return out, nil
}

// bundle builds a CA bundle from PKI CAs, with the defect asked for.
func bundle(set *pki.Set, b *scenarios.Bundle) ([]byte, error) {
	names := []string{"intermediate", "root"}
	if len(b.CAs) > 0 {
		names = names[:0]
		for _, n := range b.CAs {
			names = append(names, n.Value)
		}
	}
	var blocks [][]byte
	var certs []*x509.Certificate
	for _, n := range names {
		ca, ok := set.CA(n)
		if !ok {
			return nil, fmt.Errorf("trust store bundle: %q is not a CA of the PKI", n)
		}
		blocks = append(blocks, ca.CertPEM)
		certs = append(certs, ca.Cert)
	}
	var out bytes.Buffer
	switch b.Tamper {
	case scenarios.TamperDER:
		return certs[0].Raw, nil
	case scenarios.TamperComment:
		out.WriteString("# trust store for the conformance catalogue\n")
	case scenarios.TamperCommentWithDash:
		out.WriteString("# conformance trust-store bundle\n")
	}
	for i, blk := range blocks {
		if b.Tamper == scenarios.TamperBlankLine && i > 0 {
			out.WriteString("\n")
		}
		if b.Tamper == scenarios.TamperTextDump {
			subject, _ := certfmt.DN(certs[i].RawSubject)
			fmt.Fprintf(&out, "Certificate:\n    Data:\n        Version: 3 (0x2)\n        Serial Number: %s\n        Subject: %s\n", certfmt.Serial(certs[i]), subject)
		}
		out.Write(blk)
	}
	if b.Tamper == scenarios.TamperBlankLine && len(blocks) == 1 {
		out.WriteString("\n")
	}
	return out.Bytes(), nil
}

// crlFor returns the DER CRL a trust store entry asks for: the CA's current
// CRL, or a fresh one with more entries or other dates.
func crlFor(set *pki.Set, c scenarios.CRL, now time.Time) ([]byte, error) {
	current := set.CRL(c.CA.Value)
	if current != nil && !c.Fresh() {
		return current, nil
	}
	var extra []*big.Int
	for _, n := range c.Revoke {
		cert, err := certByName(set, n.Value)
		if err != nil {
			return nil, err
		}
		extra = append(extra, cert.SerialNumber)
	}
	var this, next time.Time
	if c.ThisUpdate != "" {
		d, _ := scenarios.ParseOffset(c.ThisUpdate)
		this = now.Add(d)
	}
	if c.NextUpdate != "" {
		d, _ := scenarios.ParseOffset(c.NextUpdate)
		next = now.Add(d)
	}
	return signCRL(set, c.CA.Value, extra, this, next, 0)
}

// signCRL signs a CRL of the named CA holding its current entries plus
// extra serials, numbered after the current one (plus bump).
func signCRL(set *pki.Set, caName string, extra []*big.Int, this, next time.Time, bump int64) ([]byte, error) {
	ca, ok := set.CA(caName)
	if !ok {
		return nil, fmt.Errorf("%q is not a CA of the PKI", caName)
	}
	if ca.Key == nil {
		return nil, fmt.Errorf("the PKI has no private key for CA %q, so the harness cannot sign its CRL", caName)
	}
	number := big.NewInt(1 + bump)
	var revoked []pki.Revocation
	if der := set.CRL(caName); der != nil {
		cur, err := x509.ParseRevocationList(der)
		if err != nil {
			return nil, fmt.Errorf("the CRL of %q: %w", caName, err)
		}
		if cur.Number != nil {
			number = new(big.Int).Add(cur.Number, big.NewInt(1+bump))
		}
		for _, e := range cur.RevokedCertificateEntries {
			revoked = append(revoked, pki.Revocation{Serial: e.SerialNumber, RevokedAt: e.RevocationTime})
		}
	}
	for _, s := range extra {
		revoked = append(revoked, pki.Revocation{Serial: s})
	}
	req := pki.CRLRequest{Number: number, Revoked: revoked, ThisUpdate: this, NextUpdate: next}
	if !this.IsZero() && next.IsZero() {
		req.NextUpdate = this.Add(pki.DefaultCRLLifetime)
	}
	if this.IsZero() && !next.IsZero() {
		req.ThisUpdate = next.Add(-pki.DefaultCRLLifetime)
	}
	return ca.CRL(req)
}

// certByName finds a client or CA certificate of the PKI.
func certByName(set *pki.Set, name string) (*x509.Certificate, error) {
	if leaf, ok := set.Client(name); ok {
		return leaf.Cert, nil
	}
	if ca, ok := set.CA(name); ok {
		return ca.Cert, nil
	}
	return nil, fmt.Errorf("%q is not a certificate of the PKI", name)
}

// issuerName returns the PKI name of the CA that issued a client.
func issuerName(set *pki.Set, client string) (string, error) {
	leaf, ok := set.Client(client)
	if !ok {
		return "", fmt.Errorf("%q is not a client of the PKI", client)
	}
	for _, n := range set.CANames() {
		if ca, _ := set.CA(n); ca != nil && bytes.Equal(ca.Cert.RawSubject, leaf.Cert.RawIssuer) {
			return n, nil
		}
	}
	return "", fmt.Errorf("the issuer of %q is not a CA of the PKI (self-signed?), so it cannot be revoked", client)
}

// safeName turns a scenario name into a directory name.
func safeName(name string) string {
	return strings.NewReplacer("/", "__", "\\", "_", ":", "_").Replace(name)
}

// TargetConfig says how to write an albmtls.yaml for `albmtls serve` that
// offers the setup the remote scenarios of one mode assume.
type TargetConfig struct {
	PKIDir string
	Mode   string // default verify
	Echo   string // the harness's --echo-listen address (default 127.0.0.1:9001)
	// HTTPSPort and HTTPPort are the listener ports (0 picks free ones).
	HTTPSPort, HTTPPort int
	// ConnectionLog, AccessLog and Admin are the log files and the admin
	// address; empty leaves them out.
	ConnectionLog, AccessLog, Admin string
}

// YAML returns the config: the template with the PKI's trust store, the
// echo target as the only target, and the given ports, logs and admin.
func (tc TargetConfig) YAML() ([]byte, error) {
	set, err := pki.Load(tc.PKIDir)
	if err != nil {
		return nil, fmt.Errorf("loading the PKI (--pki): %w", err)
	}
	abs, err := filepath.Abs(tc.PKIDir)
	if err != nil {
		return nil, err
	}
	if tc.Mode == "" {
		tc.Mode = string(listener.ModeVerify)
	}
	if tc.Echo == "" {
		tc.Echo = "127.0.0.1:9001"
	}
	ts, err := writeTrustStore(set, abs, "", nil, time.Now())
	if err != nil {
		return nil, err
	}
	cfg, err := templateConfig(scenarios.Setup{Mode: tc.Mode}, abs, ts, targetAddrs{echo: tc.Echo})
	if err != nil {
		return nil, err
	}
	cfg.Listeners[0].Port = tc.HTTPSPort
	cfg.Listeners[1].Port = tc.HTTPPort
	cfg.Logs.Connection.File = tc.ConnectionLog
	cfg.Logs.Access.File = tc.AccessLog
	cfg.Admin.Listen = tc.Admin
	cfg.Emulation = config.Emulation{}
	data, err := config.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	head := fmt.Sprintf("# albmtls serve config for `albmtls conformance --target` (mode %s): the harness's\n# template, with its echo target at %s as the only target.\n", tc.Mode, tc.Echo)
	return append([]byte(head), data...), nil
}
