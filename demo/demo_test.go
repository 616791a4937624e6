package demo_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/backend"
	"github.com/albmtls/albmtls/demo"
	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/connlog"
	"github.com/albmtls/albmtls/internal/syncbuf"
	"github.com/albmtls/albmtls/internal/testtool"
)

func start(t *testing.T, dir, mode string) (*demo.Demo, *syncbuf.Buffer) {
	t.Helper()
	events := &syncbuf.Buffer{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := demo.Start(ctx, demo.Options{Dir: dir, Mode: mode, AdminAddr: "127.0.0.1:0", Events: events})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, d.Shutdown(ctx))
	})
	return d, events
}

// TestDemo runs the demo in each mode on random ports, in one directory
// (so the later modes reuse the PKI), and checks that every curl command the
// guide prints gets the outcome the guide prints, in the answer and in the
// connection log.
func TestDemo(t *testing.T) {
	testtool.Need(t, "curl") // the demo's guide is about curl commands
	dir := filepath.Join(t.TempDir(), "albmtls-demo")
	for i, mode := range demo.Modes {
		t.Run(string(mode), func(t *testing.T) {
			d, events := start(t, dir, string(mode))
			assert.Equal(t, i == 0, d.Workspace().Created, "the first run creates the PKI, the others reuse it")

			var guide bytes.Buffer
			d.WriteGuide(&guide)
			cfg, err := config.Load(d.ConfigPath())
			require.NoError(t, err, "the config the demo writes is one `albmtls serve -c` runs")
			assert.Equal(t, mode, cfg.Listeners[1].MutualAuthentication.EffectiveMode())

			expect := d.Expectations()
			require.Len(t, expect, len(d.Workspace().Set.ClientNames()))
			rejected := 0
			for _, e := range expect {
				assert.Contains(t, guide.String(), e.CurlLine(), "the guide prints the command")
				assert.Contains(t, guide.String(), e.Outcome(), "the guide prints the outcome")
				t.Run(e.Client, func(t *testing.T) { checkCurl(t, d, e) })
				if e.Rejected() {
					rejected++
				}
			}
			if mode == "verify" {
				assert.Equal(t, 10, rejected, "every failure mode of the PKI is rejected")
				assert.Regexp(t, `revoked +Failed:ClientCertCrlHit +→ connection reset`, events.String())
				assert.Regexp(t, `outsider +Success +→ web-[12] 403  GET /members/\?format=json`, events.String())
			} else if mode == "passthrough" {
				assert.Equal(t, 1, rejected, "passthrough rejects only the chain over s2n's 64 KiB message cap")
			} else {
				assert.Zero(t, rejected, "off mode requests no certificate")
			}
			if mode == "off" {
				assert.Regexp(t, `no certificate +Success +→ web-[12] 200  GET /\?format=json`, events.String())
			} else {
				assert.Regexp(t, `valid +Success +→ web-[12] 200  GET /\?format=json`, events.String())
			}

			if mode == "verify" {
				t.Run("no certificate", func(t *testing.T) {
					roots := x509.NewCertPool()
					roots.AddCert(d.Workspace().Set.Root.Cert)
					hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
					_, err := hc.Get(d.HTTPSURL())
					require.Error(t, err)
					assert.Eventually(t, func() bool {
						return regexp.MustCompile(`no certificate +Failed:UnmappedConnectionError +→ connection reset`).MatchString(events.String())
					}, 5*time.Second, 20*time.Millisecond, "events:\n%s", events)
				})
			}
			t.Run("round robin", func(t *testing.T) { checkRoundRobin(t, d) })
			t.Run("redirect", func(t *testing.T) {
				hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				resp, err := hc.Get(d.HTTPURL() + "orders?id=7")
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
				assert.Equal(t, d.HTTPSURL()+"orders?id=7", resp.Header.Get("Location"))
				assert.Eventually(t, func() bool {
					return strings.Contains(events.String(), "redirect")
				}, 5*time.Second, 20*time.Millisecond, "the redirect has its line")
			})
		})
	}
}

// checkCurl runs the printed command and compares with the expectation.
func checkCurl(t *testing.T, d *demo.Demo, e demo.Expectation) {
	leaf, _ := d.Workspace().Set.Client(e.Client)
	serial := certfmt.Serial(leaf.Cert)
	if d.Mode() == "off" {
		serial = "" // no certificate is requested
	}
	logFile := filepath.Join(d.Workspace().Dir, "logs", "conn.log")
	offset := fileSize(t, logFile)

	cmd := exec.Command(e.Curl[0], e.Curl[1:]...)
	cmd.Env = append(os.Environ(), e.Env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if e.Rejected() {
		// The handshake completes, then the reset arrives while curl
		// sends (16, 55) or receives (56): the codes the guide names.
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "curl must fail: %s", stdout.String())
		assert.Contains(t, []int{16, 55, 56}, exit.ExitCode(), "curl: %s", stderr.String())
	} else {
		require.NoError(t, err, "curl: %s", stderr.String())
		var rep backend.Report
		require.NoError(t, json.Unmarshal(stdout.Bytes(), &rep), stdout.String())
		assert.Equal(t, e.HTTPStatus, rep.Status, "error: %s", rep.Error)
		assert.Contains(t, demo.BackendNames, rep.Instance)
		// The same reason, but for the clock in Go's x509 errors.
		clock := regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
		assert.Equal(t, clock.ReplaceAllString(e.Reason, "T"), clock.ReplaceAllString(rep.Error, "T"))
	}
	// The connection log line of this connection says the same.
	var got connlog.Entry
	require.Eventually(t, func() bool {
		for _, line := range newLines(t, logFile, offset) {
			entry, err := connlog.ParseLine(line)
			require.NoError(t, err, line)
			if entry.Serial == serial && entry.TLSProtocol != "" {
				got = entry
				return true
			}
		}
		return false
	}, 5*time.Second, 20*time.Millisecond, "no connection-log line for %s", e.Client)
	assert.Equal(t, e.Status, got.VerifyStatus)
}

// checkRoundRobin sends valid's requests on new connections: web-1 and
// web-2 answer in turn.
func checkRoundRobin(t *testing.T, d *demo.Demo) {
	ws := d.Workspace()
	leaf, _ := ws.Set.Client("valid")
	roots := x509.NewCertPool()
	roots.AddCert(ws.Set.Root.Cert)
	hc := &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{leaf.TLSCertificate()}},
		DisableKeepAlives: true,
	}}
	var seen []string
	for range 4 {
		resp, err := hc.Get(d.HTTPSURL() + "?format=json")
		require.NoError(t, err)
		var rep backend.Report
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&rep))
		resp.Body.Close()
		require.Equal(t, http.StatusOK, rep.Status, rep.Error)
		seen = append(seen, rep.Instance)
	}
	for i := 1; i < len(seen); i++ {
		assert.NotEqual(t, seen[i-1], seen[i], "round robin alternates: %v", seen)
	}
	assert.ElementsMatch(t, []string{"web-1", "web-2", "web-1", "web-2"}, seen)
}

func fileSize(t *testing.T, path string) int64 {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	require.NoError(t, err)
	return fi.Size()
}

// newLines returns the complete lines written to path after offset.
func newLines(t *testing.T, path string, offset int64) []string {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	_, err = f.Seek(offset, io.SeekStart)
	require.NoError(t, err)
	data, err := io.ReadAll(f)
	require.NoError(t, err)
	text := string(data)
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	} else {
		return nil
	}
	return strings.Split(text, "\n")
}

func TestStartRefusesBusyPorts(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	dir := filepath.Join(t.TempDir(), "demo")
	tests := []struct {
		which string
		opts  demo.Options
	}{
		{"http", demo.Options{Dir: dir, HTTPPort: port}},
		{"https", demo.Options{Dir: dir, HTTPSPort: port}},
		{"admin", demo.Options{Dir: dir, AdminAddr: busy.Addr().String()}},
	}
	for _, tt := range tests {
		t.Run(tt.which, func(t *testing.T) {
			_, err := demo.Start(context.Background(), tt.opts)
			var pe *demo.PortError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.which, pe.Which)
			assert.Equal(t, "127.0.0.1:"+strconv.Itoa(port), pe.Addr)
			assert.Contains(t, err.Error(), "address already in use")
		})
	}
	_, err = os.Stat(dir)
	assert.ErrorIs(t, err, os.ErrNotExist, "ports are checked before the PKI is made")

	_, err = demo.Start(context.Background(), demo.Options{Dir: dir, Mode: "strict"})
	assert.EqualError(t, err, `demo: "strict" is not a mode; use verify, passthrough or off`)
}
