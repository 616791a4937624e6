package sslpolicy

import (
	"crypto/tls"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestS2NCertificateRequest pins the messages docs/ssl-policies.md shows:
// the 45-byte TLS 1.3 CertificateRequest observed on a real ALB
// (alb-behaviour §2.3) rebuilt from s2n's 16-scheme list, and the TLS 1.2
// ones of s2n's ELB lists.
func TestS2NCertificateRequest(t *testing.T) {
	tests := []struct {
		name    string
		version uint16
		schemes []tls.SignatureScheme
		want    string
	}{
		{"TLS 1.3, 20200207", tls.VersionTLS13, S2N20200207,
			"0d000029000026000d002200200809080a080b0804080508060401050106010301040305030603030302010203"},
		{"TLS 1.2, 20140601", tls.VersionTLS12, S2N20140601,
			"0d00001b020140001404010501060103010403050306030303020102030000"},
		{"TLS 1.0, no list", tls.VersionTLS10, S2N20140601, "0d0000050201400000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := S2NCertificateRequest(tt.version, tt.schemes)
			assert.Equal(t, tt.want, hex.EncodeToString(got))
		})
	}
	assert.Len(t, S2NCertificateRequest(tls.VersionTLS13, S2N20200207), 45, "the size observed on ALB")
}

func TestS2NSignatureSchemes(t *testing.T) {
	tests := []struct {
		policy string
		want   []tls.SignatureScheme
		ok     bool
	}{
		{"ELBSecurityPolicy-2016-08", S2N20140601, true},
		{"ELBSecurityPolicy-TLS-1-2-Ext-2018-06", S2N20140601, true},
		{"ELBSecurityPolicy-FS-1-2-Res-2020-10", S2N20140601, true},
		{"ELBSecurityPolicy-TLS13-1-2-2021-06", S2N20200207, true},
		{"ELBSecurityPolicy-TLS13-1-3-2021-06", S2N20200207, true},
		{"ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04", nil, false},
		{"ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", nil, false},
	}
	for _, tt := range tests {
		got, ok := S2NSignatureSchemes(tt.policy)
		assert.Equal(t, tt.ok, ok, tt.policy)
		assert.Equal(t, tt.want, got, tt.policy)
	}
	assert.Len(t, S2N20140601, 10)
	assert.Len(t, S2N20200207, 16)
}
