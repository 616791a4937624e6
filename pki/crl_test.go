package pki_test

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

func TestCRL(t *testing.T) {
	now := time.Date(2030, 3, 4, 5, 6, 7, 0, time.UTC)
	ca := pkitest.NewCA(t, pkitest.WithClock(func() time.Time { return now }))
	a, b := pkitest.Client(t, ca, "a"), pkitest.Client(t, ca, "b")
	for _, tc := range []struct {
		name      string
		req       pki.CRLRequest
		wantNum   int64
		wantThis  time.Time
		wantNext  time.Time
		wantCount int
		wantErr   string
	}{
		{name: "defaults", req: pki.CRLRequest{Clock: func() time.Time { return now }},
			wantNum: 1, wantThis: now, wantNext: now.Add(pki.DefaultCRLLifetime)},
		{name: "number and entries", req: pki.CRLRequest{Number: big.NewInt(7), ThisUpdate: now, Lifetime: time.Hour,
			Revoked: []pki.Revocation{{Serial: a.Cert.SerialNumber}, {Serial: b.Cert.SerialNumber, Reason: 1, RevokedAt: now.Add(-time.Hour)}}},
			wantNum: 7, wantThis: now, wantNext: now.Add(time.Hour), wantCount: 2},
		{name: "stale CRL is allowed", req: pki.CRLRequest{ThisUpdate: now.Add(-60 * 24 * time.Hour), NextUpdate: now.Add(-30 * 24 * time.Hour)},
			wantNum: 1, wantThis: now.Add(-60 * 24 * time.Hour), wantNext: now.Add(-30 * 24 * time.Hour)},
		{name: "negative serial", req: pki.CRLRequest{Revoked: []pki.Revocation{{Serial: big.NewInt(-5)}}}, wantErr: "must be a non-negative integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			der, err := ca.CRL(tc.req)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			crl, format, err := pki.ParseCRL(der)
			require.NoError(t, err)
			assert.Equal(t, pki.FormatDER, format)
			require.NoError(t, crl.CheckSignatureFrom(ca.Cert))
			assert.Equal(t, tc.wantNum, crl.Number.Int64())
			assert.Equal(t, tc.wantThis, crl.ThisUpdate)
			assert.Equal(t, tc.wantNext, crl.NextUpdate)
			assert.Len(t, crl.RevokedCertificateEntries, tc.wantCount)
			assert.Equal(t, ca.Cert.RawSubject, crl.RawIssuer)
		})
	}
}

func TestCRLExtensions(t *testing.T) {
	ca := pkitest.NewCA(t)
	oid := []int{1, 3, 6, 1, 4, 1, 32473, 9}
	der, err := ca.CRL(pki.CRLRequest{Extensions: []pkix.Extension{{Id: oid, Critical: true, Value: []byte{5, 0}}}})
	require.NoError(t, err)
	crl, _, err := pki.ParseCRL(der)
	require.NoError(t, err)
	var found bool
	for _, e := range crl.Extensions {
		found = found || (e.Id.Equal(oid) && e.Critical)
	}
	assert.True(t, found, "the critical extension is in the CRL")
}

func TestConvertCRL(t *testing.T) {
	ca := pkitest.NewCA(t)
	der := pkitest.CRL(t, ca, pkitest.Client(t, ca, "x"))
	pemCRL := pki.EncodeCRLPEM(der)
	certDER := ca.Cert.Raw
	for _, tc := range []struct {
		name    string
		in      []byte
		want    []byte
		wantTo  pki.Format
		wantErr string
	}{
		{name: "DER to PEM", in: der, want: pemCRL, wantTo: pki.FormatPEM},
		{name: "PEM to DER", in: pemCRL, want: der, wantTo: pki.FormatDER},
		{name: "PEM with surrounding blank lines", in: append(append([]byte("\n\n"), pemCRL...), '\n'), want: der, wantTo: pki.FormatDER},
		{name: "CRLF PEM", in: bytes.ReplaceAll(pemCRL, []byte("\n"), []byte("\r\n")), want: der, wantTo: pki.FormatDER},
		{name: "empty", in: nil, wantErr: "empty input"},
		{name: "garbage", in: []byte("hello world"), wantErr: "not a CRL: neither PEM"},
		{name: "truncated DER", in: der[:len(der)/2], wantErr: "invalid DER CRL (truncated or corrupt?)"},
		{name: "DER with trailing bytes", in: append(append([]byte{}, der...), 0, 0), wantErr: "2 bytes of trailing data"},
		{name: "DER certificate", in: certDER, wantErr: "this is a DER certificate, not a CRL"},
		{name: "PEM certificate", in: ca.CertPEM, wantErr: `PEM block is "CERTIFICATE", want "X509 CRL": this is a certificate`},
		{name: "PEM private key", in: ca.KeyPEM, wantErr: "this is a private key"},
		{name: "two CRLs in one file", in: append(append([]byte{}, pemCRL...), pemCRL...), wantErr: "a CRL file holds exactly one CRL"},
		{name: "PEM without END", in: pemCRL[:len(pemCRL)-20], wantErr: "malformed PEM"},
		{name: "PEM holding garbage", in: pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: []byte{0x30, 0x03, 1, 2, 3}}), wantErr: "invalid DER CRL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, to, err := pki.ConvertCRL(tc.in)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				assert.Nil(t, out)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantTo, to)
			assert.Equal(t, tc.want, out)
		})
	}
}
