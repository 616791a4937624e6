package albmtls

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// HTTPClient returns an HTTP client for the emulator's listeners: it
// presents the named client certificate of the PKI (ClientTLSConfig; ""
// presents none), trusts the PKI's root (which issued the server
// certificate) and verifies the server name ServerName. Each client has its
// own transport, so connections (and TLS sessions) are never shared between
// identities. Redirects are not followed: a test usually wants to see them.
func (c *Container) HTTPClient(name string) (*http.Client, error) {
	cfg := c.serverTrust()
	if name != "" {
		var err error
		if cfg, err = c.ClientTLSConfig(name); err != nil {
			return nil, err
		}
	}
	return &http.Client{
		Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true,
			DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext, IdleConnTimeout: 30 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}, nil
}

// HTTPEndpoint returns http://HOST:PORT of the HTTP listener
// (WithHTTPRedirectListener, or the first HTTP listener of a WithConfig file)
// as published on the Docker host.
func (c *Container) HTTPEndpoint(ctx context.Context) (string, error) {
	if c.layout.httpPort == 0 {
		return "", errors.New("albmtls: the config has no HTTP listener; add WithHTTPRedirectListener")
	}
	return c.endpoint(ctx, c.layout.httpPort, "http")
}

// endpoint is scheme://HOST:PORT of a container port on the Docker host,
// with the host Run found reachable.
func (c *Container) endpoint(ctx context.Context, port int, scheme string) (string, error) {
	p, err := c.MappedPort(ctx, portName(port))
	if err != nil {
		return "", fmt.Errorf("albmtls: container port %d is not published: %w", port, err)
	}
	return scheme + "://" + net.JoinHostPort(c.host, p.Port()), nil
}

// hostOverride is testcontainers' variable for the host name of published ports.
const hostOverride = "TESTCONTAINERS_HOST_OVERRIDE"

// resolveHost finds the host name under which this process reaches the
// container's published ports, by asking the admin endpoint's /healthz
// there: testcontainers' choice first. testcontainers believes it runs in a
// container when /.dockerenv exists and then names the default gateway,
// which is wrong when the daemon shares this network namespace (a CI job
// on the Docker host's network); there localhost answers, and is used.
// When neither answers, the error says what to set.
func (c *Container) resolveHost(ctx context.Context) error {
	tcHost, err := c.Container.Host(ctx)
	if err != nil {
		return fmt.Errorf("asking testcontainers for the Docker host: %w", err)
	}
	p, err := c.MappedPort(ctx, portName(c.layout.adminPort))
	if err != nil {
		return fmt.Errorf("the admin port %d is not published: %w", c.layout.adminPort, err)
	}
	_, overridden := os.LookupEnv(hostOverride)
	candidates := []string{tcHost}
	if !overridden && tcHost != "localhost" && tcHost != "127.0.0.1" {
		candidates = append(candidates, "localhost")
	}
	var tried []string
	for _, h := range candidates {
		perr := probe(ctx, "http://"+net.JoinHostPort(h, p.Port())+"/healthz")
		if perr == nil {
			c.host = h
			return nil
		}
		tried = append(tried, fmt.Sprintf("%s:%s (%v)", h, p.Port(), perr))
	}
	why := ""
	switch _, err := os.Stat("/.dockerenv"); {
	case overridden:
		why = " " + hostOverride + " is set to " + strconv.Quote(tcHost) + "."
	case err == nil:
		why = " testcontainers picked " + tcHost + " because this process runs in a container (/.dockerenv)."
	}
	return fmt.Errorf("the emulator is healthy inside the container, but its published admin port is not reachable from this process at %s.%s Set %s to the host name or address that reaches the Docker daemon's published ports (for a remote daemon, the host of DOCKER_HOST)",
		strings.Join(tried, " or "), why, hostOverride)
}

// probe asks url for the emulator's /healthz answer.
func probe(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var h struct{ LoadBalancer string }
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil || h.LoadBalancer == "" {
		return fmt.Errorf("answered %d, but not as the emulator's /healthz", resp.StatusCode)
	}
	return nil
}

func portName(port int) string { return strconv.Itoa(port) + "/tcp" }
