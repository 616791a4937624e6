package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/pki/pkitest"
)

// The --json outputs are decoded into maps, not into the structs that
// write them, so that a renamed or dropped field fails here: the field
// names are documented and scripts depend on them.

func TestPKIInitJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	code, stdout, stderr := runBin(t, "pki", "init", "--out", dir, "-q", "--json")
	require.Equal(t, 0, code, stderr)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &got), stdout)
	assert.Equal(t, dir, got["dir"])
	assert.Equal(t, filepath.Join(dir, "manifest.json"), got["manifest"])
	ts := got["trust_store"].(map[string]any)
	assert.FileExists(t, ts["ca_certificates_bundle"].(string))
	require.NotEmpty(t, ts["revocations"])
	for _, r := range ts["revocations"].([]any) {
		assert.FileExists(t, r.(string))
	}
	counts := got["counts"].(map[string]any)
	assert.EqualValues(t, 1, counts["server"])
	assert.GreaterOrEqual(t, counts["ca"], 2.0, "root and intermediate at least")
	clients := got["clients"].([]any)
	assert.EqualValues(t, counts["client"], len(clients))
	outcomes := map[string]string{}
	for _, c := range clients {
		c := c.(map[string]any)
		for _, k := range []string{"cert", "key", "chain", "p12"} {
			assert.FileExists(t, c[k].(string), "%s of %s", k, c["name"])
		}
		assert.Contains(t, c, "purpose")
		outcomes[c["name"].(string)] = c["expect_verify"].(string)
	}
	assert.Equal(t, "Success", outcomes["valid"])
	assert.NotEqual(t, "Success", outcomes["expired"])
	server := got["server"].(map[string]any)
	assert.FileExists(t, server["chain"].(string))
}

func TestConformanceListJSON(t *testing.T) {
	code, text, stderr := runBin(t, "conformance", "--list")
	require.Equal(t, 0, code, stderr)
	code, stdout, stderr := runBin(t, "conformance", "--list", "--json")
	require.Equal(t, 0, code, stderr)
	var got []map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &got), stdout)
	lines := strings.Split(strings.TrimSpace(text), "\n")
	require.Len(t, got, len(lines)-1, "as many entries as the text list, less its count line")
	for i, s := range got {
		name := s["name"].(string)
		assert.Equal(t, strings.Fields(lines[i])[0], name, "the same order as the text")
		for _, k := range []string{"description", "basis", "reference", "file"} {
			assert.NotEmpty(t, s[k], "%s of %s", k, name)
		}
		assert.Contains(t, []string{"DOC", "OBS", "INF"}, s["basis"], name)
	}
}

func TestBenchLoadJSON(t *testing.T) {
	dir := pkitest.Dir(t)
	url := benchServer(t, dir, 200)
	code, stdout, stderr := runBin(t, "bench", "load", url, "-n", "5", "-c", "1", "--json",
		"--cert", filepath.Join(dir, "clients/valid-chain.pem"), "--key", filepath.Join(dir, "clients/valid-key.pem"))
	require.Equal(t, 0, code, stderr)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &got), stdout)
	assert.Equal(t, url, got["url"])
	assert.Equal(t, "handshake", got["mode"])
	assert.EqualValues(t, 1, got["concurrency"])
	assert.EqualValues(t, 5, got["requests"])
	assert.EqualValues(t, 0, got["errors"])
	assert.Empty(t, got["error_kinds"])
	assert.Greater(t, got["elapsed_ms"], 0.0)
	assert.Greater(t, got["requests_per_second"], 0.0)
	lat := got["latency_ms"].(map[string]any)
	for _, k := range []string{"p50", "p90", "p99", "max", "mean"} {
		assert.Greater(t, lat[k], 0.0, k)
	}
	assert.LessOrEqual(t, lat["p50"], lat["max"])
	tlsInfo := got["tls"].(map[string]any)
	assert.Equal(t, "TLS 1.3", tlsInfo["version"])
	assert.EqualValues(t, 5, tlsInfo["handshakes"], "a full handshake per request")
	assert.Equal(t, false, tlsInfo["resumed"])
	assert.NotEmpty(t, tlsInfo["cipher_suite"])
	assert.NotEmpty(t, tlsInfo["curve"])
}

// TestTrustStoreCheckStrictJSON: --strict changes the status, not the
// report: a warning-only store is still "accepted": true.
func TestTrustStoreCheckStrictJSON(t *testing.T) {
	dir := pkitest.Dir(t)
	bundle, err := os.ReadFile(filepath.Join(dir, "ca/bundle.pem"))
	require.NoError(t, err)
	inter, err := os.ReadFile(filepath.Join(dir, "ca/intermediate.pem"))
	require.NoError(t, err)
	dup := filepath.Join(t.TempDir(), "dup.pem")
	require.NoError(t, os.WriteFile(dup, append(bundle, inter...), 0o644))
	code, stdout, stderr := runBin(t, "truststore", "check", "--strict", "--json", dup)
	assert.Equal(t, 1, code, stderr)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &got), stdout)
	assert.Equal(t, true, got["accepted"])
	require.Len(t, got["findings"], 1)
	assert.Equal(t, "bundle-duplicate", got["findings"].([]any)[0].(map[string]any)["rule"])
}
