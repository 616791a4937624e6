package endtoend_test

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/testtool"
)

// The Runtime Interface Emulator the tests build from the Go module proxy
// (the version known to build with Go 1.26; docs/lambda.md).
const (
	rieModule  = "github.com/aws/aws-lambda-runtime-interface-emulator"
	rieVersion = "v0.0.0-20261030222936-bef5c4ba774d"
)

var rie struct {
	once sync.Once
	dir  string
	path string
	err  error
	out  []byte
}

// buildRIE builds cmd/aws-lambda-rie once per test binary with go install
// (module mode, the emulator's own go.mod). It cannot be had without the
// module proxy or a module cache holding it: the test is then skipped
// locally and fails under CI=true, like a missing tool.
func buildRIE(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the Runtime Interface Emulator runs on Linux only")
	}
	goTool := testtool.Need(t, "go")
	rie.once.Do(func() {
		rie.dir, rie.err = os.MkdirTemp("", "albmtls-rie-")
		if rie.err != nil {
			return
		}
		cmd := exec.Command(goTool, "install", rieModule+"/cmd/aws-lambda-rie@"+rieVersion)
		cmd.Env = append(os.Environ(), "GOBIN="+rie.dir, "GOWORK=off", "GOFLAGS=", "CGO_ENABLED=0")
		rie.out, rie.err = cmd.CombinedOutput()
		rie.path = rie.dir + "/aws-lambda-rie"
	})
	if rie.err != nil {
		msg := "building the Runtime Interface Emulator (go install " + rieModule + "/cmd/aws-lambda-rie@" + rieVersion + ") failed: " + rie.err.Error() + "\n" + string(rie.out)
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal(msg)
		}
		t.Skip(msg + "\n(it needs the Go module proxy; this fails under CI=true)")
	}
	return rie.path
}

// startRIE runs the test binary as the function under the Runtime
// Interface Emulator with a 1 s function timeout and returns its Invoke
// API base URL.
func startRIE(t *testing.T) string {
	t.Helper()
	bin := buildRIE(t)
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--runtime-interface-emulator-address", addr, "--runtime-api-address", freeAddr(t), os.Args[0])
	cmd.Env = append(os.Environ(), handlerEnv+"=1", "AWS_LAMBDA_FUNCTION_TIMEOUT=1", "LOG_LEVEL=info")
	cmd.Stdout, cmd.Stderr = testWriter{t}, testWriter{t}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so that cleanup ends the handler too
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}, 10*time.Second, 20*time.Millisecond, "the Runtime Interface Emulator did not listen on %s", addr)
	return "http://" + addr
}

// normalised blanks what differs between two emulators and two requests:
// the listener port (host, x-forwarded-port) and the trace ID.
func normalised(ev events.ALBTargetGroupRequest) events.ALBTargetGroupRequest {
	h := map[string]string{}
	for k, v := range ev.Headers {
		h[k] = v
	}
	for _, k := range []string{"host", "x-forwarded-port", "x-amzn-trace-id"} {
		if _, ok := h[k]; ok {
			h[k] = "*"
		}
	}
	ev.Headers = h
	return ev
}

func TestRuntimeInterfaceEmulatorSeesTheSameEvent(t *testing.T) {
	endpoint := startRIE(t)
	r := startRig(t, rigParams{Endpoint: endpoint, Function: "function"})
	viaRIE := echoRequest(t, r)

	b := startRig(t, rigParams{})
	startHandler(t, b.srv.LambdaRuntimeAPI("fn"))
	viaHost := echoRequest(t, b)
	assert.NotEqual(t, viaRIE.Headers["x-amzn-mtls-clientcert-leaf"], "")
	assert.Equal(t, normalised(viaHost), normalised(viaRIE), "the built-in Runtime API and the Runtime Interface Emulator deliver different events")
}

func TestRuntimeInterfaceEmulatorBadInput(t *testing.T) {
	endpoint := startRIE(t)
	r := startRig(t, rigParams{Endpoint: endpoint, Function: "function"})
	c := r.client()
	works(t, r, c)
	failure(t, r, c, http.MethodGet, "/garbage", nil, http.StatusBadGateway, "LambdaInvalidResponse")
	works(t, r, c)
	failure(t, r, c, http.MethodGet, "/error", nil, http.StatusBadGateway, "LambdaUnhandled")
	works(t, r, c)
	failure(t, r, c, http.MethodGet, "/big", nil, http.StatusBadGateway, "LambdaResponseTooLarge")
	works(t, r, c)
	failure(t, r, c, http.MethodGet, "/big2", nil, http.StatusBadGateway, "LambdaResponseTooLarge")
	works(t, r, c)
	failure(t, r, c, http.MethodPost, "/echo", make([]byte, 1<<20+1), http.StatusRequestEntityTooLarge, "LambdaRequestTooLarge")
	works(t, r, c)
	// The emulator enforces AWS_LAMBDA_FUNCTION_TIMEOUT=1 and stops the
	// handler.
	failure(t, r, c, http.MethodGet, "/sleep", nil, http.StatusBadGateway, "LambdaUnhandled")
	worksAfterReset(t, r, c)
	// A panic ends the runtime process; the emulator starts a new one.
	failure(t, r, c, http.MethodGet, "/crash", nil, http.StatusBadGateway, "LambdaUnhandled")
	worksAfterReset(t, r, c)

	// The emulator serves one function, named "function".
	other := startRig(t, rigParams{Endpoint: endpoint, Function: "nosuch"})
	failure(t, other, other.client(), http.MethodGet, "/echo", nil, http.StatusBadGateway, "LambdaResourceNotFound")
}

// worksAfterReset is works once the Runtime Interface Emulator has reset
// its sandbox after a timeout or a crash: it kills and restarts the runtime
// in the background, and an invoke that arrives meanwhile fails with
// Sandbox.Failure (its ErrGateCanceled), which albmtls answers as ALB
// answers a function error (502, LambdaUnhandled). Within a few seconds the
// function answers again.
func worksAfterReset(t *testing.T, r *rig, c *http.Client) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, body := r.do(c, http.MethodGet, "/echo", nil, nil)
		line := r.lastLine()
		if resp.StatusCode == http.StatusOK {
			return
		}
		require.Equal(t, http.StatusBadGateway, resp.StatusCode, string(body))
		require.Equal(t, "LambdaUnhandled", line[fErrorReason], "only the sandbox's reset may fail the invoke")
		require.True(t, time.Now().Before(deadline), "the function did not answer again within 10 s")
		time.Sleep(50 * time.Millisecond)
	}
}
