package albheader

import (
	"strings"
	"testing"
	"time"
)

// FuzzTraceValue feeds client-controlled X-Amzn-Trace-Id values to the
// rewriter: it must not panic, must keep exactly one fresh id, and must not
// add bytes the client did not send except the field it inserts.
func FuzzTraceValue(f *testing.F) {
	f.Add("Root=1-67891233-abcdef012345678912345678;CalledFrom=app")
	f.Add("Self=1-00000001-000000000000000000000000;Root=x")
	f.Add(";;= ;Self;Root")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := traceValue([]string{in}, false, time.Unix(0x67891234, 0), fixedRand(traceRand))
		if err != nil {
			t.Fatal(err)
		}
		const id = "1-67891234-12456789abcdef0123456789"
		if !strings.Contains(got, id) {
			t.Fatalf("traceValue(%q) = %q lacks the new id", in, got)
		}
		if strings.ContainsAny(got, "\r\n") && !strings.ContainsAny(in, "\r\n") {
			t.Fatalf("traceValue(%q) = %q added a line break", in, got)
		}
		if len(got) > len(in)+len("Self=;")+len(id) && strings.Count(got, id) == 1 {
			t.Fatalf("traceValue(%q) = %q grew more than one field", in, got)
		}
	})
}
