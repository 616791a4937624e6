package albmtls

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/testcontainers/testcontainers-go"
)

// coreModulePath is the emulator's module: the source of the binary in the
// image.
const coreModulePath = "github.com/albmtls/albmtls"

// BuildImage builds the emulator's image and tags it DefaultImage, without
// any registry: the Dockerfile is FROM scratch and copies a binary built on
// the host, so BuildImage runs the static `go build` first (CGO_ENABLED=0,
// -trimpath and the -ldflags of `make build`, version included, so the image
// reports the same version as `make docker`'s), then builds the core
// module's Dockerfile through the Docker API with a context holding only that
// Dockerfile and the binary (no repository tarball, no .dockerignore to keep
// in step). The image is kept, so later builds reuse its layer when the
// binary is unchanged. It returns the image tag.
//
// repoRoot is the root of an albmtls checkout, or "" to build the
// github.com/albmtls/albmtls version the calling module uses: BuildImage
// asks `go list -m` in the current directory (a test's package directory),
// which names the module cache at the version go.mod selects, or the
// checkout that a go.work or a replace directive points at. Pass "" from
// your own module's tests.
//
// Call it once per test binary (TestMain or a sync.Once): it takes a few
// seconds with a warm Go build cache.
func BuildImage(ctx context.Context, repoRoot string) (string, error) {
	core, err := findCore(ctx, repoRoot, "", nil)
	if err != nil {
		return "", err
	}
	dockerfile, err := os.ReadFile(filepath.Join(core.Dir, "Dockerfile"))
	if err != nil {
		return "", fmt.Errorf("albmtls: building the image: %w (pass the root of the albmtls repository, or \"\")", err)
	}
	dir, err := os.MkdirTemp("", "albmtls-image-")
	if err != nil {
		return "", fmt.Errorf("albmtls: building the image: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), dockerfile, 0o644); err != nil {
		return "", fmt.Errorf("albmtls: building the image: %w", err)
	}
	if err := buildBinary(ctx, core, filepath.Join(dir, "bin", "albmtls"), nil); err != nil {
		return "", err
	}

	repo, tag, _ := strings.Cut(DefaultImage, ":")
	var buildLog bytes.Buffer
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return "", fmt.Errorf("albmtls: building the image: %w", daemonError(err))
	}
	defer provider.Close()
	img, err := provider.BuildImage(ctx, &testcontainers.ContainerRequest{FromDockerfile: testcontainers.FromDockerfile{
		Context:        dir,
		Repo:           repo,
		Tag:            tag,
		KeepImage:      true,
		BuildLogWriter: &buildLog,
	}})
	if err != nil {
		if isDaemonError(err) {
			return "", fmt.Errorf("albmtls: building the image: %w", daemonError(err))
		}
		return "", fmt.Errorf("albmtls: building the image from %s/Dockerfile: %w\n%s", core.Dir, err, lastLines(&buildLog, 20))
	}
	return img, nil
}

// coreModule is where the emulator's source is and the version its binary
// reports.
type coreModule struct {
	Dir     string // the module's root: a checkout, or the module cache
	Version string // what -X main.version stamps
	Cached  bool   // Dir is in the (read-only) module cache, outside any workspace
}

// findCore locates the core module: repoRoot when given, else what `go list
// -m` run in dir (the current directory when "") with env (os.Environ when
// nil) selects.
func findCore(ctx context.Context, repoRoot, dir string, env []string) (coreModule, error) {
	if repoRoot != "" {
		root, err := filepath.Abs(repoRoot)
		if err != nil {
			return coreModule{}, fmt.Errorf("albmtls: building the image: %w", err)
		}
		return coreModule{Dir: root, Version: checkoutVersion(ctx, root)}, nil
	}
	var m struct {
		Version, Dir string
		Replace      *struct{ Version, Dir string }
	}
	out, err := goCmd(ctx, dir, env, "list", "-m", "-json", coreModulePath)
	if err == nil {
		err = json.Unmarshal(out, &m)
	}
	if err != nil {
		return coreModule{}, fmt.Errorf("albmtls: locating %s for the image (go list -m %[1]s in %s): %w\n%s\n"+
			"Call BuildImage from a module that requires github.com/albmtls/albmtls/docker, or pass the repository root",
			coreModulePath, displayDir(dir), err, strings.TrimSpace(string(out)))
	}
	switch {
	case m.Replace != nil && m.Replace.Version == "": // replace => a local directory
		return coreModule{Dir: m.Replace.Dir, Version: checkoutVersion(ctx, m.Replace.Dir)}, nil
	case m.Replace != nil:
		m.Version = m.Replace.Version
	case m.Version == "": // a main module: the workspace's checkout
		return coreModule{Dir: m.Dir, Version: checkoutVersion(ctx, m.Dir)}, nil
	}
	if m.Dir == "" { // required but not extracted yet
		out, err := goCmd(ctx, dir, env, "mod", "download", "-json", coreModulePath+"@"+m.Version)
		if err == nil {
			err = json.Unmarshal(out, &m)
		}
		if err != nil || m.Dir == "" {
			return coreModule{}, fmt.Errorf("albmtls: downloading %s@%s for the image (go mod download in %s): %v\n%s",
				coreModulePath, m.Version, displayDir(dir), err, strings.TrimSpace(string(out)))
		}
	}
	return coreModule{Dir: m.Dir, Version: m.Version, Cached: true}, nil
}

// checkoutVersion is the version `make build` stamps in a checkout (the
// Makefile's VERSION: the nearest core tag vX.Y.Z, never a docker/vX.Y.Z
// one, with the commits since and -dirty), or "dev" outside git.
// TestVersionMatchesMakefile keeps the two in step.
func checkoutVersion(ctx context.Context, root string) string {
	cmd := exec.CommandContext(ctx, "git", "describe", "--tags", "--match", "v[0-9]*", "--always", "--dirty")
	cmd.Dir = root
	out, err := cmd.Output()
	if v := strings.TrimSpace(string(out)); err == nil && v != "" {
		return v
	}
	return "dev"
}

// buildBinary builds cmd/albmtls of core into out as `make build` does. A
// module-cache copy is built on its own go.mod and go.sum (GOWORK=off,
// -mod=readonly), as `go install …@version` would.
func buildBinary(ctx context.Context, core coreModule, out string, env []string) error {
	args := []string{"build", "-trimpath", "-ldflags", "-s -w -X main.version=" + core.Version, "-o", out}
	if env == nil {
		env = os.Environ()
	}
	env = append(env[:len(env):len(env)], "CGO_ENABLED=0")
	if core.Cached {
		args = append(args, "-mod=readonly")
		env = append(env, "GOWORK=off")
	}
	if msg, err := goCmd(ctx, core.Dir, env, append(args, "./cmd/albmtls")...); err != nil {
		return fmt.Errorf("albmtls: building the binary (go build ./cmd/albmtls in %s): %w\n%s", core.Dir, err, strings.TrimSpace(string(msg)))
	}
	return nil
}

// goCmd runs the go command (GOROOT's when set) in dir and returns its
// standard output, or its combined output when it fails.
func goCmd(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	gobin := "go"
	if goroot := os.Getenv("GOROOT"); goroot != "" {
		if p := filepath.Join(goroot, "bin", "go"); fileExists(p) {
			gobin = p
		}
	}
	cmd := exec.CommandContext(ctx, gobin, args...)
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return append(stdout.Bytes(), stderr.Bytes()...), err
	}
	return stdout.Bytes(), nil
}

func displayDir(dir string) string {
	if dir == "" {
		if wd, err := os.Getwd(); err == nil {
			return wd
		}
	}
	return dir
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// lastLines returns the last n lines of a build log, for error messages.
func lastLines(r io.Reader, n int) string {
	data, _ := io.ReadAll(r)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
