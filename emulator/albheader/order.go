package albheader

// Order is emulation.forwarded_header_order: the order of the header lines
// of a forwarded request (alb-behaviour §4.1).
//
//	alb     ALB's order (the default): X-Forwarded-For, -Proto, -Port, the
//	        mTLS headers (verify's five, or passthrough's X-Amzn-Mtls-Clientcert),
//	        the TLS headers, Host, X-Amzn-Trace-Id, then the client's headers
//	sorted  Go's order, as albmtls wrote before: Host, User-Agent, then
//	        every header sorted by name
//
// Observed (EID capture, verify mode): X-Forwarded-*, the five mTLS headers,
// Host, the client's headers in its order. Inferred: passthrough's header
// in the mTLS place; the TLS headers right after the mTLS headers (no
// capture shows both); X-Amzn-Trace-Id right after Host (the EID capture
// shows none). "sorted" is the way back when a test depends on the old
// order.
type Order string

// The values of emulation.forwarded_header_order.
const (
	OrderALB    Order = "alb"
	OrderSorted Order = "sorted"
)

// afterHost are the headers written right after Host in ALB's order.
var afterHost = []string{TraceID}

// Order returns the header names to write before and after Host, in
// ALB's order, for the requests of this connection; ok is false with
// emulation.forwarded_header_order: sorted. The slices are shared: do not
// modify them.
func (ch *ConnHeaders) Order() (before, after []string, ok bool) {
	if ch.order == OrderSorted {
		return nil, nil, false
	}
	return ch.before, afterHost, true
}
