package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/backend"
	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/internal/syncbuf"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// docBlocks returns the fenced blocks of the given language that follow
// heading in a Markdown file, up to the next heading of the same level.
func docBlocks(t *testing.T, file, heading, lang string) []string {
	t.Helper()
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(raw), "\n"+heading+"\n")
	require.True(t, ok, "%s has no %q heading", file, heading)
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	var out []string
	for _, m := range regexp.MustCompile("(?s)```"+lang+"\n(.*?)```").FindAllStringSubmatch(section, -1) {
		out = append(out, m[1])
	}
	return out
}

// shellWords splits one documented command line: words, "double quotes"
// and backslash-newline continuations, which is all the docs use.
func shellWords(line string) []string {
	line = strings.ReplaceAll(line, "\\\n", " ")
	var out []string
	for _, m := range regexp.MustCompile(`"([^"]*)"|(\S+)`).FindAllStringSubmatch(line, -1) {
		if m[2] != "" {
			out = append(out, m[2])
		} else {
			out = append(out, m[1])
		}
	}
	return out
}

// replaceOnce replaces old by new exactly once, so that a changed example
// fails here instead of being tested half-patched.
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	require.Equal(t, 1, strings.Count(s, old), "the example should contain %q once", old)
	return strings.Replace(s, old, new, 1)
}

// startBackendCLI runs `albmtls ARGS` (a backend with --listen
// 127.0.0.1:0) in-process until the test ends, and returns the address it
// serves on and its log.
func startBackendCLI(t *testing.T, args []string) (string, *syncbuf.Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errs := &syncbuf.Buffer{}, &syncbuf.Buffer{}
	cmd := newRootCmd(&app{stdout: out, stderr: errs})
	cmd.SetArgs(args)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	var addr string
	require.Eventually(t, func() bool {
		_, addr, _ = strings.Cut(strings.TrimSpace(out.String()), " serving http://")
		return addr != ""
	}, 10*time.Second, 20*time.Millisecond, "backend %v did not start: %s", args, errs.String())
	return addr, errs
}

// TestConfigurationExampleRunsClean loads the example of
// docs/configuration.md as written (only its fixed ports become free ones),
// starts the backends with the flags documented next to it, and sends a
// verify-mode request: the backend must answer 200 and nothing, emulator or
// backend, may log a warning.
func TestConfigurationExampleRunsClean(t *testing.T) {
	doc := filepath.Join("..", "..", "docs", "configuration.md")
	yamls := docBlocks(t, doc, "## Example", "yaml")
	require.Len(t, yamls, 1, "docs/configuration.md ## Example should hold one YAML block")
	shells := docBlocks(t, doc, "## Example", "sh")
	require.NotEmpty(t, shells, "docs/configuration.md ## Example should show how to start the backends")

	dir := t.TempDir()
	pkiDir := filepath.Join(dir, "pki")
	require.NoError(t, pkitest.Standard(t).WriteDir(pkiDir, false))
	set, err := pki.Load(pkiDir)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	yaml := yamls[0]
	var backendLogs []*syncbuf.Buffer
	for _, line := range strings.Split(strings.ReplaceAll(shells[0], "\\\n", " "), "\n") {
		if !strings.HasPrefix(line, "albmtls backend ") {
			continue
		}
		args := shellWords(line)[1:] // "backend", flags…
		listen := -1
		for i, a := range args {
			if a == "--listen" {
				listen = i + 1
			}
		}
		require.Positive(t, listen, "%q has no --listen", line)
		documented := args[listen]
		args[listen] = "127.0.0.1:0"
		addr, errs := startBackendCLI(t, args)
		backendLogs = append(backendLogs, errs)
		yaml = replaceOnce(t, yaml, `"`+documented+`"`, `"`+addr+`"`)
	}
	require.Len(t, backendLogs, 2, "the example's target group has two targets; document both backends")
	yaml = replaceOnce(t, yaml, "port: 8080", "port: 0")
	yaml = replaceOnce(t, yaml, "port: 8443", "port: 0")
	yaml = replaceOnce(t, yaml, "listen: 127.0.0.1:9090", "listen: 127.0.0.1:0")
	file := filepath.Join(dir, "albmtls.yaml")
	require.NoError(t, os.WriteFile(file, []byte(yaml), 0o644))

	cfg, err := config.Load(file)
	require.NoError(t, err)
	logs := &syncbuf.Buffer{}
	srv, err := emulator.New(cfg, emulator.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	require.NoError(t, err)
	require.NoError(t, srv.Start(ctx))
	defer func() { _ = srv.Shutdown(context.Background()) }()
	var https string
	for _, l := range srv.Listeners() {
		if l.Protocol == "HTTPS" {
			https = l.URL()
		}
	}
	require.NotEmpty(t, https)

	leaf, ok := set.Client("valid")
	require.True(t, ok)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(set.Bundle())
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{leaf.TLSCertificate()},
	}}}
	defer client.CloseIdleConnections()
	for range 2 { // both targets, round robin
		req, err := http.NewRequest(http.MethodGet, https+"/", nil)
		require.NoError(t, err)
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		require.NoError(t, err)
		var rep backend.Report
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&rep))
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "backend %s: %s", rep.Instance, rep.Error)
		assert.Equal(t, backend.ModeVerify, rep.Mode)
		if assert.NotNil(t, rep.Certificate) {
			assert.Equal(t, "CN=valid", strings.SplitN(rep.Certificate.Subject, ",", 2)[0])
		}
	}
	for _, l := range append(backendLogs, logs) {
		assert.NotRegexp(t, `level=(WARN|ERROR)`, l.String())
	}
}
