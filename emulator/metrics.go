package emulator

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/albmtls/albmtls/emulator/accesslog"
	"github.com/albmtls/albmtls/emulator/listener"
)

// metrics are the emulator's Prometheus metrics, on a registry of its own
// (several servers can run in one process, as tests do).
type metrics struct {
	reg         *prometheus.Registry
	connections *prometheus.CounterVec
	handshakes  *prometheus.HistogramVec
	requests    *prometheus.CounterVec
	// droppedLines counts log lines a log file could not take (a full disk,
	// a removed directory); see logdelivery.FileOptions.
	droppedLines *prometheus.CounterVec
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		connections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "albmtls_connections_total",
			Help: "Connection attempts by listener port and tls_verify_status (as in the connection log; \"-\" for HTTP listeners).",
		}, []string{"listener_port", "tls_verify_status"}),
		handshakes: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "albmtls_tls_handshake_duration_seconds",
			Help:    "Duration of successful TLS handshakes (tls_handshake_latency of the connection log).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"listener_port"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "albmtls_requests_total",
			Help: "Requests by listener port and elb_status_code (as in the access log).",
		}, []string{"listener_port", "elb_status_code"}),
		droppedLines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "albmtls_log_lines_dropped_total",
			Help: "Log lines that could not be written to logs.access.file or logs.connection.file (a full disk, a removed directory), by log: access or connection.",
		}, []string{"log"}),
	}
	// Both series exist from the start, so a rate() or an alert sees 0.
	m.droppedLines.WithLabelValues("access")
	m.droppedLines.WithLabelValues("connection")
	m.reg.MustRegister(m.connections, m.handshakes, m.requests, m.droppedLines,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(prometheus.CollectorFunc(func(ch chan<- prometheus.Metric) {
		s.collectState(ch)
	}), stateDescs{})
	return m
}

var (
	descCACerts = prometheus.NewDesc("albmtls_truststore_ca_certificates",
		"CA certificates in the trust store (NumberOfCaCertificates).", []string{"trust_store"}, nil)
	descRevoked = prometheus.NewDesc("albmtls_truststore_revoked_entries",
		"Revoked entries over all CRLs of the trust store (TotalRevokedEntries).", []string{"trust_store"}, nil)
	descRevocations = prometheus.NewDesc("albmtls_truststore_revocation_lists",
		"CRLs loaded in the trust store.", []string{"trust_store"}, nil)
	descAcceptErrors = prometheus.NewDesc("albmtls_listener_accept_errors_total",
		"Failed accept attempts by listener port (EMFILE and the like); the listener retries with backoff.", []string{"listener_port"}, nil)
	descTargetHealthy = prometheus.NewDesc("albmtls_target_healthy",
		"1 when the target passes its health checks, 0 otherwise.", []string{"target_group", "target", "state"}, nil)
)

// stateDescs describes the gauges collectState emits.
type stateDescs struct{}

func (stateDescs) Describe(ch chan<- *prometheus.Desc) {
	ch <- descCACerts
	ch <- descRevoked
	ch <- descRevocations
	ch <- descTargetHealthy
	ch <- descAcceptErrors
}

func (stateDescs) Collect(chan<- prometheus.Metric) {}

// collectState reports trust store sizes and target health as of now.
func (s *Server) collectState(ch chan<- prometheus.Metric) {
	for name, live := range s.stores {
		st := live.Current()
		ch <- prometheus.MustNewConstMetric(descCACerts, prometheus.GaugeValue, float64(len(st.CACertificates)), name)
		ch <- prometheus.MustNewConstMetric(descRevoked, prometheus.GaugeValue, float64(st.TotalRevokedEntries()), name)
		ch <- prometheus.MustNewConstMetric(descRevocations, prometheus.GaugeValue, float64(len(st.Revocations())), name)
	}
	for _, lr := range s.lsns {
		if lr.ln != nil {
			ch <- prometheus.MustNewConstMetric(descAcceptErrors, prometheus.CounterValue,
				float64(lr.ln.Health().AcceptErrors), strconv.Itoa(lr.ln.Port()))
		}
	}
	for name, g := range s.groups {
		for _, t := range g.Targets() {
			v := 0.0
			if t.State == "healthy" {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(descTargetHealthy, prometheus.GaugeValue, v, name, t.Address, string(t.State))
		}
	}
}

func (m *metrics) connection(lr *listenerRuntime, c *listener.Conn) {
	port := strconv.Itoa(c.ListenerPort)
	status := "-"
	if c.Status != "" {
		status = c.Status.LogValue()
	}
	m.connections.WithLabelValues(port, status).Inc()
	if c.Handshaked {
		m.handshakes.WithLabelValues(port).Observe(c.HandshakeLatency.Seconds())
	}
}

func (m *metrics) request(lr *listenerRuntime, e *accesslog.Entry) {
	m.requests.WithLabelValues(strconv.Itoa(lr.ln.Port()), strconv.Itoa(e.ELBStatusCode)).Inc()
}

// dropped returns the callback a log file calls with the lines it dropped.
func (m *metrics) dropped(log string) func(int) {
	c := m.droppedLines.WithLabelValues(log)
	return func(n int) { c.Add(float64(n)) }
}
