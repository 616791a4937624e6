package albheader

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"math/big"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	dn "github.com/albmtls/albmtls/internal/dntest"
)

// Attribute type OIDs of the test names.
const (
	oidCN     = "2.5.4.3"
	oidSN     = "2.5.4.4"
	oidSerial = "2.5.4.5"
	oidC      = "2.5.4.6"
	oidO      = "2.5.4.10"
	oidOU     = "2.5.4.11"
	oidGN     = "2.5.4.42"
	oidOrgID  = "2.5.4.97"
	oidEmail  = "1.2.840.113549.1.9.1"
	oidDC     = "0.9.2342.19200300.100.1.25"
	oidCustom = "1.3.6.1.4.1.55555.1"
)

// Awkward names for the golden header sets: commas, plus signs, quotes, a
// leading '#' and leading and trailing spaces, non-ASCII in UTF8String and
// BMPString, multi-valued RDNs, emailAddress, serialNumber,
// organizationIdentifier, DC and an OID OpenSSL does not know.
var (
	rootName = dn.Name(dn.RDN(dn.Printable(oidC, "US")), dn.RDN(dn.Printable(oidO, "Example, Inc.")), dn.RDN(dn.UTF8(oidCN, "Example Root CA")))
	caName   = dn.Name(
		dn.RDN(dn.IA5(oidDC, "com")), dn.RDN(dn.IA5(oidDC, "example")),
		dn.RDN(dn.Printable(oidO, "Example, Inc.")),
		dn.RDN(dn.UTF8(oidOU, " PKI+Ops ")),
		dn.RDN(dn.Printable(oidOrgID, "NTREE-10747013"), dn.UTF8(oidCN, `Issuing CA "2"`)),
	)
	clientName = dn.Name(
		dn.RDN(dn.Printable(oidC, "EE")),
		dn.RDN(dn.UTF8(oidO, "#hash; <Ltd>")),
		dn.RDN(dn.BMP(oidOU, "Développement")),
		dn.RDN(dn.UTF8(oidCN, "MÄNNIK,MARILIIS,47101010033")),
		dn.RDN(dn.UTF8(oidSN, "MÄNNIK"), dn.UTF8(oidGN, "MARILIIS")),
		dn.RDN(dn.Printable(oidSerial, "PNOEE-47101010033")),
		dn.RDN(dn.IA5(oidEmail, "user+tag@example.com")),
		dn.RDN(dn.UTF8(oidCustom, "custom \\ value ")),
	)
)

// testPKI is a root, an intermediate and a client certificate.
type testPKI struct {
	root, intermediate, leaf *x509.Certificate
}

// newPKI builds the PKI. With deterministic randomness (SetGlobalRandom) the
// certificates are the same on every run, so header values can be golden.
func newPKI(tb testing.TB) *testPKI {
	tb.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(tb, err)
		return k
	}
	rootKey, caKey, leafKey := key(), key(), key()
	notBefore := time.Date(2025, 3, 2, 7, 9, 42, 0, time.UTC)
	mk := func(serial *big.Int, subject, issuer []byte, ca bool, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey) *x509.Certificate {
		tmpl := &x509.Certificate{
			SerialNumber: serial, RawSubject: subject,
			NotBefore: notBefore, NotAfter: notBefore.AddDate(2, 0, 0),
			BasicConstraintsValid: true, IsCA: ca,
		}
		if ca {
			tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		} else {
			tmpl.KeyUsage = x509.KeyUsageDigitalSignature
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, &x509.Certificate{RawSubject: issuer}, pub, signer)
		require.NoError(tb, err)
		c, err := x509.ParseCertificate(der)
		require.NoError(tb, err)
		return c
	}
	serial, _ := new(big.Int).SetString("10F385C996E1A33484A4E2C62497B5A7", 16)
	return &testPKI{
		root:         mk(big.NewInt(1), rootName, rootName, true, &rootKey.PublicKey, rootKey),
		intermediate: mk(big.NewInt(0x3A5B1), caName, rootName, true, &caKey.PublicKey, rootKey),
		leaf:         mk(serial, clientName, caName, false, &leafKey.PublicKey, caKey),
	}
}

// parseRequest reads a raw HTTP/1.1 request the way a listener does, so
// header names are canonicalized as in production.
func parseRequest(tb testing.TB, raw string) *http.Request {
	tb.Helper()
	raw = strings.ReplaceAll(strings.TrimLeft(raw, "\n"), "\n", "\r\n")
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	require.NoError(tb, err)
	return req
}

// dumpHeader lists a header sorted by name, one line per value.
func dumpHeader(h http.Header) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range h[k] {
			b.WriteString(k + ": " + v + "\n")
		}
	}
	return b.String()
}

// fixedRand returns a reader of the given hex digits, for trace ids.
func fixedRand(hexDigits string) *bytes.Reader {
	b, err := hex.DecodeString(hexDigits)
	if err != nil {
		panic(err)
	}
	return bytes.NewReader(b)
}
