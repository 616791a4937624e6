package truststore

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	tt "github.com/albmtls/albmtls/emulator/truststore/truststoretest"
	"github.com/albmtls/albmtls/pki/crlgen"
)

// crlCorpus returns well-formed CRLs of every shape the parser handles,
// made by x509.CreateRevocationList, by the raw crafter and by crlgen.Build.
func crlCorpus(t testing.TB) [][]byte {
	t.Helper()
	root := tt.NewRoot(t, "corpus root")
	rsaRoot := tt.NewRoot(t, "corpus rsa root", tt.WithKey(tt.RSAKey(t, 2048)))
	must := func(der []byte, err error) []byte {
		t.Helper()
		require.NoError(t, err)
		return der
	}
	reason := tt.Ext(asn1.ObjectIdentifier{2, 5, 29, 21}, false, asn1.Enumerated(4))
	out := [][]byte{
		root.CRL(t, nil, nil),
		root.CRL(t, []*big.Int{big.NewInt(1), big.NewInt(0), big.NewInt(0x80), new(big.Int).Lsh(big.NewInt(1), 159)}, nil),
		root.CRL(t, []*big.Int{big.NewInt(7)}, func(rl *x509.RevocationList) {
			rl.RevokedCertificateEntries[0].ReasonCode = 1
			rl.NextUpdate = time.Date(2051, 3, 1, 0, 0, 0, 0, time.UTC) // GeneralizedTime
		}),
		rsaRoot.CRL(t, []*big.Int{big.NewInt(9)}, nil),
		rsaRoot.CRL(t, nil, func(rl *x509.RevocationList) { rl.SignatureAlgorithm = x509.SHA384WithRSAPSS }),
		must(tt.Craft(root, tt.RawCRL{V1: true})),
		must(tt.Craft(root, tt.RawCRL{NoNextUpdate: true, GeneralizedTime: true, Entries: []tt.RawEntry{{SerialInt: big.NewInt(3)}}})),
		must(tt.Craft(root, tt.RawCRL{Entries: []tt.RawEntry{{Serial: []byte{0xff}}, {Serial: []byte{0x00}}, {SerialInt: big.NewInt(3)},
			{SerialInt: big.NewInt(3), Extensions: []pkix.Extension{reason}}}})),
		must(tt.Craft(root, tt.RawCRL{Entries: []tt.RawEntry{{SerialInt: big.NewInt(1), Time: time.Date(2000, 2, 29, 23, 59, 59, 0, time.UTC)}},
			Extensions: []pkix.Extension{tt.Ext(asn1.ObjectIdentifier{1, 2, 3}, true, 5)}})),
		must(crlgen.Build(root.Cert, root.Key, crlgen.Spec{Entries: 300, Extra: []*big.Int{big.NewInt(77)}})),
		must(crlgen.Build(rsaRoot.Cert, rsaRoot.Key, crlgen.Spec{Entries: 10, SerialBytes: 20, Seed: 3})),
	}
	return out
}

// compareWithGo holds parseCRLDER to x509.ParseRevocationList: whatever Go
// accepts it accepts with the same content; it accepts more only for
// version-1 CRLs (which AWS-LC accepts and Go refuses).
func compareWithGo(t testing.TB, der []byte) {
	mine, errM := parseCRLDER(der)
	ref, errG := x509.ParseRevocationList(der)
	switch {
	case errG == nil && errM != nil:
		t.Fatalf("x509 accepts, parseCRLDER refuses: %v", errM)
	case errG != nil && errM == nil:
		if mine.version != 1 {
			t.Fatalf("parseCRLDER accepts a v%d CRL that x509 refuses: %v", mine.version, errG)
		}
		return
	case errG != nil:
		return
	}
	check := func(ok bool, what string) {
		t.Helper()
		if !ok {
			t.Fatalf("parseCRLDER and x509 disagree on %s", what)
		}
	}
	check(bytes.Equal(mine.tbs, ref.RawTBSRevocationList), "the TBS")
	check(bytes.Equal(mine.rawIssuer, ref.RawIssuer), "the issuer")
	check(bytes.Equal(mine.signature, ref.Signature), "the signature")
	check(mine.sigAlgo == ref.SignatureAlgorithm, "the signature algorithm")
	check(mine.thisUpdate.Equal(ref.ThisUpdate), "thisUpdate")
	check(mine.nextUpdate.Equal(ref.NextUpdate), "nextUpdate")
	check((mine.number == nil) == (ref.Number == nil) && (mine.number == nil || mine.number.Cmp(ref.Number) == 0), "the CRL number")
	check(bytes.Equal(mine.authKeyID, ref.AuthorityKeyId), "the authority key ID")
	check(mine.entries == len(ref.RevokedCertificateEntries), "the entry count")
	negative, distinct := 0, map[string]bool{}
	for _, e := range ref.RevokedCertificateEntries {
		if e.SerialNumber.Sign() < 0 {
			negative++
			check(!mine.set.containsInt(e.SerialNumber), "a negative serial")
			continue
		}
		distinct[string(e.SerialNumber.Bytes())] = true
		check(mine.set.containsInt(e.SerialNumber), "serial "+e.SerialNumber.Text(16))
	}
	check(mine.negative == negative, "the negative count")
	check(mine.set.n == len(distinct), "the distinct serials")
}

func TestParseCRLAgreesWithX509(t *testing.T) {
	for _, der := range crlCorpus(t) {
		compareWithGo(t, der)
		_, err := parseCRLDER(der)
		require.NoError(t, err)
		// Every truncation and many single-byte corruptions must be judged
		// as x509 judges them.
		for i := 0; i < len(der) && i < 4096; i++ {
			compareWithGo(t, der[:i])
			c := bytes.Clone(der)
			c[i] ^= 0x80
			compareWithGo(t, c)
			c[i] ^= 0x81
			compareWithGo(t, c)
		}
	}
}

func TestParseCRLV1IsAcceptedUnlikeGo(t *testing.T) {
	root := tt.NewRoot(t, "v1")
	der, err := tt.Craft(root, tt.RawCRL{V1: true, Entries: []tt.RawEntry{{SerialInt: big.NewInt(5)}}})
	require.NoError(t, err)
	_, errG := x509.ParseRevocationList(der)
	require.Error(t, errG, "Go refuses v1 CRLs")
	rl, err := parseCRLDER(der)
	require.NoError(t, err)
	require.Equal(t, 1, rl.version)
	require.True(t, rl.set.containsInt(big.NewInt(5)))
}
