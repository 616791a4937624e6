package compare

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"text/template"
	"time"
)

// Names of the servers under comparison.
const (
	ALBMTLS = "albmtls"
	Nginx   = "nginx"
	HAProxy = "haproxy"
	// Ceiling is a bare crypto/tls HTTPS server that forwards each request
	// to the same backend with httputil.ReverseProxy (the same forwarding
	// work as the proxies, the standard library's way) but verifies no
	// chain, checks no CRL and writes no log: the most a Go mTLS proxy can
	// do on this machine.
	Ceiling = "ceiling"
	// Relay is the keep-alive floor of a Go mTLS proxy (servers.Relay).
	Relay = "relay"
)

// AllServers is the default set, in the order of the table.
var AllServers = []string{ALBMTLS, Nginx, HAProxy, Ceiling, Relay}

//go:embed templates/*.tmpl
var templates embed.FS

var tmpl = template.Must(template.New("").ParseFS(templates, "templates/*.tmpl"))

// readyTimeout bounds a server's start-up; nginx and HAProxy parse a
// 500,000-entry CRL before they listen.
const readyTimeout = 2 * time.Minute

// instance is one running server of the comparison.
type instance struct {
	name string
	addr string // 127.0.0.1:PORT
	proc *proc
}

func (in *instance) url() string { return "https://" + in.addr + "/" }

// startServer writes the named server's configuration for the CRL variant
// and starts it on a free loopback port.
func (d *driver) startServer(ctx context.Context, name string, size crlSize) (*instance, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	in := &instance{name: name, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	dir := filepath.Join(d.dir, fmt.Sprintf("%s-crl%d", name, size))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	m := d.m
	data := map[string]any{
		"Dir": dir, "Listen": in.addr, "Address": "127.0.0.1", "Port": port, "Backend": d.backendAddr,
		"Bundle": m.bundle, "ServerChain": m.serverChain, "ServerKey": m.serverKey, "ServerPEM": m.serverPEM,
		"CRL": m.combinedCRL[size], "CRLs": []string{m.interCRL[size], m.rootCRL},
		"User": nginxUser(),
	}
	log := filepath.Join(dir, "output.log")
	var exe string
	var args []string
	switch name {
	case ALBMTLS:
		file, err := render(dir, "albmtls.yaml", data)
		if err != nil {
			return nil, err
		}
		exe, args = d.cfg.Exe, []string{"serve", "--log-level", "warn", "-c", file}
	case Nginx:
		file, err := render(dir, "nginx.conf", data)
		if err != nil {
			return nil, err
		}
		exe, args = d.nginx, []string{"-p", dir, "-c", file, "-e", filepath.Join(dir, "error.log"), "-g", "daemon off;"}
	case HAProxy:
		file, err := render(dir, "haproxy.cfg", data)
		if err != nil {
			return nil, err
		}
		exe, args = d.haproxy, []string{"-db", "-f", file}
	case Ceiling, Relay:
		exe, args = d.cfg.Exe, []string{"bench", "ceiling", "--listen", in.addr,
			"--cert", m.serverChain, "--key", m.serverKey, "--ca", m.bundle, "--backend", d.backendAddr}
		if name == Relay {
			args = append(args, "--relay")
		}
	default:
		return nil, fmt.Errorf("unknown server %q; use %v", name, AllServers)
	}
	p, err := d.procs.start(name, log, exe, args...)
	if err != nil {
		return nil, err
	}
	in.proc = p
	if err := p.waitListening(ctx, in.addr, readyTimeout); err != nil {
		d.procs.stopOne(p)
		return nil, err
	}
	return in, nil
}

// startBackend starts the backend every proxy forwards to.
func (d *driver) startBackend(ctx context.Context) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	d.backendAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	p, err := d.procs.start("backend", filepath.Join(d.dir, "backend.log"), d.cfg.Exe, "bench", "backend", "--listen", d.backendAddr)
	if err != nil {
		return nil, err
	}
	if err := p.waitListening(ctx, d.backendAddr, 30*time.Second); err != nil {
		return nil, err
	}
	return p, nil
}

// render writes templates/NAME.tmpl with data into dir/NAME.
func render(dir, name string, data any) (string, error) {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name+".tmpl", data); err != nil {
		return "", fmt.Errorf("rendering %s: %w", name, err)
	}
	file := filepath.Join(dir, name)
	return file, os.WriteFile(file, b.Bytes(), 0o644)
}

// nginxUser is the user nginx's workers run as: when started as root,
// nginx would switch them to nobody, who cannot read the run's private
// directory; otherwise nginx keeps the current user and the directive must
// be absent.
func nginxUser() string {
	if os.Geteuid() != 0 {
		return ""
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "root"
}
