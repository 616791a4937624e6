// Package albheader sets the request headers an ALB HTTPS listener adds
// before forwarding to a target (alb-behaviour §4): the mTLS headers of verify and
// passthrough mode, the TLS version and cipher headers, X-Forwarded-For,
// -Proto and -Port and X-Amzn-Trace-Id. It removes client-sent copies of the
// mTLS and TLS headers first, so a client cannot claim an identity, and it
// reads the listener attributes that rename headers or change their
// processing. The response side (Server, HSTS, CORS and the other inserted
// response headers) is in response.go.
package albheader

import "slices"

// Default names of the headers ALB adds (alb-behaviour §4.1, §4.2, §4.4). Go sends
// them in its canonical casing; the casing real ALBs use on HTTP/1.1 is
// [UNK] (alb-behaviour §10.6).
const (
	ClientCert             = "X-Amzn-Mtls-Clientcert"
	ClientCertSerialNumber = "X-Amzn-Mtls-Clientcert-Serial-Number"
	ClientCertIssuer       = "X-Amzn-Mtls-Clientcert-Issuer"
	ClientCertSubject      = "X-Amzn-Mtls-Clientcert-Subject"
	ClientCertValidity     = "X-Amzn-Mtls-Clientcert-Validity"
	ClientCertLeaf         = "X-Amzn-Mtls-Clientcert-Leaf"
	TLSVersion             = "X-Amzn-Tls-Version"
	TLSCipherSuite         = "X-Amzn-Tls-Cipher-Suite"

	XForwardedFor   = "X-Forwarded-For"
	XForwardedProto = "X-Forwarded-Proto"
	XForwardedPort  = "X-Forwarded-Port"
	TraceID         = "X-Amzn-Trace-Id"
)

// Listener attribute keys that rename the mTLS and TLS headers (alb-behaviour §4.3).
const (
	AttrClientCertName             = "routing.http.request.x_amzn_mtls_clientcert.header_name"
	AttrClientCertSerialNumberName = "routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name"
	AttrClientCertIssuerName       = "routing.http.request.x_amzn_mtls_clientcert_issuer.header_name"
	AttrClientCertSubjectName      = "routing.http.request.x_amzn_mtls_clientcert_subject.header_name"
	AttrClientCertValidityName     = "routing.http.request.x_amzn_mtls_clientcert_validity.header_name"
	AttrClientCertLeafName         = "routing.http.request.x_amzn_mtls_clientcert_leaf.header_name"
	AttrTLSVersionName             = "routing.http.request.x_amzn_tls_version.header_name"
	AttrTLSCipherSuiteName         = "routing.http.request.x_amzn_tls_cipher_suite.header_name"
)

// Attribute keys that switch the TLS headers on, control X-Forwarded-For
// (alb-behaviour §4.2, §4.4) and drop invalid header fields. On AWS these four are
// load balancer attributes (config's load_balancer.attributes); the
// emulator reads them from the same map as the listener's.
const (
	AttrTLSVersionAndCipherSuite = "routing.http.x_amzn_tls_version_and_cipher_suite.enabled"
	AttrXFFHeaderProcessingMode  = "routing.http.xff_header_processing.mode"
	AttrXFFClientPort            = "routing.http.xff_client_port.enabled"
	// AttrDropInvalidHeaderFields removes header fields whose names are not
	// [-A-Za-z0-9]+ (a load balancer attribute; default false).
	AttrDropInvalidHeaderFields = "routing.http.drop_invalid_header_fields.enabled"
)

// Names holds the header names in use on a listener: the defaults unless a
// rename attribute changed them.
type Names struct {
	ClientCert             string
	ClientCertSerialNumber string
	ClientCertIssuer       string
	ClientCertSubject      string
	ClientCertValidity     string
	ClientCertLeaf         string
	TLSVersion             string
	TLSCipherSuite         string
}

// DefaultNames returns ALB's documented header names.
func DefaultNames() Names {
	return Names{
		ClientCert:             ClientCert,
		ClientCertSerialNumber: ClientCertSerialNumber,
		ClientCertIssuer:       ClientCertIssuer,
		ClientCertSubject:      ClientCertSubject,
		ClientCertValidity:     ClientCertValidity,
		ClientCertLeaf:         ClientCertLeaf,
		TLSVersion:             TLSVersion,
		TLSCipherSuite:         TLSCipherSuite,
	}
}

// renames ties each rename attribute to its field of Names, in the order
// errors and Keys list them.
var renames = []struct {
	key   string
	field func(*Names) *string
}{
	{AttrClientCertSerialNumberName, func(n *Names) *string { return &n.ClientCertSerialNumber }},
	{AttrClientCertIssuerName, func(n *Names) *string { return &n.ClientCertIssuer }},
	{AttrClientCertSubjectName, func(n *Names) *string { return &n.ClientCertSubject }},
	{AttrClientCertValidityName, func(n *Names) *string { return &n.ClientCertValidity }},
	{AttrClientCertLeafName, func(n *Names) *string { return &n.ClientCertLeaf }},
	{AttrClientCertName, func(n *Names) *string { return &n.ClientCert }},
	{AttrTLSVersionName, func(n *Names) *string { return &n.TLSVersion }},
	{AttrTLSCipherSuiteName, func(n *Names) *string { return &n.TLSCipherSuite }},
}

// list returns the eight names in the order of renames.
func (n Names) list() []string {
	out := make([]string, len(renames))
	for i, r := range renames {
		out[i] = *r.field(&n)
	}
	return out
}

// withDefaults fills empty names with the default: an empty value means the
// default on ALB too (alb-behaviour §4.3).
func (n Names) withDefaults() Names {
	d := DefaultNames()
	for _, r := range renames {
		if p := r.field(&n); *p == "" {
			*p = *r.field(&d)
		}
	}
	return n
}

// Keys lists the request-side attribute keys this package reads, so that a
// configuration loader can tell unknown keys apart.
func Keys() []string {
	keys := make([]string, 0, len(renames)+4)
	for _, r := range renames {
		keys = append(keys, r.key)
	}
	return append(keys, AttrTLSVersionAndCipherSuite, AttrXFFHeaderProcessingMode, AttrXFFClientPort, AttrDropInvalidHeaderFields)
}

// IsKey reports whether key is one of Keys or ResponseKeys.
func IsKey(key string) bool {
	return slices.Contains(Keys(), key) || slices.Contains(ResponseKeys(), key)
}
