package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/albmtls/albmtls/internal/suggest"
)

// People who write albmtls.yaml usually have the same load balancer in
// Terraform (aws_lb, aws_lb_listener, aws_lb_listener_rule,
// aws_lb_target_group, aws_lb_trust_store) or CloudFormation
// (AWS::ElasticLoadBalancingV2::LoadBalancer, Listener, ListenerRule,
// TargetGroup, TrustStore, TrustStoreRevocation) and copy its names. The
// keys of albmtls.yaml follow those names where the emulator has the same
// thing (port, protocol, ssl_policy, mutual_authentication.mode); where it
// has a local stand-in (a trust store's name for its ARN, a PEM file for
// an S3 object or an ACM certificate) an unknown-key error says which key
// to use instead. The names come from the Terraform AWS provider's
// resource arguments and the CloudFormation property references, e.g.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-elasticloadbalancingv2-listener.html
// and .../aws-properties-elasticloadbalancingv2-listener-mutualauthentication.html.

// alias is one foreign name (snake_case; CloudFormation's PascalCase is
// converted first) in the mappings it is found in, and the hint.
type alias struct {
	// where are parent key paths without list indexes ("listeners",
	// "listeners.mutual_authentication"); "*" is anywhere.
	where []string
	keys  []string
	hint  string
}

const (
	atTop      = ""
	atLB       = "load_balancer"
	atListener = "listeners"
	atMTLS     = "listeners.mutual_authentication"
	atRule     = "listeners.rules"
	atTS       = "trust_stores"
	atTG       = "target_groups"
	atHC       = "target_groups.health_check"
	atCert     = "listeners.certificates"
	atHeader   = "listeners.rules.conditions.http_header"
	anywhere   = "*"
)

var atAction = []string{"listeners.default_action", "listeners.rules.action"}

var aliases = []alias{
	{[]string{atMTLS}, []string{"trust_store_arn"},
		"Terraform's and CloudFormation's name; use trust_store: NAME, the name of an entry of trust_stores"},
	{[]string{atTop, atListener}, []string{"load_balancer_arn"},
		"albmtls.yaml is one load balancer, so its listeners need no ARN to point at it; name it with load_balancer.name (and account_id, region) and remove this key"},
	{[]string{atTop, atRule}, []string{"listener_arn"},
		"rules sit inside their listener: move them under listeners[].rules and remove this key"},
	{[]string{atListener}, []string{"certificate_arn"},
		"an ACM certificate ARN; use certificates: [{certificate: FILE, private_key: FILE}] with PEM files (arn: sets the ARN logged as chosen_cert_arn)"},
	{[]string{atCert}, []string{"certificate_arn"},
		"an ACM certificate ARN; use certificate: FILE and private_key: FILE (PEM files), and arn: for the ARN logged as chosen_cert_arn"},
	{[]string{atListener}, []string{"default_actions"},
		"CloudFormation's and the API's name; use default_action: one action (type, target_group, redirect or fixed_response)"},
	{[]string{atListener}, []string{"listener_attributes", "attribute"},
		"use attributes: a mapping of KEY: VALUE, e.g. routing.http.response.server.enabled: \"false\""},
	{[]string{atListener}, []string{"action", "actions"},
		"use default_action: one action (type, target_group, redirect or fixed_response)"},
	{[]string{atListener}, []string{"rule", "condition", "conditions", "listener_rules"},
		"use rules: a list of {priority, conditions, action}"},
	{[]string{atListener}, []string{"alpn_policy"},
		"albmtls does not emulate ALPN policies; remove it"},
	{atAction, []string{"target_group_arn"},
		"Terraform's and CloudFormation's name; use target_group: NAME, the name of an entry of target_groups"},
	{atAction, []string{"forward", "forward_config"},
		"use type: forward and target_group: NAME (one target group; weights and stickiness are not emulated)"},
	{atAction, []string{"redirect_config"}, "use redirect: {protocol, port, host, path, query, status_code}"},
	{atAction, []string{"fixed_response_config"}, "use fixed_response: {status_code, content_type, message_body}"},
	{atAction, []string{"order"}, "albmtls runs one action per listener or rule, so there is no order; remove it"},
	{[]string{atRule}, []string{"actions"}, "CloudFormation's name; use action: one action (type, target_group, redirect or fixed_response)"},
	{[]string{atRule}, []string{"condition"}, "Terraform's block name; use conditions: {path_pattern: [...], host_header: [...], http_header: {name, values}, http_request_method: [...], source_ip: [...]}"},
	{[]string{atHeader}, []string{"http_header_name"}, "use name: the header's name"},
	{[]string{atTS}, []string{"ca_certificates_bundle_s3_bucket", "ca_certificates_bundle_s3_key", "ca_certificates_bundle_s3_object_version"},
		"the emulator reads the bundle from a local file: use ca_certificates_bundle: FILE, the PEM file you would upload to S3"},
	{[]string{atTS}, []string{"revocations_s3_bucket", "revocations_s3_key", "revocations_s3_object_version", "revocation_contents", "revocation"},
		"the emulator reads CRLs from local files: use revocations: [FILE, …], the PEM CRLs you would upload to S3"},
	{[]string{atTS}, []string{"trust_store_arn", "arn"}, "a trust store is found by its name: use name: NAME and refer to it with mutual_authentication.trust_store"},
	{[]string{atTG}, []string{"port"}, "each target has its own port here: list targets: [HOST:PORT, …]"},
	{[]string{atTG}, []string{"target_type", "vpc_id"}, "targets are HOST:PORT addresses (target type ip); remove it"},
	{[]string{atTG}, []string{"target_group_arn", "arn"}, "a target group is found by its name: use name: NAME and refer to it with an action's target_group"},
	{[]string{atTG}, []string{"health_check_path"}, "use health_check: {path: …}"},
	{[]string{atTG}, []string{"health_check_port"}, "use health_check: {port: …}"},
	{[]string{atTG}, []string{"health_check_enabled"}, "use health_check: {enabled: …}"},
	{[]string{atTG}, []string{"health_check_interval_seconds"}, "use health_check: {interval: …}"},
	{[]string{atTG}, []string{"health_check_timeout_seconds"}, "use health_check: {timeout: …}"},
	{[]string{atTG}, []string{"healthy_threshold_count"}, "use health_check: {healthy_threshold: …}"},
	{[]string{atTG}, []string{"unhealthy_threshold_count"}, "use health_check: {unhealthy_threshold: …}"},
	{[]string{atTG}, []string{"matcher"}, "use health_check: {matcher: \"200-299\"}"},
	{[]string{atHC}, []string{"interval_seconds"}, "use interval: a duration (\"30s\") or a number of seconds"},
	{[]string{atHC}, []string{"timeout_seconds"}, "use timeout: a duration (\"5s\") or a number of seconds"},
	{[]string{atHC}, []string{"healthy_threshold_count"}, "use healthy_threshold"},
	{[]string{atHC}, []string{"unhealthy_threshold_count"}, "use unhealthy_threshold"},
	{[]string{atHC}, []string{"http_code"}, "use matcher: \"200-299\""},
	{[]string{atTop}, []string{"access_logs"}, "the emulator writes logs locally: use logs: {access: {file: FILE}} (logs.s3_layout_dir for ALB's S3 layout)"},
	{[]string{atTop}, []string{"connection_logs"}, "the emulator writes logs locally: use logs: {connection: {file: FILE}} (logs.s3_layout_dir for ALB's S3 layout)"},
	{[]string{atTop, atLB}, []string{"load_balancer_attributes"}, "use load_balancer.attributes: a mapping of KEY: VALUE"},
	{[]string{atTop}, []string{"idle_timeout"}, "a load balancer setting: use load_balancer.idle_timeout"},
	{[]string{atTop}, []string{"trust_store", "target_group", "listener"}, "the top-level keys are lists: trust_stores, target_groups, listeners"},
	{[]string{anywhere}, []string{"vpc_id", "subnets", "subnet_mapping", "security_groups", "internal", "load_balancer_type", "tags", "ip_address_type"},
		"AWS networking and tagging are not emulated: albmtls listens on local addresses; remove it"},
}

// terraformLBAttributes are aws_lb arguments that are load balancer
// attributes in the API.
var terraformLBAttributes = map[string]string{
	"drop_invalid_header_fields":                  "routing.http.drop_invalid_header_fields.enabled",
	"xff_header_processing_mode":                  "routing.http.xff_header_processing.mode",
	"enable_xff_client_port":                      "routing.http.xff_client_port.enabled",
	"preserve_host_header":                        "routing.http.preserve_host_header.enabled",
	"enable_http2":                                "routing.http2.enabled",
	"desync_mitigation_mode":                      "routing.http.desync_mitigation_mode",
	"enable_waf_fail_open":                        "waf.fail_open.enabled",
	"enable_tls_version_and_cipher_suite_headers": "routing.http.x_amzn_tls_version_and_cipher_suite.enabled",
}

var listIndex = regexp.MustCompile(`\[\d+\]`)

// aliasHint is the yamlstrict.Hint of albmtls.yaml: for an unknown key
// that is another tool's spelling or name, what to write instead.
func aliasHint(parent, key string, valid []string) string {
	snake := suggest.SnakeCase(key)
	where := listIndex.ReplaceAllString(parent, "")
	for _, a := range aliases {
		if slices.Contains(a.keys, snake) && (slices.Contains(a.where, where) || slices.Contains(a.where, anywhere)) {
			return a.hint
		}
	}
	if snake != key && slices.Contains(valid, snake) {
		return fmt.Sprintf("keys are snake_case, as in Terraform: use %q", snake)
	}
	if where == atTop || where == atLB {
		if attr, ok := terraformLBAttributes[snake]; ok {
			if !slices.Contains(LoadBalancerAttributeKeys(), attr) {
				return fmt.Sprintf("Terraform's aws_lb argument for the load balancer attribute %s, which albmtls does not emulate; remove it", attr)
			}
			return fmt.Sprintf("Terraform's aws_lb argument for a load balancer attribute: use load_balancer.attributes: {%s: VALUE}", attr)
		}
	}
	if where == atListener {
		// aws_lb_listener writes listener attributes as arguments:
		// routing_http_response_server_enabled.
		flat := strings.NewReplacer(".", "", "_", "").Replace(snake)
		for _, k := range ListenerAttributeKeys() {
			if strings.NewReplacer(".", "", "_", "").Replace(k) == flat {
				return fmt.Sprintf("Terraform's aws_lb_listener argument for a listener attribute: use attributes: {%s: VALUE}", k)
			}
		}
	}
	return ""
}
