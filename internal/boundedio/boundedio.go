// Package boundedio reads files with a size limit. os.ReadFile trusts the
// file: a huge or sparse file is allocated whole, and a device such as
// /dev/zero or an endless FIFO is read until memory runs out. Every input
// file of albmtls (config, trust store bundle and CRLs, certificates and
// keys, the test PKI) goes through ReadFile instead, with a limit from
// limits.go.
package boundedio

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// TooLargeError says a file is over its limit. Size is the file's size when
// it is a regular file, or -1 when it is not (a device or a FIFO, read until
// the limit was passed).
type TooLargeError struct {
	File  string
	What  string // "CA certificates bundle", "revocation file", …
	Size  int64
	Limit int64
}

// Error names the file, its size and the limit.
func (e *TooLargeError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("%s %s is not a regular file and yields more than the %s limit of %d bytes (%s); is it a device? point it at a regular file",
			e.What, e.File, e.What, e.Limit, human(e.Limit))
	}
	return fmt.Sprintf("%s %s is %d bytes (%s), over the %s limit of %d bytes (%s)",
		e.What, e.File, e.Size, human(e.Size), e.What, e.Limit, human(e.Limit))
}

// ErrTooLarge matches every *TooLargeError with errors.Is.
var ErrTooLarge = errors.New("file over its size limit")

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// ReadFile reads at most limit bytes of file. A regular file larger than
// limit is refused from its size without reading it; anything else is read
// through an io.LimitReader, so /dev/zero fails after limit+1 bytes. what
// names the file's role in the error.
func ReadFile(file, what string, limit int64) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return read(f, file, what, limit)
}

func read(f *os.File, file, what string, limit int64) ([]byte, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s %s is a directory, not a file", what, file)
	}
	size := int64(-1)
	if st.Mode().IsRegular() {
		size = st.Size()
		if size > limit {
			return nil, &TooLargeError{File: file, What: what, Size: size, Limit: limit}
		}
	}
	data, err := readAll(io.LimitReader(f, limit+1), size)
	if err != nil {
		return nil, fmt.Errorf("reading %s %s: %w", what, file, err)
	}
	if int64(len(data)) > limit { // not a regular file, or grew while read
		if size >= 0 {
			size = int64(len(data)) // at least
		}
		return nil, &TooLargeError{File: file, What: what, Size: size, Limit: limit}
	}
	return data, nil
}

// readAll is io.ReadAll with the buffer sized from a known file size, as
// os.ReadFile does, so that a 24 MB CRL is not copied through doublings.
func readAll(r io.Reader, size int64) ([]byte, error) {
	buf := make([]byte, 0, max(size+1, 512))
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
