package certfmt

import (
	"crypto/x509"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	dn "github.com/albmtls/albmtls/internal/dntest"
	"github.com/albmtls/albmtls/internal/golden"
	"github.com/albmtls/albmtls/internal/testtool"
)

// awkwardIssuer is the issuer of every certificate in TestDNGolden.
var awkwardIssuer = dn.Name(
	dn.RDN(dn.UTF8(oidDC, "com")), dn.RDN(dn.UTF8(oidDC, "example")),
	dn.RDN(dn.Printable(oidO, "Example, Inc.")),
	dn.RDN(dn.UTF8(oidOU, "PKI"), dn.UTF8(oidCN, "Issuing CA #2")),
)

func hexSerial(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic(s)
	}
	return n
}

// dnCases are names with every corner of the RFC 2253 output that a client
// certificate can reach. Each is checked against the openssl binary and kept
// in testdata/dn.golden.
var dnCases = []struct {
	name    string
	subject []byte
	serial  *big.Int
}{
	{"alb doc example", dn.Name(dn.RDN(dn.Printable(oidC, "US")), dn.RDN(dn.Printable(oidST, "Washington")), dn.RDN(dn.Printable(oidO, "mTLS")),
		dn.RDN(dn.Printable(oidOU, "client-3")), dn.RDN(dn.Printable(oidCN, "client_.com"))), hexSerial("03A5B1")},
	{"estonian id card capture", dn.Name(dn.RDN(dn.Printable(oidC, "EE")), dn.RDN(dn.UTF8(oidCN, "MÄNNIK,MARILIIS,47101010033")),
		dn.RDN(dn.UTF8(oidSN, "MÄNNIK")), dn.RDN(dn.UTF8(oidGN, "MARILIIS")), dn.RDN(dn.Printable(oidSerial, "PNOEE-47101010033"))),
		hexSerial("12DB3F24BFFD390A5CAF1A8F2712DFB4")},
	{"rfc 2253 specials", dn.Name(dn.RDN(dn.UTF8(oidCN, `a,b+c"d\e<f>g;h=i`))), hexSerial("FEF257372D5C14D4")},
	{"leading and trailing", dn.Name(dn.RDN(dn.UTF8(oidO, "#hash")), dn.RDN(dn.UTF8(oidOU, " lead")), dn.RDN(dn.UTF8(oidL, "trail ")),
		dn.RDN(dn.UTF8(oidST, "  both  ")), dn.RDN(dn.UTF8(oidCN, "in  side #"))), big.NewInt(0)},
	{"one-character values", dn.Name(dn.RDN(dn.UTF8(oidO, "#")), dn.RDN(dn.UTF8(oidOU, " ")), dn.RDN(dn.UTF8(oidL, ",")), dn.RDN(dn.UTF8(oidCN, ""))), big.NewInt(1)},
	{"utf8 non-ascii", dn.Name(dn.RDN(dn.UTF8(oidCN, "Zürich 中文 😀"))), big.NewInt(0x80)},
	{"bmpstring", dn.Name(dn.RDN(dn.BMP(oidO, "Ünïcödé")), dn.RDN(dn.BMP(oidOU, "#a,b ")), dn.RDN(dn.BMP(oidCN, "plain"))), hexSerial("00FF")},
	{"t61string latin-1", dn.Name(dn.RDN(dn.T61(oidCN, []byte("caf\xe9 #\x80")))), big.NewInt(2)},
	{"universalstring", dn.Name(dn.RDN(dn.Universal(oidCN, "Ω😀 x"))), big.NewInt(3)},
	{"multi-valued rdn", dn.Name(dn.RDN(dn.Printable(oidC, "DE")), dn.RDN(dn.UTF8(oidCN, "a"), dn.UTF8(oidOU, "b")),
		dn.RDN(dn.UTF8(oidOU, "d"), dn.UTF8(oidCN, "c"), dn.IA5(oidEmail, "e@x"))), big.NewInt(4)},
	{"email serial orgid dc uid", dn.Name(dn.RDN(dn.IA5(oidDC, "com")), dn.RDN(dn.IA5(oidDC, "example")),
		dn.RDN(dn.Printable(oidOrgID, "NTREE-10747013")), dn.RDN(dn.Printable(oidSerial, "PNOEE-47101010033")),
		dn.RDN(dn.UTF8(oidUID, "jdoe")), dn.RDN(dn.IA5(oidEmail, "user+tag@example.com"))), hexSerial("0102030405060708090A0B0C0D0E0F1011121314")},
	{"more short names", dn.Name(dn.RDN(dn.Printable(oidJurC, "US")), dn.RDN(dn.UTF8(oidStreet, "1 Main St")), dn.RDN(dn.UTF8(oidPostal, "98101")),
		dn.RDN(dn.UTF8(oidTitle, "Dr")), dn.RDN(dn.Raw(oidSerial, dn.TagNumeric, []byte("12345")))), big.NewInt(5)},
	{"unknown oids", dn.Name(dn.RDN(dn.UTF8(oidUnknown, "abc")), dn.RDN(dn.Printable(oidUnknown2, "x")), dn.RDN(dn.UTF8(oidLongArcs, "long")),
		dn.RDN(dn.UTF8(oidBigFirst, "big")), dn.RDN(dn.UTF8(oidCN, "known"))), big.NewInt(6)},
	{"known non-attribute oid", dn.Name(dn.RDN(dn.UTF8(oidRSA, "odd"))), big.NewInt(7)},
	{"control characters", dn.Name(dn.RDN(dn.IA5(oidCN, "a\x01b\nc\x7fd\x00"))), big.NewInt(8)},
	{"non-string values", dn.Name(dn.RDN(dn.Raw(oidCN, cbasn1.BIT_STRING, []byte{0x07, 0x80})),
		dn.RDN(dn.Raw(oidO, cbasn1.SEQUENCE.Constructed(), []byte{0x02, 0x01, 0x01})),
		dn.RDN(dn.Raw(oidOU, cbasn1.BIT_STRING, []byte{0x04, 0xff})), dn.RDN(dn.Raw(oidUnknown, cbasn1.BIT_STRING, []byte{0x06, 0x28}))), big.NewInt(9)},
	{"printablestring outside its alphabet", dn.Name(dn.RDN(dn.Printable(oidCN, "a@b_c\xff"))), big.NewInt(10)},
	{"empty name", dn.Name(), big.NewInt(11)},
}

func TestDNGolden(t *testing.T) {
	var out strings.Builder
	for _, tc := range dnCases {
		der := newCert(t, tc.subject, awkwardIssuer, tc.serial)
		want := runOpenSSLX509(t, der)
		subject, issuer := certRawNames(t, der)

		gotSubject, err := DN(subject)
		require.NoError(t, err, tc.name)
		gotIssuer, err := DN(issuer)
		require.NoError(t, err, tc.name)
		assert.Equal(t, want.subject, gotSubject, "%s: subject differs from openssl", tc.name)
		assert.Equal(t, want.issuer, gotIssuer, "%s: issuer differs from openssl", tc.name)
		assert.Equal(t, want.serial, SerialNumber(tc.serial), "%s: serial differs from openssl", tc.name)

		// Where crypto/x509 accepts the certificate, its raw fields give the
		// same answer (the path the emulator takes).
		if c, err := x509.ParseCertificate(der); err == nil {
			s, err := DN(c.RawSubject)
			require.NoError(t, err)
			assert.Equal(t, gotSubject, s)
			assert.Equal(t, want.serial, Serial(c))
		}
		fmt.Fprintf(&out, "# %s\nsubject=%s\nissuer=%s\nserial=%s\n", tc.name, gotSubject, gotIssuer, SerialNumber(tc.serial))
	}
	golden.Assert(t, filepath.Join("testdata", "dn.golden"), out.String())
}

// TestDNCaptures pins the two values that real ALBs and AWS's documentation
// show (alb-behaviour §4.1).
func TestDNCaptures(t *testing.T) {
	got, err := DN(dnCases[0].subject)
	require.NoError(t, err)
	assert.Equal(t, "CN=client_.com,OU=client-3,O=mTLS,ST=Washington,C=US", got)
	got, err = DN(dnCases[1].subject)
	require.NoError(t, err)
	assert.Equal(t, `serialNumber=PNOEE-47101010033,GN=MARILIIS,SN=M\C3\84NNIK,CN=M\C3\84NNIK\,MARILIIS\,47101010033,C=EE`, got)
	assert.Equal(t, "03A5B1", SerialNumber(dnCases[0].serial))
	assert.Equal(t, "FEF257372D5C14D4", SerialNumber(hexSerial("00FEF257372D5C14D4")))
}

// TestDNOutsideOpenSSL covers inputs OpenSSL refuses to load, so there is no
// binary to compare with: DN must still answer or fail cleanly.
func TestDNOutsideOpenSSL(t *testing.T) {
	for _, tc := range []struct {
		name    string
		raw     []byte
		want    string
		wantErr string
	}{
		{"integer value dumps", dn.Name(dn.RDN(dn.Raw(oidCN, cbasn1.INTEGER, []byte{0x05}))), "CN=#020105", ""},
		{"surrogates in a BMPString are dropped", dn.Name(dn.RDN(dn.Raw(oidCN, dn.TagBMP, []byte{0, 'a', 0xd8, 0x3d, 0xde, 0x00, 0, 'b'}))), "CN=ab", ""},
		{"UniversalString beyond Unicode is dropped", dn.Name(dn.RDN(dn.Raw(oidCN, dn.TagUniversal, []byte{0, 0x11, 0, 0, 0, 0, 0, 'z'}))), "CN=z", ""},
		{"UniversalString with the top bit set", dn.Name(dn.RDN(dn.Raw(oidCN, dn.TagUniversal, []byte{0x80, 0, 0, 0x41}))), "CN=", ""},
		{"invalid UTF-8 is escaped bytewise", dn.Name(dn.RDN(dn.UTF8(oidCN, "\xff\xfe"))), `CN=\FF\FE`, ""},
		{"odd BMPString", dn.Name(dn.RDN(dn.Raw(oidCN, dn.TagBMP, []byte{0, 'a', 0}))), "", "not a whole number of 2-byte characters"},
		{"ragged UniversalString", dn.Name(dn.RDN(dn.Raw(oidCN, dn.TagUniversal, []byte{0, 0, 'a'}))), "", "4-byte characters"},
		{"empty BIT STRING", dn.Name(dn.RDN(dn.Raw(oidCN, cbasn1.BIT_STRING, nil))), "", "unused-bits"},
		{"BIT STRING unused bits cleared", dn.Name(dn.RDN(dn.Raw(oidCN, cbasn1.BIT_STRING, []byte{0x04, 0xff}))), "CN=#030204F0", ""},
		{"not a sequence", []byte{0x31, 0x00}, "", "not one DER SEQUENCE"},
		{"trailing bytes", append(dn.Name(), 0x00), "", "not one DER SEQUENCE"},
		{"rdn not a set", []byte{0x30, 0x02, 0x30, 0x00}, "", "RDN 1 of the distinguished name is not a DER SET"},
		{"atv without value", []byte{0x30, 0x09, 0x31, 0x07, 0x30, 0x05, 0x06, 0x03, 0x55, 0x04, 0x03}, "", "malformed AttributeTypeAndValue"},
		{"oid with leading 0x80", []byte{0x30, 0x0b, 0x31, 0x09, 0x30, 0x07, 0x06, 0x02, 0x80, 0x01, 0x0c, 0x01, 'a'}, "", "malformed attribute type OID"},
		{"oid ending mid-arc", []byte{0x30, 0x0b, 0x31, 0x09, 0x30, 0x07, 0x06, 0x02, 0x55, 0x84, 0x0c, 0x01, 'a'}, "", "malformed attribute type OID"},
		{"empty rdn set", []byte{0x30, 0x02, 0x31, 0x00}, "", ""},
		{"nil", nil, "", "not one DER SEQUENCE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DN(tc.raw)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDottedOID(t *testing.T) {
	for _, dotted := range []string{"2.5.4.3", "0.9.2342.19200300.100.1.25", "1.39.1", "2.999.4294967296.1", oidBigFirst, oidLongArcs, "2.0"} {
		der, ok := dn.EncodeOID(dotted)
		require.True(t, ok)
		assert.Equal(t, dotted, dottedOID(der))
	}
}

// TestSerialAgainstOpenSSL covers the serials crypto/x509 will not create
// (negative, more than 20 bytes): openssl makes the certificates.
func TestSerialAgainstOpenSSL(t *testing.T) {
	testtool.Need(t, "openssl")
	dir := t.TempDir()
	for _, s := range []string{"0", "-1", "-256", "0x00FF", "127", "128", "0x" + strings.Repeat("AB", 20)} {
		out := filepath.Join(dir, "c.pem")
		runCmd(t, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
			"-keyout", filepath.Join(dir, "k.pem"), "-subj", "/CN=serial", "-set_serial", s, "-days", "1", "-out", out)
		want := strings.TrimSpace(strings.TrimPrefix(runCmd(t, "openssl", "x509", "-in", out, "-noout", "-serial"), "serial="))
		n, ok := new(big.Int).SetString(s, 0)
		require.True(t, ok)
		assert.Equal(t, want, SerialNumber(n), "serial %s", s)
	}
	assert.Equal(t, "", Serial(nil))
	assert.Equal(t, "", SerialNumber(nil))
}
