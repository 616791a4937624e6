package albmtls

import (
	"bytes"
	"fmt"
	"net"
	"path"
	"path/filepath"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/routing"
	"github.com/albmtls/albmtls/pki"
)

// Where things live inside the container. The image's CMD reads ConfigPath.
const (
	// ConfigPath is the emulator's config file in the container.
	ConfigPath = "/etc/albmtls/albmtls.yaml"
	// PKIDir is where the PKI is copied; relative paths in the config
	// resolve against the config's directory, so the config says pki/….
	PKIDir = "/etc/albmtls/pki"
	// ConnectionLogPath and AccessLogPath are the generated config's log files.
	ConnectionLogPath = "/var/log/albmtls/connection.log"
	AccessLogPath     = "/var/log/albmtls/access.log"
	// HTTPSPort and AdminPort are the generated config's container ports.
	HTTPSPort = "8443/tcp"
	AdminPort = "9090/tcp"
	// HTTPPort is the container port of WithHTTPRedirectListener's listener.
	HTTPPort = "8080/tcp"
	// TrustStoreName is the generated config's trust store, the name used
	// in the admin API's /trust-stores/{name} paths.
	TrustStoreName = "demo"

	configDir     = "/etc/albmtls"
	trustStoreDir = "/etc/albmtls/truststore"
	httpsPortNum  = 8443
	adminPortNum  = 9090
	httpPortNum   = 8080
)

// layout is what the module must know about the config the emulator runs:
// which ports to expose and wait on, where the logs are, which trust store
// Revoke changes.
type layout struct {
	listenerPorts []int
	httpsPort     int // 0: no HTTPS listener
	httpPort      int // 0: no HTTP listener
	adminPort     int
	connLog       string // absolute path in the container; "" when not logged
	accessLog     string
	trustStore    string // "" when the config has none
}

// noTargetBody is the fixed response of a listener without WithTarget.
const noTargetBody = "albmtls: no target configured (use WithTarget to forward to your service)\n"

// trustStoreFile is a host file copied into the trust store directory.
type trustStoreFile struct{ host, container string }

// trustStoreFiles names the container paths of WithTrustStore's files.
func (o *options) trustStoreFiles() []trustStoreFile {
	if !o.trustStore {
		return nil
	}
	files := []trustStoreFile{{o.bundle, trustStoreDir + "/bundle.pem"}}
	for i, r := range o.revocations {
		files = append(files, trustStoreFile{r, fmt.Sprintf("%s/%d-%s", trustStoreDir, i+1, filepath.Base(r))})
	}
	return files
}

// generateConfig writes the albmtls.yaml of the options: one HTTPS listener
// on 8443 in front of the targets, the PKI's server certificate and trust
// store, logs in files, the admin endpoint on 9090. It builds a
// config.Config and writes it with config.Marshal, the schema's one writer.
func (o *options) generateConfig(set *pki.Set) ([]byte, layout, error) {
	rel := func(p string) string { return "pki/" + p }
	ts := config.TrustStore{Name: TrustStoreName, CACertificatesBundle: rel("ca/bundle.pem")}
	for _, f := range set.CRLFiles() {
		ts.Revocations = append(ts.Revocations, rel(f))
	}
	if files := o.trustStoreFiles(); files != nil {
		ts = config.TrustStore{Name: TrustStoreName, CACertificatesBundle: files[0].container}
		for _, f := range files[1:] {
			ts.Revocations = append(ts.Revocations, f.container)
		}
	}
	l := config.Listener{
		Port: httpsPortNum, Protocol: listener.ProtocolHTTPS, Address: "0.0.0.0", SSLPolicy: o.sslPolicy,
		Certificates:         []config.Certificate{{Certificate: rel("server/server-chain.pem"), PrivateKey: rel("server/server-key.pem")}},
		MutualAuthentication: config.MutualAuthentication{Mode: o.mode},
		Attributes:           o.attributes,
	}
	if o.mode == ModeVerify {
		l.MutualAuthentication.TrustStore = TrustStoreName
	}
	if o.ignoreExpiry {
		yes := true
		l.MutualAuthentication.IgnoreClientCertificateExpiry = &yes
	}
	if o.advertise {
		if o.mode != ModeVerify {
			return nil, layout{}, fmt.Errorf("WithAdvertiseTrustStoreCANames needs ModeVerify (the CA names come from the trust store, which only verify mode has); the mode is %s", o.mode)
		}
		l.MutualAuthentication.AdvertiseTrustStoreCaNames = listener.AdvertiseCANamesOn
	}
	cfg := config.Config{
		TrustStores: []config.TrustStore{ts},
		Logs:        config.Logs{Connection: config.LogFile{File: ConnectionLogPath}, Access: config.LogFile{File: AccessLogPath}},
		Admin:       config.Admin{Listen: "0.0.0.0:" + strconv.Itoa(adminPortNum)},
	}
	if len(o.targets) > 0 {
		cfg.TargetGroups = []config.TargetGroup{{Name: "targets", Targets: o.targets}}
		if o.health != nil {
			cfg.TargetGroups[0].HealthCheck = *o.health
		}
		l.DefaultAction = config.Action{Type: routing.ActionForward, TargetGroup: "targets"}
	} else {
		l.DefaultAction = config.Action{Type: routing.ActionFixedResponse, FixedResponse: &config.FixedResponse{
			StatusCode: "200", ContentType: "text/plain", MessageBody: noTargetBody}}
	}
	if o.health != nil && len(o.targets) == 0 {
		return nil, layout{}, fmt.Errorf("WithHealthCheck and WithoutHealthCheck apply to the target group, which needs a target: add WithTarget or WithHostTarget")
	}
	if err := o.applyEmulation(&cfg.Emulation); err != nil {
		return nil, layout{}, err
	}
	cfg.Listeners = []config.Listener{l}
	lay := layout{
		listenerPorts: []int{httpsPortNum}, httpsPort: httpsPortNum, adminPort: adminPortNum,
		connLog: ConnectionLogPath, accessLog: AccessLogPath, trustStore: TrustStoreName,
	}
	if o.httpRedirect {
		cfg.Listeners = append(cfg.Listeners, config.Listener{
			Port: httpPortNum, Protocol: listener.ProtocolHTTP, Address: "0.0.0.0",
			DefaultAction: config.Action{Type: routing.ActionRedirect, Redirect: &config.Redirect{
				Protocol: "HTTPS", Port: strconv.Itoa(httpsPortNum), StatusCode: "HTTP_301"}},
		})
		lay.listenerPorts, lay.httpPort = append(lay.listenerPorts, httpPortNum), httpPortNum
	}
	data, err := config.Marshal(&cfg)
	if err != nil {
		return nil, layout{}, fmt.Errorf("encoding the generated albmtls.yaml: %w", err)
	}
	return data, lay, nil
}

// applyEmulation decodes WithEmulation's keys into the emulation block as
// the config file would be read: an unknown key is an error here, a value
// of the wrong type too; the emulator validates the values at start.
func (o *options) applyEmulation(e *config.Emulation) error {
	for _, k := range o.emulation {
		doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Value: k.key},
			{Kind: yaml.ScalarNode, Value: k.value},
		}}
		data, err := yaml.Marshal(doc)
		if err != nil {
			return fmt.Errorf("WithEmulation(%q, %q): %w", k.key, k.value, err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(e); err != nil {
			return fmt.Errorf("WithEmulation(%q, %q): %v; docs/configuration.md lists the emulation keys and their values", k.key, k.value, err)
		}
	}
	return nil
}

// userLayout reads what the module needs from a WithConfig file. It decodes
// leniently, without the emulator's validation: the emulator validates the
// file in the container, and its own message is what Run reports. What is
// checked here is only what makes the container unusable from the host.
func userLayout(file string, data []byte) (layout, error) {
	var c config.Config
	_ = yaml.Unmarshal(data, &c) // the emulator reports syntax errors itself
	var lay layout
	if c.Admin.Listen == "" {
		return lay, fmt.Errorf("WithConfig(%s): no admin.listen: Run waits on the admin endpoint's /healthz; add `admin: {listen: 0.0.0.0:9090}`", file)
	}
	host, port, err := net.SplitHostPort(c.Admin.Listen)
	if err != nil || !reachable(host) {
		return lay, fmt.Errorf("WithConfig(%s): admin.listen %q is not reachable from outside the container; use 0.0.0.0:PORT", file, c.Admin.Listen)
	}
	if lay.adminPort, err = strconv.Atoi(port); err != nil || lay.adminPort == 0 {
		return lay, fmt.Errorf("WithConfig(%s): admin.listen %q needs a fixed port, e.g. 0.0.0.0:9090", file, c.Admin.Listen)
	}
	for i, l := range c.Listeners {
		where := fmt.Sprintf("WithConfig(%s): listeners[%d]", file, i)
		if !reachable(l.Address) {
			return lay, fmt.Errorf("%s.address %q (127.0.0.1 when unset) is not reachable from outside the container; set address: 0.0.0.0", where, l.Address)
		}
		if l.Port == 0 {
			return lay, fmt.Errorf("%s.port is 0: a container port must be fixed to be published; choose one, e.g. 8443", where)
		}
		lay.listenerPorts = append(lay.listenerPorts, l.Port)
		if l.Protocol == listener.ProtocolHTTP && lay.httpPort == 0 {
			lay.httpPort = l.Port
		}
		if l.Protocol == listener.ProtocolHTTPS && lay.httpsPort == 0 {
			lay.httpsPort = l.Port
			lay.trustStore = l.MutualAuthentication.TrustStore
		}
	}
	if lay.trustStore == "" && len(c.TrustStores) > 0 {
		lay.trustStore = c.TrustStores[0].Name
	}
	lay.connLog = inContainer(c.Logs.Connection.File)
	lay.accessLog = inContainer(c.Logs.Access.File)
	return lay, nil
}

// reachable reports whether a listen address accepts connections from
// outside the container (published ports arrive on the container's own IP).
func reachable(host string) bool {
	switch host {
	case "0.0.0.0", "::", "[::]":
		return true
	}
	return false
}

// inContainer resolves a path of the config against the config's
// directory in the container.
func inContainer(p string) string {
	if p == "" || path.IsAbs(p) {
		return p
	}
	return path.Join(configDir, p)
}
