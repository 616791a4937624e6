package albresponse

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFixedResponseValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     FixedResponseConfig
		wantErr string
	}{
		{"ok plain", FixedResponseConfig{StatusCode: "200", ContentType: "text/plain", MessageBody: "ok"}, ""},
		{"ok json", FixedResponseConfig{StatusCode: "404", ContentType: "application/json", MessageBody: `{"error":"not found"}`}, ""},
		{"ok 5xx no body", FixedResponseConfig{StatusCode: "503"}, ""},
		{"every content type", FixedResponseConfig{StatusCode: "200", ContentType: "application/javascript"}, ""},
		{"max body", FixedResponseConfig{StatusCode: "200", MessageBody: strings.Repeat("é", 1024)}, ""},
		{"3xx refused", FixedResponseConfig{StatusCode: "301"}, `status_code "301"`},
		{"1xx refused", FixedResponseConfig{StatusCode: "101"}, `status_code "101"`},
		{"empty status", FixedResponseConfig{}, `status_code ""`},
		{"four digits", FixedResponseConfig{StatusCode: "2000"}, `status_code "2000"`},
		{"text", FixedResponseConfig{StatusCode: "OK"}, `status_code "OK"`},
		{"bad type", FixedResponseConfig{StatusCode: "200", ContentType: "text/xml"}, `content_type "text/xml"`},
		{"type with charset", FixedResponseConfig{StatusCode: "200", ContentType: "text/plain; charset=utf-8"}, "content_type"},
		{"body too long", FixedResponseConfig{StatusCode: "200", MessageBody: strings.Repeat("a", 1025)}, "1025 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestWriteFixed(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cfg        FixedResponseConfig
		statusLine string
	}{
		{"200", FixedResponseConfig{StatusCode: "200", ContentType: "text/plain", MessageBody: "ok"}, "HTTP/1.1 200 OK"},
		{"404 json", FixedResponseConfig{StatusCode: "404", ContentType: "application/json", MessageBody: `{"e":1}`}, "HTTP/1.1 404 Not Found"},
		{"503 ALB phrase", FixedResponseConfig{StatusCode: "503", ContentType: "text/plain", MessageBody: "maintenance"}, "HTTP/1.1 503 Service Temporarily Unavailable"},
		{"empty body", FixedResponseConfig{StatusCode: "204"}, "HTTP/1.1 204 No Content"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.cfg.Validate())
			ts := handlerServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				WriteFixed(w, r, tc.cfg, ResponseOptions{})
			}), false, false)
			c := dialRaw(t, ts)
			br := bufio.NewReader(c)
			resp := exchange(t, c, br, getReq, tc.cfg.StatusCode == "204")
			assert.Equal(t, tc.statusLine, resp.StatusLine)
			want := tc.cfg.ContentType
			if want != "" {
				want += FixedResponseCharset
			}
			assert.Equal(t, want, resp.header("Content-Type"))
			assert.Equal(t, "awselb/2.0", resp.header("Server"))
			assert.Equal(t, tc.cfg.MessageBody, string(resp.Body))
		})
	}
}

// TestWriteFixedHTTP2 checks the same response over HTTP/2.
func TestWriteFixedHTTP2(t *testing.T) {
	cfg := FixedResponseConfig{StatusCode: "200", ContentType: "application/json", MessageBody: `{"ok":true}`}
	ts := handlerServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteFixed(w, r, cfg, ResponseOptions{})
	}), true, true)
	resp, err := ts.Client().Get(ts.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "HTTP/2.0", resp.Proto)
	assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, cfg.MessageBody, string(body))
}
