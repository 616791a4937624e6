package terraform_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/verify"
	"github.com/albmtls/albmtls/importer"
	"github.com/albmtls/albmtls/importer/terraform"
	"github.com/albmtls/albmtls/internal/golden"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// workspace lays out what a Terraform user has beside the plan: the test
// PKI (whose root CRL the plan uploads from a local source), and an S3
// mirror holding the objects the plan names by bucket and key.
func workspace(t *testing.T) (dir string, set *pki.Set) {
	dir = t.TempDir()
	set = pkitest.Standard(t)
	require.NoError(t, set.WriteDir(filepath.Join(dir, "pki"), false))
	for key, src := range map[string]string{"ca/bundle.pem": "ca/bundle.pem", "crl/intermediate.crl.pem": "crl/intermediate.crl.pem"} {
		b, err := os.ReadFile(filepath.Join(dir, "pki", src))
		require.NoError(t, err)
		p := filepath.Join(dir, "s3", "example-alb-truststore", key)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, b, 0o644))
	}
	return dir, set
}

func options(dir, target string) importer.Options {
	return importer.Options{
		S3Dir: filepath.Join(dir, "s3"), BaseDir: dir,
		DefaultCert: importer.PKICert(filepath.Join(dir, "pki")),
		Targets:     map[string]string{"i-0abc1234def567890": target},
		Ports:       map[int]int{443: 0, 80: 0},
	}
}

// TestImportPlanServesMTLS imports a plan with a module and ARNs unknown
// before apply, checks the config against the golden file, and serves it:
// the valid client reaches the target with the renamed serial header, the
// revoked one is refused with ClientCertCrlHit.
func TestImportPlanServesMTLS(t *testing.T) {
	dir, set := workspace(t)
	var mu sync.Mutex
	var serials []string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" { // not the target group's health check of /healthz
			mu.Lock()
			serials = append(serials, r.Header.Get("X-Client-Serial"))
			mu.Unlock()
		}
		io.WriteString(w, "from target")
	}))
	t.Cleanup(backend.Close)
	target := strings.TrimPrefix(backend.URL, "http://")

	data, err := os.ReadFile("testdata/plan.json")
	require.NoError(t, err)
	cfg, problems, err := terraform.Import(data, options(dir, target))
	require.NoError(t, err)
	require.Empty(t, problems, problems.Error())
	file := filepath.Join(dir, "albmtls.yaml")
	out, err := importer.Write(cfg, file)
	require.NoError(t, err)
	golden.Assert(t, "testdata/plan.albmtls.yaml", strings.NewReplacer(dir, "$DIR", target, "$TARGET").Replace(string(out)))
	require.NoError(t, os.WriteFile(file, out, 0o644))

	loaded, err := config.Load(file)
	require.NoError(t, err)
	var events []emulator.ConnectionEvent
	srv, err := emulator.New(loaded, emulator.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnConnection: func(ev emulator.ConnectionEvent) {
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
		},
	})
	require.NoError(t, err)
	require.NoError(t, srv.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
	})
	addr := srv.Listeners()[0].Addr.String()

	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(set.Bundle()))
	get := func(client, path string) (int, string, error) {
		leaf, ok := set.Client(client)
		require.True(t, ok, client)
		tr := &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{
			RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{leaf.TLSCertificate()}}}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + addr + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}

	status, body, err := get("valid", "/")
	require.NoError(t, err)
	require.Equal(t, 200, status)
	require.Equal(t, "from target", body)
	mu.Lock()
	require.Len(t, serials, 1)
	require.NotEmpty(t, serials[0], "listener attribute routing_http_request_x_amzn_mtls_clientcert_serial_number_header_name renames the serial header")
	mu.Unlock()

	status, body, err = get("valid", "/lb-health")
	require.NoError(t, err)
	require.Equal(t, 200, status)
	require.Equal(t, "up", body, "the aws_lb_listener_rule fixed response")

	_, _, err = get("revoked", "/")
	require.Error(t, err, "the revoked client is listed in the intermediate CRL from --s3-dir")
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range events {
			if ev.Code == verify.ClientCertCrlHit {
				require.Contains(t, ev.Entry.String(), "Failed:ClientCertCrlHit")
				return true
			}
		}
		return false
	}, 5*time.Second, 10*time.Millisecond)
}

// TestImportPlanReportsEverySkippedField adds fields albmtls cannot emulate
// or resolve and checks each is named with its address and attribute, all
// in one run.
func TestImportPlanReportsEverySkippedField(t *testing.T) {
	dir, _ := workspace(t)
	data, err := os.ReadFile("testdata/plan.json")
	require.NoError(t, err)
	s := string(data)
	s = strings.Replace(s, `"authenticate_oidc": [], "forward": []`, `"authenticate_oidc": [{"issuer": "https://idp.example.com"}], "forward": []`, 1)
	s = strings.Replace(s, `"query_string": []`, `"query_string": [{"key": "v", "value": "1"}]`, 1)
	s = strings.Replace(s, `"alpn_policy": null`, `"alpn_policy": "HTTP2Preferred"`, 1)
	opts := options(dir, "127.0.0.1:1")
	opts.Targets = nil
	opts.S3Dir = ""
	_, problems, err := terraform.Import([]byte(s), opts)
	require.NoError(t, err)
	require.Equal(t, strings.Join([]string{
		`aws_lb_listener.api: alpn_policy is not emulated`,
		`aws_lb_listener.api: default_action[0].authenticate_oidc is not emulated`,
		`aws_lb_listener_rule.health: condition[0].query_string is not emulated`,
		`aws_lb_target_group_attachment.api_a: target_id is target "i-0abc1234def567890": pass --target i-0abc1234def567890=host:port`,
		`module.mtls.aws_lb_trust_store.clients: ca_certificates_bundle_s3_key is s3://example-alb-truststore/ca/bundle.pem: pass --s3-dir DIR with the object at DIR/example-alb-truststore/ca/bundle.pem`,
		`module.mtls.aws_lb_trust_store_revocation.intermediate: revocations_s3_key is s3://example-alb-truststore/crl/intermediate.crl.pem: pass --s3-dir DIR with the object at DIR/example-alb-truststore/crl/intermediate.crl.pem`,
	}, "\n"), problems.Error())
}
