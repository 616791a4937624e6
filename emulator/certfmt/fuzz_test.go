package certfmt

import (
	"net/url"
	"testing"
)

// FuzzDN feeds arbitrary bytes to DN: it must not panic, and whatever it
// returns must be usable as an HTTP header value (no raw control or non-ASCII
// bytes: those are escaped).
func FuzzDN(f *testing.F) {
	for _, tc := range dnCases {
		f.Add(tc.subject)
	}
	f.Add(awkwardIssuer)
	f.Add([]byte{0x30, 0x02, 0x31, 0x00})
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := DN(raw)
		if err != nil {
			if s != "" {
				t.Fatalf("DN returned %q with error %v", s, err)
			}
			return
		}
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] >= 0x7f {
				t.Fatalf("DN(%X) = %q holds byte %#x at %d", raw, s, s[i], i)
			}
		}
	})
}

// maxFuzzInput bounds the inputs FuzzPEMURL looks at. The engine
// minimises every input that finds new coverage, in time quadratic in its
// length, without counting those execs; the mutator grew inputs to
// kilobytes and the target spent most of its budget at 0 execs/sec
// (docs/fuzzing.md). Longer inputs are skipped, so they are never kept.
const maxFuzzInput = 256

// FuzzPEMURL encodes arbitrary DER: percent-decoding the value must give back
// the PEM exactly, the value must hold only header-safe characters, and
// DecodePEMURL must not panic on any value.
func FuzzPEMURL(f *testing.F) {
	f.Add([]byte{}, "")
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01}, "-----BEGIN%20CERTIFICATE-----%0AMAA=%0A-----END%20CERTIFICATE-----%0A")
	f.Add([]byte("\xfb\xff\xbe"), "%zz")
	f.Fuzz(func(t *testing.T, der []byte, header string) {
		if len(der)+len(header) > maxFuzzInput {
			return // see maxFuzzInput
		}
		for _, eq := range []EqualsEncoding{EqualsLiteral, EqualsPercent} {
			v := PEMURLEncode([][]byte{der}, eq)
			for i := 0; i < len(v); i++ {
				if v[i] <= 0x20 || v[i] >= 0x7f {
					t.Fatalf("PEMURLEncode(%X) holds byte %#x", der, v[i])
				}
			}
			text, err := url.PathUnescape(v)
			if err != nil {
				t.Fatalf("PEMURLEncode(%X) is not valid percent-encoding: %v", der, err)
			}
			if want := string(pemOf(der)); text != want {
				t.Fatalf("PEMURLEncode(%X) decodes to %q, want %q", der, text, want)
			}
		}
		certs, err := DecodePEMURL(header)
		if err == nil && len(certs) == 0 {
			t.Fatalf("DecodePEMURL(%q) returned no certificate and no error", header)
		}
	})
}

// The END marker is looked for after the BEGIN marker: in
// "-----BEGIN CERTIFICATE-----END CERTIFICATE-----" it overlaps BEGIN's
// trailing dashes, and DecodePEMURL sliced [27:22] and panicked. Found by
// FuzzPEMURL (testdata/fuzz/FuzzPEMURL/overlapping-markers).
func TestDecodePEMURLOverlappingMarkers(t *testing.T) {
	for _, s := range []string{
		"-----BEGIN%20CERTIFICATE-----END%20CERTIFICATE-----",
		"-----BEGIN%20CERTIFICATE-----END%20CERTIFICATE-----0",
		"-----BEGIN%20CERTIFICATE----------END%20CERTIFICATE-----",
	} {
		certs, err := DecodePEMURL(s)
		if err == nil || certs != nil {
			t.Errorf("DecodePEMURL(%q) = %v, %v; want an error", s, certs, err)
		}
	}
}
