package headerline

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAppendValue: a value as net/http's Header.Write writes it.
func TestAppendValue(t *testing.T) {
	for _, v := range []string{"plain", "  padded\t", "CN=a\r\nInjected: 1", "\r\nlead and tail\n", "", " \t ", "a\rb\nc", strings.Repeat("x", 2000)} {
		var want bytes.Buffer
		require.NoError(t, http.Header{"X-Test": {v}}.Write(&want))
		got := "X-Test: " + string(AppendValue(nil, v)) + "\r\n"
		assert.Equal(t, want.String(), got, "%q", v)
	}
	assert.Equal(t, "prefix:v", string(AppendValue([]byte("prefix:"), " v ")), "appends")
}
