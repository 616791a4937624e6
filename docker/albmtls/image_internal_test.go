package albmtls

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/testtool"
)

// repoRoot is the checkout these tests run in.
const repoRoot = "../.."

// TestVersionMatchesMakefile checks that BuildImage stamps the version `make
// build` (and so `make docker`) stamps, in a throw-away repository holding
// the real Makefile, for each kind of tag history: a docker/vX.Y.Z tag names
// the nested module and must never become the binary's version.
func TestVersionMatchesMakefile(t *testing.T) {
	git := testtool.Need(t, "git")
	testtool.Need(t, "make")
	makefile, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	require.NoError(t, err)

	dir := t.TempDir()
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s %v: %s", name, args, out)
		return strings.TrimSpace(string(out))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Makefile"), makefile, 0o644))
	run(git, "init", "-q")
	run(git, "add", "Makefile")
	commit := func() { run(git, "commit", "-q", "--allow-empty", "-m", "c") }
	commit()

	for _, step := range []struct {
		name string
		do   func()
		want string // a regexp
	}{
		{"no tag", func() {}, `^[0-9a-f]{7,}$`},
		{"core tag", func() { run(git, "tag", "v0.1.0") }, `^v0\.1\.0$`},
		{"docker tag after the core tag", func() { commit(); run(git, "tag", "docker/v0.2.0") }, `^v0\.1\.0-1-g[0-9a-f]+$`},
		{"uncommitted change", func() {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "Makefile"), append(makefile, '\n'), 0o644))
		}, `^v0\.1\.0-1-g[0-9a-f]+-dirty$`},
	} {
		step.do()
		got := checkoutVersion(context.Background(), dir)
		require.Regexp(t, regexp.MustCompile(step.want), got, step.name)
		require.Equal(t, run("make", "-s", "version"), got, "%s: make version and BuildImage's version differ", step.name)
	}
}

// TestBinaryMatchesMakeBuild builds cmd/albmtls as BuildImage does (core
// found through go list -m, here the go.work checkout) and as `make build`
// does, and compares what both report.
func TestBinaryMatchesMakeBuild(t *testing.T) {
	testtool.Need(t, "git")
	testtool.Need(t, "make")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	core, err := findCore(ctx, "", "", nil)
	require.NoError(t, err)
	root, err := filepath.Abs(repoRoot)
	require.NoError(t, err)
	require.Equal(t, root, core.Dir, "go list -m in the workspace names the checkout")
	require.False(t, core.Cached)

	dir := t.TempDir()
	image := filepath.Join(dir, "image-albmtls")
	require.NoError(t, buildBinary(ctx, core, image, nil))
	made := filepath.Join(dir, "make-albmtls")
	out, err := exec.CommandContext(ctx, "make", "-s", "-C", root, "build", "BIN="+made).CombinedOutput()
	require.NoError(t, err, "make build: %s", out)

	want := versionOf(t, made)
	require.Contains(t, want, " "+checkoutVersion(ctx, root)+" ", "make build stamps the Makefile's VERSION")
	require.Equal(t, want, versionOf(t, image), "BuildImage's binary and make build's report different versions")
}

// versionOf runs `bin version`.
func versionOf(t *testing.T, bin string) string {
	t.Helper()
	out, err := exec.Command(bin, "version").Output()
	require.NoError(t, err, "%s version", bin)
	return strings.TrimSpace(string(out))
}
