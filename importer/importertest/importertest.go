// Package importertest serves an imported config the way every importer's
// test checks it: the standard test PKI on disk, an S3 mirror of its bundle
// and intermediate CRL, the emulator started in-process, and real mTLS
// clients whose outcomes and connection-log entries the test inspects.
package importertest

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
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/verify"
	"github.com/albmtls/albmtls/importer"
	"github.com/albmtls/albmtls/internal/golden"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// Bucket is the S3 bucket the test inputs name; Workspace mirrors it.
const Bucket = "example-alb-truststore"

// TargetID is the instance ID the test inputs register; Workspace maps it
// to a local backend.
const TargetID = "i-0abc1234def567890"

// Workspace is what a user has beside the definition: the test PKI under
// Dir/pki, the S3 mirror under Dir/s3 (ca/bundle.pem and
// crl/intermediate.crl.pem of Bucket), and a backend that records the
// client serial header (X-Client-Serial) of clients' requests to "/".
type Workspace struct {
	t       *testing.T
	Dir     string
	Set     *pki.Set
	Target  string
	mu      sync.Mutex
	serials []string
}

// NewWorkspace lays the workspace out in a temp dir.
func NewWorkspace(t *testing.T) *Workspace {
	w := &Workspace{t: t, Dir: t.TempDir(), Set: pkitest.Standard(t)}
	require.NoError(t, w.Set.WriteDir(filepath.Join(w.Dir, "pki"), false))
	for _, f := range []string{"ca/bundle.pem", "crl/intermediate.crl.pem"} {
		b, err := os.ReadFile(filepath.Join(w.Dir, "pki", f))
		require.NoError(t, err)
		p := filepath.Join(w.Dir, "s3", Bucket, f)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, b, 0o644))
	}
	backend := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && r.Header.Get("X-Forwarded-For") != "" { // a client's request, not a health check
			w.mu.Lock()
			w.serials = append(w.serials, r.Header.Get("X-Client-Serial"))
			w.mu.Unlock()
		}
		io.WriteString(rw, "from target")
	}))
	t.Cleanup(backend.Close)
	w.Target = strings.TrimPrefix(backend.URL, "http://")
	return w
}

// Options stand the workspace in for AWS, with listeners on free ports.
func (w *Workspace) Options() importer.Options {
	return importer.Options{
		S3Dir: filepath.Join(w.Dir, "s3"), BaseDir: w.Dir,
		DefaultCert: importer.PKICert(filepath.Join(w.Dir, "pki")),
		Targets:     map[string]string{TargetID: w.Target},
		Ports:       map[int]int{443: 0, 80: 0},
	}
}

// WriteGolden writes cfg through importer.Write, compares it (with the
// workspace's paths as $DIR and $TARGET) with the golden file, and returns
// the config loaded back with config.Load.
func (w *Workspace) WriteGolden(cfg *config.Config, goldenFile string) *config.Config {
	file := filepath.Join(w.Dir, "albmtls.yaml")
	out, err := importer.Write(cfg, file)
	require.NoError(w.t, err, string(out))
	golden.Assert(w.t, goldenFile, strings.NewReplacer(w.Dir, "$DIR", w.Target, "$TARGET").Replace(string(out)))
	require.NoError(w.t, os.WriteFile(file, out, 0o644))
	loaded, err := config.Load(file)
	require.NoError(w.t, err)
	return loaded
}

// CheckMTLS serves cfg and checks its HTTPS listener with real clients:
// valid reaches the target with the serial header renamed to
// X-Client-Serial, GET path answers wantStatus and wantBody (a rule's fixed
// response, or the default action), and
// revoked is refused with ClientCertCrlHit in the connection log.
func (w *Workspace) CheckMTLS(cfg *config.Config, path string, wantStatus int, wantBody string) {
	t := w.t
	var mu sync.Mutex
	var events []emulator.ConnectionEvent
	srv, err := emulator.New(cfg, emulator.Options{
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
	addr := ""
	for i, l := range cfg.Listeners {
		if l.Protocol == listener.ProtocolHTTPS {
			addr = srv.Listeners()[i].Addr.String()
			break
		}
	}
	require.NotEmpty(t, addr, "the imported config has an HTTPS listener")

	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(w.Set.Bundle()))
	get := func(client, path string) (int, string, error) {
		leaf, ok := w.Set.Client(client)
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
	w.mu.Lock()
	require.Len(t, w.serials, 1)
	require.NotEmpty(t, w.serials[0], "the imported listener attribute renames the serial header to X-Client-Serial")
	w.mu.Unlock()

	status, body, err = get("valid", path)
	require.NoError(t, err)
	require.Equal(t, wantStatus, status)
	require.Equal(t, wantBody, body, "the imported rule's fixed response")

	_, _, err = get("revoked", "/")
	require.Error(t, err, "the revoked client is listed in the intermediate CRL from the S3 mirror")
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
