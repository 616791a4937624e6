package soak

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"text/template"
	"time"

	"github.com/albmtls/albmtls/internal/syncbuf"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/crlgen"
)

// material is the PKI of a run on disk, with two variants of the trust
// store files for the reload phase.
type material struct {
	dir                       string
	bundle, interCRL, rootCRL string
	serverChain, serverKey    string
	bundleB, interCRLB        []byte // variants written over the originals
	bundleA, interCRLA        []byte
	valid, revoked            tls.Certificate
}

func writeMaterial(dir string) (*material, error) {
	set, err := pki.Generate(pki.GenerateOptions{})
	if err != nil {
		return nil, fmt.Errorf("generating the PKI: %w", err)
	}
	pdir := filepath.Join(dir, "pki")
	if err := set.WriteDir(pdir, false); err != nil {
		return nil, fmt.Errorf("writing the PKI to %s: %w", pdir, err)
	}
	valid, _ := set.Client("valid")
	revoked, _ := set.Client("revoked")
	m := &material{
		dir:         pdir,
		bundle:      filepath.Join(pdir, "ca/bundle.pem"),
		interCRL:    filepath.Join(pdir, "crl/intermediate.crl.pem"),
		rootCRL:     filepath.Join(pdir, "crl/root.crl.pem"),
		serverChain: filepath.Join(pdir, "server/server-chain.pem"),
		serverKey:   filepath.Join(pdir, "server/server-key.pem"),
		valid:       valid.TLSCertificate(),
		revoked:     revoked.TLSCertificate(),
	}
	if m.bundleA, err = os.ReadFile(m.bundle); err != nil {
		return nil, err
	}
	if m.interCRLA, err = os.ReadFile(m.interCRL); err != nil {
		return nil, err
	}
	// Variant B: the same CAs in the other order, and a CRL with another
	// number and more entries that still revokes the revoked client only.
	m.bundleB = append(append([]byte{}, set.Root.CertPEM...), set.Intermediate.CertPEM...)
	now := time.Now()
	der, err := crlgen.Build(set.Intermediate.Cert, set.Intermediate.Key, crlgen.Spec{
		Entries: 1000, Seed: 19, Extra: []*big.Int{revoked.Cert.SerialNumber},
		ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(7 * 24 * time.Hour), Number: big.NewInt(1019),
	})
	if err != nil {
		return nil, fmt.Errorf("building the second CRL: %w", err)
	}
	m.interCRLB = pki.EncodeCRLPEM(der)
	return m, nil
}

// emuConfig is what one phase asks of its emulator.
type emuConfig struct {
	Targets     []string
	LogDir      string
	Watch       string // emulation.watch_interval
	IdleTimeout string // load_balancer.idle_timeout
	// HandshakeTimeout is emulation.handshake_timeout (default 10s, the
	// emulator's); only the slowloris phase shortens it.
	HandshakeTimeout string
	// RequestHeaderTimeout is emulation.request_header_timeout (default
	// 60s, the emulator's); only the slowloris phase shortens it.
	RequestHeaderTimeout string
	Extra                string // more lines of the emulation block (--emulation)
	NoFile               uint64 // RLIMIT_NOFILE of the child; 0: inherit
	*material
}

var configTemplate = template.Must(template.New("albmtls.yaml").Parse(`# albmtls soak suite (bench/soak), generated per phase; paths are absolute.
load_balancer: {name: soak-alb, idle_timeout: {{.IdleTimeout}}}
trust_stores:
  - name: soak
    ca_certificates_bundle: {{.Bundle}}
    revocations: [{{.InterCRL}}, {{.RootCRL}}]
target_groups:
  - name: web
    targets: [{{range $i, $t := .Targets}}{{if $i}}, {{end}}"{{$t}}"{{end}}]
    health_check: {enabled: false}
listeners:
  - port: 0
    address: 127.0.0.1
    protocol: HTTPS
    ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-06
    certificates: [{certificate: {{.ServerChain}}, private_key: {{.ServerKey}}}]
    mutual_authentication: {mode: verify, trust_store: soak}
    default_action: {type: forward, target_group: web}
logs:
  connection: {file: {{.LogDir}}/conn.log}
  access: {file: {{.LogDir}}/access.log}
admin: {listen: "127.0.0.1:0"}
emulation:
  watch_interval: {{.Watch}}
  handshake_timeout: {{.HandshakeTimeout}}
  request_header_timeout: {{.RequestHeaderTimeout}}
{{.Extra}}
`))

// renderConfig fills the template; Extra lines are indented into the
// emulation block.
func renderConfig(c emuConfig) ([]byte, error) {
	if c.Watch == "" {
		c.Watch = "0s"
	}
	if c.HandshakeTimeout == "" {
		c.HandshakeTimeout = "10s"
	}
	if c.RequestHeaderTimeout == "" {
		c.RequestHeaderTimeout = "60s"
	}
	if c.IdleTimeout == "" {
		c.IdleTimeout = "300s"
	}
	var lines []string
	for _, l := range strings.Split(c.Extra, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, "  "+strings.TrimSpace(l))
		}
	}
	c.Extra = strings.Join(lines, "\n")
	var b bytes.Buffer
	err := configTemplate.Execute(&b, struct {
		emuConfig
		Bundle, InterCRL, RootCRL, ServerChain, ServerKey string
	}{c, c.bundle, c.interCRL, c.rootCRL, c.serverChain, c.serverKey})
	return b.Bytes(), err
}

// emulator is one `albmtls serve -c` child process.
type emulator struct {
	cmd       *exec.Cmd
	url       string // https://127.0.0.1:PORT
	addr      string // 127.0.0.1:PORT
	admin     string // http://127.0.0.1:PORT
	logDir    string
	stderr    *lockedBuffer
	done      chan struct{}
	exitErr   error
	tlsClient *tls.Config
}

// startEmulator writes the config into dir and runs exe serve -c on it,
// waiting until it prints its listener and admin addresses.
func startEmulator(ctx context.Context, exe, dir string, c emuConfig) (*emulator, error) {
	if c.LogDir == "" {
		c.LogDir = filepath.Join(dir, "logs")
	}
	cfg, err := renderConfig(c)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "albmtls.yaml")
	if err := os.WriteFile(file, cfg, 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "serve", "-c", file)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	e := &emulator{cmd: cmd, logDir: c.LogDir, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = e.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s serve: %w", exe, err)
	}
	if c.NoFile > 0 {
		if err := setNoFile(cmd.Process.Pid, c.NoFile); err != nil {
			_ = cmd.Process.Kill()
			return nil, fmt.Errorf("limiting the emulator's open files to %d: %w", c.NoFile, err)
		}
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, out)
	}()
	go func() { e.exitErr = cmd.Wait(); close(e.done) }()
	timeout := time.After(30 * time.Second)
	for e.addr == "" || e.admin == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				<-e.done
				return nil, fmt.Errorf("albmtls serve exited (%v) before listening; its log ends with:\n%s", e.exitErr, e.stderr.tail(15))
			}
			if u, ok := strings.CutPrefix(l, "listener HTTPS "); ok {
				e.url, e.addr = u, strings.TrimPrefix(u, "https://")
			}
			if u, ok := strings.CutPrefix(l, "admin "); ok {
				e.admin = u
			}
		case <-timeout:
			e.kill()
			return nil, fmt.Errorf("albmtls serve printed no listener within 30s; its log ends with:\n%s", e.stderr.tail(15))
		case <-ctx.Done():
			e.kill()
			return nil, ctx.Err()
		}
	}
	go func() {
		for range lines {
		}
	}()
	e.tlsClient = &tls.Config{Certificates: []tls.Certificate{c.valid}, InsecureSkipVerify: true,
		ClientSessionCache: nil, MinVersion: tls.VersionTLS13}
	return e, nil
}

func (e *emulator) pid() int { return e.cmd.Process.Pid }

// stop sends SIGTERM and waits for the exit, then SIGKILL after 20 s.
func (e *emulator) stop() error {
	_ = syscall.Kill(e.pid(), syscall.SIGTERM)
	select {
	case <-e.done:
	case <-time.After(20 * time.Second):
		e.kill()
	}
	return e.exitErr
}

func (e *emulator) kill() {
	_ = syscall.Kill(-e.pid(), syscall.SIGKILL)
	<-e.done
}

// metric scrapes the admin /metrics and returns the value of one series
// (name with its labels, as Prometheus prints it).
func (e *emulator) metric(series string) (float64, error) {
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(e.admin + "/metrics")
	if err != nil {
		return 0, fmt.Errorf("scraping %s/metrics: %w", e.admin, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	return metricValue(string(body), series)
}

// lockedBuffer collects a child's stderr, with the two questions the
// phases ask of it.
type lockedBuffer struct{ syncbuf.Buffer }

// count returns how many lines contain s.
func (l *lockedBuffer) count(s string) int {
	n := 0
	for _, line := range strings.Split(l.String(), "\n") {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

func (l *lockedBuffer) tail(n int) string {
	lines := strings.Split(strings.TrimRight(l.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}
