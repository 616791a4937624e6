// Package alb is the one home of the facts ALB publishes as numbers and
// fixed strings: its quotas (alb-behaviour §1.2), the client-certificate key
// rule (§1.3), the TLS message cap (§S7), the header limits and the
// verify-status format of the connection log (§6.2). Every package that
// enforces or predicts one of them imports it from here, so a quota that
// AWS changes is changed once. The verification codes themselves are
// verify.Code; this package holds only how a failure is prefixed in a log.
//
// It imports nothing of albmtls, so that any package, the pki oracle
// included, can use it without a cycle.
package alb

// TLS handshake limits.
const (
	// MaxCertificateMessage is the largest Certificate handshake message
	// body, in bytes, that a client may send: ALB's "TLS message size: 64 K"
	// quota, which is s2n's 64 KiB cap on every handshake message (65,536
	// accepted, 65,537 refused). Over it ALB logs ClientCertMaxSizeExceeded
	// (alb-behaviour §1.2, §S7).
	MaxCertificateMessage = 64 << 10

	// MaxChainDepth is ALB's "certificate chain depth: 4" quota, counted as
	// s2n counts: every certificate the client sends, leaf included
	// (alb-behaviour §1.2, §1.3, §S1.6, §10.10).
	MaxChainDepth = 4
)

// Trust store quotas (alb-behaviour §1.2 "Quotas"). The adjustable ones are
// defaults (truststore.Limits raises them); the others are fixed. ALB states
// no units: KB and MB are read as KiB and MiB, the lenient reading [INF].
const (
	// DefaultMaxCACertificates is "CA certificates per trust store: 25"
	// (adjustable quota L-43FE5A42).
	DefaultMaxCACertificates = 25

	// DefaultMaxRevocationEntries is "Revocation entries per trust store:
	// 500,000" (adjustable quota L-37E1617B).
	DefaultMaxRevocationEntries = 500_000

	// DefaultMaxRevocationLists is "Revocation lists per trust store: 30"
	// (adjustable quota L-332EE142).
	DefaultMaxRevocationLists = 30

	// MaxCACertificateSize is "CA certificate size: 16 KB", applied to the
	// DER encoding (not adjustable).
	MaxCACertificateSize = 16 << 10

	// MaxRevocationFileSize is "Revocation list file size: 50 MB", applied
	// to the file as uploaded (not adjustable).
	MaxRevocationFileSize = 50 << 20

	// MaxCASubjectSize is "CA certificates subject size per trust store:
	// 10,000", applied to the DER subjects; it matters only when CA names
	// are advertised [INF on the unit].
	MaxCASubjectSize = 10_000

	// DefaultMaxTrustStores is "trust stores per account, per region: 20"
	// (adjustable quota L-A8F7060B); the ELBv2 API refuses one more with
	// TooManyTrustStores.
	DefaultMaxTrustStores = 20

	// MaxVerifyListeners is "listeners using mTLS verify, per load
	// balancer: 2" (not adjustable, alb-behaviour §1.1, §1.2).
	MaxVerifyListeners = 2
)

// HTTP request limits. Over any of the first three ALB answers its 400 page
// (alb-behaviour §1.2 "Quotas", §8.1; "K" read as KiB [INF]).
const (
	// MaxRequestLine is "HTTP request line: 16 K", the bytes of
	// "METHOD SP request-target SP HTTP/x.y".
	MaxRequestLine = 16 << 10
	// MaxHeaderLine is "single header: 16 K", one "Name: value" line.
	MaxHeaderLine = 16 << 10
	// MaxRequestHeaders is "request headers: 64 K", every header line with
	// its CRLF.
	MaxRequestHeaders = 64 << 10

	// TraceRewriteHeaderSize is the size of request headers beyond which
	// ALB replaces X-Amzn-Trace-Id with a fresh Root ("greater than 7 KB",
	// alb-behaviour §4.4; counted as name, ": ", value and CRLF of each
	// line, an inference).
	TraceRewriteHeaderSize = 7 << 10
)

// Fixed strings ALB writes.
const (
	// ServerHeader is the Server header of every response ALB generates
	// (error pages, redirects, fixed responses) and of target responses
	// unless routing.http.response.server.enabled is false
	// (alb-behaviour §4.3, §8.1).
	ServerHeader = "awselb/2.0"

	// VerifySuccess is the connection log's tls_verify_status of a
	// verified (or passthrough, or off-mode TLS) connection
	// (alb-behaviour §6.2 field 11).
	VerifySuccess = "Success"

	// VerifyFailedPrefix precedes the ALB code in tls_verify_status of a
	// failed verification, "Failed:ClientCertUntrusted"
	// (alb-behaviour §3, §6.2 field 11).
	VerifyFailedPrefix = "Failed:"
)
