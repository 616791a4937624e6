package demo

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"

	"github.com/albmtls/albmtls/backend"
	"github.com/albmtls/albmtls/emulator/albheader"
	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/pki"
)

// Expectation is what one client certificate gets from the running demo.
type Expectation struct {
	// Client is the PKI's name of the certificate.
	Client string
	// Path is the request path (MembersPath for member and outsider).
	Path string
	// Status is the connection log's tls_verify_status.
	Status string
	// HTTPStatus is the answer; 0 when the connection is reset (the
	// certificate was rejected).
	HTTPStatus int
	// Reason says why a backend answers 403.
	Reason string
	// Curl is the command the guide prints, as arguments, and Env the
	// environment variables it needs (NAME=value).
	Curl []string
	Env  []string
}

// Rejected reports whether the load balancer resets the connection.
func (e Expectation) Rejected() bool { return e.HTTPStatus == 0 }

// Outcome is the expectation in words, as the guide prints it.
func (e Expectation) Outcome() string {
	switch {
	case e.Rejected():
		return e.Status + " → connection reset"
	case e.HTTPStatus == http.StatusOK:
		return e.Status + " → 200 from web-1 or web-2, in turn"
	}
	return fmt.Sprintf("%s → %d from the backend: %s", e.Status, e.HTTPStatus, e.Reason)
}

// CurlLine is Env and Curl quoted for a POSIX shell.
func (e Expectation) CurlLine() string {
	return shellJoin(append(append([]string(nil), e.Env...), e.Curl...))
}

// expectations computes each client's outcome: the load balancer's from the
// PKI's manifest (the verify- or passthrough-mode code, Success with mTLS
// off), and
// the backend's by asking a backend configured like web-1 about the headers
// the load balancer will forward.
func (d *Demo) expectations() ([]Expectation, error) {
	trust, err := d.trust()
	if err != nil {
		return nil, err
	}
	org := d.ws.Set.Organization()
	probe, err := backend.New(backend.Config{Name: "probe", Trust: trust, RequireO: org.O, RequireOU: org.OU, RequirePathPrefix: MembersPath})
	if err != nil {
		return nil, err
	}
	m := d.ws.Set.Manifest()
	var out []Expectation
	for _, name := range d.ws.Set.ClientNames() {
		art, _ := m.Artefact(name)
		leaf, _ := d.ws.Set.Client(name)
		e := Expectation{Client: name, Path: "/", Status: "Success"}
		if name == "member" || name == "outsider" {
			e.Path = MembersPath
		}
		if art.Expect != nil {
			switch d.opts.Mode {
			case "verify":
				e.Status = art.Expect.Verify
			case "passthrough":
				e.Status = art.Expect.Passthrough
			}
		}
		if e.Status == "Success" {
			req := httptest.NewRequest(http.MethodGet, e.Path, nil)
			forwardedHeaders(req.Header, d.opts.Mode, leaf)
			rep := probe.Inspect(req)
			e.HTTPStatus, e.Reason = rep.Status, rep.Error
		}
		e.Curl, e.Env = d.curl(name, e.Path)
		out = append(out, e)
	}
	return out, nil
}

// forwardedHeaders sets the mTLS headers the load balancer sends for leaf in
// mode (alb-behaviour §4.1), in the emulator's encoding.
func forwardedHeaders(h http.Header, mode string, leaf *pki.Leaf) {
	switch mode {
	case "verify":
		subject, _ := certfmt.DN(leaf.Cert.RawSubject)
		issuer, _ := certfmt.DN(leaf.Cert.RawIssuer)
		h.Set(albheader.ClientCertSerialNumber, certfmt.Serial(leaf.Cert))
		h.Set(albheader.ClientCertIssuer, issuer)
		h.Set(albheader.ClientCertSubject, subject)
		h.Set(albheader.ClientCertValidity, certfmt.Validity(leaf.Cert))
		h.Set(albheader.ClientCertLeaf, certfmt.PEMURLEncode([][]byte{leaf.Cert.Raw}, certfmt.EqualsLiteral))
	case "passthrough":
		h.Set(albheader.ClientCert, certfmt.PEMURLEncode(leaf.Chain, certfmt.EqualsLiteral))
	}
}

// trust is what the backends verify passthrough chains against: the trust
// store's bundle and CRLs.
func (d *Demo) trust() (*backend.Trust, error) {
	set := d.ws.Set
	var crls [][]byte
	for _, ca := range set.CANames() {
		if crl := set.CRL(ca); crl != nil {
			crls = append(crls, crl)
		}
	}
	trust, err := backend.LoadTrust(set.Bundle(), crls...)
	if err != nil {
		return nil, fmt.Errorf("demo: the trust store of %s: %w", d.ws.Dir, err)
	}
	return trust, nil
}

// curl is the command that presents a client certificate: the chain file
// (what the client sends), its key, and the CA bundle that verifies the
// server (whose certificate the intermediate issued).
func (d *Demo) curl(client, path string) (args, env []string) {
	dir := d.ws.Dir
	args = []string{"curl", "-sS", "--cacert", filepath.Join(dir, "ca", "bundle.pem"),
		"--cert", filepath.Join(dir, "clients", client+"-chain.pem"),
		"--key", filepath.Join(dir, "clients", client+"-key.pem")}
	if leaf, ok := d.ws.Set.Client(client); ok && pki.KeyTypeOf(leaf.Cert.PublicKey) == pki.RSA1024 {
		// OpenSSL 3 refuses to load an RSA 1024 key at its default
		// security level, before curl's --ciphers applies; a config
		// file with level 0 lets the ALB see the key.
		env = []string{"OPENSSL_CONF=" + filepath.Join(dir, SecLevel0File)}
	}
	return append(args, strings.TrimSuffix(d.httpsURL, "/")+path+"?format=json"), env
}

// WriteGuide prints what runs and, for each client certificate, the curl
// command and the outcome to expect.
func (d *Demo) WriteGuide(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	dir := d.ws.Dir
	p("albmtls demo: an emulated ALB with mutual TLS in %s mode, in front of web-1 and web-2\n\n", d.opts.Mode)
	p("  %-28s HTTPS listener, ELBSecurityPolicy-TLS13-1-2-2021-06, %s\n", d.httpsURL, d.modeLine())
	p("  %-28s HTTP listener: 301 redirect to HTTPS   (curl -i %s)\n", d.httpURL, d.httpURL)
	for _, b := range d.backends {
		p("  %-28s %s, target group web (round robin, health check /healthz)\n", "http://"+b.Addr+"/", b.Name)
	}
	if d.admin != "" {
		p("  %-28s admin: /healthz, /metrics, POST /trust-stores/demo/revocations (a PEM CRL)\n", d.admin+"/")
	}
	if u := d.AWSAPIURL(); u != "" {
		p("  %-28s AWS API: ELBv2, ACM and S3 (export AWS_ENDPOINT_URL=%s AWS_REGION=eu-west-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test; docs/aws-api.md)\n", u, u)
	}
	p("  %-28s the config it runs (albmtls serve -c)\n", d.config)
	p("  %-28s connection log, one ALB line per connection; access.log beside it\n", filepath.Join(dir, "logs", "conn.log"))
	if d.ws.Created {
		p("  %-28s a new test PKI (reused by the next run)\n", dir+string(filepath.Separator))
	} else {
		p("  %-28s the test PKI of an earlier run\n", dir+string(filepath.Separator))
	}
	p("\nEach client certificate of the PKI, and what it gets (run from this directory):\n\n")
	for _, e := range d.expect {
		p("  %-22s %s\n", e.Client, e.Outcome())
		p("    %s\n", e.CurlLine())
	}
	p("\nA rejected client finishes its TLS 1.3 handshake and is then reset, as with a real ALB:\n")
	p("curl fails with \"Connection reset by peer\" or similar (exit 16, 55 or 56, depending on\n")
	p("when the reset arrives); the connection log says why.\n")
	p("Paths under %s need the organisation's base DN (O=%s, OU=%s), checked by the backend.\n",
		MembersPath, d.ws.Set.Organization().O, d.ws.Set.Organization().OU)
	p("\nIn a browser: import %s (password %s; there is a .p12 per client),\n", d.ws.P12("member"), P12Password)
	p("trust %s as a certificate authority (or accept the warning) and open\n", filepath.Join(dir, "ca", "root.pem"))
	p("%s%s. The ALB advertises no CA names, so the browser offers every client\n", d.httpsURL, strings.TrimPrefix(MembersPath, "/"))
	p("certificate it holds.\n")
	p("\nConnections as they happen (Ctrl-C stops everything):\n")
}

func (d *Demo) modeLine() string {
	switch d.opts.Mode {
	case "verify":
		return "mTLS verify against trust store demo (ca/bundle.pem + CRLs)"
	case "passthrough":
		return "mTLS passthrough: the ALB checks nothing, web-1 and web-2 verify the chain"
	}
	return "mTLS off: no client certificate is requested"
}

// shellJoin quotes arguments for a POSIX shell where needed.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+") == "" {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}
