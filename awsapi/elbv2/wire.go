package elbv2

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Namespace is the XML namespace of every ELBv2 response.
const Namespace = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"

// APIVersion is the one Version the Query protocol accepts.
const APIVersion = "2015-12-01"

// apiError is an ELBv2 error: the code the SDKs decode (the exception's
// name without "Exception", as types/errors.go of the Go SDK lists them),
// its message and the HTTP status (400 for every code albmtls returns, as
// the API model's httpError traits say).
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errf(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

// The error codes albmtls returns (ELBv2 API reference, "Errors" of each
// action; the Go SDK's types/errors.go).
const (
	codeValidation                   = "ValidationError"
	codeInvalidAction                = "InvalidAction"
	codeLoadBalancerNotFound         = "LoadBalancerNotFound"
	codeDuplicateLoadBalancerName    = "DuplicateLoadBalancerName"
	codeTargetGroupNotFound          = "TargetGroupNotFound"
	codeDuplicateTargetGroupName     = "DuplicateTargetGroupName"
	codeListenerNotFound             = "ListenerNotFound"
	codeDuplicateListener            = "DuplicateListener"
	codeCertificateNotFound          = "CertificateNotFound"
	codeTrustStoreNotFound           = "TrustStoreNotFound"
	codeDuplicateTrustStoreName      = "DuplicateTrustStoreName"
	codeTooManyTrustStores           = "TooManyTrustStores"
	codeTrustStoreInUse              = "TrustStoreInUse"
	codeInvalidCaCertificatesBundle  = "InvalidCaCertificatesBundle"
	codeCaCertificatesBundleNotFound = "CaCertificatesBundleNotFound"
	codeInvalidRevocationContent     = "InvalidRevocationContent"
	codeRevocationContentNotFound    = "RevocationContentNotFound"
	codeTooManyRevocationEntries     = "TooManyTrustStoreRevocationEntries"
	codeRevocationIDNotFound         = "RevocationIdNotFound"
	codeResourceInUse                = "ResourceInUse"
	codeSSLPolicyNotFound            = "SSLPolicyNotFound"
	codeUnsupportedProtocol          = "UnsupportedProtocol"
	codeInvalidConfigurationRequest  = "InvalidConfigurationRequest"
	codeInvalidLoadBalancerAction    = "InvalidLoadBalancerAction"
	codeInvalidTarget                = "InvalidTarget"
	codeTooManyCertificates          = "TooManyCertificates"
	codeTooManyActions               = "TooManyActions"
	codeDuplicateTagKeys             = "DuplicateTagKeys"
	codeTooManyTags                  = "TooManyTags"
	codeInternalFailure              = "InternalFailure"
)

// WriteError writes an ELBv2 Query-protocol error:
// <ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>.
// A status of 500 or more is written with Type Receiver.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	writeError(w, newRequestID(), &apiError{status: status, code: code, message: message})
}

type xmlError struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

func writeError(w http.ResponseWriter, reqID string, e *apiError) {
	typ := "Sender"
	if e.status >= 500 {
		typ = "Receiver"
	}
	body, _ := xml.Marshal(xmlError{Xmlns: Namespace, Type: typ, Code: e.code, Message: e.message, RequestID: reqID})
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", reqID)
	w.WriteHeader(e.status)
	_, _ = w.Write(append([]byte(xml.Header), body...))
}

// writeResult writes ACTIONResponse/ACTIONResult/… plus ResponseMetadata.
// result is an XML-tagged struct whose fields are the result's members, or
// nil for an action without output.
func writeResult(w http.ResponseWriter, reqID, action string, result any) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	fmt.Fprintf(&buf, `<%sResponse xmlns="%s">`, action, Namespace)
	if result != nil {
		enc := xml.NewEncoder(&buf)
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}}); err != nil {
			writeError(w, reqID, &apiError{status: 500, code: codeInternalFailure, message: "encoding the response: " + err.Error()})
			return
		}
	}
	fmt.Fprintf(&buf, "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>", reqID, action)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", reqID)
	_, _ = w.Write(buf.Bytes())
}

// newRequestID is a random UUID, the shape of ELBv2's RequestId.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// params reads the Query protocol's form members: Name, List.member.N,
// List.member.N.Field, Struct.Field.
type params struct{ v url.Values }

func (p params) has(key string) bool { _, ok := p.v[key]; return ok }

func (p params) str(key string) string { return p.v.Get(key) }

// required returns a parameter that must be present and non-empty.
func (p params) required(key string) (string, *apiError) {
	s := strings.TrimSpace(p.v.Get(key))
	if s == "" {
		return "", errf(codeValidation, "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", key)
	}
	return s, nil
}

// members returns the prefixes KEY.member.1, KEY.member.2, … that are
// present (as a value or as the prefix of a field), in order, stopping at
// the first gap as the SDKs never leave one.
func (p params) members(key string) []string {
	var out []string
	for i := 1; ; i++ {
		pre := key + ".member." + strconv.Itoa(i)
		if !p.hasPrefix(pre) {
			return out
		}
		out = append(out, pre)
	}
}

func (p params) hasPrefix(pre string) bool {
	if _, ok := p.v[pre]; ok {
		return true
	}
	for k := range p.v {
		if strings.HasPrefix(k, pre+".") {
			return true
		}
	}
	return false
}

// list returns the values of KEY.member.N.
func (p params) list(key string) []string {
	var out []string
	for _, m := range p.members(key) {
		out = append(out, p.v.Get(m))
	}
	return out
}

// optInt reads an optional integer parameter; ok is false when absent.
func (p params) optInt(key string, lo, hi int64) (n int64, ok bool, e *apiError) {
	s := p.v.Get(key)
	if !p.has(key) {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, false, errf(codeValidation, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be an integer from %d to %d", s, key, lo, hi)
	}
	return n, true, nil
}

// optBool reads an optional boolean parameter.
func (p params) optBool(key string) (*bool, *apiError) {
	if !p.has(key) {
		return nil, nil
	}
	switch p.v.Get(key) {
	case "true":
		t := true
		return &t, nil
	case "false":
		f := false
		return &f, nil
	}
	return nil, errf(codeValidation, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be true or false", p.v.Get(key), key)
}

// pageSize checks the optional PageSize (1–400 on every Describe action).
func (p params) pageSize() *apiError {
	_, _, e := p.optInt("PageSize", 1, 400)
	return e
}
