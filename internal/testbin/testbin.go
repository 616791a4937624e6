// Package testbin builds the albmtls binary once per test process so that
// integration tests can run the real command, as users do.
package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	once     sync.Once
	binPath  string
	buildErr error
	output   []byte
)

// Path returns the path of a freshly built albmtls binary, building it on
// first use. The binary is built with -cover when GOCOVERDIR is set, so that
// integration runs count in coverage.
func Path(tb testing.TB) string {
	tb.Helper()
	once.Do(func() {
		dir, err := os.MkdirTemp("", "albmtls-testbin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "albmtls")
		args := []string{"build", "-o", binPath}
		if os.Getenv("GOCOVERDIR") != "" {
			args = append(args, "-cover")
		}
		args = append(args, "github.com/albmtls/albmtls/cmd/albmtls")
		cmd := exec.Command(goTool(), args...)
		cmd.Dir = moduleRoot()
		output, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		tb.Fatalf("building albmtls: %v\n%s", buildErr, output)
	}
	return binPath
}

// Command returns an exec.Cmd for the built binary with the given arguments.
func Command(tb testing.TB, args ...string) *exec.Cmd {
	tb.Helper()
	return exec.Command(Path(tb), args...)
}

// goTool is the go command of the toolchain that built this test binary,
// so the binary under test is built with the same Go; "go" from PATH when
// that toolchain has moved.
func goTool() string {
	//lint:ignore SA1019 a test binary runs where it was built, so its GOROOT is the toolchain's
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

// moduleRoot is the repository root, found from this source file.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
