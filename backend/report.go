package backend

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/albmtls/albmtls/emulator/certfmt"
)

// Mode says which mTLS headers a request carried, i.e. what kind of
// listener forwarded it.
type Mode string

const (
	// ModeVerify: the five X-Amzn-Mtls-Clientcert-* detail headers; the
	// ALB verified the certificate (alb-behaviour §2.3).
	ModeVerify Mode = "verify"
	// ModePassthrough: X-Amzn-Mtls-Clientcert with the whole chain,
	// verified by nobody but this backend (alb-behaviour §2.2).
	ModePassthrough Mode = "passthrough"
	// ModeNone: no mTLS header (mode off, passthrough without a client
	// certificate, or no ALB at all).
	ModeNone Mode = "none"
)

// Report is what the backend makes of one request; the page and the JSON
// answer show it.
type Report struct {
	Instance string `json:"instance"`
	Status   int    `json:"status"`
	// Error says why the status is 400 or 403.
	Error   string      `json:"error,omitempty"`
	Request RequestInfo `json:"request"`
	Mode    Mode        `json:"mode"`
	// Headers are the X-Amzn-* and X-Forwarded-* headers, sorted by name.
	Headers []Header `json:"headers"`
	// Certificate is the client's leaf certificate, decoded.
	Certificate *Certificate `json:"client_certificate,omitempty"`
	// Chain is every certificate of X-Amzn-Mtls-Clientcert after the leaf
	// (passthrough mode).
	Chain []Certificate `json:"chain,omitempty"`
	// Authentication says who verified the certificate and how it went.
	Authentication *Check `json:"authentication,omitempty"`
	// Authorization is the O/OU check, when the backend requires a base DN.
	Authorization *Check `json:"authorization,omitempty"`
}

// RequestInfo is the request line as the target saw it.
type RequestInfo struct {
	Method string `json:"method"`
	Host   string `json:"host"`
	URI    string `json:"uri"`
	Remote string `json:"remote_addr"`
}

// Header is one header line.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Check is the result of one check.
type Check struct {
	// By is who made it: "load balancer", "backend" or "nobody".
	By     string `json:"by"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Certificate is a decoded certificate. Subject and Issuer are RFC 2253
// strings as ALB's headers print them (OpenSSL's format, see
// docs/headers.md).
type Certificate struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	Serial    string    `json:"serial"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	SANs      []string  `json:"sans,omitempty"`
	PublicKey string    `json:"public_key"`
	// SHA256 is the fingerprint of the DER, as `openssl x509 -fingerprint
	// -sha256` prints it.
	SHA256 string `json:"sha256_fingerprint"`
}

// Inspect reads a request's mTLS headers and runs the checks; it is what
// ServeHTTP renders.
func (b *Backend) Inspect(r *http.Request) *Report {
	rep := &Report{
		Instance: b.cfg.Name,
		Status:   http.StatusOK,
		Request:  RequestInfo{Method: r.Method, Host: r.Host, URI: r.URL.RequestURI(), Remote: r.RemoteAddr},
		Headers:  albHeaders(r.Header, b.names),
		Mode:     ModeNone,
	}
	fail := func(status int, format string, args ...any) *Report {
		rep.Status = status
		rep.Error = fmt.Sprintf(format, args...)
		return rep
	}
	n := b.names
	chainHeader := r.Header.Values(n.ClientCert)
	var detail []string
	for _, name := range n.verify() {
		if r.Header.Get(name) != "" {
			detail = append(detail, name)
		}
	}
	var leaf *x509.Certificate
	switch {
	case len(chainHeader) > 0 && len(detail) > 0:
		return fail(http.StatusBadRequest, "both %s (passthrough mode) and %s (verify mode) are present: an ALB listener sends one or the other", n.ClientCert, strings.Join(detail, ", "))
	case len(chainHeader) > 1:
		return fail(http.StatusBadRequest, "%s appears %d times: an ALB sends it once", n.ClientCert, len(chainHeader))
	case len(chainHeader) == 1:
		rep.Mode = ModePassthrough
		chain, err := DecodeCertificates(chainHeader[0])
		if err != nil {
			return fail(http.StatusBadRequest, "%s: %v", n.ClientCert, err)
		}
		leaf = chain[0]
		rep.Certificate = describe(leaf)
		for _, c := range chain[1:] {
			rep.Chain = append(rep.Chain, *describe(c))
		}
		if b.cfg.Trust == nil {
			rep.Authentication = &Check{By: "nobody", Detail: "not verified: in passthrough mode the load balancer checks nothing; start the backend with --ca BUNDLE (and --crl FILE) to verify the chain"}
			break
		}
		if err := b.cfg.Trust.Verify(chain, b.cfg.Now()); err != nil {
			rep.Authentication = &Check{By: "backend", Detail: err.Error()}
			return fail(http.StatusForbidden, "client certificate rejected: %v", err)
		}
		rep.Authentication = &Check{By: "backend", OK: true, Detail: "the chain verifies against the CA bundle (and CRLs) given to the backend"}
	case len(detail) > 0:
		rep.Mode = ModeVerify
		var err error
		if leaf, err = readVerifyHeaders(r.Header, n); err != nil {
			return fail(http.StatusBadRequest, "%v", err)
		}
		rep.Certificate = describe(leaf)
		rep.Authentication = &Check{By: "load balancer", OK: true, Detail: "verified by the ALB against its trust store; trust these headers only if nothing but the ALB can reach this target"}
	}
	if (b.cfg.RequireO == "" && b.cfg.RequireOU == "") || !strings.HasPrefix(r.URL.Path, b.cfg.RequirePathPrefix) {
		return rep
	}
	rep.Authorization = &Check{By: "backend"}
	switch {
	case leaf == nil:
		rep.Authorization.Detail = "no client certificate was forwarded"
	case rep.Authentication == nil || !rep.Authentication.OK:
		rep.Authorization.Detail = "the certificate was not verified, so its subject proves nothing"
	default:
		rep.Authorization.Detail = b.authorize(leaf)
	}
	if rep.Authorization.Detail != "" {
		return fail(http.StatusForbidden, "not authorized: %s", rep.Authorization.Detail)
	}
	rep.Authorization.OK = true
	rep.Authorization.Detail = "the subject carries the organisation's base DN (" + b.baseDN() + ")"
	return rep
}

func (b *Backend) baseDN() string {
	var parts []string
	if b.cfg.RequireO != "" {
		parts = append(parts, "O="+b.cfg.RequireO)
	}
	if b.cfg.RequireOU != "" {
		parts = append(parts, "OU="+b.cfg.RequireOU)
	}
	return strings.Join(parts, ", ")
}

// verify lists the headers of a verify-mode listener (alb-behaviour §4.1),
// under their names after any rename (alb-behaviour §4.3).
func (n names) verify() []string {
	return []string{n.ClientCertSerialNumber, n.ClientCertIssuer, n.ClientCertSubject, n.ClientCertValidity, n.ClientCertLeaf}
}

// readVerifyHeaders decodes the leaf from X-Amzn-Mtls-Clientcert-Leaf and
// checks that the serial and validity headers describe it: a mismatch
// means a header was altered on the way, so the request is refused rather
// than trusted.
func readVerifyHeaders(h http.Header, n names) (*x509.Certificate, error) {
	for _, name := range n.verify() {
		if len(h.Values(name)) == 0 {
			return nil, fmt.Errorf("%s is missing: a verify-mode ALB sends all five (%s)", name, strings.Join(n.verify(), ", "))
		}
		if n := len(h.Values(name)); n > 1 {
			return nil, fmt.Errorf("%s appears %d times: an ALB sends it once", name, n)
		}
	}
	certs, err := DecodeCertificates(h.Get(n.ClientCertLeaf))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", n.ClientCertLeaf, err)
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("%s holds %d certificates: it carries the leaf alone", n.ClientCertLeaf, len(certs))
	}
	leaf := certs[0]
	serial, ok := new(big.Int).SetString(h.Get(n.ClientCertSerialNumber), 16)
	if !ok {
		return nil, fmt.Errorf("%s: %q is not a hexadecimal serial number", n.ClientCertSerialNumber, h.Get(n.ClientCertSerialNumber))
	}
	if serial.Cmp(leaf.SerialNumber) != 0 {
		return nil, fmt.Errorf("%s is %s but the leaf certificate's serial is %s", n.ClientCertSerialNumber, h.Get(n.ClientCertSerialNumber), certfmt.Serial(leaf))
	}
	notBefore, notAfter, err := parseValidity(h.Get(n.ClientCertValidity))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", n.ClientCertValidity, err)
	}
	if !notBefore.Equal(leaf.NotBefore.Truncate(time.Second)) || !notAfter.Equal(leaf.NotAfter.Truncate(time.Second)) {
		return nil, fmt.Errorf("%s (%s) does not match the leaf certificate (%s)", n.ClientCertValidity, h.Get(n.ClientCertValidity), certfmt.Validity(leaf))
	}
	return leaf, nil
}

// parseValidity reads "NotBefore=2023-09-21T01:50:17Z;NotAfter=2024-09-20T01:50:17Z".
func parseValidity(v string) (time.Time, time.Time, error) {
	nb, na, ok := strings.Cut(v, ";")
	nb, ok1 := strings.CutPrefix(nb, "NotBefore=")
	na, ok2 := strings.CutPrefix(na, "NotAfter=")
	if !ok || !ok1 || !ok2 {
		return time.Time{}, time.Time{}, fmt.Errorf("%q is not NotBefore=<time>;NotAfter=<time>", v)
	}
	notBefore, err := time.Parse(time.RFC3339, nb)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("NotBefore %q is not an ISO 8601 time such as 2024-09-20T01:50:17Z", nb)
	}
	notAfter, err := time.Parse(time.RFC3339, na)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("NotAfter %q is not an ISO 8601 time such as 2024-09-20T01:50:17Z", na)
	}
	return notBefore, notAfter, nil
}

// albHeaders returns the X-Amzn-* and X-Forwarded-* headers, and the
// renamed mTLS headers, sorted.
func albHeaders(h http.Header, n names) []Header {
	out := []Header{}
	renamed := append(n.verify(), n.ClientCert)
	for name, values := range h {
		if !strings.HasPrefix(name, "X-Amzn-") && !strings.HasPrefix(name, "X-Forwarded-") &&
			!slices.ContainsFunc(renamed, func(r string) bool { return http.CanonicalHeaderKey(r) == name }) {
			continue
		}
		for _, v := range values {
			out = append(out, Header{Name: name, Value: v})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// describe decodes the facts the page shows.
func describe(c *x509.Certificate) *Certificate {
	subject, err := certfmt.DN(c.RawSubject)
	if err != nil {
		subject = c.Subject.String()
	}
	issuer, err := certfmt.DN(c.RawIssuer)
	if err != nil {
		issuer = c.Issuer.String()
	}
	out := &Certificate{
		Subject:   subject,
		Issuer:    issuer,
		Serial:    certfmt.Serial(c),
		NotBefore: c.NotBefore.UTC(),
		NotAfter:  c.NotAfter.UTC(),
		PublicKey: keyDescription(c.PublicKey),
		SHA256:    fingerprint(c.Raw),
	}
	for _, d := range c.DNSNames {
		out.SANs = append(out.SANs, "DNS:"+d)
	}
	for _, ip := range c.IPAddresses {
		out.SANs = append(out.SANs, "IP:"+ip.String())
	}
	for _, e := range c.EmailAddresses {
		out.SANs = append(out.SANs, "email:"+e)
	}
	for _, u := range c.URIs {
		out.SANs = append(out.SANs, "URI:"+u.String())
	}
	return out
}

func keyDescription(pub any) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}

func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	var b strings.Builder
	for i, x := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", x)
	}
	return b.String()
}
