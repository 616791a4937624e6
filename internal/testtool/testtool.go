// Package testtool is the one rule for the external programs albmtls's tests
// run (openssl, curl, python3): a test that needs a missing tool is skipped
// on a developer's machine, with the command that installs it, and fails
// under CI=true, where .ci/run installs every tool and a skip would hide a
// test that never ran.
package testtool

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// packages maps a tool to the Debian/Ubuntu package that provides it, for
// the install hint; a tool not listed is its own package name.
var packages = map[string]string{
	"sh":  "dash",
	"aws": "awscli",
}

// Need returns the path of the named program on PATH. When it is missing,
// the test is skipped locally and fails under CI (CI=true or any other value
// strconv.ParseBool reads as true), naming the tool and how to install it.
func Need(tb testing.TB, name string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	pkg := packages[name]
	if pkg == "" {
		pkg = name
	}
	if inCI() {
		tb.Fatalf("%s is needed by this test and CI must have it (.ci/run installs it): %v; install it with apt-get install %s", name, err, pkg)
		return ""
	}
	tb.Skipf("%s is not installed, so this test cannot run (it fails under CI=true); install it with apt-get install %s", name, pkg)
	return ""
}

// Require is Need for a property of a tool rather than its presence (a
// version new enough): when ok is false the test is skipped locally and
// fails under CI, with why.
func Require(tb testing.TB, ok bool, why string) {
	tb.Helper()
	if ok {
		return
	}
	if inCI() {
		tb.Fatalf("%s (CI must run this test)", why)
		return
	}
	tb.Skipf("%s, so this test cannot run (it fails under CI=true)", why)
}

// inCI reports whether the tests run under CI, where a missing tool is an
// error rather than a reason to skip.
func inCI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}
