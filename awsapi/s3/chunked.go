package s3

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// awsChunkedReader decodes an aws-chunked body: chunks of
// "HEXSIZE[;chunk-signature=SIG]\r\nDATA\r\n", a zero-size chunk, then
// optional trailer lines (x-amz-checksum-crc32:…) and an empty line. That is
// what the SDKs send for STREAMING-AWS4-HMAC-SHA256-PAYLOAD and
// STREAMING-UNSIGNED-PAYLOAD-TRAILER uploads:
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
// Chunk signatures and trailing checksums are read but not checked (the
// endpoint accepts any well-formed signature by default).
type awsChunkedReader struct {
	r      *bufio.Reader
	remain int64 // bytes left in the current chunk
	done   bool
	err    error
}

// maxChunkLine bounds a chunk header or trailer line.
const maxChunkLine = 4096

var errChunk = errors.New("malformed aws-chunked body")

func newAWSChunkedReader(r io.Reader) *awsChunkedReader {
	return &awsChunkedReader{r: bufio.NewReader(r)}
}

func (c *awsChunkedReader) line() (string, error) {
	var sb strings.Builder
	for {
		part, isPrefix, err := c.r.ReadLine()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		sb.Write(part)
		if sb.Len() > maxChunkLine {
			return "", fmt.Errorf("%w: a line longer than %d bytes", errChunk, maxChunkLine)
		}
		if !isPrefix {
			return sb.String(), nil
		}
	}
}

func (c *awsChunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.done {
		return 0, io.EOF
	}
	for c.remain == 0 {
		hdr, err := c.line()
		if err != nil {
			c.err = err
			return 0, err
		}
		sizeText, _, _ := strings.Cut(hdr, ";")
		size, err := strconv.ParseInt(strings.TrimSpace(sizeText), 16, 64)
		if err != nil || size < 0 {
			c.err = fmt.Errorf("%w: chunk header %q", errChunk, hdr)
			return 0, c.err
		}
		if size == 0 {
			// Trailers until an empty line (or the end of the body).
			for {
				l, err := c.line()
				if err == io.ErrUnexpectedEOF || (err == nil && l == "") {
					break
				}
				if err != nil {
					c.err = err
					return 0, err
				}
			}
			c.done = true
			return 0, io.EOF
		}
		c.remain = size
	}
	if int64(len(p)) > c.remain {
		p = p[:c.remain]
	}
	n, err := c.r.Read(p)
	c.remain -= int64(n)
	if c.remain == 0 && err == nil {
		var crlf [2]byte
		if _, err = io.ReadFull(c.r, crlf[:]); err == nil && string(crlf[:]) != "\r\n" {
			err = fmt.Errorf("%w: a chunk does not end in CRLF", errChunk)
		}
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		c.err = err
	}
	return n, err
}
