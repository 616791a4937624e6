package listener

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/desync"
)

// TestHeaderOrderFollowsFraming feeds the bytes of requests on one
// connection, in pieces of every size, and checks that each request gets
// its own names in the client's order: bodies by Content-Length and by
// chunks (whose data looks like headers) are skipped, an upgrade ends the
// recording, and a request whose names do not match gets nil.
func TestHeaderOrderFollowsFraming(t *testing.T) {
	const stream = "GET /a HTTP/1.1\r\nHost: x\r\nX-Zeta: 1\r\naccept: */*\r\nX-Alpha: 2\r\nX-Zeta: 3\r\n\r\n" +
		"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 23\r\nX-B: 1\r\n\r\nX-Fake: in the body\r\n\r\n" +
		"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\nHost: x\r\nX-C: 1\r\n\r\n" +
		"11;ext=1\r\nX-Fake: chunk\r\n\r\n\r\n0\r\nX-Trailer: t\r\n\r\n" +
		"GET /d HTTP/1.1\r\nUser-Agent: u\r\nHost: x\r\n\r\n" +
		"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n" +
		"GET /after HTTP/1.1\r\nHost: x\r\nX-After: 1\r\n\r\n"
	want := [][]string{
		{"Host", "X-Zeta", "Accept", "X-Alpha", "X-Zeta"},
		{"Host", "Content-Length", "X-B"},
		{"Transfer-Encoding", "Host", "X-C"},
		{"User-Agent", "Host"},
		{"Host", "Connection", "Upgrade"},
		nil, // after an upgrade nothing is followed
	}
	for _, step := range []int{1, 2, 7, 64, len(stream)} {
		o := &HeaderOrder{}
		for i := 0; i < len(stream); i += step {
			o.feed([]byte(stream[i:min(i+step, len(stream))]))
		}
		br := bufio.NewReader(strings.NewReader(stream))
		for i, w := range want {
			req, err := http.ReadRequest(br)
			require.NoError(t, err)
			_, err = io.Copy(io.Discard, req.Body)
			require.NoError(t, err)
			assert.Equal(t, w, o.Next(req.Header), "step %d, request %d (%s)", step, i, req.URL)
		}
	}
}

// TestHeaderOrderMismatch: names that are not the request's (a request the
// recorder did not see) give nil, and so does every later request.
func TestHeaderOrderMismatch(t *testing.T) {
	o := &HeaderOrder{}
	o.feed([]byte("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n"))
	assert.Nil(t, o.Next(http.Header{"X-B": {"1"}}))
	assert.Nil(t, o.Next(http.Header{"X-A": {"1"}}), "lost step: nothing is trusted after")
	var none *HeaderOrder
	assert.Nil(t, none.Next(http.Header{}))
}

// TestHeaderOrderLongLine: a line over maxOrderLine stops the recording
// instead of growing without bound.
func TestHeaderOrderLongLine(t *testing.T) {
	o := &HeaderOrder{}
	o.feed([]byte("GET / HTTP/1.1\r\nX-Big: " + strings.Repeat("a", maxOrderLine) + "\r\n\r\n"))
	assert.Equal(t, stStop, o.st)
	assert.Nil(t, o.Next(http.Header{"X-Big": {"a"}}))
}

// FuzzHeaderOrder: any byte stream, in any split, never panics, and Next
// returns names only when they are exactly the request's.
func FuzzHeaderOrder(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n"), uint8(3))
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n"), uint8(1))
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\nabc"), uint8(5))
	f.Add([]byte("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"), uint8(7))
	f.Fuzz(func(t *testing.T, stream []byte, step uint8) {
		o := &HeaderOrder{}
		n := int(step%32) + 1
		for i := 0; i < len(stream); i += n {
			o.feed(stream[i:min(i+n, len(stream))])
		}
		br := bufio.NewReader(bytes.NewReader(stream))
		for range 8 {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			if names := o.Next(req.Header); names != nil && !sameNames(names, req.Header) {
				t.Fatalf("names %q for header %v", names, req.Header)
			}
			if _, err := io.Copy(io.Discard, req.Body); err != nil {
				return
			}
		}
	})
}

// TestHeaderOrderClassifies: each request's raw head, line ends as sent, is
// classified for desync mitigation, in pieces of every size; an obs-fold
// line and a Content-Length that net/http drops for a chunked request do
// not make the recorder lose step, and a request it did not follow has no
// classification.
func TestHeaderOrderClassifies(t *testing.T) {
	const stream = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n" +
		"GET /lf HTTP/1.1\nHost: x\n\n" +
		"POST /clte HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
		"GET /fold HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n" +
		"GET /v12 HTTP/1.2\r\nHost: x\r\n\r\n"
	want := []struct {
		class  desync.Class
		reason desync.Reason
	}{
		{desync.Compliant, desync.ReasonCompliant},
		{desync.Acceptable, desync.NonCrLfLineTermination},
		{desync.Ambiguous, desync.BothTeClPresent},
		{desync.Ambiguous, desync.MultilineHeader},
		{desync.Acceptable, desync.NonCompliantVersion},
	}
	for _, step := range []int{1, 3, 16, len(stream)} {
		o := &HeaderOrder{}
		for i := 0; i < len(stream); i += step {
			o.feed([]byte(stream[i:min(i+step, len(stream))]))
		}
		br := bufio.NewReader(strings.NewReader(stream))
		for i, w := range want {
			req, err := http.ReadRequest(br)
			require.NoError(t, err)
			_, err = io.Copy(io.Discard, req.Body)
			require.NoError(t, err)
			require.NotNil(t, o.Next(req.Header), "step %d, request %d (%s): lost step", step, i, req.URL)
			c, r, ok := o.Classification()
			require.True(t, ok)
			assert.Equal(t, w.class, c, "step %d, %s", step, req.URL)
			assert.Equal(t, w.reason, r, "step %d, %s", step, req.URL)
		}
		assert.Nil(t, o.Next(http.Header{}), "no more requests")
		_, _, ok := o.Classification()
		assert.False(t, ok, "a request the recorder did not see is not classified")
	}
}

// TestHeaderOrderPushed: heads pushed by an HTTP server that parsed them
// get the same classification as heads followed in the bytes, and Next
// returns the pushed names as they are, one block per request.
func TestHeaderOrderPushed(t *testing.T) {
	heads := []struct {
		head   string
		names  []string
		class  desync.Class
		reason desync.Reason
	}{
		{"GET /a HTTP/1.1\r\nHost: x\r\nX-Zeta: 1\r\nX-Zeta: 2\r\n\r\n", []string{"Host", "X-Zeta", "X-Zeta"}, desync.Compliant, desync.ReasonCompliant},
		{"GET /lf HTTP/1.1\nHost: x\n\n", []string{"Host"}, desync.Acceptable, desync.NonCrLfLineTermination},
		{"POST /clte HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\nTransfer-Encoding: chunked\r\n\r\n",
			[]string{"Host", "Content-Length", "Transfer-Encoding"}, desync.Ambiguous, desync.BothTeClPresent},
		{"GET /fold HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n", []string{"Host", "X-A"}, desync.Ambiguous, desync.MultilineHeader},
	}
	o := &HeaderOrder{}
	for _, h := range heads {
		o.Push(h.names, []byte(h.head))
		assert.Equal(t, h.names, o.Next(http.Header{"Unrelated": {"1"}}), "%q: pushed names, not checked against the header", h.head)
		c, r, ok := o.Classification()
		require.True(t, ok)
		assert.Equal(t, h.class, c, h.head)
		assert.Equal(t, h.reason, r, h.head)
	}
	assert.Nil(t, o.Next(http.Header{}), "nothing pushed for this request")
	_, _, ok := o.Classification()
	assert.False(t, ok)
}

// TestHeaderOrderQueueDoesNotAllocate: a head in and out per request, as
// on a kept-alive connection, reuses the queue's array.
func TestHeaderOrderQueueDoesNotAllocate(t *testing.T) {
	o := &HeaderOrder{}
	names := []string{"Host"}
	head := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	o.Push(names, head)
	o.Next(nil)
	allocs := testing.AllocsPerRun(100, func() {
		o.Push(names, head)
		o.Next(nil)
	})
	assert.Zero(t, allocs)
}
