package albresponse

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/albmtls/albmtls/internal/golden"
)

// TestPageContentLengths pins the Content-Lengths observed on real ALBs
// (alb-behaviour §8.1, computed in §11) and the inferred ones.
func TestPageContentLengths(t *testing.T) {
	for _, tc := range []struct {
		code   int
		reason string
		length int
	}{
		{503, "Service Temporarily Unavailable", 162}, // [OBS]
		{502, "Bad Gateway", 122},                     // [OBS]
		{400, "Bad Request", 122},                     // [OBS]
		{403, "Forbidden", 118},                       // [OBS]
		{301, "Moved Permanently", 134},               // [OBS]
		{504, "Gateway Time-out", 132},                // [INF]
		{500, "Internal Server Error", 142},           // [INF]
	} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			reason, body := Page(tc.code)
			assert.Equal(t, tc.reason, reason)
			assert.Len(t, body, tc.length)
		})
	}
}

// TestPageGolden compares every page byte for byte with its reviewed copy.
func TestPageGolden(t *testing.T) {
	for _, code := range []int{301, 302, 400, 401, 403, 405, 408, 413, 414, 460, 463, 464, 500, 501, 502, 503, 504, 561} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			_, body := Page(code)
			golden.Assert(t, filepath.Join("testdata", fmt.Sprintf("page-%d.golden", code)), body)
		})
	}
}

func TestPageTemplate(t *testing.T) {
	_, body := Page(503)
	assert.Equal(t, "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"+
		"<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n", string(body))

	reason, body := Page(463)
	assert.Empty(t, reason, "463 has no known phrase")
	assert.Contains(t, string(body), "<title>463</title>")

	reason, body = ResponseOptions{Reasons: map[int]string{463: "X-Forwarded-For Too Long"}}.Page(463)
	assert.Equal(t, "X-Forwarded-For Too Long", reason)
	assert.Contains(t, string(body), "<h1>463 X-Forwarded-For Too Long</h1>")
}

// TestStatusReasonVsTitle: ALB's status line and page title differ for 302
// (observed) and 401 (nginx, inferred) only; an override sets both.
func TestStatusReasonVsTitle(t *testing.T) {
	for _, tc := range []struct {
		code          int
		reason, title string
	}{
		{302, "Moved Temporarily", "Found"},
		{401, "Unauthorized", "Authorization Required"},
		{301, "Moved Permanently", "Moved Permanently"},
		{503, "Service Temporarily Unavailable", "Service Temporarily Unavailable"},
		{504, "Gateway Time-out", "Gateway Time-out"},
		{418, "I'm a teapot", "I'm a teapot"},
	} {
		assert.Equal(t, tc.reason, Reason(tc.code), "status line of %d", tc.code)
		assert.Equal(t, tc.title, Title(tc.code), "title of %d", tc.code)
		reason, body := Page(tc.code)
		assert.Equal(t, tc.reason, reason)
		assert.Contains(t, string(body), fmt.Sprintf("<title>%d %s</title>", tc.code, tc.title))
	}
	reason, body := ResponseOptions{Reasons: map[int]string{302: "Found"}}.Page(302)
	assert.Equal(t, "Found", reason)
	assert.Contains(t, string(body), "<title>302 Found</title>")
}

func TestReasonFallsBackToGo(t *testing.T) {
	assert.Equal(t, "Service Temporarily Unavailable", Reason(503))
	assert.Equal(t, "I'm a teapot", Reason(418))
	assert.Equal(t, "", Reason(299))
}
