package targetgroup

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestApplyThresholds walks the state machine one check at a time.
func TestApplyThresholds(t *testing.T) {
	hc := Config{}.withDefaults().HealthCheck // healthy 5, unhealthy 2, initial 1
	ok := checkResult{ok: true}
	bad := checkResult{reason: ReasonResponseCodeMismatch, desc: "Health checks failed with these codes: [500]"}
	slow := checkResult{reason: ReasonTimeout, desc: "Request timed out"}
	for _, tc := range []struct {
		name   string
		checks []checkResult
		want   []TargetState // state after each check
	}{
		{"initial passes one check", []checkResult{ok}, []TargetState{StateHealthy}},
		{"initial fails twice", []checkResult{bad, bad}, []TargetState{StateInitial, StateUnhealthy}},
		{"one failure is tolerated", []checkResult{ok, bad, ok, bad}, []TargetState{StateHealthy, StateHealthy, StateHealthy, StateHealthy}},
		{"two consecutive failures evict", []checkResult{ok, bad, bad}, []TargetState{StateHealthy, StateHealthy, StateUnhealthy}},
		{"five successes to return", []checkResult{ok, bad, bad, ok, ok, ok, ok, ok},
			[]TargetState{StateHealthy, StateHealthy, StateUnhealthy, StateUnhealthy, StateUnhealthy, StateUnhealthy, StateUnhealthy, StateHealthy}},
		{"a failure restarts the count", []checkResult{bad, bad, ok, ok, ok, ok, bad, ok, ok, ok, ok},
			[]TargetState{StateInitial, StateUnhealthy, StateUnhealthy, StateUnhealthy, StateUnhealthy, StateUnhealthy, StateUnhealthy, StateUnhealthy, StateUnhealthy, StateUnhealthy, StateUnhealthy}},
		{"mixed failure kinds count together", []checkResult{ok, bad, slow}, []TargetState{StateHealthy, StateHealthy, StateUnhealthy}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := &target{state: StateInitial, reason: ReasonInitialHealthChecking}
			for i, c := range tc.checks {
				tg.apply(c, hc)
				require.Equal(t, tc.want[i], tg.state, "after check %d", i+1)
			}
		})
	}
}

func TestApplyReasons(t *testing.T) {
	hc := Config{}.withDefaults().HealthCheck
	tg := &target{state: StateInitial, reason: ReasonInitialHealthChecking}
	from, changed := tg.apply(checkResult{reason: ReasonTimeout, desc: "Request timed out"}, hc)
	assert.Equal(t, StateInitial, from)
	assert.False(t, changed)
	assert.Equal(t, ReasonInitialHealthChecking, tg.status().Reason, "initial keeps its reason until decided")
	_, changed = tg.apply(checkResult{reason: ReasonResponseCodeMismatch, desc: "Health checks failed with these codes: [404]"}, hc)
	assert.True(t, changed)
	assert.Equal(t, TargetStatus{State: StateUnhealthy, Reason: ReasonResponseCodeMismatch, Description: "Health checks failed with these codes: [404]"}, tg.status())

	hc.InitialHealthyChecks = 3
	tg = &target{state: StateInitial}
	for range 2 {
		tg.apply(checkResult{ok: true}, hc)
	}
	assert.Equal(t, StateInitial, tg.state, "InitialHealthyChecks=3 needs a third success")
	tg.apply(checkResult{ok: true}, hc)
	assert.Equal(t, StateHealthy, tg.state)
}

// TestInitialRouting: before any check, initial targets take traffic only
// when nothing is healthy, unless StrictInitial.
func TestInitialRouting(t *testing.T) {
	a := newBackend(t, "a")
	g, err := New(Config{Name: "web", Targets: []string{a.addr()}, HealthCheck: fastHealth()}, nil)
	require.NoError(t, err)
	defer g.Close()
	assert.Equal(t, []TargetStatus{{Address: a.addr(), State: StateInitial, Reason: ReasonInitialHealthChecking, Description: "Initial health checks in progress"}}, g.Targets())
	f := newFront(t, g, false, nil)
	code, who, _ := f.get(t, "/")
	assert.Equal(t, http.StatusOK, code, "not started: fail open over initial targets")
	assert.Equal(t, "a", who)

	strict, err := New(Config{Name: "web", Targets: []string{a.addr()}, HealthCheck: fastHealth(), StrictInitial: true}, nil)
	require.NoError(t, err)
	defer strict.Close()
	fs := newFront(t, strict, false, nil)
	code, _, _ = fs.get(t, "/")
	assert.Equal(t, http.StatusServiceUnavailable, code, "StrictInitial: no routable target")
	strict.Start(t.Context())
	<-strict.Ready()
	waitFor(t, func() bool { return allIn(strict, StateHealthy) }, "never healthy")
	code, _, _ = fs.get(t, "/")
	assert.Equal(t, http.StatusOK, code)
}

func TestHealthChecksDisabled(t *testing.T) {
	a := newBackend(t, "a")
	g := startGroup(t, Config{Targets: []string{a.addr()}, HealthCheck: HealthCheck{Enabled: disabled(), Path: "/healthz"}})
	select {
	case <-g.Ready():
	case <-time.After(time.Second):
		t.Fatal("Ready must be closed at once without health checks")
	}
	assert.Equal(t, StateUnavailable, g.Targets()[0].State)
	assert.Equal(t, ReasonHealthCheckDisabled, g.Targets()[0].Reason)
	f := newFront(t, g, false, nil)
	code, _, _ := f.get(t, "/")
	assert.Equal(t, http.StatusOK, code)
	assert.Zero(t, a.checks.Load(), "no health checks are sent")
}

// TestHealthCheckRequestShape: GET on the path, on the health-check port,
// with ALB's User-Agent, a fresh connection per check.
func TestHealthCheckRequestShape(t *testing.T) {
	var ua, method, path atomic.Value
	var conns atomic.Int32
	hcSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua.Store(r.UserAgent())
		method.Store(r.Method)
		path.Store(r.URL.RequestURI())
	}))
	hcSrv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	hcSrv.Start()
	t.Cleanup(hcSrv.Close)
	app := newBackend(t, "app")
	hc := fastHealth()
	hc.Path = "/status?deep=1"
	hc.Port = strconv.Itoa(portOf(hcSrv.Listener.Addr().String()))
	g := startGroup(t, Config{Targets: []string{app.addr()}, HealthCheck: hc})
	// Three checks on three connections: ALB closes each check's connection.
	waitFor(t, func() bool { return conns.Load() >= 3 }, "health checks never reached the health-check port on fresh connections")
	assert.Equal(t, HealthCheckUserAgent, ua.Load())
	assert.Equal(t, http.MethodGet, method.Load())
	assert.Equal(t, "/status?deep=1", path.Load())
	assert.Zero(t, app.checks.Load(), "the traffic port is not checked")
	_ = g
}
