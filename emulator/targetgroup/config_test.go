package targetgroup

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigDefaults(t *testing.T) {
	c := Config{Name: "web"}.withDefaults()
	assert.Equal(t, ProtocolHTTP, c.Protocol)
	assert.Equal(t, 10*time.Second, c.ConnectTimeout)
	assert.Equal(t, 60*time.Second, c.IdleTimeout)
	assert.Equal(t, HealthCheck{
		Protocol: "HTTP", Path: "/", Port: "traffic-port", Interval: 30 * time.Second, Timeout: 5 * time.Second,
		HealthyThreshold: 5, UnhealthyThreshold: 2, Matcher: "200", InitialHealthyChecks: 1,
	}, c.HealthCheck)
	assert.True(t, c.HealthCheck.enabled())
	require.NoError(t, Config{Name: "web"}.Validate())
}

func TestConfigValidate(t *testing.T) {
	hc := func(mod func(*HealthCheck)) Config {
		c := Config{Name: "web", Targets: []string{"127.0.0.1:9001"}}
		mod(&c.HealthCheck)
		return c
	}
	for _, tc := range []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"minimal", Config{Name: "web"}, ""},
		{"full", Config{Name: "my-tg-1", Protocol: "HTTPS", Targets: []string{"127.0.0.1:9001", "localhost:9002", "[::1]:9003"}}, ""},
		{"no name", Config{}, `name ""`},
		{"name with underscore", Config{Name: "my_tg"}, `name "my_tg"`},
		{"name leading hyphen", Config{Name: "-web"}, `name "-web"`},
		{"name too long", Config{Name: "a23456789012345678901234567890123"}, "1 to 32"},
		{"name 32", Config{Name: "a2345678901234567890123456789012"}, ""},
		{"protocol", Config{Name: "web", Protocol: "TCP"}, `protocol "TCP"`},
		{"target without port", Config{Name: "web", Targets: []string{"127.0.0.1"}}, `targets[0] "127.0.0.1"`},
		{"target port zero", Config{Name: "web", Targets: []string{"127.0.0.1:0"}}, `targets[0] "127.0.0.1:0"`},
		{"duplicate target", Config{Name: "web", Targets: []string{"h:1", "h:1"}}, "registered twice"},
		{"interval below 5s", hc(func(h *HealthCheck) { h.Interval = 4 * time.Second; h.Timeout = 2 * time.Second }), "health_check.interval 4s"},
		{"interval above 300s", hc(func(h *HealthCheck) { h.Interval = 301 * time.Second }), "health_check.interval 5m1s"},
		{"interval fraction", hc(func(h *HealthCheck) { h.Interval = 5500 * time.Millisecond }), "whole seconds"},
		{"interval 5s ok", hc(func(h *HealthCheck) { h.Interval = 5 * time.Second; h.Timeout = 2 * time.Second }), ""},
		{"timeout below 2s", hc(func(h *HealthCheck) { h.Timeout = time.Second }), "health_check.timeout 1s"},
		{"timeout not below interval", hc(func(h *HealthCheck) { h.Interval = 10 * time.Second; h.Timeout = 10 * time.Second }), "shorter than health_check.interval"},
		{"interval 5s with default timeout", hc(func(h *HealthCheck) { h.Interval = 5 * time.Second }), "set health_check.timeout explicitly, e.g. 4s"},
		{"short intervals allowed", hc(func(h *HealthCheck) {
			h.Interval, h.Timeout, h.AllowShortIntervals = 50*time.Millisecond, 20*time.Millisecond, true
		}), ""},
		{"healthy threshold 1", hc(func(h *HealthCheck) { h.HealthyThreshold = 1 }), "healthy_threshold 1"},
		{"unhealthy threshold 11", hc(func(h *HealthCheck) { h.UnhealthyThreshold = 11 }), "unhealthy_threshold 11"},
		{"path relative", hc(func(h *HealthCheck) { h.Path = "healthz" }), `health_check.path "healthz"`},
		{"port word", hc(func(h *HealthCheck) { h.Port = "http" }), `health_check.port "http"`},
		{"port number", hc(func(h *HealthCheck) { h.Port = "8081" }), ""},
		{"protocol", hc(func(h *HealthCheck) { h.Protocol = "TCP" }), `health_check.protocol "TCP"`},
		{"matcher", hc(func(h *HealthCheck) { h.Matcher = "200-" }), "health_check.matcher"},
		{"initial checks", hc(func(h *HealthCheck) { h.InitialHealthyChecks = 11 }), "initial_healthy_checks 11"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Contains(t, err.Error(), "target group", "errors name the group")
			_, err = New(tc.cfg, nil)
			assert.Error(t, err, "New refuses what Validate refuses")
		})
	}
}

func TestMatcher(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		match   []int
		noMatch []int
		wantErr bool
	}{
		{spec: "200", match: []int{200}, noMatch: []int{201, 500}},
		{spec: "200,202", match: []int{200, 202}, noMatch: []int{201}},
		{spec: "200-299", match: []int{200, 250, 299}, noMatch: []int{199, 300}},
		{spec: "200-204, 301,404", match: []int{203, 301, 404}, noMatch: []int{302}},
		{spec: "200-499", match: []int{499}, noMatch: []int{500}},
		{spec: "199", wantErr: true},
		{spec: "500", wantErr: true},
		{spec: "200-500", wantErr: true},
		{spec: "299-200", wantErr: true},
		{spec: "abc", wantErr: true},
		{spec: "200,", wantErr: true},
		{spec: "", wantErr: true},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			m, err := ParseMatcher(tc.spec)
			if tc.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			for _, c := range tc.match {
				assert.True(t, m.Match(c), "%d", c)
			}
			for _, c := range tc.noMatch {
				assert.False(t, m.Match(c), "%d", c)
			}
		})
	}
}
