package emulator_test

import (
	"bytes"
	"testing"
)

// A client that sends a request and half-closes its side (printf ... | nc
// -N does) is a client gone away: 460, nothing sent, as the forward path
// documents. It used to receive "200 OK" with an empty body that the target
// never sent: the proxy stopped on the cancelled context, wrote nothing, and
// net/http answered 200 for the handler. Found by FuzzFrontEnd.
func TestHalfClosedClientGetsNoFabricatedResponse(t *testing.T) {
	addr := fuzzFrontEnd(t)
	for i := 0; i < 20; i++ {
		out := exchange(t, addr, []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), true)
		if len(out) == 0 {
			continue // 460: closed without an answer
		}
		// Or the target answered before the emulator saw the close.
		if !bytes.HasPrefix(out, []byte("HTTP/1.1 200 OK\r\n")) || !bytes.HasSuffix(out, []byte("\r\n\r\nok")) {
			t.Fatalf("exchange %d: the client got an answer the target did not send:\n%q", i, out)
		}
	}
}
