package pki

// Parsers for the values people type when they issue a certificate (the
// flags of `albmtls pki issue`): validity bounds, key usages, OIDs.

import (
	"crypto/x509"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// KeyTypeNames lists the key types, for flag help and error messages.
func KeyTypeNames() string {
	var names []string
	for _, kt := range KeyTypes() {
		names = append(names, string(kt))
	}
	return strings.Join(names, ", ")
}

// ParseTime reads a validity bound as users write it on the command line:
// RFC 3339, a date, "now", or an offset from now (-48h, +90m, +30d); ""
// means unset (the zero time).
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return time.Time{}, nil
	case s == "now":
		return now, nil
	case strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-"):
		if days, ok := strings.CutSuffix(s, "d"); ok {
			n, err := strconv.Atoi(days)
			if err != nil {
				return time.Time{}, fmt.Errorf("%q: want a whole number of days such as -30d", s)
			}
			return now.Add(time.Duration(n) * 24 * time.Hour), nil
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q: want an offset such as -48h, +90m or +30d", s)
		}
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q: want RFC 3339 (2026-01-02T15:04:05Z), a date (2026-01-02), now, or an offset (-48h, +30d)", s)
}

var extKeyUsages = []struct {
	name string
	eku  x509.ExtKeyUsage
}{
	{"client", x509.ExtKeyUsageClientAuth},
	{"server", x509.ExtKeyUsageServerAuth},
	{"any", x509.ExtKeyUsageAny},
	{"code-signing", x509.ExtKeyUsageCodeSigning},
	{"email-protection", x509.ExtKeyUsageEmailProtection},
	{"time-stamping", x509.ExtKeyUsageTimeStamping},
	{"ocsp-signing", x509.ExtKeyUsageOCSPSigning},
}

// ExtKeyUsageNames are the names ParseExtKeyUsages accepts.
func ExtKeyUsageNames() []string {
	names := []string{"none"}
	for _, e := range extKeyUsages {
		names = append(names, e.name)
	}
	return names
}

// ParseExtKeyUsages reads extended key usage names (client, server, …);
// "none" alone gives a certificate without the EKU extension.
func ParseExtKeyUsages(values []string) ([]x509.ExtKeyUsage, error) {
	out := []x509.ExtKeyUsage{}
	for _, v := range values {
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "none" {
			if len(values) > 1 {
				return nil, fmt.Errorf("none cannot be combined with other values")
			}
			return out, nil
		}
		found := false
		for _, e := range extKeyUsages {
			if e.name == v {
				out = append(out, e.eku)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown extended key usage %q: valid values are %s", v, strings.Join(ExtKeyUsageNames(), ", "))
		}
	}
	return out, nil
}

var keyUsages = []struct {
	name string
	ku   x509.KeyUsage
}{
	{"digital-signature", x509.KeyUsageDigitalSignature},
	{"content-commitment", x509.KeyUsageContentCommitment},
	{"key-encipherment", x509.KeyUsageKeyEncipherment},
	{"data-encipherment", x509.KeyUsageDataEncipherment},
	{"key-agreement", x509.KeyUsageKeyAgreement},
	{"cert-sign", x509.KeyUsageCertSign},
	{"crl-sign", x509.KeyUsageCRLSign},
}

// KeyUsageNames are the names ParseKeyUsages accepts.
func KeyUsageNames() []string {
	var names []string
	for _, k := range keyUsages {
		names = append(names, k.name)
	}
	return names
}

// ParseKeyUsages reads key usage names (digital-signature, …) into bits.
func ParseKeyUsages(values []string) (x509.KeyUsage, error) {
	var ku x509.KeyUsage
	for _, v := range values {
		v = strings.ToLower(strings.TrimSpace(v))
		found := false
		for _, k := range keyUsages {
			if k.name == v {
				ku |= k.ku
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown key usage %q: valid values are %s", v, strings.Join(KeyUsageNames(), ", "))
		}
	}
	return ku, nil
}

// ParseOID reads a dotted object identifier such as 2.5.4.3.
func ParseOID(s string) ([]int, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return nil, fmt.Errorf("OID %q needs at least two arcs", s)
	}
	oid := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("OID %q: arc %q is not a non-negative number", s, p)
		}
		oid[i] = n
	}
	return oid, nil
}
