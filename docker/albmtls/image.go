package albmtls

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/testcontainers/testcontainers-go"
)

// BuildImage builds the emulator's image from the albmtls repository at
// repoRoot and tags it DefaultImage, without any registry: the Dockerfile is
// FROM scratch and copies a binary built on the host, so BuildImage runs the
// static `go build` first (CGO_ENABLED=0, as `make docker` does), then builds
// the repository's Dockerfile through the Docker API with a context holding
// only that Dockerfile and the binary (no repository tarball, no
// .dockerignore to keep in step). The image is kept, so later builds reuse
// its layer when the binary is unchanged. It returns the image tag.
//
// Call it once per test binary (TestMain or a sync.Once): it takes a few
// seconds with a warm Go build cache.
func BuildImage(ctx context.Context, repoRoot string) (string, error) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		return "", fmt.Errorf("albmtls: building the image: %w", err)
	}
	dockerfile, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		return "", fmt.Errorf("albmtls: building the image: %w (pass the root of the albmtls repository)", err)
	}
	dir, err := os.MkdirTemp("", "albmtls-image-")
	if err != nil {
		return "", fmt.Errorf("albmtls: building the image: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), dockerfile, 0o644); err != nil {
		return "", fmt.Errorf("albmtls: building the image: %w", err)
	}

	bin := filepath.Join(dir, "bin", "albmtls")
	gobin := "go"
	if goroot := os.Getenv("GOROOT"); goroot != "" {
		if p := filepath.Join(goroot, "bin", "go"); fileExists(p) {
			gobin = p
		}
	}
	cmd := exec.CommandContext(ctx, gobin, "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "./cmd/albmtls")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("albmtls: building the binary (go build ./cmd/albmtls in %s): %w\n%s", root, err, strings.TrimSpace(string(out)))
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
		return "", fmt.Errorf("albmtls: building the image from %s/Dockerfile: %w\n%s", root, err, lastLines(&buildLog, 20))
	}
	return img, nil
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
