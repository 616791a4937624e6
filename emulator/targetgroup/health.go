package targetgroup

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// TargetState is a target's health state, as DescribeTargetHealth reports it
// [DOC: API TargetHealth].
type TargetState string

// Target states the emulator uses. ALB also has unused and draining, which
// need deregistration and are not emulated.
const (
	StateInitial     TargetState = "initial"     // registered, first checks pending: no traffic
	StateHealthy     TargetState = "healthy"     // in rotation
	StateUnhealthy   TargetState = "unhealthy"   // out of rotation unless every target is
	StateUnavailable TargetState = "unavailable" // health checks disabled: in rotation
)

// Health reason codes, as DescribeTargetHealth reports them [DOC: API
// TargetHealth, TGHC "Health check reason codes"].
const (
	ReasonInitialHealthChecking = "Elb.InitialHealthChecking"
	ReasonResponseCodeMismatch  = "Target.ResponseCodeMismatch"
	ReasonTimeout               = "Target.Timeout"
	ReasonFailedHealthChecks    = "Target.FailedHealthChecks"
	ReasonHealthCheckDisabled   = "Target.HealthCheckDisabled"
	ReasonInternalError         = "Elb.InternalError"
)

// HealthCheckUserAgent is the User-Agent of ALB's health checks [OBS: target
// access logs show "ELB-HealthChecker/2.0"].
const HealthCheckUserAgent = "ELB-HealthChecker/2.0"

// TargetStatus is one target's health, for the admin API and metrics.
type TargetStatus struct {
	Address     string      // host:port
	State       TargetState // initial, healthy, unhealthy or unavailable
	Reason      string      // ALB reason code; "" when healthy
	Description string      // ALB's description, e.g. "Health checks failed with these codes: [500]"
}

// target is one registered target and its health-check counters.
type target struct {
	addr     string
	checkURL string

	mu        sync.Mutex
	state     TargetState
	reason    string
	desc      string
	successes int // consecutive
	failures  int // consecutive
}

func (t *target) status() TargetStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	return TargetStatus{Address: t.addr, State: t.state, Reason: t.reason, Description: t.desc}
}

// checkResult is the outcome of one health check.
type checkResult struct {
	ok     bool
	reason string // for failures
	desc   string
}

// apply folds one check result into the target's state with ALB's
// thresholds (spec: "If the health checks exceed UnhealthyThresholdCount
// consecutive failures, the load balancer takes the target out of service.
// When the health checks exceed HealthyThresholdCount consecutive successes,
// the load balancer puts the target back in service" [DOC: TGHC]). It
// returns the previous state and whether the state changed.
func (t *target) apply(res checkResult, hc HealthCheck) (from TargetState, changed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	from = t.state
	if res.ok {
		t.failures = 0
		t.successes++
		switch {
		case t.state == StateInitial && t.successes >= hc.InitialHealthyChecks,
			t.state == StateUnhealthy && t.successes >= hc.HealthyThreshold:
			t.state, t.reason, t.desc = StateHealthy, "", ""
		}
		return from, t.state != from
	}
	t.successes = 0
	t.failures++
	if t.state != StateInitial {
		t.reason, t.desc = res.reason, res.desc
	}
	// [INF] a target still in initial leaves it for unhealthy after the same
	// number of failures as a healthy one.
	if t.state != StateUnhealthy && t.failures >= hc.UnhealthyThreshold {
		t.state, t.reason, t.desc = StateUnhealthy, res.reason, res.desc
	}
	return from, t.state != from
}

// newHealthClient builds the client for health checks: one connection per
// check, closed afterwards ("After each health check is completed, the load
// balancer node closes the connection" [DOC: TGHC]); certificates are not
// verified; redirects are not followed (a 301 is just a code to match).
func newHealthClient(connectTimeout time.Duration) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext:       (&net.Dialer{Timeout: connectTimeout}).DialContext,
			DisableKeepAlives: true,
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // ALB does not verify target certificates
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// checkURL is the health-check URL of addr under cfg.
func checkURL(addr string, cfg Config) string {
	hc := cfg.HealthCheck
	host, port, _ := net.SplitHostPort(addr)
	if hc.Port != TrafficPort {
		port = hc.Port
	}
	scheme := "http"
	if hc.Protocol == "HTTPS" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + hc.Path
}

// check runs one health check: GET on the path with the configured timeout;
// the status code must match the matcher.
func (g *Group) check(ctx context.Context, t *target) checkResult {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.HealthCheck.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.checkURL, nil)
	if err != nil {
		return checkResult{reason: ReasonInternalError, desc: "Health checks failed due to an internal error"}
	}
	req.Header.Set("User-Agent", HealthCheckUserAgent)
	resp, err := g.health.Do(req)
	if err != nil {
		if isTimeout(err) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return checkResult{reason: ReasonTimeout, desc: "Request timed out"}
		}
		return checkResult{reason: ReasonFailedHealthChecks, desc: "Health checks failed"}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if !g.matcher.Match(resp.StatusCode) {
		return checkResult{reason: ReasonResponseCodeMismatch, desc: fmt.Sprintf("Health checks failed with these codes: [%d]", resp.StatusCode)}
	}
	return checkResult{ok: true}
}

// isTimeout reports whether err is a network timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// runChecks checks t now and then every interval until ctx ends. Each check
// is independent and does not shift the schedule [DOC: TGHC].
func (g *Group) runChecks(ctx context.Context, t *target, firstDone func()) {
	defer g.wg.Done()
	ticker := time.NewTicker(g.cfg.HealthCheck.Interval)
	defer ticker.Stop()
	g.record(t, g.check(ctx, t))
	firstDone()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			res := g.check(ctx, t)
			if ctx.Err() != nil {
				return
			}
			g.record(t, res)
		}
	}
}

// record applies a result, logs a state change and updates the rotation.
func (g *Group) record(t *target, res checkResult) {
	from, changed := t.apply(res, g.cfg.HealthCheck)
	if !changed {
		return
	}
	st := t.status()
	g.log.Info("target health changed",
		slog.String("target_group", g.cfg.Name),
		slog.String("target", t.addr),
		slog.String("from", string(from)),
		slog.String("to", string(st.State)),
		slog.String("reason", st.Reason),
		slog.String("description", st.Description))
	g.updateRotation()
}
