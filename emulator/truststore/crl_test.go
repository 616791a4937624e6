package truststore_test

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/truststore"
	tt "github.com/albmtls/albmtls/emulator/truststore/truststoretest"
)

var (
	oidReasonCode = asn1.ObjectIdentifier{2, 5, 29, 21}
	oidIDP        = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidDeltaCRL   = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidPrivate    = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 7}
)

func craft(t testing.TB, issuer *tt.Cert, spec tt.RawCRL) []byte {
	t.Helper()
	der, err := tt.Craft(issuer, spec)
	require.NoError(t, err)
	return der
}

// idp returns an issuingDistributionPoint value with the given implicit
// [tag] BOOLEAN TRUE fields (1 = onlyContainsUserCerts, 2 = CA, 4 =
// indirect) or raw content.
func idp(raw ...byte) []byte { return append([]byte{0x30, byte(len(raw))}, raw...) }

func TestParseCRLRules(t *testing.T) {
	k := testKit(t)
	serials := tt.SerialsOf(k.revoked)
	valid := k.inter.CRL(t, serials, nil)
	keyDER, err := x509.MarshalPKCS8PrivateKey(k.root.Key)
	require.NoError(t, err)
	noCRLSign := k.root.Intermediate(t, "no crlsign", tt.WithTemplate(func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageCertSign }))
	cas := append(k.cas(), noCRLSign.Cert)

	tests := []struct {
		name     string
		data     []byte
		want     []string
		unusable truststore.Unusable
		nilCRL   bool
	}{
		{name: "valid PEM CRL", data: tt.CRLPEM(valid), want: []string{}},
		{name: "PEM CRL with trailing blanks", data: []byte(strings.ReplaceAll(string(tt.CRLPEM(valid)), "\n", " \t\n")), want: []string{}},
		{name: "PEM CRL with CRLF", data: []byte(strings.ReplaceAll(string(tt.CRLPEM(valid)), "\n", "\r\n")), want: []string{}},
		{name: "DER CRL", data: valid, want: []string{"!crl-der"}, nilCRL: true},
		{name: "empty file", data: nil, want: []string{"!crl-empty"}, nilCRL: true},
		{name: "certificate instead of CRL", data: k.inter.PEM(), want: []string{"!crl-pem-type"}, nilCRL: true},
		{name: "private key instead of CRL", data: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
			want: []string{"!crl-pem-type"}, nilCRL: true},
		{name: "text without PEM", data: []byte("hello world\n"), want: []string{"!crl-no-pem"}, nilCRL: true},
		{name: "binary garbage", data: []byte{0xff, 0x00, 0x13}, want: []string{"!crl-binary"}, nilCRL: true},
		{name: "truncated PEM", data: tt.CRLPEM(valid)[:100], want: []string{"!crl-pem-unterminated"}, nilCRL: true},
		{name: "corrupt base64", data: []byte(strings.Replace(string(tt.CRLPEM(valid)), "M", "*", 1)), want: []string{"!crl-corrupt-base64"}, nilCRL: true},
		{name: "PEM of junk", data: tt.CRLPEM([]byte{0x30, 0x00}), want: []string{"!crl-unparseable"}, nilCRL: true},
		{name: "two CRLs in one file", data: append(tt.CRLPEM(valid), tt.CRLPEM(valid)...), want: []string{"!crl-multiple-blocks"}, nilCRL: true},
		{name: "text around the block", data: append([]byte("Certificate Revocation List (CRL):\n"), tt.CRLPEM(valid)...),
			want: []string{"crl-text-outside-pem"}},
		{name: "issuer not in bundle", data: tt.CRLPEM(k.other.CRL(t, nil, nil)), want: []string{"!crl-issuer-not-in-bundle"}, nilCRL: true},
		{name: "bad signature", data: tt.CRLPEM(tt.TamperedCRL(valid)), want: []string{"!crl-bad-signature"}, unusable: truststore.UnusableSignature},
		{name: "SHA-1 signature", data: tt.CRLPEM(craft(t, k.inter, tt.RawCRL{Hash: crypto.SHA1})),
			want: []string{"!crl-signature-algorithm"}, nilCRL: true},
		{name: "negative serial", data: tt.CRLPEM(craft(t, k.inter, tt.RawCRL{Entries: []tt.RawEntry{{Serial: []byte{0xff, 0x01}}, {SerialInt: big.NewInt(5)}}})),
			want: []string{"crl-negative-serial"}},
		{name: "expired CRL", data: tt.CRLPEM(craft(t, k.inter, tt.RawCRL{ThisUpdate: tt.Now.Add(-48 * time.Hour), NextUpdate: tt.Now.Add(-24 * time.Hour)})),
			want: []string{"crl-stale"}},
		{name: "thisUpdate in the future", data: tt.CRLPEM(craft(t, k.inter, tt.RawCRL{ThisUpdate: tt.Now.Add(time.Hour)})),
			want: []string{"crl-stale"}},
		{name: "v1 CRL without nextUpdate", data: tt.CRLPEM(craft(t, k.inter, tt.RawCRL{V1: true, NoNextUpdate: true,
			Entries: []tt.RawEntry{{SerialInt: big.NewInt(9)}}})), want: []string{}},
		{name: "unknown critical CRL extension", data: tt.CRLPEM(craft(t, k.inter, tt.RawCRL{Extensions: []pkix.Extension{
			tt.Ext(oidPrivate, true, 1)}})), want: []string{"crl-critical-extension"}, unusable: truststore.UnusableCriticalExtension},
		{name: "critical entry extension", data: tt.CRLPEM(craft(t, k.inter, tt.RawCRL{Entries: []tt.RawEntry{{SerialInt: big.NewInt(3),
			Extensions: []pkix.Extension{tt.Ext(oidReasonCode, true, asn1.Enumerated(1))}}}})),
			want: []string{"crl-critical-extension"}, unusable: truststore.UnusableCriticalExtension},
		{name: "non-critical entry reason", data: tt.CRLPEM(craft(t, k.inter, tt.RawCRL{Entries: []tt.RawEntry{{SerialInt: big.NewInt(3),
			Extensions: []pkix.Extension{tt.Ext(oidReasonCode, false, asn1.Enumerated(1))}}}})), want: []string{}},
		{name: "delta CRL", data: tt.CRLPEM(craft(t, k.inter, tt.RawCRL{Extensions: []pkix.Extension{tt.Ext(oidDeltaCRL, true, 1)}})),
			want: []string{"crl-scope-unsupported"}, unusable: truststore.UnusableScope},
		{name: "indirect CRL", data: tt.CRLPEM(craft(t, k.inter, tt.RawCRL{Extensions: []pkix.Extension{
			{Id: oidIDP, Critical: true, Value: idp(0x84, 0x01, 0xff)}}})), want: []string{"crl-scope-unsupported"}, unusable: truststore.UnusableScope},
		{name: "user-certificates-only CRL", data: tt.CRLPEM(craft(t, k.inter, tt.RawCRL{Extensions: []pkix.Extension{
			{Id: oidIDP, Critical: true, Value: idp(0x81, 0x01, 0xff)}}})), want: []string{}},
		{name: "malformed IDP", data: tt.CRLPEM(craft(t, k.inter, tt.RawCRL{Extensions: []pkix.Extension{
			{Id: oidIDP, Critical: true, Value: idp(0x81, 0x02, 0xff, 0xff)}}})), want: []string{"!crl-idp-malformed"}, nilCRL: true},
		{name: "issuer without cRLSign", data: tt.CRLPEM(craft(t, noCRLSign, tt.RawCRL{})), want: []string{"crl-issuer-no-crlsign"},
			unusable: truststore.UnusableIssuerNoCRLSign},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			crl, fs := truststore.ParseCRL("crl.pem", tc.data, cas)
			assert.Equal(t, tc.want, rules(fs), "findings: %v", fs)
			if tc.nilCRL {
				assert.Nil(t, crl)
				require.Len(t, fs, 1, "one clear finding")
				assert.True(t, fs[0].Fatal)
				return
			}
			require.NotNil(t, crl)
			assert.Equal(t, tc.unusable, crl.Unusable, crl.UnusableReason)
			for _, f := range fs {
				assert.Equal(t, "crl.pem", f.File)
				if f.Fatal {
					assert.Equal(t, truststore.ErrInvalidRevocationContent, f.ALBError)
				}
			}
		})
	}
}

func TestParseCRLDERFindingNamesTheFix(t *testing.T) {
	k := testKit(t)
	_, fs := truststore.ParseCRL("intermediate.crl", k.inter.CRL(t, nil, nil), k.cas())
	require.Len(t, fs, 1)
	assert.Equal(t, "intermediate.crl: InvalidRevocationContent: the CRL is DER (binary); ALB accepts PEM CRLs only; "+
		"convert it: albmtls crl convert intermediate.crl intermediate.crl.pem "+
		"(or openssl crl -inform der -in intermediate.crl -outform pem -out intermediate.crl.pem)", fs[0].String())
}

func TestCRLContents(t *testing.T) {
	k := testKit(t)
	number := big.NewInt(42)
	der := k.inter.CRL(t, tt.SerialsOf(k.revoked), func(rl *x509.RevocationList) { rl.Number = number })
	crl, fs := truststore.ParseCRL("crl.pem", tt.CRLPEM(der), k.cas())
	require.Empty(t, fs)
	assert.Same(t, k.inter.Cert, crl.Issuer)
	assert.Equal(t, 0, crl.Number.Cmp(number))
	assert.Equal(t, 1, crl.Len())
	assert.True(t, crl.Contains(k.revoked.Cert.SerialNumber))
	assert.False(t, crl.Contains(k.leaf.Cert.SerialNumber))
	assert.False(t, crl.Contains(new(big.Int).Neg(k.revoked.Cert.SerialNumber)))
	assert.True(t, crl.ThisUpdate.Equal(tt.Now.Add(-time.Hour)))
	assert.True(t, crl.NextUpdate.Equal(tt.Now.Add(24*time.Hour)))
	assert.False(t, crl.Stale(tt.Now))
	assert.True(t, crl.Stale(tt.Now.Add(25*time.Hour)))
	assert.Equal(t, x509.ECDSAWithSHA256, crl.SignatureAlgorithm)
}

func TestCRLNegativeSerialsAreNotRevocable(t *testing.T) {
	k := testKit(t)
	der := craft(t, k.inter, tt.RawCRL{Entries: []tt.RawEntry{{Serial: []byte{0xfe}}, {Serial: []byte{0x00, 0xfe}}}})
	crl, fs := truststore.ParseCRL("crl.pem", tt.CRLPEM(der), k.cas())
	require.NotNil(t, crl)
	f := findRule(t, fs, "crl-negative-serial")
	assert.False(t, f.Fatal, "ALB \"can't revoke\" negative serials: the CRL is accepted, those entries are inert")
	assert.Equal(t, 2, crl.Len())
	assert.Equal(t, 1, crl.NegativeSerials)
	assert.True(t, crl.Contains(big.NewInt(0xfe)))
	assert.False(t, crl.Contains(big.NewInt(-2)))
}

func TestCRLScope(t *testing.T) {
	k := testKit(t)
	der := craft(t, k.inter, tt.RawCRL{Extensions: []pkix.Extension{{Id: oidIDP, Critical: true, Value: idp(0x81, 0x01, 0xff)}}})
	crl, _ := truststore.ParseCRL("crl.pem", tt.CRLPEM(der), k.cas())
	require.NotNil(t, crl)
	assert.False(t, crl.ScopeExcludes(k.leaf.Cert))
	assert.True(t, crl.ScopeExcludes(k.inter.Cert))
}
