package albmtls

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"github.com/albmtls/albmtls/internal/testtool"
)

// consumerFiles is a user's module: a helper that starts the emulator and a
// test that builds the image from the module cache and uses the container.
var consumerFiles = map[string]string{
	"orders.go": `// Package orders is a user's service, tested behind albmtls.
package orders

import (
	"context"

	"github.com/albmtls/albmtls/docker/albmtls"
)

// StartALB starts the emulator in front of a service on the host.
func StartALB(ctx context.Context, img string, port int) (*albmtls.Container, error) {
	return albmtls.Run(ctx, img, albmtls.WithHostTarget(port))
}
`,
	"orders_test.go": `package orders

import (
	"context"
	"net/http"
	"testing"

	"github.com/testcontainers/testcontainers-go"
	"github.com/albmtls/albmtls/docker/albmtls"
)

func TestBehindALB(t *testing.T) {
	ctx := context.Background()
	img, err := albmtls.BuildImage(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	ctr, err := StartALB(ctx, img, 8080)
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ctr.ClientTLSConfig("valid")
	if err != nil {
		t.Fatal(err)
	}
	url, err := ctr.HTTPSEndpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	if _, err := hc.Get(url + "/orders"); err != nil {
		t.Fatal(err)
	}
}
`,
}

// TestConsumerModule does what a user does with a tagged release: in a
// module outside this tree, go get the docker module at its version, go mod
// tidy, build and vet; then BuildImage's first step, building the binary
// from the core module found by go list -m, which is now the module cache.
// Without a registry the two modules are served, at the version
// docker/go.mod requires of the core, from a file-based GOPROXY built from
// this checkout's files (what the tags would publish); third-party modules
// come from the local module cache, then the configured proxy.
func TestConsumerModule(t *testing.T) {
	testtool.Need(t, "git")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	root, err := filepath.Abs(repoRoot)
	require.NoError(t, err)
	gomod, err := os.ReadFile(filepath.Join(root, "docker", "go.mod"))
	require.NoError(t, err)
	mf, err := modfile.Parse("docker/go.mod", gomod, nil)
	require.NoError(t, err)
	require.Empty(t, mf.Replace, "docker/go.mod has a replace directive: users' builds ignore it (use go.work)")
	version := ""
	for _, r := range mf.Require {
		if r.Mod.Path == coreModulePath {
			version = r.Mod.Version
		}
	}
	require.NotEmpty(t, version, "docker/go.mod requires no version of %s", coreModulePath)

	proxy := t.TempDir()
	publish(t, proxy, module.Version{Path: coreModulePath, Version: version}, root)
	publish(t, proxy, module.Version{Path: coreModulePath + "/docker", Version: version}, filepath.Join(root, "docker"))

	goenv, err := goCmd(ctx, "", nil, "env", "-json", "GOPROXY", "GOMODCACHE", "GOSUMDB")
	require.NoError(t, err, "go env: %s", goenv)
	var ge struct{ GOPROXY, GOMODCACHE, GOSUMDB string }
	require.NoError(t, json.Unmarshal(goenv, &ge))
	// A module cache of its own: the published copies must not reach the
	// user's cache, where a later real v0.1.0 would fail its checksum.
	cache := t.TempDir()
	env := []string{
		"GOPROXY=file://" + filepath.ToSlash(proxy) + ",file://" + filepath.ToSlash(filepath.Join(ge.GOMODCACHE, "cache", "download")) + "," + ge.GOPROXY,
		"GOMODCACHE=" + cache,
		"GOFLAGS=-modcacherw", // so t.TempDir can remove the cache
		"GONOSUMDB=github.com/albmtls", "GOSUMDB=" + ge.GOSUMDB, "GONOPROXY=", "GOPRIVATE=",
		"GOWORK=off", "GOTOOLCHAIN=local",
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "GO") || k == "GOROOT" || k == "GOPATH" || k == "GOCACHE" {
			env = append(env, kv)
		}
	}

	consumer := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(consumer, "go.mod"), []byte("module example.com/orders\n\ngo "+mf.Go.Version+"\n"), 0o644))
	for name, src := range consumerFiles {
		require.NoError(t, os.WriteFile(filepath.Join(consumer, name), []byte(src), 0o644))
	}
	// The docker module's checksums, already verified: fewer sumdb lookups.
	sums, err := os.ReadFile(filepath.Join(root, "docker", "go.sum"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(consumer, "go.sum"), sums, 0o644))

	goIn := func(args ...string) string {
		t.Helper()
		out, err := goCmd(ctx, consumer, env, args...)
		if err != nil {
			proxyDown(t, out)
			t.Fatalf("go %s in the consumer module: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	goIn("get", coreModulePath+"/docker@"+version)
	goIn("mod", "tidy")
	goIn("build", "./...")
	goIn("vet", "./...")
	require.Equal(t, version, strings.TrimSpace(goIn("list", "-m", "-f", "{{.Version}}", coreModulePath+"/docker")))

	// The docker module on its own, as the release's GOWORK=off go mod tidy
	// sees it (in a copy, which may record the core's checksums): go.mod and
	// go.sum are tidy but for the core's checksums, which exist once it is
	// tagged, and the workspace builds it with the versions users get.
	alone := filepath.Join(t.TempDir(), "docker")
	for _, f := range gitFiles(t, filepath.Join(root, "docker")) {
		data, err := os.ReadFile(filepath.Join(root, "docker", filepath.FromSlash(f.Path())))
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(alone, f.Path())), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(alone, filepath.FromSlash(f.Path())), data, 0o644))
	}
	if out, err := goCmd(ctx, alone, env, "mod", "tidy"); err != nil {
		proxyDown(t, out)
		t.Fatalf("GOWORK=off go mod tidy in a copy of docker/: %v\n%s", err, out)
	}
	tidyMod, err := os.ReadFile(filepath.Join(alone, "go.mod"))
	require.NoError(t, err)
	require.Equal(t, string(gomod), string(tidyMod), "docker/go.mod is not tidy on its own (GOWORK=off go mod tidy)")
	tidySum, err := os.ReadFile(filepath.Join(alone, "go.sum"))
	require.NoError(t, err)
	var kept []string
	for _, line := range strings.SplitAfter(string(tidySum), "\n") {
		if !strings.HasPrefix(line, coreModulePath+" ") {
			kept = append(kept, line)
		}
	}
	require.Equal(t, string(sums), strings.Join(kept, ""), "docker/go.sum is not tidy on its own (GOWORK=off go mod tidy), the core's checksums aside")
	standalone := moduleVersions(t, ctx, alone, env)
	for path, v := range moduleVersions(t, ctx, filepath.Join(root, "docker"), nil) {
		if path != coreModulePath && standalone[path] != v {
			t.Errorf("the workspace builds the docker module with %s %s, users get %q: align docker/go.mod (or go.mod) as go work sync would", path, v, standalone[path])
		}
	}

	core, err := findCore(ctx, "", consumer, env)
	require.NoError(t, err)
	require.True(t, core.Cached, "the consumer's core is the module cache: %+v", core)
	require.Equal(t, version, core.Version)
	require.True(t, strings.HasPrefix(core.Dir, cache), "core at %s, want under the consumer's module cache %s", core.Dir, cache)
	bin := filepath.Join(t.TempDir(), "albmtls")
	if err := buildBinary(ctx, core, bin, env); err != nil {
		proxyDown(t, []byte(err.Error()))
		t.Fatal(err)
	}
	require.Regexp(t, "^albmtls "+regexp.QuoteMeta(version)+" ", versionOf(t, bin), "what go install …@"+version+" reports")
}

// moduleVersions is the version of each module whose packages the tests of
// the module in dir build, with env (nil: this process's, the workspace).
func moduleVersions(t *testing.T, ctx context.Context, dir string, env []string) map[string]string {
	t.Helper()
	out, err := goCmd(ctx, dir, env, "list", "-deps", "-test", "-f", "{{with .Module}}{{.Path}} {{.Version}}{{end}}", "./...")
	if err != nil {
		proxyDown(t, out)
		t.Fatalf("go list -deps in %s: %v\n%s", dir, err, out)
	}
	versions := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if path, v, ok := strings.Cut(line, " "); ok {
			versions[path] = v
		}
	}
	return versions
}

// publish writes module m, from the files git would commit under dir, to a
// file-based GOPROXY (the layout of `go help goproxy`).
func publish(t *testing.T, proxy string, m module.Version, dir string) {
	t.Helper()
	files := gitFiles(t, dir)
	at := filepath.Join(proxy, filepath.FromSlash(m.Path), "@v")
	require.NoError(t, os.MkdirAll(at, 0o755))
	z, err := os.Create(filepath.Join(at, m.Version+".zip"))
	require.NoError(t, err)
	require.NoError(t, modzip.Create(z, m, files), "zipping %s", dir)
	require.NoError(t, z.Close())
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	info, _ := json.Marshal(map[string]string{"Version": m.Version, "Time": "2026-01-01T00:00:00Z"})
	for name, data := range map[string][]byte{"list": []byte(m.Version + "\n"), m.Version + ".mod": gomod, m.Version + ".info": info} {
		require.NoError(t, os.WriteFile(filepath.Join(at, name), data, 0o644))
	}
}

// gitFiles lists the files git would commit under dir: tracked or new, not
// ignored, not deleted.
func gitFiles(t *testing.T, dir string) []modzip.File {
	t.Helper()
	out, err := exec.Command("git", "-C", dir, "ls-files", "-z", "--cached", "--others", "--exclude-standard", ".").Output()
	require.NoError(t, err, "git ls-files in %s", dir)
	var files []modzip.File
	for _, p := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		info, err := os.Lstat(filepath.Join(dir, p))
		if err != nil || !info.Mode().IsRegular() { // deleted but not yet committed
			continue
		}
		files = append(files, gitFile{dir: dir, path: filepath.ToSlash(p), info: info})
	}
	return files
}

type gitFile struct {
	dir, path string
	info      os.FileInfo
}

func (f gitFile) Path() string                { return f.path }
func (f gitFile) Lstat() (os.FileInfo, error) { return f.info, nil }
func (f gitFile) Open() (io.ReadCloser, error) {
	return os.Open(filepath.Join(f.dir, filepath.FromSlash(f.path)))
}

// proxyDown skips the test on a developer's machine, or fails it under CI,
// when a go command failed because the Go module proxy is unreachable.
func proxyDown(t *testing.T, out []byte) {
	t.Helper()
	if !regexp.MustCompile(`dial tcp|no such host|connection refused|i/o timeout|TLS handshake timeout|network is unreachable`).Match(out) {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but the Go module proxy is unreachable:\n%s", out)
	}
	t.Skipf("the Go module proxy is unreachable; this test needs it for modules not in the local cache:\n%s", out)
}
