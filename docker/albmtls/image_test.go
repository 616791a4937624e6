package albmtls_test

import (
	"context"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/albmtls/albmtls/internal/testtool"
)

// TestImageVersion runs `albmtls version` in the image TestMain built with
// BuildImage: it reports the version `make docker` stamps (make version).
func TestImageVersion(t *testing.T) {
	requireDocker(t)
	testtool.Need(t, "make")
	want, err := exec.Command("make", "-s", "-C", "../..", "version").Output()
	require.NoError(t, err, "make version")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ctr, err := testcontainers.Run(ctx, image, testcontainers.WithCmd("version"),
		testcontainers.WithWaitStrategy(wait.ForExit().WithExitTimeout(30*time.Second)))
	testcontainers.CleanupContainer(t, ctr)
	require.NoError(t, err)
	logs, err := ctr.Logs(ctx)
	require.NoError(t, err)
	out, err := io.ReadAll(logs)
	require.NoError(t, err)
	require.Contains(t, string(out), "albmtls "+strings.TrimSpace(string(want))+" ", "the image's version")
}
