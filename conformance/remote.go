package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/scenarios"
)

// remote is a load balancer the harness does not control: a running
// emulator or a real ALB. Only scenarios whose setup is the template's for
// the remote listener's mode can run; the others are skipped with the
// setting they need.
type remote struct {
	opts        Options
	https, http string
	serverName  string
	admin       *http.Client
	h           *harness
	// Runtime revocations need no lock here: runAll runs every scenario
	// that revokes against a remote target alone, after the others.
}

func newRemote(opts Options) (*remote, error) {
	r := &remote{opts: opts, admin: &http.Client{Timeout: opts.Timeout}}
	u, err := url.Parse(opts.Target)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("--target %q: want the HTTPS listener's URL, e.g. https://127.0.0.1:8443", opts.Target)
	}
	r.https, r.serverName = "https://"+u.Host, u.Hostname()
	if opts.HTTPTarget != "" {
		hu, err := url.Parse(opts.HTTPTarget)
		if err != nil || hu.Scheme != "http" || hu.Host == "" {
			return nil, fmt.Errorf("--http-target %q: want the HTTP listener's URL, e.g. http://127.0.0.1:8080", opts.HTTPTarget)
		}
		r.http = "http://" + hu.Host
	}
	switch opts.RemoteMode {
	case "off", "passthrough", "verify":
	default:
		return nil, fmt.Errorf("--mode %q: use off, passthrough or verify (the remote listener's mutual authentication mode)", opts.RemoteMode)
	}
	for _, f := range []struct{ flag, file string }{{"--connection-log", opts.ConnectionLog}, {"--access-log", opts.AccessLog}} {
		if f.file == "" {
			continue
		}
		if _, err := os.Stat(f.file); err != nil {
			return nil, fmt.Errorf("%s: %v", f.flag, err)
		}
	}
	if opts.Admin != "" {
		if _, err := url.Parse(opts.Admin); err != nil {
			return nil, fmt.Errorf("--admin %q: %v", opts.Admin, err)
		}
	}
	return r, nil
}

// skip says why a scenario cannot run against the remote target, or "".
func (r *remote) skip(s *scenarios.Scenario) string {
	if want := s.LoadError(); want != "" {
		return "the setup must be refused with " + want + "; the harness cannot upload files to a remote trust store (check them with `albmtls truststore check`)"
	}
	if s.Setup.Mode != r.opts.RemoteMode {
		return fmt.Sprintf("needs a listener in mode %s; the target runs mode %s (--mode)", s.Setup.Mode, r.opts.RemoteMode)
	}
	if d := setupDiffs(s.Setup); len(d) > 0 {
		return "needs " + strings.Join(d, ", ") + ", which the harness cannot impose on a remote target"
	}
	for _, st := range s.Steps {
		if st.Client != nil && st.Client.Listener == "http" && r.http == "" {
			return "needs the HTTP listener: pass --http-target http://HOST:PORT"
		}
		if len(st.Revoke) > 0 && r.opts.Admin == "" {
			return "runtime revocation needs a running emulator's admin endpoint (--admin URL); on a real ALB use add-trust-store-revocations"
		}
	}
	return ""
}

// setupDiffs lists the settings in which a setup differs from the template.
func setupDiffs(s scenarios.Setup) []string {
	var d []string
	add := func(cond bool, what string) {
		if cond {
			d = append(d, what)
		}
	}
	add(s.TrustStore != nil, "a different trust store (setup.trust_store)")
	add(s.IgnoreClientCertificateExpiry, "ignore_client_certificate_expiry: true")
	add(s.AdvertiseTrustStoreCaNames == "on", "advertise_trust_store_ca_names: on")
	add(s.SSLPolicy != "" && s.SSLPolicy != DefaultSSLPolicy, "ssl_policy "+s.SSLPolicy)
	for _, k := range sortedKeys(s.Attributes) {
		d = append(d, "attribute "+k+"="+s.Attributes[k])
	}
	for _, k := range sortedKeys(s.Emulation) {
		d = append(d, fmt.Sprintf("emulation.%s=%v", k, s.Emulation[k]))
	}
	add(s.Action != nil && s.Action.Type != "forward", "a "+actionType(s)+" default action")
	add(s.Targets != "" && s.Targets != scenarios.TargetsEcho, "targets: "+s.Targets)
	add(s.IdleTimeout != "", "idle_timeout "+s.IdleTimeout)
	add(s.Lambda != nil, "a lambda target group")
	return d
}

func actionType(s scenarios.Setup) string {
	if s.Action == nil {
		return "forward"
	}
	return string(s.Action.Type)
}

// remoteLB is one scenario's view of the remote target: it remembers where
// the log files stood and which revocations to remove afterwards.
type remoteLB struct {
	r       *remote
	added   []int64
	revoked map[string][]string
}

func (r *remote) forScenario() balancer { return &remoteLB{r: r, revoked: map[string][]string{}} }

func (lb *remoteLB) base(listener string) (string, string, string) {
	if listener == "http" {
		if lb.r.http == "" {
			return "", "", "no --http-target given"
		}
		return lb.r.http, "", ""
	}
	return lb.r.https, lb.r.serverName, ""
}

const notReadable = "a remote target's %s is not readable; pass %s FILE for a running emulator's log"

func (lb *remoteLB) logs(ctx context.Context, o *outcome, wantAccess int) logs {
	var lg logs
	if lb.r.opts.ConnectionLog == "" {
		lg.connNotChecked = fmt.Sprintf(notReadable, "connection log", "--connection-log")
	}
	if lb.r.opts.AccessLog == "" {
		lg.accNotChecked = fmt.Sprintf(notReadable, "access log", "--access-log")
	}
	if !o.local.IsValid() {
		return lg
	}
	port := strconv.Itoa(int(o.local.Port()))
	wait := logWait(lb.r.opts.Timeout)
	if lg.connNotChecked == "" {
		lines := tail(ctx, lb.r.opts.ConnectionLog, 1, wait, func(f []string) bool { return len(f) > 2 && f[2] == port })
		if len(lines) > 0 {
			lg.conn = lines[0]
		}
	}
	if lg.accNotChecked == "" {
		lg.access = tail(ctx, lb.r.opts.AccessLog, wantAccess, wait, func(f []string) bool { return len(f) > 3 && strings.HasSuffix(f[3], ":"+port) })
	}
	return lg
}

// tail polls a log file (the emulator writes it asynchronously) until want
// lines match (want 0: read once) or the wait is over. The file is read whole: a client port is
// reused only after many connections, and the last matching lines win.
func tail(ctx context.Context, file string, want int, wait time.Duration, match func([]string) bool) []string {
	deadline := time.Now().Add(wait)
	for {
		var found []string
		if data, err := os.ReadFile(file); err == nil {
			lines := completeLines(data)
			// Newest first: scan back over the last lines only.
			for i := len(lines) - 1; i >= 0 && i >= len(lines)-2000; i-- {
				f, err := logFields(lines[i], []string{"a", "b", "c", "d"})
				if err == nil && match([]string{f["a"], f["b"], f["c"], f["d"]}) {
					found = append([]string{lines[i]}, found...)
				}
			}
		}
		// want 0: a rejected connection has no access-log line to wait for.
		if len(found) >= want || time.Now().After(deadline) || ctx.Err() != nil {
			return found
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// completeLines splits a log file into its lines, leaving out a last line
// the writer has not finished (no newline yet): read in the middle of a
// write, it would be taken for the whole line.
func completeLines(data []byte) []string {
	i := bytes.LastIndexByte(data, '\n')
	if i < 0 {
		return nil
	}
	return strings.Split(string(data[:i]), "\n")
}

// revoke uploads re-signed CRLs through the admin endpoint, as
// AddTrustStoreRevocations; close removes them again.
func (lb *remoteLB) revoke(ctx context.Context, names []string) (string, error) {
	r := lb.r
	ts, err := r.trustStore(ctx)
	if err != nil {
		return "", err
	}
	groups, order, err := groupByIssuer(r.h.set, names)
	if err != nil {
		return "", err
	}
	var desc []string
	for _, issuer := range order {
		der, err := signCRL(r.h.set, issuer, groups[issuer], time.Time{}, time.Time{}, int64(len(lb.added)+1))
		if err != nil {
			return "", err
		}
		u := strings.TrimRight(r.opts.Admin, "/") + "/trust-stores/" + url.PathEscape(ts) + "/revocations?key=conformance-runtime-" + issuer + ".crl.pem"
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(pki.EncodeCRLPEM(der)))
		var out struct {
			TrustStoreRevocations []struct {
				RevocationID int64 `json:"RevocationId"`
			}
			Error *struct{ Code, Message string }
		}
		if err := r.call(req, &out); err != nil {
			return "", err
		}
		var ids []string
		for _, rv := range out.TrustStoreRevocations {
			lb.added = append(lb.added, rv.RevocationID)
			ids = append(ids, strconv.FormatInt(rv.RevocationID, 10))
		}
		desc = append(desc, fmt.Sprintf("a new CRL of %s listing %s added through %s as revocation ID %s", issuer, serialList(groups[issuer]), r.opts.Admin, strings.Join(ids, ",")))
	}
	return strings.Join(desc, "; "), nil
}

func (lb *remoteLB) close() {
	if len(lb.added) == 0 {
		return
	}
	r := lb.r
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.Timeout)
	defer cancel()
	ts, err := r.trustStore(ctx)
	if err != nil {
		return
	}
	ids := make([]string, len(lb.added))
	for i, id := range lb.added {
		ids[i] = strconv.FormatInt(id, 10)
	}
	u := strings.TrimRight(r.opts.Admin, "/") + "/trust-stores/" + url.PathEscape(ts) + "/revocations/" + strings.Join(ids, ",")
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, u, nil)
	if err := r.call(req, nil); err != nil {
		r.h.logger.Warn("removing the revocations the harness added", "ids", ids, "err", err)
	}
}

// trustStore returns --trust-store or the admin endpoint's only trust store.
func (r *remote) trustStore(ctx context.Context) (string, error) {
	if r.opts.TrustStore != "" {
		return r.opts.TrustStore, nil
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(r.opts.Admin, "/")+"/trust-stores", nil)
	var out struct{ TrustStores []struct{ Name string } }
	if err := r.call(req, &out); err != nil {
		return "", err
	}
	if len(out.TrustStores) != 1 {
		return "", fmt.Errorf("the admin endpoint has %d trust stores; name one with --trust-store", len(out.TrustStores))
	}
	return out.TrustStores[0].Name, nil
}

// call sends an admin request and decodes the JSON answer.
func (r *remote) call(req *http.Request, out any) error {
	if r.opts.AdminToken != "" {
		req.Header.Set("Authorization", "Bearer "+r.opts.AdminToken)
	}
	resp, err := r.admin.Do(req)
	if err != nil {
		if isTimeout(err) {
			return fmt.Errorf("the admin endpoint %s did not answer within %s", r.opts.Admin, r.opts.Timeout)
		}
		return fmt.Errorf("the admin endpoint %s: %v", r.opts.Admin, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: HTTP %d: %s", req.Method, req.URL.Path, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s %s: the answer is not the admin API's JSON: %v", req.Method, req.URL.Path, err)
	}
	return nil
}
