package scenarios_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/conformance"
	"github.com/albmtls/albmtls/pki/pkitest"
	"github.com/albmtls/albmtls/scenarios"
)

// TestCatalogue runs every scenario of the catalogue against the in-process
// emulator, each as a parallel subtest, over the shared standard test PKI.
// A failure prints what was expected and what was seen.
func TestCatalogue(t *testing.T) { runCatalogue(t, nil) }

// TestCatalogueNetHTTPFrontEnd runs the catalogue again with Go's net/http
// server as the HTTP/1.x front end (emulation.http1_front_end: net/http;
// the default is albmtls's own), so both HTTP paths pass the same
// scenarios.
func TestCatalogueNetHTTPFrontEnd(t *testing.T) {
	runCatalogue(t, func(_ string, cfg map[string]any) {
		em, _ := cfg["emulation"].(map[string]any)
		if em == nil {
			em = map[string]any{}
			cfg["emulation"] = em
		}
		em["http1_front_end"] = "net/http"
	})
}

func runCatalogue(t *testing.T, mutate func(string, map[string]any)) {
	started := time.Now()
	list, err := scenarios.Catalogue()
	require.NoError(t, err)
	sess, err := conformance.Open(conformance.Options{Scenarios: list, PKIDir: pkitest.Dir(t), Mutate: mutate})
	require.NoError(t, err)
	t.Cleanup(sess.Close)
	t.Run("scenario", func(t *testing.T) {
		for _, sc := range sess.Scenarios() {
			t.Run(sc.Name, func(t *testing.T) {
				t.Parallel()
				r := sess.Run(context.Background(), sc)
				switch r.Status {
				case conformance.StatusSkip:
					t.Skip(r.Reason)
				case conformance.StatusFail:
					t.Errorf("%s (%s):\n  %s\n%s", sc.Name, sc.File, strings.Join(r.Failures(), "\n  "), conformance.Detail(r))
				}
			})
		}
	})
	t.Logf("the whole catalogue (%d scenarios) ran in %s", len(sess.Scenarios()), time.Since(started).Round(time.Millisecond))
}
