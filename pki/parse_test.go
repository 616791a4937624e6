package pki

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTime(t *testing.T) {
	now := time.Date(2030, 1, 10, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in      string
		want    time.Time
		wantErr string
	}{
		{in: "", want: time.Time{}},
		{in: "now", want: now},
		{in: "-48h", want: now.Add(-48 * time.Hour)},
		{in: "+90m", want: now.Add(90 * time.Minute)},
		{in: "+30d", want: now.Add(30 * 24 * time.Hour)},
		{in: "-1d", want: now.Add(-24 * time.Hour)},
		{in: "2031-02-03T04:05:06Z", want: time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)},
		{in: "2031-02-03", want: time.Date(2031, 2, 3, 0, 0, 0, 0, time.UTC)},
		{in: "+xd", wantErr: "whole number of days"},
		{in: "-1y", wantErr: "want an offset"},
		{in: "tomorrow", wantErr: "want RFC 3339"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTime(tc.in, now)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseUsagesAndOIDs(t *testing.T) {
	eku, err := ParseExtKeyUsages([]string{"client", "Server"})
	require.NoError(t, err)
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}, eku)
	eku, err = ParseExtKeyUsages([]string{"none"})
	require.NoError(t, err)
	assert.Empty(t, eku)
	_, err = ParseExtKeyUsages([]string{"none", "client"})
	require.ErrorContains(t, err, "none cannot be combined")
	_, err = ParseExtKeyUsages([]string{"clinet"})
	require.ErrorContains(t, err, "valid values are none, client, server")

	ku, err := ParseKeyUsages([]string{"digital-signature", "key-agreement"})
	require.NoError(t, err)
	assert.Equal(t, x509.KeyUsageDigitalSignature|x509.KeyUsageKeyAgreement, ku)
	_, err = ParseKeyUsages([]string{"sign"})
	require.ErrorContains(t, err, "valid values are digital-signature")

	oid, err := ParseOID("0.9.2342.19200300.100.1.1")
	require.NoError(t, err)
	assert.Equal(t, []int{0, 9, 2342, 19200300, 100, 1, 1}, oid)
	for _, bad := range []string{"2", "2.x", "2.-1"} {
		_, err := ParseOID(bad)
		assert.Error(t, err, bad)
	}
	assert.Contains(t, KeyTypeNames(), "ecdsa-p256")
}
