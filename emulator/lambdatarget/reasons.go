// Package lambdatarget is the forward action to a target group of target
// type lambda: the event ALB builds from a request, the invocation (through
// the Lambda Invoke API, or albmtls's own Runtime API host that a handler
// process polls), the mapping of the function's response back to HTTP, and
// ALB's status codes and access-log error_reason for each failure.
//
// Sources: AWS docs "Lambda functions as targets"
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html)
// for the event and response; "Access log entries", error reason codes
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html)
// for error_reason. Status codes the docs do not give are marked [INF] and
// listed in docs/lambda.md.
package lambdatarget

import "net/http"

// Reason is an access-log error_reason code ALB documents for Lambda
// targets.
type Reason string

// The codes albmtls produces, with the status ALB answers (Status).
const (
	ReasonNone             Reason = ""
	ReasonInvalidResponse  Reason = "LambdaInvalidResponse"   // 502: malformed or missing required fields (status: DOC, access-log example)
	ReasonUnhandled        Reason = "LambdaUnhandled"         // 502: the function failed, crashed or timed out [INF status]
	ReasonResponseTooLarge Reason = "LambdaResponseTooLarge"  // 502: response over 1 MB [INF status]
	ReasonRequestTooLarge  Reason = "LambdaRequestTooLarge"   // 413: request body over 1 MB (DOC: alb-behaviour §8.1)
	ReasonBadRequest       Reason = "LambdaBadRequest"        // 502: headers or body not UTF-8 [INF status]
	ReasonResourceNotFound Reason = "LambdaResourceNotFound"  // 502: the endpoint has no such function [INF status]
	ReasonThrottling       Reason = "LambdaThrottling"        // 503: the endpoint answered 429 [INF status]
	ReasonServiceException Reason = "LambdaServiceException"  // 502: the endpoint failed or could not be reached [INF]
	ReasonConnectTimeout   Reason = "LambdaConnectionTimeout" // 504: connecting to the endpoint timed out [INF status]
)

// Status is the status code ALB answers the client with for r.
func (r Reason) Status() int {
	switch r {
	case ReasonRequestTooLarge:
		return http.StatusRequestEntityTooLarge
	case ReasonThrottling:
		return http.StatusServiceUnavailable
	case ReasonConnectTimeout:
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
}

// Limits from "Lambda functions as targets": "The maximum size of the
// request body that you can send to a Lambda function is 1 MB" and "The
// maximum size of the response JSON that the Lambda function can send is
// 1 MB". 1 MB is taken as 1 MiB [INF].
const (
	MaxRequestBody  = 1 << 20
	MaxResponseJSON = 1 << 20
)
