package desync

import "bytes"

// span is raw_request_parser.rs's RequestBuffer: a window [pos, end) of
// buf; pos > end marks a token whose delimiter was never found (partial).
type span struct {
	buf      []byte
	pos, end int
}

func (s span) done() bool    { return s.pos >= s.end }
func (s span) partial() bool { return s.pos > s.end }

func (s span) bytes() []byte {
	if s.pos < s.end {
		return s.buf[s.pos:s.end]
	}
	return nil
}

func (s *span) trimCR() bool {
	if s.end > s.pos && s.buf[s.end-1] == '\r' {
		s.end--
		return true
	}
	return false
}

// next cuts the token up to delim (excluded) off the front.
func (s *span) next(delim byte) span {
	i := s.pos
	if i < s.end {
		if j := bytes.IndexByte(s.buf[i:s.end], delim); j >= 0 {
			i += j
		} else {
			i = s.end
		}
	}
	t := span{buf: s.buf, pos: s.pos, end: i}
	s.pos = i + 1
	return t
}

// last cuts the token after the last delim off the back, ignoring
// trailing non-token characters when looking for it.
func (s *span) last(delim byte) span {
	cur := s.pos
	if s.end > s.pos {
		cur = s.end - 1
	}
	skip := true
	for s.pos < cur && (s.buf[cur] != delim || skip) {
		skip = skip && !isTchar(s.buf[cur])
		cur--
	}
	if cur >= s.pos && cur < s.end {
		begin := cur
		if s.buf[cur] == delim {
			begin = cur + 1
		}
		t := span{buf: s.buf, pos: begin, end: s.end}
		s.end = begin - 1
		return t
	}
	return span{buf: s.buf, pos: 1, end: 0}
}

// parseRaw is HttpRequestData::parse: the request line, then header lines
// until the empty line, reporting the framing problems it meets.
func parseRaw(raw []byte, headers []Header, v *verdict) Request {
	buf := span{buf: raw, end: len(raw)}
	line := buf.next('\n')
	if !line.trimCR() {
		v.upgrade(Acceptable, NonCrLfLineTermination)
	}
	method := line.next(' ')
	version := line.last(' ')
	uri := line
	switch {
	case uri.partial() && bytes.HasPrefix(version.bytes(), http1dot) || version.done() && uri.done():
		v.upgrade(Ambiguous, MissingURI)
	case uri.partial():
		uri, version = version, span{}
	}
	req := Request{Method: method.bytes(), URI: uri.bytes(), Version: version.bytes()}

	var foldName []byte // the header an obs-fold line continues
	haveFold, mediaType := false, false
	for {
		hl := buf.next('\n')
		if !hl.trimCR() {
			v.upgrade(Acceptable, NonCrLfLineTermination)
		}
		if hl.done() {
			break // the empty line
		}
		multi := isWS(hl.buf[hl.pos])
		first := hl.next(':').bytes()
		if !multi && !hl.partial() {
			mediaType = bytes.EqualFold(first, contentType)
			foldName, haveFold = first, true
		}
		var h Header
		if multi && haveFold && (mediaType || hl.partial()) {
			h = Header{Name: foldName, Value: first}
		} else {
			h = Header{Name: first, Value: hl.bytes()}
		}
		headers = append(headers, h)
		if !multi && hl.partial() {
			v.upgrade(Ambiguous, MissingHeaderColon)
		}
		if multi && !mediaType {
			v.upgrade(Ambiguous, MultilineHeader)
		}
		if buf.partial() {
			v.upgrade(Ambiguous, PartialHeaderLine)
			break
		} else if buf.done() {
			v.upgrade(Ambiguous, MissingLastEmptyLine)
			break
		}
	}
	req.Headers = headers
	return req
}
