// Package desync classifies HTTP/1.x requests the way an Application Load
// Balancer's desync mitigation mode does (load balancer attribute
// routing.http.desync_mitigation_mode): Compliant, Acceptable, Ambiguous
// or Severe, with the reason that lands in the access log's
// classification and classification_reason fields.
//
// ALB classifies with AWS's open-source http_desync_guardian library
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/config-desync-mitigation-mode.html
// names it; https://github.com/aws/http-desync-guardian, Apache-2.0). This
// package is a Go port of its request analyzer (src/request_analyzer.rs,
// src/http_token_utils.rs, src/raw_request_parser.rs at commit 7dd6f37),
// tested against the library's own YAML test suite (testdata/guardian/).
// The port keeps the library's quirks on purpose (for example, a version
// that sorts at or after "HTTP/2" is not analysed), since ALB's verdicts
// are the library's.
//
// Classify is a pure function over the raw request head (request line and
// header lines up to and including the empty line); Action says what a
// mode does with a class (docs/desync.md).
package desync

import "bytes"

// Class is a request's safety tier, in increasing severity.
type Class uint8

// Classes (RequestSafetyTier in http_desync_guardian).
const (
	// Compliant: complies with RFC 7230 and poses no known security threat.
	Compliant Class = iota
	// Acceptable: does not comply with RFC 7230 but poses no known threat.
	Acceptable
	// Ambiguous: does not comply with RFC 7230 and poses a risk, as web
	// servers and proxies could handle it differently.
	Ambiguous
	// Severe: poses a high security risk.
	Severe
)

var classNames = [...]string{"Compliant", "Acceptable", "Ambiguous", "Severe"}

// String is the class as the access log writes it.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "Class(?)"
}

// Reason says why a request got its class (ClassificationReason in
// http_desync_guardian, and the access log's classification_reason).
type Reason uint8

// Reasons, in the library's order.
const (
	ReasonCompliant Reason = iota
	EmptyHeader
	SuspiciousHeader
	NonCompliantHeader
	BadHeader
	AmbiguousURI
	SpaceInURI
	BadURI
	NonCompliantVersion
	BadVersion
	GetHeadZeroContentLength
	UndefinedContentLengthSemantics
	MultipleContentLength
	DuplicateContentLength
	BadContentLength
	UndefinedTransferEncodingSemantics
	MultipleTransferEncodingChunked
	BadTransferEncoding
	BothTeClPresent
	BadMethod
	NonCrLfLineTermination
	MultilineHeader
	PartialHeaderLine
	MissingLastEmptyLine
	MissingHeaderColon
	MissingURI
)

var reasonNames = [...]string{
	"Compliant", "EmptyHeader", "SuspiciousHeader", "NonCompliantHeader", "BadHeader",
	"AmbiguousUri", "SpaceInUri", "BadUri", "NonCompliantVersion", "BadVersion",
	"GetHeadZeroContentLength", "UndefinedContentLengthSemantics", "MultipleContentLength",
	"DuplicateContentLength", "BadContentLength", "UndefinedTransferEncodingSemantics",
	"MultipleTransferEncodingChunked", "BadTransferEncoding", "BothTeClPresent", "BadMethod",
	"NonCrLfLineTermination", "MultilineHeader", "PartialHeaderLine", "MissingLastEmptyLine",
	"MissingHeaderColon", "MissingUri",
}

// String is the reason as the library and the access log spell it.
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "Reason(?)"
}

// ParseReason is the inverse of String.
func ParseReason(s string) (Reason, bool) {
	for i, n := range reasonNames {
		if n == s {
			return Reason(i), true
		}
	}
	return 0, false
}

// ParseClass is the inverse of Class.String.
func ParseClass(s string) (Class, bool) {
	for i, n := range classNames {
		if n == s {
			return Class(i), true
		}
	}
	return 0, false
}

// Header is one header field as parsed for analysis.
type Header struct {
	Name, Value []byte
}

// Request is a request head already split into its parts, for
// ClassifyParsed.
type Request struct {
	Method, URI, Version []byte
	Headers              []Header
}

// verdict is the analysis state: the tier only moves up, and the first
// reason at the highest tier is kept (upgrade_verdict!).
type verdict struct {
	class  Class
	reason Reason
}

func (v *verdict) upgrade(c Class, r Reason) {
	if v.class < c {
		v.class, v.reason = c, r
	}
}

// Classify parses and classifies a raw request head: the request line and
// the header lines, through the empty line that ends them (anything after
// it is ignored). It allocates nothing for requests of up to 64 headers.
func Classify(raw []byte) (Class, Reason) {
	var v verdict
	var stack [64]Header
	req := parseRaw(raw, stack[:0], &v)
	analyze(&req, &v)
	return v.class, v.reason
}

// ClassifyParsed classifies a request whose parts an HTTP engine already
// split (analyze_parsed_request). Header order matters.
func ClassifyParsed(r Request) (Class, Reason) {
	var v verdict
	analyze(&r, &v)
	return v.class, v.reason
}

// Character classes (build.rs's tables), one bit each in charClass.
const (
	cTchar = 1 << iota
	cVchar
	cBad
	cWS
	cURI
	cValue
	cAlnum
)

var charClass = func() (t [256]uint8) {
	for i := range 256 {
		b := byte(i)
		alnum := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
		if alnum {
			t[i] |= cAlnum | cTchar
		}
		if bytes.IndexByte([]byte("-_.!#$%&'*+^`|~"), b) >= 0 {
			t[i] |= cTchar
		}
		vchar := b >= ' ' && b < 0x7f
		ws := b == ' ' || b == '\t'
		if vchar {
			t[i] |= cVchar
		}
		if b == '\r' || b == '\n' || b == 0 {
			t[i] |= cBad
		}
		if ws {
			t[i] |= cWS
		}
		if b > ' ' && b != 0x7f {
			t[i] |= cURI
		}
		if vchar || b >= 0x80 || ws {
			t[i] |= cValue
		}
	}
	return t
}()

func isTchar(b byte) bool   { return charClass[b]&cTchar != 0 }
func isBad(b byte) bool     { return charClass[b]&cBad != 0 }
func isWS(b byte) bool      { return charClass[b]&cWS != 0 }
func isURIChar(b byte) bool { return charClass[b]&cURI != 0 }
func isAlnum(b byte) bool   { return charClass[b]&cAlnum != 0 }
func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + ('a' - 'A')
	}
	return b
}

func trimWS(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isWS(b[i]) {
		i++
	}
	for i < j && isWS(b[j-1]) {
		j--
	}
	return b[i:j]
}

// headerTier is a header's own tier: 0 compliant, 1 non-compliant, 2 bad.
type headerTier uint8

const (
	tierCompliant headerTier = iota
	tierNonCompliant
	tierBad
)

func charsTier(s []byte, okClass uint8) headerTier {
	t := tierCompliant
	for _, c := range s {
		if charClass[c]&okClass == 0 {
			if isBad(c) {
				return tierBad
			}
			t = tierNonCompliant
		}
	}
	return t
}

func (h Header) tier() headerTier {
	return max(charsTier(h.Name, cTchar), charsTier(h.Value, cValue))
}

var (
	te          = []byte("transfer-encoding")
	cl          = []byte("content-length")
	chunked     = []byte("chunked")
	validTE     = [][]byte{chunked, []byte("compress"), []byte("deflate"), []byte("gzip"), []byte("identity")}
	http09      = []byte("HTTP/0.9")
	http10      = []byte("HTTP/1.0")
	http1dot    = []byte("HTTP/1.")
	http2       = []byte("HTTP/2")
	contentType = []byte("content-type")
)

// similarity is how close a header name is to Transfer-Encoding or
// Content-Length (determine_similarity).
type similarity uint8

const (
	identical similarity = iota
	sameLetters
	distant
)

func nextAlnum(v []byte, i int) int {
	for i < len(v) && !isAlnum(v[i]) {
		i++
	}
	return i
}

func nextSymbol(v []byte, i int) int {
	for i < len(v) && v[i] <= ' ' {
		i++
	}
	return i
}

// sameChar compares one letter, counting the two UTF-8 letters whose
// upper case is ASCII (ſ → S, ı → I) as the letter.
func sameChar(orig byte, h []byte, i int) (bool, int) {
	if orig == lower(h[i]) {
		return true, i + 1
	}
	if len(h) > i+1 && (orig == 's' && h[i] == 0xc5 && h[i+1] == 0xbf || orig == 'i' && h[i] == 0xc4 && h[i+1] == 0xb1) {
		return true, i + 2
	}
	return false, i + 1
}

func similar(important, h []byte) similarity {
	if len(h) < len(important) {
		return distant
	}
	hi := nextAlnum(h, 0)
	same := hi == 0 && len(important) == len(h)
	for _, c := range important {
		if hi == len(h) {
			return distant
		}
		delim := c == '-'
		ok, ni := sameChar(c, h, hi)
		if !ok {
			if !delim {
				break
			}
			same = false
		}
		if delim {
			hi = nextAlnum(h, ni)
		} else {
			hi = nextSymbol(h, ni)
		}
	}
	switch exhausted := hi == len(h); {
	case exhausted && same:
		return identical
	case exhausted || nextAlnum(h, hi) == len(h):
		return sameLetters
	}
	return distant
}

func validTransferCoding(v []byte) ([]byte, bool) {
	t := trimWS(v)
	if i := bytes.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	t = trimWS(t)
	for _, s := range validTE {
		if bytes.EqualFold(s, t) {
			return s, true
		}
	}
	return nil, false
}

// parseNum is parse_num: optional whitespace around decimal digits, no
// sign, no overflow of 64 bits; an empty value is 0, as in the library.
func parseNum(v []byte) (uint64, bool) {
	var n uint64
	for _, c := range trimWS(v) {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (^uint64(0)-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// analyze is analyze_request_internal.
func analyze(r *Request, v *verdict) {
	if bytes.Compare(r.Version, http2) >= 0 { // HTTP/2 and above are out of scope
		*v = verdict{}
		return
	}
	version := r.Version
	if len(trimWS(version)) == 0 {
		version = http09
	}
	var teIdx, clIdx [8]int
	tes, cls := teIdx[:0], clIdx[:0]
	for i, h := range r.Headers {
		teSim := similar(te, h.Name)
		clSim := distant
		if teSim == distant {
			clSim = similar(cl, h.Name)
		}
		essential := teSim == identical || clSim == identical
		tier := h.tier()
		if v.class != Severe {
			switch tier {
			case tierBad:
				v.upgrade(Severe, BadHeader)
			case tierNonCompliant:
				v.upgrade(Acceptable, NonCompliantHeader)
			}
		}
		name := trimWS(h.Name)
		switch {
		case len(name) == 0 || name[0] == ':':
			v.upgrade(Ambiguous, EmptyHeader)
		case !essential && tier != tierBad:
			if teSim == sameLetters {
				tes = append(tes, i)
				v.upgrade(Ambiguous, SuspiciousHeader)
			} else if clSim == sameLetters {
				cls = append(cls, i)
				v.upgrade(Ambiguous, SuspiciousHeader)
			}
		case teSim == identical:
			tes = append(tes, i)
		case clSim == identical:
			cls = append(cls, i)
		}
	}
	checkFraming(r, version, tes, cls, v)
	for _, c := range r.Method {
		if !isTchar(c) {
			v.upgrade(Severe, BadMethod)
			break
		}
	}
	checkVersion(version, v)
	for _, c := range r.URI {
		switch {
		case isURIChar(c):
		case isBad(c):
			v.upgrade(Severe, BadURI)
			return
		case c == ' ':
			v.upgrade(Acceptable, SpaceInURI)
		default:
			v.upgrade(Ambiguous, AmbiguousURI)
		}
	}
}

// checkFraming is verify_te_cl_headers.
func checkFraming(r *Request, version []byte, tes, cls []int, v *verdict) {
	if len(tes) == 0 && len(cls) == 0 {
		return
	}
	switch {
	case bytes.Compare(version, http10) <= 0 && len(tes) > 0:
		v.upgrade(Ambiguous, UndefinedTransferEncodingSemantics)
		return
	case bytes.Compare(version, http10) < 0 && len(cls) > 0:
		v.upgrade(Ambiguous, UndefinedContentLengthSemantics)
		return
	}
	// has_transfer_encoding: only several "chunked" are a problem.
	hasChunked := false
	for _, i := range tes {
		for item := range bytes.SplitSeq(r.Headers[i].Value, []byte(",")) {
			val, ok := validTransferCoding(item)
			if !ok {
				v.upgrade(Severe, BadTransferEncoding)
				continue
			}
			isChunked := bytes.Equal(val, chunked)
			if hasChunked && isChunked {
				v.upgrade(Severe, MultipleTransferEncodingChunked)
			}
			hasChunked = isChunked
		}
	}
	hasTE := len(tes) > 0
	// extract_content_length
	var length uint64
	haveLength := false
	for _, i := range cls {
		n, ok := parseNum(r.Headers[i].Value)
		switch {
		case !ok:
			v.upgrade(Severe, BadContentLength)
		case haveLength && n != length:
			v.upgrade(Severe, MultipleContentLength)
		case haveLength:
			v.upgrade(Ambiguous, DuplicateContentLength)
		default:
			length, haveLength = n, true
		}
	}
	if string(r.Method) == "GET" || string(r.Method) == "HEAD" {
		if hasTE {
			v.upgrade(Ambiguous, UndefinedTransferEncodingSemantics)
		}
		switch {
		case haveLength && length == 0:
			v.upgrade(Acceptable, GetHeadZeroContentLength)
		case haveLength:
			v.upgrade(Ambiguous, UndefinedContentLengthSemantics)
		}
	}
	if haveLength && hasTE {
		v.upgrade(Ambiguous, BothTeClPresent)
	}
}

func checkVersion(version []byte, v *verdict) {
	t := trimWS(version)
	if bytes.Equal(t, http09) {
		v.upgrade(Acceptable, NonCompliantVersion)
		return
	}
	valid := len(t) == len("HTTP/1.1") && bytes.HasPrefix(t, http1dot) && t[7] >= '0' && t[7] <= '9'
	switch {
	case !valid:
		v.upgrade(Severe, BadVersion)
	case len(t) != len(version) || t[7] > '1':
		v.upgrade(Acceptable, NonCompliantVersion)
	}
}
