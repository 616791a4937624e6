package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const lambdaConfig = `target_groups:
  - name: fn
    target_type: lambda
    targets: [{function: hello, endpoint: "http://127.0.0.1:9000"}]
    lambda: {runtime_api: "127.0.0.1:9101", timeout: 2s}
    attributes: {lambda.multi_value_headers.enabled: "true"}
  - name: local
    target_type: lambda
    targets: [{function: world}]
  - name: web
    targets: ["127.0.0.1:9001"]
listeners:
  - port: 8080
    protocol: HTTP
    default_action: {type: forward, target_group: fn}
`

func TestLambdaTargetGroup(t *testing.T) {
	c, err := Parse("x.yaml", []byte(lambdaConfig))
	require.NoError(t, err)
	fn, local, web := c.TargetGroups[0], c.TargetGroups[1], c.TargetGroups[2]
	assert.Equal(t, TargetTypeLambda, fn.TargetType)
	assert.Equal(t, []LambdaTarget{{Function: "hello", Endpoint: "http://127.0.0.1:9000"}}, fn.Functions)
	assert.Empty(t, fn.Targets)
	assert.True(t, fn.MultiValueHeaders())
	assert.Equal(t, 2*time.Second, fn.Lambda.FunctionTimeout())
	assert.Equal(t, "127.0.0.1:9101", fn.Lambda.RuntimeAPIAddress())
	assert.False(t, local.MultiValueHeaders(), "off by default")
	assert.Equal(t, DefaultLambdaTimeout, local.Lambda.FunctionTimeout())
	assert.Equal(t, DefaultRuntimeAPI, local.Lambda.RuntimeAPIAddress())
	assert.Equal(t, []string{"127.0.0.1:9001"}, web.Targets)

	data, err := Marshal(c)
	require.NoError(t, err)
	back, err := Parse("back.yaml", data)
	require.NoError(t, err, "%s", data)
	assert.Equal(t, c.TargetGroups, back.TargetGroups, "%s", data)
}

func TestLambdaTargetGroupErrors(t *testing.T) {
	for _, tc := range []struct{ name, groups, want string }{
		{"unknown target key", `[{name: fn, target_type: lambda, targets: [{function: f, port: 1}]}]`, `target_groups[0].targets[0].port: unknown key; valid keys of a lambda target: function, endpoint`},
		{"did you mean", `[{name: fn, target_type: lambda, targets: [{function: f, endpont: "http://x"}]}]`, `targets[0].endpont: unknown key (did you mean "endpoint"?)`},
		{"two functions", `[{name: fn, target_type: lambda, targets: [{function: a}, {function: b}]}]`, "one function registered"},
		{"host:port in lambda", `[{name: fn, target_type: lambda, targets: ["127.0.0.1:1"]}]`, "target_groups[0].targets: a lambda target group's target is {function: NAME"},
		{"function in http group", `[{name: fn, targets: [{function: a}]}]`, "need target_type: lambda"},
		{"bad function", `[{name: fn, target_type: lambda, targets: [{function: "a b"}]}]`, "targets[0].function"},
		{"bad endpoint", `[{name: fn, target_type: lambda, targets: [{function: a, endpoint: "127.0.0.1:9000"}]}]`, "not an Invoke API base URL"},
		{"health checks", `[{name: fn, target_type: lambda, targets: [{function: a}], health_check: {enabled: true}}]`, "health checks of lambda target groups are not emulated"},
		{"attribute value", `[{name: fn, target_type: lambda, attributes: {lambda.multi_value_headers.enabled: yes}}]`, `"yes" is not valid`},
		{"unknown attribute", `[{name: fn, target_type: lambda, attributes: {stickiness.enabled: "true"}}]`, "not emulated"},
		{"attribute on http", `[{name: fn, attributes: {lambda.multi_value_headers.enabled: "true"}}]`, "applies to target_type: lambda only"},
		{"target type", `[{name: fn, target_type: alb}]`, `target type "alb" is not emulated`},
		{"lambda settings on http", `[{name: fn, lambda: {timeout: 1s}}]`, "lambda settings need target_type: lambda"},
		{"timeout", `[{name: fn, target_type: lambda, lambda: {timeout: 901s}}]`, "Lambda allows up to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte("target_groups: "+tc.groups+"\n"))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "x.yaml:1: target_groups[0]")
		})
	}
}
