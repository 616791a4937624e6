package demo

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/albmtls/albmtls/emulator/albresponse"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/routing"
)

// ConfigFile is the config the demo writes into its directory and runs,
// so that a user can read a real one and run it with `albmtls serve -c`.
const ConfigFile = "albmtls.yaml"

// configData is what the demo's config depends on.
type configData struct {
	Path      string
	Dir       string // the workspace as given, for the commands in the comment
	Mode      listener.Mode
	HTTPPort  int
	HTTPSPort int
	Admin     string
	CRLs      []string
	Backends  []backendAddr
	Org       struct{ O, OU string }
}

type backendAddr struct{ Name, Addr string }

// demoConfig is the emulator config of the demo: the story of the product
// brief. Paths are relative to the config file, i.e. the demo directory.
func demoConfig(d configData) *config.Config {
	targets := make([]string, len(d.Backends))
	for i, b := range d.Backends {
		targets[i] = b.Addr
	}
	https := config.Listener{
		Port:      d.HTTPSPort,
		Protocol:  listener.ProtocolHTTPS,
		SSLPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
		Certificates: []config.Certificate{
			{Certificate: "server/server-chain.pem", PrivateKey: "server/server-key.pem"},
		},
		MutualAuthentication: config.MutualAuthentication{Mode: d.Mode},
		DefaultAction:        config.Action{Type: routing.ActionForward, TargetGroup: "web"},
	}
	if d.Mode == listener.ModeVerify {
		https.MutualAuthentication.TrustStore = "demo"
	}
	return &config.Config{
		LoadBalancer: config.LoadBalancer{Name: "demo-alb"},
		TrustStores: []config.TrustStore{{
			Name: "demo", CACertificatesBundle: "ca/bundle.pem", Revocations: d.CRLs,
		}},
		TargetGroups: []config.TargetGroup{{
			Name: "web", Targets: targets,
			// ALB requires interval > timeout.
			HealthCheck: config.HealthCheck{Path: "/healthz", Interval: config.Duration(5 * time.Second), Timeout: config.Duration(4 * time.Second)},
		}},
		Listeners: []config.Listener{
			{
				Port: d.HTTPPort, Protocol: listener.ProtocolHTTP,
				DefaultAction: config.Action{Type: routing.ActionRedirect, Redirect: &config.Redirect{
					Protocol: "HTTPS", Port: strconv.Itoa(d.HTTPSPort), StatusCode: albresponse.RedirectPermanent,
				}},
			},
			https,
		},
		Logs:  config.Logs{Connection: config.LogFile{File: "logs/conn.log"}, Access: config.LogFile{File: "logs/access.log"}},
		Admin: config.Admin{Listen: d.Admin},
	}
}

// configHeader is the comment on top of the written config: how to run it
// by hand.
func configHeader(d configData) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Written by `albmtls demo` at each start (mode %s). Run it yourself with\n", d.Mode)
	fmt.Fprintf(&b, "#   albmtls serve -c %s\n", d.Path)
	b.WriteString("# after starting the two sample backends it forwards to:\n")
	for _, be := range d.Backends {
		fmt.Fprintf(&b, "#   albmtls backend --name %s --listen %s --ca %s/ca/bundle.pem", be.Name, be.Addr, d.Dir)
		for _, c := range d.CRLs {
			fmt.Fprintf(&b, " --crl %s/%s", d.Dir, c)
		}
		fmt.Fprintf(&b, " \\\n#       --require-subject-o %q --require-subject-ou %q --require-path-prefix %s\n", d.Org.O, d.Org.OU, MembersPath)
	}
	b.WriteString("# The trust store's bundle holds the intermediate and root CAs (PEM); its\n")
	b.WriteString("# revocations are PEM CRLs, as ALB requires. See docs/configuration.md for\n")
	b.WriteString("# every key.\n")
	return b.Bytes()
}

// writeConfig writes the config into the workspace (through config.Marshal,
// the schema's one writer) and returns its path.
func writeConfig(ws *Workspace, d configData) (string, error) {
	path := filepath.Join(ws.Dir, ConfigFile)
	d.Path = path
	d.Dir = filepath.ToSlash(ws.Dir)
	org := ws.Set.Organization()
	d.Org.O, d.Org.OU = org.O, org.OU
	d.CRLs = ws.Set.CRLFiles()
	data, err := config.Marshal(demoConfig(d))
	if err != nil {
		return "", fmt.Errorf("demo: writing %s: %w", ConfigFile, err)
	}
	return path, writeFileAtomic(path, append(configHeader(d), data...), 0o644)
}
