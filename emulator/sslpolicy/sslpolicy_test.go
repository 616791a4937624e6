package sslpolicy

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// protocolsBySpec is the "Protocols by policy" table of alb-behaviour §5, written out
// again here so that the policy table is checked against the reference.
var protocolsBySpec = map[string]string{
	"ELBSecurityPolicy-TLS13-1-3-2021-06":           "TLSv1.3",
	"ELBSecurityPolicy-TLS13-1-2-2021-06":           "TLSv1.3 TLSv1.2",
	"ELBSecurityPolicy-TLS13-1-2-Res-2021-06":       "TLSv1.3 TLSv1.2",
	"ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06":      "TLSv1.3 TLSv1.2",
	"ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06":      "TLSv1.3 TLSv1.2",
	"ELBSecurityPolicy-TLS13-1-1-2021-06":           "TLSv1.3 TLSv1.2 TLSv1.1",
	"ELBSecurityPolicy-TLS13-1-0-2021-06":           "TLSv1.3 TLSv1.2 TLSv1.1 TLSv1",
	"ELBSecurityPolicy-TLS-1-2-Ext-2018-06":         "TLSv1.2",
	"ELBSecurityPolicy-TLS-1-2-2017-01":             "TLSv1.2",
	"ELBSecurityPolicy-TLS-1-1-2017-01":             "TLSv1.2 TLSv1.1",
	"ELBSecurityPolicy-2016-08":                     "TLSv1.2 TLSv1.1 TLSv1",
	"ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04":      "TLSv1.3",
	"ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04":      "TLSv1.3 TLSv1.2",
	"ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04":  "TLSv1.3 TLSv1.2",
	"ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04": "TLSv1.3 TLSv1.2",
	"ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04": "TLSv1.3 TLSv1.2",
	"ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04": "TLSv1.3 TLSv1.2",
	"ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04":      "TLSv1.3 TLSv1.2 TLSv1.1",
	"ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04":      "TLSv1.3 TLSv1.2 TLSv1.1 TLSv1",
	"ELBSecurityPolicy-FS-1-2-Res-2020-10":          "TLSv1.2",
	"ELBSecurityPolicy-FS-1-2-Res-2019-08":          "TLSv1.2",
	"ELBSecurityPolicy-FS-1-2-2019-08":              "TLSv1.2",
	"ELBSecurityPolicy-FS-1-1-2019-08":              "TLSv1.2 TLSv1.1",
	"ELBSecurityPolicy-FS-2018-06":                  "TLSv1.2 TLSv1.1 TLSv1",
}

// counterpart maps each PQ policy to the policy whose ciphers it shares (alb-behaviour §5 [INF]).
var counterpart = map[string]string{
	"ELBSecurityPolicy-TLS13-1-3-PQ-2025-09":           "ELBSecurityPolicy-TLS13-1-3-2021-06",
	"ELBSecurityPolicy-TLS13-1-2-PQ-2025-09":           "ELBSecurityPolicy-TLS13-1-2-2021-06",
	"ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09":       "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
	"ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09":      "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
	"ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09":      "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
	"ELBSecurityPolicy-TLS13-1-0-PQ-2025-09":           "ELBSecurityPolicy-TLS13-1-0-2021-06",
	"ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09":      "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
	"ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09":      "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
	"ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09":  "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
	"ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09": "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04",
	"ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09": "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04",
	"ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09": "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04",
	"ELBSecurityPolicy-TLS13-1-0-FIPS-PQ-2025-09":      "ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04",
}

func TestPolicyTable(t *testing.T) {
	names := Names()
	assert.Len(t, names, 47)
	seen := map[string]bool{}
	for _, n := range names {
		assert.False(t, seen[n], "duplicate %s", n)
		seen[n] = true
		p, err := Lookup(n)
		require.NoError(t, err)
		assert.NotEmpty(t, p.Note, n)
		assert.NotEmpty(t, p.Groups, n)
		for _, c := range p.Ciphers {
			_, ok := CipherID(c)
			assert.True(t, ok, "%s: unknown cipher %s", n, c)
		}
		if p.MaxVersion == tls.VersionTLS13 {
			assert.NotEmpty(t, p.TLS13Ciphers, n)
		} else {
			assert.Empty(t, p.TLS13Ciphers, n)
		}
		if p.MinVersion < tls.VersionTLS13 {
			assert.NotEmpty(t, p.Ciphers, n)
		}
		if p.FIPS {
			assert.NotContains(t, p.TLS13Ciphers, "TLS_CHACHA20_POLY1305_SHA256", n)
			assert.NotContains(t, p.Groups, tls.X25519, n)
		}
		for _, g := range p.Groups {
			isHybrid := g == tls.X25519MLKEM768 || g == tls.SecP256r1MLKEM768 || g == tls.SecP384r1MLKEM1024
			if isHybrid {
				assert.True(t, p.PQ, "%s: hybrid group in a non-PQ policy", n)
			}
		}
	}
	for name, want := range protocolsBySpec {
		p, err := Lookup(name)
		require.NoError(t, err)
		assert.Equal(t, want, strings.Join(p.Protocols(), " "), name)
	}
	for pq, base := range counterpart {
		p, err := Lookup(pq)
		require.NoError(t, err)
		b, err := Lookup(base)
		require.NoError(t, err)
		assert.Equal(t, b.Ciphers, p.Ciphers, pq)
		assert.Equal(t, b.TLS13Ciphers, p.TLS13Ciphers, pq)
		assert.Equal(t, b.MinVersion, p.MinVersion, pq)
		assert.Subset(t, p.Groups, []tls.CurveID{tls.X25519MLKEM768, tls.SecP256r1MLKEM768, tls.SecP384r1MLKEM1024}, pq)
	}
	assert.Contains(t, names, Default)
}

func TestCipherCountsBySpec(t *testing.T) {
	// Counts from alb-behaviour §5 "Ciphers by policy", TLS 1.2-and-below suites only.
	tests := map[string]int{
		"ELBSecurityPolicy-2016-08":                     18,
		"ELBSecurityPolicy-TLS-1-2-2017-01":             12,
		"ELBSecurityPolicy-TLS13-1-2-2021-06":           8,
		"ELBSecurityPolicy-TLS13-1-2-Res-2021-06":       4,
		"ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06":      12,
		"ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04": 12,
		"ELBSecurityPolicy-FS-1-2-Res-2020-10":          4,
		"ELBSecurityPolicy-FS-1-2-Res-2019-08":          8,
		"ELBSecurityPolicy-FS-2018-06":                  12,
		"ELBSecurityPolicy-TLS13-1-3-2021-06":           0,
	}
	for name, n := range tests {
		p, err := Lookup(name)
		require.NoError(t, err)
		assert.Len(t, p.Ciphers, n, name)
	}
	// TLS-1-2-2017-01 is 2016-08 without CBC-SHA1 (alb-behaviour §5).
	p, _ := Lookup("ELBSecurityPolicy-TLS-1-2-2017-01")
	for _, c := range p.Ciphers {
		assert.NotRegexp(t, `-SHA$`, c)
	}
	// Ext0-FIPS has no RSA key-transport suite (alb-behaviour §5).
	p, _ = Lookup("ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04")
	for _, c := range p.Ciphers {
		assert.Regexp(t, `^ECDHE-`, c)
	}
}

func TestLookupUnknown(t *testing.T) {
	tests := []struct{ in, suggest string }{
		{"ELBSecurityPolicy-TLS13-1-2-2021-6", "ELBSecurityPolicy-TLS13-1-2-2021-06"},
		{"elbsecuritypolicy-2016-08", "ELBSecurityPolicy-2016-08"},
		{"ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025", "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := Lookup(tt.in)
			require.Error(t, err)
			assert.Nil(t, p)
			assert.Contains(t, err.Error(), `did you mean "`+tt.suggest+`"`)
			assert.Contains(t, err.Error(), "ELBSecurityPolicy-FS-2018-06") // lists them all
		})
	}
}

func TestLookupReturnsACopy(t *testing.T) {
	p, err := Lookup(Default)
	require.NoError(t, err)
	p.Groups[0] = tls.X25519
	p.Ciphers[0] = "changed"
	q, err := Lookup(Default)
	require.NoError(t, err)
	assert.Equal(t, tls.CurveP256, q.Groups[0])
	assert.Equal(t, "ECDHE-ECDSA-AES128-GCM-SHA256", q.Ciphers[0])
}

func TestUnsupportedAndTLS13Gaps(t *testing.T) {
	p, _ := Lookup("ELBSecurityPolicy-2016-08")
	assert.Equal(t, []string{"ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384", "AES256-SHA256"}, p.Unsupported())
	assert.Nil(t, p.UnrestrictedTLS13())

	p, _ = Lookup("ELBSecurityPolicy-TLS13-1-2-Res-2021-06")
	assert.Empty(t, p.Unsupported())
	assert.Empty(t, p.UnrestrictedTLS13())

	p, _ = Lookup("ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04")
	assert.Equal(t, []string{"TLS_CHACHA20_POLY1305_SHA256"}, p.UnrestrictedTLS13())

	p, _ = Lookup("ELBSecurityPolicy-TLS13-1-2-RFC9151-FIPS-2023-07")
	assert.Equal(t, []string{"TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"}, p.UnrestrictedTLS13())
}

func TestApply(t *testing.T) {
	p, _ := Lookup("ELBSecurityPolicy-TLS-1-2-2017-01")
	var cfg tls.Config
	p.Apply(&cfg)
	assert.Equal(t, uint16(tls.VersionTLS12), cfg.MinVersion)
	assert.Equal(t, uint16(tls.VersionTLS12), cfg.MaxVersion)
	// 12 suites minus the two Go lacks (ECDHE-*-AES256-SHA384) and AES256-SHA256.
	assert.Equal(t, []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_128_CBC_SHA256,
		tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	}, cfg.CipherSuites)
	assert.Equal(t, []tls.CurveID{tls.CurveP256, tls.CurveP384}, cfg.CurvePreferences)

	p, _ = Lookup("ELBSecurityPolicy-TLS13-1-3-2021-06")
	p.Apply(&cfg)
	assert.Equal(t, uint16(tls.VersionTLS13), cfg.MinVersion)
	assert.NotNil(t, cfg.CipherSuites)
	assert.Empty(t, cfg.CipherSuites)
}
