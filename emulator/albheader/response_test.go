package albheader

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/alb"
)

func TestResponseOptionsFromAttributes(t *testing.T) {
	o, err := ResponseOptionsFromAttributes(nil)
	require.NoError(t, err)
	assert.Equal(t, DefaultResponseOptions(), o)
	assert.True(t, o.Server)

	o, err = ResponseOptionsFromAttributes(map[string]string{
		AttrServerEnabled:                 "false",
		AttrXFrameOptions:                 "DENY",
		AttrStrictTransportSecurity:       "max-age=31536000; includeSubDomains; preload",
		AttrContentSecurityPolicy:         "default-src 'self'; img-src *",
		AttrAccessControlAllowOrigin:      "https://app.example.com",
		AttrAccessControlAllowCredentials: "true",
		AttrAccessControlMaxAge:           "",
		AttrClientCertSubjectName:         "X-Ignored-Here",
	})
	require.NoError(t, err)
	assert.False(t, o.Server)
	assert.Equal(t, []HeaderValue{
		{"Strict-Transport-Security", "max-age=31536000; includeSubDomains; preload"},
		{"Access-Control-Allow-Origin", "https://app.example.com"},
		{"Access-Control-Allow-Credentials", "true"},
		{"Content-Security-Policy", "default-src 'self'; img-src *"},
		{"X-Frame-Options", "DENY"},
	}, o.Headers, "in attribute-key order; an empty value inserts nothing")

	for _, tc := range []struct {
		attrs map[string]string
		want  string
	}{
		{map[string]string{AttrServerEnabled: "off"}, `routing.http.response.server.enabled: "off" is not a boolean`},
		{map[string]string{AttrXFrameOptions: `"DENY"`}, `routing.http.response.x_frame_options.header_value: "\"DENY\"" holds '"'`},
		{map[string]string{AttrContentSecurityPolicy: "a\nb"}, "which ALB does not allow"},
		{map[string]string{AttrContentSecurityPolicy: "é"}, "which ALB does not allow"},
		{map[string]string{AttrContentSecurityPolicy: strings.Repeat("a", 1025)}, "at most 1024"},
	} {
		_, err := ResponseOptionsFromAttributes(tc.attrs)
		require.ErrorContains(t, err, tc.want)
	}
}

func TestResponseApply(t *testing.T) {
	o, err := ResponseOptionsFromAttributes(map[string]string{AttrXFrameOptions: "SAMEORIGIN", AttrXContentTypeOptions: "nosniff"})
	require.NoError(t, err)

	target := http.Header{"Server": {"nginx"}, "X-Frame-Options": {"ALLOWALL", "DENY"}}
	o.Apply(target)
	assert.Equal(t, []string{"SAMEORIGIN"}, target.Values("X-Frame-Options"), "overwrites the target's value")
	assert.Equal(t, "nosniff", target.Get("X-Content-Type-Options"), "adds a missing header")
	assert.Equal(t, "nginx", target.Get("Server"), "server header enabled: the target's passes")

	generated := http.Header{}
	o.ApplyGenerated(generated)
	assert.Equal(t, alb.ServerHeader, generated.Get("Server"))
	assert.Empty(t, generated.Get("X-Frame-Options"), "not inserted into ALB's own responses by default")
	o.InsertOnGenerated = true
	o.ApplyGenerated(generated)
	assert.Equal(t, "SAMEORIGIN", generated.Get("X-Frame-Options"))

	o.Server = false
	target = http.Header{"Server": {"nginx"}}
	o.Apply(target)
	_, ok := target["Server"]
	assert.False(t, ok, "server header disabled")
	generated = http.Header{"Server": {alb.ServerHeader}}
	o.ApplyGenerated(generated)
	_, ok = generated["Server"]
	assert.False(t, ok)
}

// TestChangesTargetResponses: only inserted headers or a disabled Server
// header make Apply change a target's response.
func TestChangesTargetResponses(t *testing.T) {
	def := DefaultResponseOptions()
	assert.False(t, def.ChangesTargetResponses())
	o, err := ResponseOptionsFromAttributes(map[string]string{AttrXContentTypeOptions: "nosniff"})
	require.NoError(t, err)
	assert.True(t, o.ChangesTargetResponses())
	o, err = ResponseOptionsFromAttributes(map[string]string{AttrServerEnabled: "false"})
	require.NoError(t, err)
	assert.True(t, o.ChangesTargetResponses())
}
