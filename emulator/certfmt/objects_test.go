package certfmt

import (
	"encoding/asn1"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/golden"
)

// TestObjectTable regenerates openssl_objects.txt from the installed OpenSSL
// and compares it with the embedded copy. The OIDs are resolved with
// `openssl asn1parse -genconf` rather than read from `openssl list -objects`,
// whose output truncates some OIDs (an off-by-one in its buffer sizing).
func TestObjectTable(t *testing.T) {
	version := opensslVersion(t)
	got := buildObjectTable(t, version)
	if golden.Update() {
		require.NoError(t, os.WriteFile("openssl_objects.txt", []byte(got), 0o644))
	}
	wantHeader, _, _ := strings.Cut(openSSLObjects, "\n")
	gotHeader, _, _ := strings.Cut(got, "\n")
	if wantHeader != gotHeader {
		t.Skipf("installed %s differs from the table's source (%s); run with -update to regenerate", version, wantHeader)
	}
	require.Equal(t, openSSLObjects, got, "openssl_objects.txt is stale: run go test -run TestObjectTable -update")
}

func buildObjectTable(t *testing.T, version string) string {
	t.Helper()
	out, err := exec.Command("openssl", "list", "-objects").Output()
	require.NoError(t, err)
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sn, _, ok := strings.Cut(line, " = ")
		require.True(t, ok, "unexpected line %q", line)
		names = append(names, sn)
	}
	require.Greater(t, len(names), 1000, "openssl list -objects returned too few objects")

	var conf strings.Builder
	conf.WriteString("asn1=SEQUENCE:objects\n[objects]\n")
	for i, sn := range names {
		fmt.Fprintf(&conf, "o%d=OID:%s\n", i, sn)
	}
	dir := t.TempDir()
	confFile, derFile := filepath.Join(dir, "objects.cnf"), filepath.Join(dir, "objects.der")
	require.NoError(t, os.WriteFile(confFile, []byte(conf.String()), 0o600))
	cmd := exec.Command("openssl", "asn1parse", "-genconf", confFile, "-noout", "-out", derFile)
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "openssl asn1parse: %s", msg)
	der, err := os.ReadFile(derFile)
	require.NoError(t, err)
	var oids []asn1.ObjectIdentifier
	rest, err := asn1.Unmarshal(der, &oids)
	require.NoError(t, err)
	require.Empty(t, rest)
	require.Len(t, oids, len(names))

	var b strings.Builder
	fmt.Fprintf(&b, "# %s: OID<TAB>short name, from `openssl list -objects`\n", version)
	seen := map[string]string{}
	for i, oid := range oids {
		s := oid.String()
		if prev, dup := seen[s]; dup {
			t.Logf("OID %s is both %s and %s; keeping %s", s, prev, names[i], prev)
			continue
		}
		seen[s] = names[i]
		fmt.Fprintf(&b, "%s\t%s\n", s, names[i])
	}
	return b.String()
}

func TestEncodeOID(t *testing.T) {
	for _, tc := range []struct {
		dotted string
		want   []byte
		ok     bool
	}{
		{"2.5.4.3", []byte{0x55, 0x04, 0x03}, true},
		{"1.2.840.113549.1.9.1", []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01}, true},
		{"2.999.1", []byte{0x88, 0x37, 0x01}, true},
		{"1.40", nil, false},
		{"3.1", nil, false},
		{"1", nil, false},
		{"1.x", nil, false},
	} {
		got, ok := encodeOID(tc.dotted)
		require.Equal(t, tc.ok, ok, tc.dotted)
		require.Equal(t, tc.want, got, tc.dotted)
	}
}

func TestShortNames(t *testing.T) {
	m := shortNames()
	for dotted, want := range map[string]string{
		"2.5.4.3":                     "CN",
		"2.5.4.97":                    "organizationIdentifier",
		"1.2.840.113549.1.9.1":        "emailAddress",
		"0.9.2342.19200300.100.1.25":  "DC",
		"2.5.4.5":                     "serialNumber",
		"2.5.4.42":                    "GN",
		"2.5.4.4":                     "SN",
		"0.9.2342.19200300.100.1.1":   "UID",
		"1.3.6.1.4.1.311.60.2.1.3":    "jurisdictionC",
		"1.2.804.2.1.1.1.1.3.1.1.2.0": "uacurve0",
	} {
		der, ok := encodeOID(dotted)
		require.True(t, ok)
		require.Equal(t, want, m[string(der)], dotted)
	}
}
