package desync_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/albmtls/albmtls/emulator/desync"
)

// TestClassifyRaw: the request-smuggling shapes on the wire, classified
// from their raw bytes.
func TestClassifyRaw(t *testing.T) {
	for _, c := range []struct {
		name   string
		raw    string
		class  desync.Class
		reason desync.Reason
	}{
		{"plain GET", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", desync.Compliant, desync.ReasonCompliant},
		{"POST with a body length", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", desync.Compliant, desync.ReasonCompliant},
		{"chunked POST", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", desync.Compliant, desync.ReasonCompliant},
		{"CL and TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", desync.Ambiguous, desync.BothTeClPresent},
		{"TE and CL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n", desync.Ambiguous, desync.BothTeClPresent},
		{"duplicate Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\n", desync.Ambiguous, desync.DuplicateContentLength},
		{"differing Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\n", desync.Severe, desync.MultipleContentLength},
		{"Content-Length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4, 4\r\n\r\n", desync.Severe, desync.BadContentLength},
		{"signed Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +4\r\n\r\n", desync.Severe, desync.BadContentLength},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", desync.Ambiguous, desync.MultilineHeader},
		{"obs-fold hiding TE", "POST / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n Transfer-Encoding: chunked\r\n\r\n", desync.Ambiguous, desync.MultilineHeader},
		{"bare LF", "GET / HTTP/1.1\nHost: a\n\n", desync.Acceptable, desync.NonCrLfLineTermination},
		{"TE chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", desync.Severe, desync.MultipleTransferEncodingChunked},
		{"unknown TE", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", desync.Severe, desync.BadTransferEncoding},
		{"TE with a space before the colon", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", desync.Ambiguous, desync.SuspiciousHeader},
		{"Content_Length", "POST / HTTP/1.1\r\nHost: a\r\nContent_Length: 4\r\n\r\n", desync.Ambiguous, desync.SuspiciousHeader},
		{"GET with a body length", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n", desync.Ambiguous, desync.UndefinedContentLengthSemantics},
		{"GET with Content-Length 0", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", desync.Acceptable, desync.GetHeadZeroContentLength},
		{"HTTP/1.0 chunked", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", desync.Ambiguous, desync.UndefinedTransferEncodingSemantics},
		{"HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", desync.Acceptable, desync.NonCompliantVersion},
		{"bad version", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", desync.Severe, desync.BadVersion},
		{"NUL in a header value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n", desync.Severe, desync.BadHeader},
		{"control character in the URI", "GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n", desync.Ambiguous, desync.AmbiguousURI},
		{"bad method", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", desync.Severe, desync.BadMethod},
		{"missing colon", "GET / HTTP/1.1\r\nHost: a\r\nX-A\r\n\r\n", desync.Ambiguous, desync.MissingHeaderColon},
		{"missing empty line", "GET / HTTP/1.1\r\nHost: a\r\n", desync.Ambiguous, desync.MissingLastEmptyLine},
		{"unterminated header line", "GET / HTTP/1.1\r\nHost: a", desync.Ambiguous, desync.PartialHeaderLine},
		{"obs-text in a value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: caf\xc3\xa9\r\n\r\n", desync.Compliant, desync.ReasonCompliant},
		{"HTTP/2 is out of scope", "PRI * HTTP/2.0\r\n\r\n", desync.Compliant, desync.ReasonCompliant},
	} {
		t.Run(c.name, func(t *testing.T) {
			class, reason := desync.Classify([]byte(c.raw))
			assert.Equal(t, c.class, class, "reason %s", reason)
			assert.Equal(t, c.reason, reason)
		})
	}
}

func TestDecide(t *testing.T) {
	want := map[desync.Mode][4]desync.Action{
		desync.Monitor:   {desync.Allow, desync.Allow, desync.Allow, desync.Allow},
		desync.Defensive: {desync.Allow, desync.Allow, desync.AllowThenClose, desync.Block},
		desync.Strictest: {desync.Allow, desync.Block, desync.Block, desync.Block},
	}
	for m, row := range want {
		for c, a := range row {
			assert.Equal(t, a, desync.Decide(m, desync.Class(c)), "%s %s", m, desync.Class(c))
		}
	}
	m, err := desync.ParseMode("")
	assert.NoError(t, err)
	assert.Equal(t, desync.Defensive, m)
	_, err = desync.ParseMode("strict")
	assert.ErrorContains(t, err, "monitor, defensive or strictest")
	c, r := desync.LogFields(desync.Compliant, desync.ReasonCompliant)
	assert.Equal(t, [2]string{"", ""}, [2]string{c, r})
	c, r = desync.LogFields(desync.Ambiguous, desync.BothTeClPresent)
	assert.Equal(t, [2]string{"Ambiguous", "BothTeClPresent"}, [2]string{c, r})
}

// BenchmarkClassify: a browser-like request head.
func BenchmarkClassify(b *testing.B) {
	raw := []byte("GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n" +
		"Accept: text/html,application/xhtml+xml\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n" +
		"Connection: keep-alive\r\nCookie: a=b; c=d\r\n\r\n")
	b.ReportAllocs()
	for b.Loop() {
		if c, _ := desync.Classify(raw); c != desync.Compliant {
			b.Fatal(c)
		}
	}
}
