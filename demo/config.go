package demo

import (
	"bytes"
	"fmt"
	"path/filepath"
	"text/template"
)

// ConfigFile is the config the demo writes into its directory and runs,
// so that a user can read a real one and run it with `albmtls serve -c`.
const ConfigFile = "albmtls.yaml"

// configTemplate is the emulator config of the demo: the story of the
// product brief. Paths are relative to the config file, i.e. the demo
// directory.
var configTemplate = template.Must(template.New(ConfigFile).Parse(`# Written by ` + "`albmtls demo`" + ` at each start (mode {{.Mode}}). Run it yourself with
#   albmtls serve -c {{.Path}}
# after starting the two sample backends it forwards to:
{{- range .Backends}}
#   albmtls backend --name {{.Name}} --listen {{.Addr}} --ca {{$.Dir}}/ca/bundle.pem{{range $.CRLs}} --crl {{$.Dir}}/{{.}}{{end}} \
#       --require-subject-o {{printf "%q" $.Org.O}} --require-subject-ou {{printf "%q" $.Org.OU}} --require-path-prefix {{$.MembersPrefix}}
{{- end}}
# See docs/configuration.md for every key.
load_balancer:
  name: demo-alb
trust_stores:
  - name: demo
    ca_certificates_bundle: ca/bundle.pem   # intermediate + root, PEM
    revocations:                            # PEM CRLs, as ALB requires
{{- range .CRLs}}
      - {{.}}
{{- end}}
target_groups:
  - name: web
    targets:
{{- range .Backends}}
      - {{.Addr}}   # {{.Name}}
{{- end}}
    health_check: {path: /healthz, interval: 5s, timeout: 4s}   # ALB requires interval > timeout
listeners:
  - port: {{.HTTPPort}}
    protocol: HTTP
    default_action:
      type: redirect
      redirect: {protocol: HTTPS, port: "{{.HTTPSPort}}", status_code: HTTP_301}
  - port: {{.HTTPSPort}}
    protocol: HTTPS
    ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-06
    certificates:
      - {certificate: server/server-chain.pem, private_key: server/server-key.pem}
    mutual_authentication:
      mode: {{.Mode}}
{{- if eq .Mode "verify"}}
      trust_store: demo
{{- end}}
    default_action: {type: forward, target_group: web}
logs:
  connection: {file: logs/conn.log}
  access: {file: logs/access.log}
{{- if .Admin}}
admin:
  listen: {{.Admin}}
{{- end}}
`))

// configData fills configTemplate.
type configData struct {
	Path          string
	Dir           string // the workspace as given, for the commands in the comment
	Mode          string
	HTTPPort      int
	HTTPSPort     int
	Admin         string
	CRLs          []string
	Backends      []backendAddr
	Org           struct{ O, OU string }
	MembersPrefix string
}

type backendAddr struct{ Name, Addr string }

// writeConfig renders the config into the workspace and returns its path.
func writeConfig(ws *Workspace, d configData) (string, error) {
	path := filepath.Join(ws.Dir, ConfigFile)
	d.Path = path
	d.Dir = filepath.ToSlash(ws.Dir)
	org := ws.Set.Organization()
	d.Org.O, d.Org.OU = org.O, org.OU
	d.MembersPrefix = MembersPath
	d.CRLs = ws.Set.CRLFiles()
	var buf bytes.Buffer
	if err := configTemplate.Execute(&buf, d); err != nil {
		return "", fmt.Errorf("demo: rendering %s: %w", ConfigFile, err)
	}
	return path, writeFileAtomic(path, buf.Bytes(), 0o644)
}
