package testtool

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// recorder catches Fatalf and Skipf instead of stopping the test.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()                      {}
func (r *recorder) Fatalf(f string, args ...any) { r.fatal = fmt.Sprintf(f, args...) }
func (r *recorder) Skipf(f string, args ...any)  { r.skip = fmt.Sprintf(f, args...) }

func TestNeedFindsATool(t *testing.T) {
	t.Setenv("CI", "true")
	r := &recorder{TB: t}
	path := Need(r, "go")
	assert.True(t, strings.HasSuffix(path, "go") || runtime.GOOS == "windows", path)
	assert.Empty(t, r.fatal)
	assert.Empty(t, r.skip)
}

func TestNeedMissingTool(t *testing.T) {
	for _, tc := range []struct {
		ci        string
		fatal     bool
		wantInMsg string
	}{
		{"", false, "apt-get install albmtls-no-such-tool"},
		{"false", false, "fails under CI=true"},
		{"true", true, "CI must have it"},
		{"1", true, "apt-get install albmtls-no-such-tool"},
	} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			r := &recorder{TB: t}
			assert.Equal(t, "", Need(r, "albmtls-no-such-tool"))
			msg := r.skip
			if tc.fatal {
				assert.Empty(t, r.skip)
				msg = r.fatal
			} else {
				assert.Empty(t, r.fatal)
			}
			assert.Contains(t, msg, "albmtls-no-such-tool")
			assert.Contains(t, msg, tc.wantInMsg)
		})
	}
}
