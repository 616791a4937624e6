package scenarios

// Lambda puts the listener's forward in front of a lambda target group
// (docs/lambda.md) whose function is the harness's own, invoked through
// the Lambda Invoke API; the echo function answers with the echo target's
// document built from the ALB event, so target_headers and
// reached_target read the same as for an HTTP target.
type Lambda struct {
	// Function is what the harness's function does: echo (default),
	// garbage (a response without statusCode), error (a function error),
	// big (a 2 MB response), sleep (past the 1 s timeout), binary (a
	// base64-encoded response body).
	Function string `yaml:"function"`
	// MultiValueHeaders is the target group attribute
	// lambda.multi_value_headers.enabled.
	MultiValueHeaders bool `yaml:"multi_value_headers"`
}

// The harness's functions (Lambda.Function).
const (
	LambdaEcho    = "echo"
	LambdaGarbage = "garbage"
	LambdaError   = "error"
	LambdaBig     = "big"
	LambdaSleep   = "sleep"
	LambdaBinary  = "binary"
)

// LambdaFunctions lists them, for validation.
var LambdaFunctions = []string{"", LambdaEcho, LambdaGarbage, LambdaError, LambdaBig, LambdaSleep, LambdaBinary}
