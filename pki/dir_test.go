package pki_test

import (
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/golden"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

func TestWriteDirLayout(t *testing.T) {
	dir := pkitest.Dir(t)
	want := []string{
		"manifest.json",
		"ca/root.pem", "ca/root-key.pem", "ca/intermediate.pem", "ca/intermediate-key.pem", "ca/bundle.pem",
		"crl/intermediate.crl", "crl/intermediate.crl.pem", "crl/root.crl", "crl/root.crl.pem",
		"server/server.pem", "server/server-key.pem", "server/server-chain.pem",
	}
	for _, name := range pkitest.Standard(t).ClientNames() {
		want = append(want, "clients/"+name+".pem", "clients/"+name+"-key.pem", "clients/"+name+"-chain.pem")
	}
	for _, f := range want {
		fi, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
		if strings.HasSuffix(f, "-key.pem") {
			assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "%s is private", f)
		}
	}
	// Every file the manifest lists exists.
	s, err := pki.Load(dir)
	require.NoError(t, err)
	for _, a := range s.Manifest().Artefacts {
		for _, f := range []string{a.Files.Cert, a.Files.Key, a.Files.Chain, a.Files.DER, a.Files.PEM} {
			if f != "" {
				_, err := os.Stat(filepath.Join(dir, f))
				assert.NoError(t, err, "%s lists %s", a.Name, f)
			}
		}
	}
	// Nothing is left next to the directory.
	siblings, err := os.ReadDir(filepath.Dir(dir))
	require.NoError(t, err)
	require.Len(t, siblings, 1, "no temporary directories left behind")
}

func TestLoadRoundTrip(t *testing.T) {
	orig := pkitest.Standard(t)
	dir := filepath.Join(t.TempDir(), "pki")
	require.NoError(t, orig.WriteDir(dir, false))
	assert.Equal(t, dir, orig.Dir())
	loaded, err := pki.Load(dir)
	require.NoError(t, err)
	assert.Equal(t, orig.Manifest(), loaded.Manifest())
	assert.Equal(t, orig.Bundle(), loaded.Bundle())
	assert.Equal(t, orig.CRL("root"), loaded.CRL("root"))
	assert.Equal(t, orig.CANames(), loaded.CANames())
	for _, name := range orig.ClientNames() {
		a, _ := orig.Client(name)
		b, ok := loaded.Client(name)
		require.True(t, ok, name)
		assert.Equal(t, a.Chain, b.Chain, name)
		assert.Equal(t, a.KeyPEM, b.KeyPEM, name)
		assert.Equal(t, a.Issuer() == nil, b.Issuer() == nil, name)
	}
	_, ok := loaded.Client("server")
	assert.False(t, ok, "the server is not a client")
	assert.Nil(t, loaded.CRL("deep-ca-1"))
}

func TestWriteDirRefusesToOverwrite(t *testing.T) {
	set := pkitest.Standard(t)
	dir := pkitest.Dir(t)
	before, err := os.ReadFile(filepath.Join(dir, "ca/root.pem"))
	require.NoError(t, err)

	require.NoError(t, pki.CheckOutputDir(filepath.Join(t.TempDir(), "new"), false))
	err = set.WriteDir(dir, false)
	require.ErrorContains(t, err, "already holds a PKI")

	fresh, err := pki.Generate(pki.GenerateOptions{})
	require.NoError(t, err)
	require.NoError(t, fresh.WriteDir(dir, true))
	after, err := os.ReadFile(filepath.Join(dir, "ca/root.pem"))
	require.NoError(t, err)
	assert.NotEqual(t, before, after, "force replaced the PKI")
	_, err = pki.Load(dir)
	require.NoError(t, err)

	other := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o644))
	err = set.WriteDir(other, true)
	require.ErrorContains(t, err, `does not look like a PKI (it holds "notes.txt")`)
	_, err = os.Stat(filepath.Join(other, "notes.txt"))
	require.NoError(t, err, "a foreign directory is never replaced")

	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	require.ErrorContains(t, set.WriteDir(file, true), "is not a directory")

	empty := t.TempDir()
	require.NoError(t, set.WriteDir(empty, false), "an empty directory is fine")
}

// TestWriteDirDot replaces the PKI in the current directory: the
// temporary directory must go next to it, not inside it.
func TestWriteDirDot(t *testing.T) {
	dir := pkitest.Dir(t)
	t.Chdir(dir)
	fresh, err := pki.Generate(pki.GenerateOptions{})
	require.NoError(t, err)
	require.NoError(t, fresh.WriteDir(".", true))
	loaded, err := pki.Load(dir)
	require.NoError(t, err)
	assert.Equal(t, fresh.Bundle(), loaded.Bundle(), "the new PKI replaced the old one")
	assert.NotEqual(t, pkitest.Standard(t).Bundle(), loaded.Bundle())
	siblings, err := os.ReadDir(filepath.Dir(dir))
	require.NoError(t, err)
	assert.Len(t, siblings, 1, "no temporary directories left behind")
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		damage  func(t *testing.T, dir string)
		wantErr string
	}{
		{"missing directory", func(t *testing.T, dir string) { require.NoError(t, os.RemoveAll(dir)) }, "no such file or directory"},
		{"half-written: no manifest", func(t *testing.T, dir string) { require.NoError(t, os.Remove(filepath.Join(dir, "manifest.json"))) },
			"has no manifest.json: it is not a PKI directory, or `albmtls pki init` was interrupted"},
		{"truncated manifest", func(t *testing.T, dir string) { truncate(t, filepath.Join(dir, "manifest.json")) }, "manifest.json: unexpected EOF"},
		{"future format", func(t *testing.T, dir string) { editManifest(t, dir, func(m *pki.Manifest) { m.FormatVersion = 99 }) }, "format_version is 99"},
		{"manifest missing the intermediate", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m *pki.Manifest) { m.Artefacts = m.Artefacts[:1] })
		}, `does not list "intermediate"`},
		{"missing key file", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, "clients/valid-key.pem")))
		},
			"clients/valid-key.pem listed in the manifest"},
		{"garbage certificate", func(t *testing.T, dir string) { write(t, dir, "clients/member.pem", "garbage") }, "clients/member.pem: no PEM CERTIFICATE block found"},
		{"truncated certificate", func(t *testing.T, dir string) { truncate(t, filepath.Join(dir, "ca/intermediate.pem")) }, "ca/intermediate.pem"},
		{"swapped key", func(t *testing.T, dir string) { copyFile(t, dir, "clients/outsider-key.pem", "clients/member-key.pem") },
			"clients/member-key.pem does not match the public key of clients/member.pem"},
		{"wrong chain", func(t *testing.T, dir string) {
			copyFile(t, dir, "clients/outsider-chain.pem", "clients/member-chain.pem")
		},
			"clients/member-chain.pem does not start with the certificate in clients/member.pem"},
		{"wrong issuer", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m *pki.Manifest) {
				for i := range m.Artefacts {
					if m.Artefacts[i].Name == "valid" {
						m.Artefacts[i].Issuer = "root"
					}
				}
			})
		}, `clients/valid.pem is not signed by CA "root"`},
		{"PEM where DER belongs", func(t *testing.T, dir string) { copyFile(t, dir, "crl/root.crl.pem", "crl/root.crl") }, "crl/root.crl holds a PEM CRL"},
		{"CRL PEM out of date", func(t *testing.T, dir string) { copyFile(t, dir, "crl/intermediate.crl.pem", "crl/root.crl.pem") },
			"crl/root.crl.pem is not the PEM form of crl/root.crl"},
		{"stale bundle", func(t *testing.T, dir string) { write(t, dir, "ca/bundle.pem", "") }, "ca/bundle.pem does not hold"},
		{"path escape", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m *pki.Manifest) { m.Artefacts[0].Files.Cert = "../../etc/passwd" })
		}, `invalid file path "../../etc/passwd"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := pkitest.Dir(t)
			tc.damage(t, dir)
			_, err := pki.Load(dir)
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
	_, err := pki.Load(t.TempDir())
	require.ErrorContains(t, err, "has no manifest.json")
}

func TestIssueRevokeSave(t *testing.T) {
	at := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	clock := func() time.Time { return at }
	dir := pkitest.Dir(t)
	set, err := pki.Load(dir, pki.WithClock(clock))
	require.NoError(t, err)

	leaf, err := set.Issue(pki.IssueRequest{Name: "alice", LeafRequest: pki.LeafRequest{Subject: pki.Name{CommonName: "alice", Organization: "Example Corp"}}})
	require.NoError(t, err)
	assert.Equal(t, at.Add(-5*time.Minute), leaf.Cert.NotBefore, "the set's clock is used")
	_, err = set.Issue(pki.IssueRequest{Name: "alice", LeafRequest: pki.LeafRequest{Subject: pki.Name{CommonName: "x"}}})
	require.ErrorContains(t, err, `name "alice" is already used`)
	_, err = set.Issue(pki.IssueRequest{Name: "../evil", LeafRequest: pki.LeafRequest{Subject: pki.Name{CommonName: "x"}}})
	require.ErrorContains(t, err, "invalid client name")
	_, err = set.Issue(pki.IssueRequest{Name: "bob", Issuer: "nope", LeafRequest: pki.LeafRequest{Subject: pki.Name{CommonName: "x"}}})
	require.ErrorContains(t, err, `unknown issuing CA "nope": valid CAs are root, intermediate`)
	_, err = set.Issue(pki.IssueRequest{Name: "deep", LeafRequest: pki.LeafRequest{Subject: pki.Name{CommonName: "x"}}})
	require.ErrorContains(t, err, `name "deep" would overwrite clients/deep-chain.pem of "deep-chain"`)
	_, err = set.Issue(pki.IssueRequest{Name: "deeper", Issuer: "deep-ca-4", LeafRequest: pki.LeafRequest{Subject: pki.Name{CommonName: "deeper"}}})
	require.NoError(t, err)

	require.NoError(t, set.Revoke("alice"))
	require.NoError(t, set.Revoke("alice", "valid"), "revoking twice keeps one entry")
	require.NoError(t, set.Revoke("deeper"), "a CA without a CRL gets one")
	require.ErrorContains(t, set.Revoke("nobody"), `unknown name "nobody": valid names are root, intermediate`)
	require.ErrorContains(t, set.Revoke("root"), "self-signed")
	require.ErrorContains(t, set.Revoke(), "nothing to revoke")
	require.NoError(t, set.Save())

	again, err := pki.Load(dir, pki.WithClock(clock))
	require.NoError(t, err)
	assert.Equal(t, set.Manifest(), again.Manifest())
	m := again.Manifest()
	ic, _ := m.Artefact("intermediate-crl")
	assert.Equal(t, int64(3), ic.CRLNumber, "number 1 at init, +1 per re-issue")
	assert.Equal(t, at, ic.ThisUpdate)
	var names []string
	for _, r := range ic.Revoked {
		names = append(names, r.Name)
	}
	assert.Equal(t, []string{"revoked", "alice", "valid"}, names)
	dc, ok := m.Artefact("deep-ca-4-crl")
	require.True(t, ok)
	assert.Equal(t, int64(1), dc.CRLNumber)
	assert.Contains(t, m.TrustStore.Revocations, "crl/deep-ca-4.crl.pem")
	rc, _ := m.Artefact("root-crl")
	assert.Equal(t, int64(1), rc.CRLNumber, "an untouched CRL keeps its number")
	for name, want := range map[string]string{"alice": "Failed:ClientCertCrlHit", "valid": "Failed:ClientCertCrlHit", "member": "Success"} {
		a, _ := m.Artefact(name)
		assert.Equal(t, want, a.Expect.Verify, name)
	}
	assert.Equal(t, at, m.UpdatedAt)
	_, err = os.Stat(filepath.Join(dir, "clients/alice-chain.pem"))
	require.NoError(t, err)
	crlPEM, err := os.ReadFile(filepath.Join(dir, "crl/intermediate.crl.pem"))
	require.NoError(t, err)
	crl, format, err := pki.ParseCRL(crlPEM)
	require.NoError(t, err)
	assert.Equal(t, pki.FormatPEM, format)
	assert.Equal(t, int64(3), crl.Number.Int64())

	unsaved := pkitest.Standard(t)
	require.ErrorContains(t, unsaved.Save(), "has no directory yet")
}

// TestExpectationsForIssuedCertificates: expectations of `pki issue`
// certificates follow the certificate, not a name.
func TestExpectationsForIssuedCertificates(t *testing.T) {
	set := pkitest.Standard(t)
	now := time.Now()
	for _, tc := range []struct {
		name string
		req  pki.LeafRequest
		want string
	}{
		{"plain", pki.LeafRequest{}, "Success"},
		{"ku-key-encipherment", pki.LeafRequest{KeyUsage: x509.KeyUsageKeyEncipherment}, "Failed:ClientCertPurposeInvalid"},
		{"ku-key-agreement", pki.LeafRequest{KeyUsage: x509.KeyUsageKeyAgreement}, "Success"},
		{"no-eku", pki.LeafRequest{ExtKeyUsage: []x509.ExtKeyUsage{}}, "Success"},
		{"ed25519", pki.LeafRequest{KeyType: pki.Ed25519}, "Failed:ClientCertTypeUnsupported"},
		{"rsa-3072", pki.LeafRequest{KeyType: pki.RSA3072}, "Success"},
		{"expired-now", pki.LeafRequest{NotBefore: now.Add(-2 * time.Hour), NotAfter: now.Add(-time.Hour)}, "Failed:ClientCertExpired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Subject = pki.Name{CommonName: tc.name}
			_, err := set.Issue(pki.IssueRequest{Name: tc.name, LeafRequest: tc.req})
			require.NoError(t, err)
			a, _ := set.Manifest().Artefact(tc.name)
			assert.Equal(t, tc.want, a.Expect.Verify)
		})
	}
}

// TestManifestGolden pins the manifest.json format, as WriteDir writes it.
// Serial numbers and message sizes (ECDSA signatures vary in length) are
// masked; everything else is fixed by the clock.
func TestManifestGolden(t *testing.T) {
	at := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	set, err := pki.Generate(pki.GenerateOptions{Clock: func() time.Time { return at }})
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "pki")
	require.NoError(t, set.WriteDir(dir, false))
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	require.NoError(t, err)
	got := regexp.MustCompile(`"serial": "[0-9A-F]+"`).ReplaceAll(data, []byte(`"serial": "<serial>"`))
	got = regexp.MustCompile(`"certificate_message_bytes": \d+`).ReplaceAll(got, []byte(`"certificate_message_bytes": 0`))
	golden.Assert(t, filepath.Join("testdata", "manifest.golden.json"), got)
}

func truncate(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data[:len(data)/2], 0o644))
}

func write(t *testing.T, dir, rel, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, rel), []byte(content), 0o644))
}

func copyFile(t *testing.T, dir, from, to string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, from))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, to), data, 0o644))
}

func editManifest(t *testing.T, dir string, edit func(*pki.Manifest)) {
	t.Helper()
	p := filepath.Join(dir, "manifest.json")
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	var m pki.Manifest
	require.NoError(t, json.Unmarshal(data, &m))
	edit(&m)
	data, err = json.Marshal(m)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, data, 0o644))
}
