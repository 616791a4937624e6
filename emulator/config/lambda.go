package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/albmtls/albmtls/internal/suggest"
)

// TargetType is a target group's TargetType: instance and ip register
// host:port targets (the emulator treats both alike), lambda registers one
// Lambda function (docs/lambda.md).
type TargetType string

// Target types.
const (
	TargetTypeInstance TargetType = "instance"
	TargetTypeIP       TargetType = "ip"
	TargetTypeLambda   TargetType = "lambda"
)

// TargetTypes are the target types albmtls emulates.
var TargetTypes = []TargetType{TargetTypeInstance, TargetTypeIP, TargetTypeLambda}

// UnmarshalText accepts ALB's target types that albmtls emulates.
func (t *TargetType) UnmarshalText(b []byte) error {
	if v := TargetType(b); slices.Contains(TargetTypes, v) {
		*t = v
		return nil
	}
	return fmt.Errorf("target type %q is not emulated: use instance, ip or lambda (alb, the fourth ALB type, is not emulated)", string(b))
}

// AttrLambdaMultiValueHeaders is the target group attribute that switches a
// lambda target group's events to multiValueHeaders and
// multiValueQueryStringParameters ("Multi-value headers", AWS docs "Lambda
// functions as targets"; default false).
const AttrLambdaMultiValueHeaders = "lambda.multi_value_headers.enabled"

// Lambda defaults (albmtls settings, not ALB attributes).
const (
	// DefaultRuntimeAPI is where the built-in Lambda Runtime API listens
	// when a lambda target has no endpoint: the address the Runtime
	// Interface Emulator gives its runtime (127.0.0.1:9001).
	DefaultRuntimeAPI = "127.0.0.1:9001"
	// DefaultLambdaTimeout is Lambda's default function timeout, 3 s
	// (AWS Lambda docs, "Configure Lambda function timeout").
	DefaultLambdaTimeout = 3 * time.Second
	// maxLambdaTimeout is Lambda's largest function timeout, 900 s.
	maxLambdaTimeout = 900 * time.Second
)

// LambdaTarget is a lambda target group's target: the function ALB invokes
// and, for albmtls, where it runs. With Endpoint the function is invoked
// through the Lambda Invoke API at that base URL (the Runtime Interface
// Emulator, sam local start-lambda, LocalStack); without it albmtls hosts
// the Runtime API itself and the handler process polls it.
type LambdaTarget struct {
	Function string `yaml:"function"`
	Endpoint string `yaml:"endpoint,omitempty"`
}

// LambdaSettings are albmtls's settings for a lambda target group.
type LambdaSettings struct {
	// RuntimeAPI is host:port of the built-in Runtime API (targets without
	// endpoint); default 127.0.0.1:9001. Port 0 picks a free port.
	RuntimeAPI string `yaml:"runtime_api,omitempty"`
	// Timeout is the function's timeout (Lambda's Timeout setting); ALB
	// "waits until your Lambda function responds or times out". Default 3s.
	Timeout Duration `yaml:"timeout,omitempty"`
}

// RuntimeAPIAddress is RuntimeAPI or its default.
func (l LambdaSettings) RuntimeAPIAddress() string {
	if l.RuntimeAPI == "" {
		return DefaultRuntimeAPI
	}
	return l.RuntimeAPI
}

// FunctionTimeout is Timeout or its default.
func (l LambdaSettings) FunctionTimeout() time.Duration {
	if l.Timeout <= 0 {
		return DefaultLambdaTimeout
	}
	return l.Timeout.D()
}

// MultiValueHeaders reports lambda.multi_value_headers.enabled.
func (tg TargetGroup) MultiValueHeaders() bool {
	return tg.Attributes[AttrLambdaMultiValueHeaders] == "true"
}

// targetGroupAttributes are the target group attributes albmtls accepts.
var targetGroupAttributes = []string{AttrLambdaMultiValueHeaders}

// functionNameRE is Lambda's function name (or an ARN, or NAME:ALIAS).
var functionNameRE = regexp.MustCompile(`^[A-Za-z0-9_:.$-]{1,140}$`)

// lambdaTargetGroup checks the lambda parts of target group tg at path p.
func (v *validator) lambdaTargetGroup(p string, tg TargetGroup) {
	for _, k := range tg.unknownTargetKeys {
		msg := "unknown key; valid keys of a lambda target: function, endpoint"
		if s := suggest.Closest(k[strings.LastIndexByte(k, '.')+1:], []string{"function", "endpoint"}, 3); s != "" {
			msg = fmt.Sprintf("unknown key (did you mean %q?); valid keys of a lambda target: function, endpoint", s)
		}
		v.add(p+"."+k, "%s", msg)
	}
	for k, val := range tg.Attributes {
		if !slices.Contains(targetGroupAttributes, k) {
			v.add(p+".attributes."+k, "target group attribute %q is not emulated; emulated: %s", k, strings.Join(targetGroupAttributes, ", "))
		} else if val != "true" && val != "false" {
			v.add(p+".attributes."+k, "%q is not valid: use \"true\" or \"false\"", val)
		}
	}
	if tg.TargetType != TargetTypeLambda {
		if len(tg.Functions) > 0 {
			v.add(p+".targets", "{function, endpoint} targets need target_type: lambda; HTTP targets are host:port")
		}
		if tg.Lambda != (LambdaSettings{}) {
			v.add(p+".lambda", "lambda settings need target_type: lambda")
		}
		if _, ok := tg.Attributes[AttrLambdaMultiValueHeaders]; ok {
			v.add(p+".attributes."+AttrLambdaMultiValueHeaders, "applies to target_type: lambda only")
		}
		return
	}
	if len(tg.Targets) > 0 {
		v.add(p+".targets", "a lambda target group's target is {function: NAME, endpoint: URL} (endpoint optional), not host:port")
	}
	if len(tg.Functions) > 1 {
		v.add(p+".targets", "a lambda target group has one function registered (ALB allows one Lambda function per target group); found %d", len(tg.Functions))
	}
	for j, f := range tg.Functions {
		tp := fmt.Sprintf("%s.targets[%d]", p, j)
		if !functionNameRE.MatchString(f.Function) {
			v.add(tp+".function", "%q is not a Lambda function name: 1-64 letters, digits, hyphens or underscores (or the function's ARN)", f.Function)
		}
		if f.Endpoint != "" {
			if u, err := url.Parse(f.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				v.add(tp+".endpoint", "%q is not an Invoke API base URL: use http://HOST:PORT, e.g. http://127.0.0.1:9000 for the Runtime Interface Emulator", f.Endpoint)
			}
		}
	}
	if tg.HealthCheck.Enabled != nil && *tg.HealthCheck.Enabled {
		v.add(p+".health_check.enabled", "health checks of lambda target groups are not emulated (they are off by default on ALB); remove health_check")
	}
	if a := tg.Lambda.RuntimeAPI; a != "" {
		if _, port, err := net.SplitHostPort(a); err != nil || (port != "0" && !validPort(port)) {
			v.add(p+".lambda.runtime_api", "%q is not host:port (e.g. 127.0.0.1:9001)", a)
		}
	}
	if d := tg.Lambda.Timeout.D(); d < 0 || d > maxLambdaTimeout {
		v.add(p+".lambda.timeout", "%v is not valid: Lambda allows up to %v", d, maxLambdaTimeout)
	}
}

// UnmarshalYAML reads a target group whose targets are host:port strings
// or, for lambda target groups, {function, endpoint} mappings (into
// Functions). Problems are yaml.TypeErrors, so that every one is reported.
func (tg *TargetGroup) UnmarshalYAML(n *yaml.Node) error {
	type plain TargetGroup
	if n.Kind != yaml.MappingNode {
		return n.Decode((*plain)(tg))
	}
	rest := *n
	rest.Content = nil
	var targets *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "targets" {
			targets = n.Content[i+1]
			continue
		}
		rest.Content = append(rest.Content, n.Content[i], n.Content[i+1])
	}
	var msgs []string
	collect := func(err error) error {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return err
		}
		msgs = append(msgs, te.Errors...)
		return nil
	}
	if err := rest.Decode((*plain)(tg)); err != nil {
		if err := collect(err); err != nil {
			return err
		}
	}
	if targets != nil && targets.Tag != "!!null" {
		if targets.Kind != yaml.SequenceNode {
			msgs = append(msgs, fmt.Sprintf("line %d: targets: use a list of host:port or of {function, endpoint}", targets.Line))
			targets = &yaml.Node{}
		}
		for j, item := range targets.Content {
			if item.Kind != yaml.MappingNode {
				var s string
				if err := item.Decode(&s); err != nil {
					if err := collect(err); err != nil {
						return err
					}
					continue
				}
				tg.Targets = append(tg.Targets, s)
				continue
			}
			var lt LambdaTarget
			bad := false
			for k := 0; k+1 < len(item.Content); k += 2 {
				if key := item.Content[k].Value; key != "function" && key != "endpoint" {
					// Reported by the validator, which knows the key path.
					tg.unknownTargetKeys = append(tg.unknownTargetKeys, fmt.Sprintf("targets[%d].%s", j, key))
					bad = true
				}
			}
			if err := item.Decode(&lt); err != nil {
				if err := collect(err); err != nil {
					return err
				}
				bad = true
			}
			if !bad {
				tg.Functions = append(tg.Functions, lt)
			}
		}
	}
	if len(msgs) > 0 {
		return &yaml.TypeError{Errors: msgs}
	}
	return nil
}

// MarshalYAML writes Functions back under targets.
func (tg TargetGroup) MarshalYAML() (any, error) {
	type plain TargetGroup
	if len(tg.Functions) == 0 {
		return plain(tg), nil
	}
	p := plain(tg)
	p.Targets = nil
	var n, fn yaml.Node
	if err := n.Encode(p); err != nil {
		return nil, err
	}
	if err := fn.Encode(tg.Functions); err != nil {
		return nil, err
	}
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "targets"}, &fn)
	return &n, nil
}
