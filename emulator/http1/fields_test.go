package http1

import (
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/headerline"
)

// rawResponse serves request on a fresh connection with h and returns the
// bytes the server sent, to its close or a short read deadline for a
// kept-alive connection, Date values masked.
func rawResponse(t *testing.T, h http.HandlerFunc, request string) string {
	t.Helper()
	c, _ := servePlain(t, &Server{Handler: h, IdleTimeout: 5 * time.Second, ReadHeaderTimeout: 5 * time.Second})
	_, err := io.WriteString(c, request)
	require.NoError(t, err)
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	b, _ := io.ReadAll(c)
	require.NotEmpty(t, b, "no response")
	return regexp.MustCompile(`Date: [^\r]*\r\n`).ReplaceAllString(string(b), "Date: *\r\n")
}

// TestWriteHeaderFieldsMatchesMap: a head given as fields is written
// byte for byte as the same head set in the header map: sorted by name,
// values in order, the Date, Content-Length, Transfer-Encoding and
// Connection the server adds, and with fields set in the map after it.
func TestWriteHeaderFieldsMatchesMap(t *testing.T) {
	get11 := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	cases := []struct {
		name    string
		status  int
		fields  []headerline.Field
		body    string
		request string
		later   http.Header // set in the map after WriteHeader
	}{
		{"content length given", 200, []headerline.Field{{Name: "X-B", Value: "1"}, {Name: "Content-Type", Value: "text/plain"}, {Name: "X-A", Value: "2"}, {Name: "Content-Length", Value: "2"}}, "ok", get11, nil},
		{"repeated names keep their order", 200, []headerline.Field{{Name: "Set-Cookie", Value: "b=2"}, {Name: "X-A", Value: "z"}, {Name: "Set-Cookie", Value: "a=1"}, {Name: "Set-Cookie", Value: "c=3"}}, "ok", get11, nil},
		{"length computed", 201, []headerline.Field{{Name: "X-A", Value: "1"}}, "hello", get11, nil},
		{"target's date", 200, []headerline.Field{{Name: "Date", Value: "Mon, 02 Jan 2006 15:04:05 GMT"}, {Name: "Content-Length", Value: "0"}}, "", get11, nil},
		{"no content", 204, []headerline.Field{{Name: "X-A", Value: "1"}}, "", get11, nil},
		{"HTTP/1.0 keep-alive", 200, []headerline.Field{{Name: "X-A", Value: "1"}}, "ok", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", nil},
		{"HTTP/1.0 closes", 200, []headerline.Field{{Name: "X-A", Value: "1"}}, "ok", "GET / HTTP/1.0\r\n\r\n", nil},
		{"client asks to close", 200, []headerline.Field{{Name: "X-A", Value: "1"}, {Name: "Content-Length", Value: "2"}}, "ok", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", nil},
		{"HEAD", 200, []headerline.Field{{Name: "X-A", Value: "1"}}, "", "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", nil},
		{"map set afterwards", 200, []headerline.Field{{Name: "X-B", Value: "1"}, {Name: "X-A", Value: "2"}}, "ok", get11, http.Header{"X-C": {"3"}, "X-A": {"4"}}},
		{"long body is chunked", 200, []headerline.Field{{Name: "X-A", Value: "1"}}, string(make([]byte, 5000)), get11, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			byMap := rawResponse(t, func(w http.ResponseWriter, _ *http.Request) {
				for _, f := range tc.fields {
					w.Header()[f.Name] = append(w.Header()[f.Name], f.Value)
				}
				w.WriteHeader(tc.status)
				for k, vs := range tc.later {
					w.Header()[k] = append(w.Header()[k], vs...)
				}
				_, _ = io.WriteString(w, tc.body)
			}, tc.request)
			byFields := rawResponse(t, func(w http.ResponseWriter, _ *http.Request) {
				fw := w.(interface {
					WriteHeaderFields(int, []headerline.Field) bool
				})
				given := append([]headerline.Field(nil), tc.fields...)
				require.True(t, fw.WriteHeaderFields(tc.status, given))
				clear(given) // copied: the caller's slice is its own again
				for k, vs := range tc.later {
					w.Header()[k] = append(w.Header()[k], vs...)
				}
				_, _ = io.WriteString(w, tc.body)
			}, tc.request)
			if tc.later != nil {
				// Map entries set after the head merge with its fields; only
				// the order within X-A may differ from the map's.
				assert.Contains(t, byFields, "X-C: 3\r\n")
				return
			}
			assert.Equal(t, byMap, byFields)
		})
	}
}

// TestWriteHeaderFieldsDeclines: with headers already in the map, a
// status already written, or a Trailer field, the head goes through the
// map and WriteHeaderFields does nothing.
func TestWriteHeaderFieldsDeclines(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(w http.ResponseWriter)
		field headerline.Field
	}{
		{"map holds headers", func(w http.ResponseWriter) { w.Header().Set("X-A", "1") }, headerline.Field{Name: "X-B", Value: "2"}},
		{"status written", func(w http.ResponseWriter) { w.WriteHeader(202) }, headerline.Field{Name: "X-B", Value: "2"}},
		{"trailer", func(http.ResponseWriter) {}, headerline.Field{Name: "Trailer", Value: "X-T"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan bool, 1)
			raw := rawResponse(t, func(w http.ResponseWriter, _ *http.Request) {
				tc.setup(w)
				got <- w.(interface {
					WriteHeaderFields(int, []headerline.Field) bool
				}).WriteHeaderFields(200, []headerline.Field{tc.field})
			}, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			assert.False(t, <-got)
			assert.NotContains(t, raw, tc.field.Name+": "+tc.field.Value)
		})
	}
}
