package emulator

import (
	"crypto/x509"
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/albmtls/albmtls/emulator/targetgroup"
)

// The gauges below are computed at scrape time from the live state.
var (
	descCACerts = prometheus.NewDesc("albmtls_truststore_ca_certificates",
		"CA certificates in the trust store (NumberOfCaCertificates).", []string{"trust_store"}, nil)
	descRevoked = prometheus.NewDesc("albmtls_truststore_revoked_entries",
		"Revoked entries over all CRLs of the trust store (TotalRevokedEntries).", []string{"trust_store"}, nil)
	descRevocations = prometheus.NewDesc("albmtls_truststore_revocation_lists",
		"CRLs loaded in the trust store.", []string{"trust_store"}, nil)
	descReloadOK = prometheus.NewDesc("albmtls_truststore_reload_success",
		"1 when the trust store's latest load or reload succeeded, 0 when it failed and the previous trust store is still in force.", []string{"trust_store"}, nil)
	descReloadTime = prometheus.NewDesc("albmtls_truststore_last_reload_success_timestamp_seconds",
		"Unix time of the trust store's latest successful load or reload.", []string{"trust_store"}, nil)
	descCRLNextUpdate = prometheus.NewDesc("albmtls_truststore_crl_next_update_timestamp_seconds",
		"nextUpdate of each CRL of the trust store, as Unix time (past it the CRL is still applied unless emulation.stale_crl is fail); CRLs without nextUpdate have no series.",
		[]string{"trust_store", "revocation_id", "issuer"}, nil)
	descCANotAfter = prometheus.NewDesc("albmtls_truststore_ca_certificate_not_after_timestamp_seconds",
		"notAfter of each CA certificate of the trust store, as Unix time.", []string{"trust_store", "subject", "serial"}, nil)
	descServerNotAfter = prometheus.NewDesc("albmtls_server_certificate_not_after_timestamp_seconds",
		"notAfter of each server certificate an HTTPS listener serves, as Unix time.", []string{"listener_port", "subject", "serial"}, nil)
	descAcceptErrors = prometheus.NewDesc("albmtls_listener_accept_errors_total",
		"Failed accept attempts by listener port (EMFILE and the like); the listener retries with backoff.", []string{"listener_port"}, nil)
	descTargetHealthy = prometheus.NewDesc("albmtls_target_healthy",
		"1 for the target's current health state, 0 for the other states: one series per state, so a state change keeps the series (kube-state-metrics style). HealthyHostCount is sum by (target_group) of state=\"healthy\".",
		[]string{"target_group", "target", "state"}, nil)
)

// targetStates are the states albmtls_target_healthy always has a series for.
var targetStates = []targetgroup.TargetState{
	targetgroup.StateInitial, targetgroup.StateHealthy, targetgroup.StateUnhealthy, targetgroup.StateUnavailable,
}

// stateDescs describes the gauges collectState emits.
type stateDescs struct{}

func (stateDescs) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCACerts, descRevoked, descRevocations, descReloadOK, descReloadTime,
		descCRLNextUpdate, descCANotAfter, descServerNotAfter, descTargetHealthy, descAcceptErrors} {
		ch <- d
	}
}

func (stateDescs) Collect(chan<- prometheus.Metric) {}

// collectState reports trust stores, certificates, listeners and target
// health as of now.
func (s *Server) collectState(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for name, live := range s.stores {
		st := live.Current()
		gauge(descCACerts, float64(len(st.CACertificates)), name)
		gauge(descRevoked, float64(st.TotalRevokedEntries()), name)
		gauge(descRevocations, float64(len(st.Revocations())), name)
		rs := s.metrics.reloadStatus(name)
		gauge(descReloadOK, boolValue(rs.ok), name)
		gauge(descReloadTime, float64(rs.lastSuccess.UnixMilli())/1e3, name)
		for _, r := range st.Revocations() {
			if !r.NextUpdate.IsZero() {
				gauge(descCRLNextUpdate, float64(r.NextUpdate.Unix()), name, strconv.FormatInt(r.RevocationID, 10), r.Issuer)
			}
		}
		notAfter(ch, descCANotAfter, name, st.CACertificates)
	}
	for _, lr := range s.lsns {
		if lr.ln == nil {
			continue
		}
		port := lr.portLabel
		ch <- prometheus.MustNewConstMetric(descAcceptErrors, prometheus.CounterValue,
			float64(lr.ln.Health().AcceptErrors), port)
		notAfter(ch, descServerNotAfter, port, s.metrics.serverCertificates(lr))
	}
	for name, g := range s.groups {
		for _, t := range g.Targets() {
			known := false
			for _, state := range targetStates {
				known = known || t.State == state
				gauge(descTargetHealthy, boolValue(t.State == state), name, t.Address, string(state))
			}
			if !known { // a state this list does not know yet still shows
				gauge(descTargetHealthy, 1, name, t.Address, string(t.State))
			}
		}
	}
}

// notAfter emits one notAfter gauge per distinct certificate (a bundle
// may list one twice; Prometheus refuses duplicate series).
func notAfter(ch chan<- prometheus.Metric, d *prometheus.Desc, owner string, certs []*x509.Certificate) {
	seen := map[string]bool{}
	for _, c := range certs {
		subject, serial := c.Subject.String(), fmt.Sprintf("%X", c.SerialNumber)
		if seen[subject+"\x00"+serial] {
			continue
		}
		seen[subject+"\x00"+serial] = true
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(c.NotAfter.Unix()), owner, subject, serial)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
