package certfmt

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	dn "github.com/albmtls/albmtls/internal/dntest"
)

// TestDNDifferential formats random names with DN and with the openssl binary
// and requires the same text. The seed is fixed so a failure reproduces; the
// names mix every string type, RFC 2253 specials, control characters,
// non-ASCII, multi-valued RDNs, known and unknown OIDs.
func TestDNDifferential(t *testing.T) {
	const names = 300
	rng := rand.New(rand.NewPCG(2026, 11))
	known := knownOIDs()
	raws := make([][]byte, names)
	ders := make([][]byte, names)
	for i := range raws {
		raws[i] = randomName(rng, known)
		ders[i] = newCert(t, raws[i], nil, big.NewInt(int64(i+1)))
	}
	want := opensslSubjects(t, ders)
	mismatches := 0
	for i, raw := range raws {
		got, err := DN(raw)
		require.NoError(t, err, "name %d (%X)", i, raw)
		if got != want[i] {
			mismatches++
			t.Errorf("name %d differs from openssl\n got: %s\nwant: %s\n der: %X", i, got, want[i], raw)
		}
	}
	require.Zero(t, mismatches)
}

// knownOIDs lists OpenSSL's table, sorted so the test is deterministic.
func knownOIDs() []string {
	var oids []string
	for _, line := range strings.Split(openSSLObjects, "\n") {
		if oid, _, ok := strings.Cut(line, "\t"); ok && !strings.HasPrefix(line, "#") {
			oids = append(oids, oid)
		}
	}
	sort.Strings(oids)
	return oids
}

var commonOIDs = []string{oidCN, oidO, oidOU, oidC, oidL, oidST, oidEmail, oidSerial, oidDC, oidUID,
	oidGN, oidSN, oidTitle, oidOrgID, oidStreet, oidPostal, oidJurC}

func randomName(rng *rand.Rand, known []string) []byte {
	if rng.IntN(50) == 0 {
		return dn.Name()
	}
	rdns := make([][]dn.ATV, 1+rng.IntN(6))
	for i := range rdns {
		n := 1
		if rng.IntN(5) == 0 {
			n = 2 + rng.IntN(2)
		}
		for range n {
			rdns[i] = append(rdns[i], randomATV(rng, known))
		}
	}
	return dn.Name(rdns...)
}

func randomATV(rng *rand.Rand, known []string) dn.ATV {
	var oid string
	switch r := rng.IntN(20); {
	case r < 14:
		oid = commonOIDs[rng.IntN(len(commonOIDs))]
	case r < 17:
		oid = known[rng.IntN(len(known))]
	default:
		oid = randomOID(rng)
	}
	switch r := rng.IntN(100); {
	case r < 40:
		return dn.Raw(oid, cbasn1.UTF8String, []byte(randomText(rng, 0x10ffff)))
	case r < 55:
		return dn.Raw(oid, cbasn1.PrintableString, randomBytes(rng))
	case r < 70:
		return dn.Raw(oid, cbasn1.IA5String, randomBytes(rng))
	case r < 80:
		return dn.Raw(oid, cbasn1.T61String, randomBytes(rng))
	case r < 90:
		return dn.BMP(oid, randomText(rng, 0xffff))
	case r < 95:
		return dn.Universal(oid, randomText(rng, 0x10ffff))
	case r < 98:
		return dn.Raw(oid, dn.TagNumeric, []byte(fmt.Sprint(rng.IntN(100000))))
	case r < 99:
		return dn.Raw(oid, cbasn1.BIT_STRING, []byte{byte(rng.IntN(8)), byte(rng.IntN(256))})
	default:
		return dn.Raw(oid, cbasn1.SEQUENCE.Constructed(), []byte{0x02, 0x01, byte(rng.IntN(128))})
	}
}

func randomOID(rng *rand.Rand) string {
	first := rng.IntN(3)
	second := rng.IntN(40)
	if first == 2 {
		second = rng.IntN(2000)
	}
	parts := []string{fmt.Sprint(first), fmt.Sprint(second)}
	for range 1 + rng.IntN(8) {
		switch rng.IntN(10) {
		case 0: // beyond 64 bits
			parts = append(parts, new(big.Int).Lsh(big.NewInt(rng.Int64N(1<<20)+1), 70).String())
		case 1:
			parts = append(parts, fmt.Sprint(rng.Uint64()>>rng.IntN(64)))
		default:
			parts = append(parts, fmt.Sprint(rng.IntN(300)))
		}
	}
	return strings.Join(parts, ".")
}

// specials are the characters whose handling differs by position or type.
var specials = []rune{',', '+', '"', '\\', '<', '>', ';', '#', ' ', '=', '\x00', '\x01', '\n', '\x1f', '\x7f', '~', '*', '(', ')'}

// randomText returns valid Unicode text with code points up to max.
func randomText(rng *rand.Rand, max rune) string {
	var b strings.Builder
	for range rng.IntN(12) {
		var r rune
		switch k := rng.IntN(10); {
		case k < 3:
			r = specials[rng.IntN(len(specials))]
		case k < 6:
			r = rune('a' + rng.IntN(26))
		case k < 7:
			r = rune(0x80 + rng.IntN(0x780)) // two UTF-8 bytes
		default:
			r = rune(rng.IntN(int(max) + 1))
		}
		if r >= 0xd800 && r <= 0xdfff {
			r = 'S'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// randomBytes is content for the one-byte string types: any octet.
func randomBytes(rng *rand.Rand) []byte {
	b := make([]byte, rng.IntN(12))
	for i := range b {
		switch k := rng.IntN(4); {
		case k == 0:
			b[i] = byte(specials[rng.IntN(len(specials))])
		case k == 1:
			b[i] = byte(rng.IntN(256))
		default:
			b[i] = byte('A' + rng.IntN(26))
		}
	}
	return b
}
