package main

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"path/filepath"
	"time"

	"github.com/albmtls/albmtls/bench/loadgen"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/scenarios"
)

// The --json outputs. Their field names are an interface for scripts and
// are documented (README and the command's docs/*.md): add fields, never
// rename or remove one.

// writeJSON prints v as one indented JSON document.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// pkiInitJSON is `pki init --json`; paths include DIR, as the text does.
type pkiInitJSON struct {
	Dir        string         `json:"dir"`
	Manifest   string         `json:"manifest"`
	TrustStore trustStoreJSON `json:"trust_store"`
	Counts     map[string]int `json:"counts"` // by manifest kind: ca, crl, server, client
	Clients    []pkiLeafJSON  `json:"clients"`
	Server     *pkiLeafJSON   `json:"server,omitempty"`
}

type trustStoreJSON struct {
	Bundle      string   `json:"ca_certificates_bundle"`
	Revocations []string `json:"revocations"`
}

// pkiLeafJSON is a client or the server: its files and, for a client, the
// outcome the manifest expects in verify mode.
type pkiLeafJSON struct {
	Name         string `json:"name"`
	Cert         string `json:"cert"`
	Key          string `json:"key"`
	Chain        string `json:"chain"`
	ExpectVerify string `json:"expect_verify,omitempty"`
	Purpose      string `json:"purpose"`
	// P12 is the client's PKCS#12 file (password pki.P12Password).
	P12 string `json:"p12,omitempty"`
}

func pkiInitReport(dir string, m pki.Manifest) pkiInitJSON {
	join := func(p string) string {
		if p == "" {
			return ""
		}
		return filepath.Join(dir, p)
	}
	r := pkiInitJSON{
		Dir:        dir,
		Manifest:   join(pki.ManifestFile),
		TrustStore: trustStoreJSON{Bundle: join(m.TrustStore.Bundle), Revocations: []string{}},
		Counts:     map[string]int{},
		Clients:    []pkiLeafJSON{},
	}
	for _, rv := range m.TrustStore.Revocations {
		r.TrustStore.Revocations = append(r.TrustStore.Revocations, join(rv))
	}
	for _, art := range m.Artefacts {
		r.Counts[string(art.Kind)]++
		leaf := pkiLeafJSON{Name: art.Name, Cert: join(art.Files.Cert), Key: join(art.Files.Key), Chain: join(art.Files.Chain), Purpose: art.Purpose}
		switch art.Kind {
		case pki.KindClient:
			leaf.P12 = join(pki.P12File(art.Name))
			if art.Expect != nil {
				leaf.ExpectVerify = art.Expect.Verify
			}
			r.Clients = append(r.Clients, leaf)
		case pki.KindServer:
			r.Server = &leaf
		}
	}
	return r
}

// scenarioJSON is one entry of `conformance --list --json`.
type scenarioJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Basis       string `json:"basis"`
	Reference   string `json:"reference"`
	URL         string `json:"url,omitempty"`
	File        string `json:"file"`
}

func scenarioList(list []*scenarios.Scenario) []scenarioJSON {
	out := make([]scenarioJSON, 0, len(list))
	for _, s := range list {
		out = append(out, scenarioJSON{Name: s.Name, Description: s.Description, Basis: s.Basis,
			Reference: s.Source.Reference, URL: s.Source.URL, File: s.File})
	}
	return out
}

// loadJSON is `bench load --json`. Durations are milliseconds (float),
// the rate requests per second.
type loadJSON struct {
	URL         string           `json:"url"`
	Mode        string           `json:"mode"`
	Concurrency int              `json:"concurrency"`
	Requests    int64            `json:"requests"`
	Errors      int64            `json:"errors"`
	ErrorKinds  map[string]int64 `json:"error_kinds"`
	ElapsedMS   float64          `json:"elapsed_ms"`
	RPS         float64          `json:"requests_per_second"`
	LatencyMS   latencyJSON      `json:"latency_ms"`
	TLS         *loadTLSJSON     `json:"tls,omitempty"`
}

type latencyJSON struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

type loadTLSJSON struct {
	Version     string `json:"version"`
	CipherSuite string `json:"cipher_suite"`
	Curve       string `json:"curve"`
	Handshakes  int64  `json:"handshakes"`
	Resumed     bool   `json:"resumed"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func loadReport(url string, r *loadgen.Result) loadJSON {
	out := loadJSON{
		URL: url, Mode: string(r.Mode), Concurrency: r.Concurrency,
		Requests: r.Requests, Errors: r.Errors, ErrorKinds: map[string]int64{},
		ElapsedMS: ms(r.Elapsed), RPS: r.RPS,
		LatencyMS: latencyJSON{P50: ms(r.P50), P90: ms(r.P90), P99: ms(r.P99), Max: ms(r.Max), Mean: ms(r.Mean)},
	}
	for k, v := range r.ErrorKinds {
		out.ErrorKinds[k] = v
	}
	if r.TLSVersion != 0 {
		out.TLS = &loadTLSJSON{Version: tls.VersionName(r.TLSVersion), CipherSuite: tls.CipherSuiteName(r.CipherSuite),
			Curve: r.CurveID.String(), Handshakes: r.Handshakes, Resumed: r.DidResume}
	}
	return out
}
