package certfmt

import (
	_ "embed"
	"strconv"
	"strings"
	"sync"
)

// openSSLObjects is OpenSSL's built-in object table (`openssl list -objects`),
// reduced to "OID<TAB>short name" lines. X509_NAME_print_ex prints an attribute
// type by the short name of its table entry and only falls back to the dotted
// OID (with a #hex value) when the OID is not in the table, so the whole table
// is needed to match OpenSSL for any name (alb-behaviour §4.1 rule 2). Regenerate with
// `go test ./emulator/certfmt -run TestObjectTable -update`.
//
//go:embed openssl_objects.txt
var openSSLObjects string

// shortNames maps the DER content octets of an OID to OpenSSL's short name.
var shortNames = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, 1200)
	for _, line := range strings.Split(openSSLObjects, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		oid, sn, ok := strings.Cut(line, "\t")
		if !ok {
			panic("certfmt: malformed line in openssl_objects.txt: " + line)
		}
		der, ok := encodeOID(oid)
		if !ok {
			panic("certfmt: bad OID in openssl_objects.txt: " + line)
		}
		if _, dup := m[string(der)]; !dup { // OpenSSL's lookup returns the first entry
			m[string(der)] = sn
		}
	}
	return m
})

// encodeOID returns the DER content octets of a dotted OID whose arcs fit in
// 64 bits (true of every entry in OpenSSL's table).
func encodeOID(dotted string) ([]byte, bool) {
	parts := strings.Split(dotted, ".")
	if len(parts) < 2 {
		return nil, false
	}
	arcs := make([]uint64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return nil, false
		}
		arcs[i] = v
	}
	if arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40) {
		return nil, false
	}
	var out []byte
	out = appendBase128(out, arcs[0]*40+arcs[1])
	for _, a := range arcs[2:] {
		out = appendBase128(out, a)
	}
	return out, true
}

func appendBase128(out []byte, v uint64) []byte {
	var tmp [10]byte
	n := len(tmp) - 1
	tmp[n] = byte(v & 0x7f)
	for v >>= 7; v > 0; v >>= 7 {
		n--
		tmp[n] = byte(v&0x7f) | 0x80
	}
	return append(out, tmp[n:]...)
}
