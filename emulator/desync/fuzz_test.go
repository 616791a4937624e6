package desync_test

import (
	"testing"

	"github.com/albmtls/albmtls/emulator/desync"
)

// FuzzClassify: any byte string classifies without a panic, to a valid
// class and reason, and a reason is given exactly when the request is not
// Compliant.
func FuzzClassify(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"))
	f.Add([]byte("GET /\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, r := desync.Classify(raw)
		if c > desync.Severe || r.String() == "Reason(?)" {
			t.Fatalf("%q: %d %d", raw, c, r)
		}
		if (c == desync.Compliant) != (r == desync.ReasonCompliant) {
			t.Fatalf("%q: class %s with reason %s", raw, c, r)
		}
	})
}
