// Package admin is the emulator's own HTTP endpoint (admin.listen): health,
// Prometheus metrics, target health, reload, and a trust store revocation
// API modelled on the ELBv2 operations AddTrustStoreRevocations,
// RemoveTrustStoreRevocations and DescribeTrustStoreRevocations (spec
// §1.2), so a workshop or a test can revoke a certificate while the
// emulator runs.
//
// Routes (JSON unless noted; errors are {"Error":{"Code","Message"}} with
// status 400, as the ELBv2 API answers sender faults; 401 and 403 come from
// the guard, see Access):
//
//	GET    /healthz                                  {"Status":"ok", ...}
//	GET    /metrics                                  Prometheus text format
//	POST   /reload                                   re-read trust stores and certificates
//	GET    /trust-stores                             DescribeTrustStores
//	GET    /trust-stores/{name}/ca-certificates-bundle   the PEM bundle
//	GET    /trust-stores/{name}/revocations          DescribeTrustStoreRevocations (?ids=1,2)
//	POST   /trust-stores/{name}/revocations          AddTrustStoreRevocations; body: one PEM CRL
//	DELETE /trust-stores/{name}/revocations/{ids}    RemoveTrustStoreRevocations (ids: 1 or 1,2)
//	GET    /target-groups/{name}/health              DescribeTargetHealth
package admin

import (
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/albmtls/albmtls/emulator/alb"
	"github.com/albmtls/albmtls/emulator/awsarn"
	"github.com/albmtls/albmtls/emulator/targetgroup"
	"github.com/albmtls/albmtls/emulator/truststore"
)

// MaxRevocationBody is the largest CRL upload accepted: ALB's revocation
// list file size quota (alb-behaviour §1.2).
const MaxRevocationBody = alb.MaxRevocationFileSize

// Config is what the admin endpoint serves.
type Config struct {
	TrustStores  map[string]*truststore.Live
	TargetGroups map[string]*targetgroup.Group
	// Metrics serves /metrics.
	Metrics http.Handler
	// Reload re-reads trust stores and certificates.
	Reload func() error
	// Health returns extra fields for /healthz (listeners, load balancer).
	Health func() map[string]any
	// Region and AccountID build the ARNs in answers.
	Region, AccountID string
	// TrustStoreID returns the 16-hex ID of a trust store's ARN.
	TrustStoreID func(name string) string
	// Access guards the endpoint (token, Host and Origin checks).
	Access Access
}

// Handler returns the admin endpoint's handler.
func Handler(cfg Config) http.Handler {
	a := &api{cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", a.healthz)
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", cfg.Metrics)
	}
	mux.HandleFunc("POST /reload", a.reload)
	mux.HandleFunc("GET /trust-stores", a.describeTrustStores)
	mux.HandleFunc("GET /trust-stores/{name}/ca-certificates-bundle", a.bundle)
	mux.HandleFunc("GET /trust-stores/{name}/revocations", a.describeRevocations)
	mux.HandleFunc("POST /trust-stores/{name}/revocations", a.addRevocations)
	mux.HandleFunc("DELETE /trust-stores/{name}/revocations/{ids}", a.removeRevocations)
	mux.HandleFunc("GET /target-groups/{name}/health", a.targetHealth)
	return cfg.Access.wrap(mux)
}

type api struct{ cfg Config }

func (a *api) healthz(w http.ResponseWriter, _ *http.Request) {
	body := map[string]any{"Status": "ok"}
	if a.cfg.Health != nil {
		for k, v := range a.cfg.Health() {
			body[k] = v
		}
	}
	code := http.StatusOK
	if body["Status"] != "ok" {
		code = http.StatusServiceUnavailable // e.g. a listener fails to accept
	}
	writeJSON(w, code, body)
}

func (a *api) reload(w http.ResponseWriter, _ *http.Request) {
	if a.cfg.Reload == nil {
		writeError(w, "NotSupported", "reload is not available")
		return
	}
	if err := a.cfg.Reload(); err != nil {
		writeError(w, "ReloadFailed", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"Reloaded": true})
}

// trustStoreJSON is the TrustStore shape of the ELBv2 API.
type trustStoreJSON struct {
	Name                   string `json:"Name"`
	TrustStoreArn          string `json:"TrustStoreArn"`
	Status                 string `json:"Status"`
	NumberOfCaCertificates int    `json:"NumberOfCaCertificates"`
	TotalRevokedEntries    int    `json:"TotalRevokedEntries"`
}

func (a *api) arn(name string) string {
	id := ""
	if a.cfg.TrustStoreID != nil {
		id = a.cfg.TrustStoreID(name)
	}
	return awsarn.TrustStore(a.cfg.Region, a.cfg.AccountID, name, id)
}

func (a *api) describeTrustStores(w http.ResponseWriter, _ *http.Request) {
	names := make([]string, 0, len(a.cfg.TrustStores))
	for n := range a.cfg.TrustStores {
		names = append(names, n)
	}
	sort.Strings(names)
	out := []trustStoreJSON{}
	for _, n := range names {
		st := a.cfg.TrustStores[n].Current()
		out = append(out, trustStoreJSON{Name: n, TrustStoreArn: a.arn(n), Status: "ACTIVE",
			NumberOfCaCertificates: len(st.CACertificates), TotalRevokedEntries: st.TotalRevokedEntries()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"TrustStores": out})
}

func (a *api) store(w http.ResponseWriter, r *http.Request) (*truststore.Live, bool) {
	name := r.PathValue("name")
	ts, ok := a.cfg.TrustStores[name]
	if !ok {
		writeError(w, "TrustStoreNotFound", fmt.Sprintf("no trust store named %q; GET /trust-stores lists them", name))
	}
	return ts, ok
}

func (a *api) bundle(w http.ResponseWriter, r *http.Request) {
	ts, ok := a.store(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	for _, c := range ts.Current().CACertificates {
		_ = pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
}

// revocationJSON is the DescribeTrustStoreRevocation shape of the API, plus
// what the emulator knows about the CRL.
type revocationJSON struct {
	TrustStoreArn string `json:"TrustStoreArn"`
	truststore.RevocationInfo
}

func (a *api) revocations(name string, infos []truststore.RevocationInfo) []revocationJSON {
	out := make([]revocationJSON, 0, len(infos))
	for _, ri := range infos {
		out = append(out, revocationJSON{TrustStoreArn: a.arn(name), RevocationInfo: ri})
	}
	return out
}

func (a *api) describeRevocations(w http.ResponseWriter, r *http.Request) {
	ts, ok := a.store(w, r)
	if !ok {
		return
	}
	infos := ts.DescribeRevocations()
	if q := r.URL.Query().Get("ids"); q != "" {
		ids, err := parseIDs(q)
		if err != nil {
			writeError(w, "ValidationError", err.Error())
			return
		}
		var picked []truststore.RevocationInfo
		var missing []int64
		for _, id := range ids {
			found := false
			for _, ri := range infos {
				if ri.RevocationID == id {
					picked, found = append(picked, ri), true
				}
			}
			if !found {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			writeError(w, truststore.ErrRevocationIDNotFound, fmt.Sprintf("trust store %q has no revocation IDs %v", r.PathValue("name"), missing))
			return
		}
		infos = picked
	}
	writeJSON(w, http.StatusOK, map[string]any{"TrustStoreRevocations": a.revocations(r.PathValue("name"), infos)})
}

func (a *api) addRevocations(w http.ResponseWriter, r *http.Request) {
	ts, ok := a.store(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRevocationBody+1))
	if err != nil {
		writeError(w, "RevocationContentNotFound", "reading the request body: "+err.Error())
		return
	}
	if len(body) > MaxRevocationBody {
		writeError(w, truststore.QuotaRevocationListFileSize, fmt.Sprintf("the CRL exceeds ALB's revocation list file size quota (%d bytes)", MaxRevocationBody))
		return
	}
	key := r.URL.Query().Get("key")
	if key == "" {
		key = "admin-upload.crl.pem"
	}
	infos, err := ts.AddRevocations(key, body)
	if err != nil {
		writeError(w, albError(err, truststore.ErrInvalidRevocationContent), err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"TrustStoreRevocations": a.revocations(r.PathValue("name"), infos)})
}

func (a *api) removeRevocations(w http.ResponseWriter, r *http.Request) {
	ts, ok := a.store(w, r)
	if !ok {
		return
	}
	ids, err := parseIDs(r.PathValue("ids"))
	if err != nil {
		writeError(w, "ValidationError", err.Error())
		return
	}
	if err := ts.RemoveRevocations(ids...); err != nil {
		writeError(w, albError(err, truststore.ErrRevocationIDNotFound), err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

func (a *api) targetHealth(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	g, ok := a.cfg.TargetGroups[name]
	if !ok {
		writeError(w, "TargetGroupNotFound", fmt.Sprintf("no target group named %q", name))
		return
	}
	type target struct {
		ID   string `json:"Id"`
		Port int    `json:"Port"`
	}
	type health struct {
		State       string `json:"State"`
		Reason      string `json:"Reason,omitempty"`
		Description string `json:"Description,omitempty"`
	}
	type desc struct {
		Target       target `json:"Target"`
		TargetHealth health `json:"TargetHealth"`
	}
	out := []desc{}
	for _, t := range g.Targets() {
		host, port, _ := net.SplitHostPort(t.Address)
		p, _ := strconv.Atoi(port)
		out = append(out, desc{Target: target{ID: host, Port: p},
			TargetHealth: health{State: string(t.State), Reason: t.Reason, Description: t.Description}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"TargetHealthDescriptions": out})
}

func parseIDs(s string) ([]int64, error) {
	var ids []int64
	for _, part := range strings.Split(s, ",") {
		id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
		if err != nil || id < 1 {
			return nil, fmt.Errorf("%q is not a revocation ID (a positive integer; several as 1,2)", part)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// albError returns the ALB error code an error carries, or def.
func albError(err error, def string) string {
	var coded interface{ ALBError() string }
	if errors.As(err, &coded) && coded.ALBError() != "" {
		return coded.ALBError()
	}
	return def
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code, msg string) {
	writeStatus(w, http.StatusBadRequest, code, msg)
}

func writeStatus(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"Error": map[string]string{"Code": code, "Message": msg}})
}
