package demo_test

import (
	"crypto"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/albmtls/albmtls/demo"
	"github.com/albmtls/albmtls/internal/testtool"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

func validSerial(t *testing.T, ws *demo.Workspace) string {
	t.Helper()
	leaf, ok := ws.Set.Client("valid")
	require.True(t, ok)
	return leaf.Cert.SerialNumber.String()
}

// TestPrepare covers the directory rules: create, reuse, regenerate what an
// interrupted run left, and never touch what the demo did not create.
func TestPrepare(t *testing.T) {
	// One workspace made once; the cases work on copies of it.
	base := filepath.Join(t.TempDir(), "base")
	ws, err := demo.Prepare(base, nil)
	require.NoError(t, err)
	require.True(t, ws.Created)
	baseSerial := validSerial(t, ws)

	copyDir := func(t *testing.T) string {
		dst := filepath.Join(t.TempDir(), "demo")
		require.NoError(t, os.CopyFS(dst, os.DirFS(base)))
		return dst
	}
	tests := []struct {
		name    string
		setup   func(t *testing.T) string
		created bool   // a new PKI is generated
		wantErr string // refused
	}{
		{name: "missing directory", created: true, setup: func(t *testing.T) string {
			return filepath.Join(t.TempDir(), "new", "demo")
		}},
		{name: "empty directory", created: true, setup: func(t *testing.T) string { return t.TempDir() }},
		{name: "finished by an earlier run: reused", setup: copyDir},
		{name: "interrupted while generating", created: true, setup: func(t *testing.T) string {
			dir := copyDir(t)
			// What a run killed before the manifest moved into place leaves.
			require.NoError(t, os.Remove(filepath.Join(dir, pki.ManifestFile)))
			require.NoError(t, os.MkdirAll(filepath.Join(dir, ".pki-staging", "ca"), 0o755))
			writeMarker(t, dir, "creating")
			return dir
		}},
		{name: "interrupted while writing .p12 files", created: true, setup: func(t *testing.T) string {
			dir := copyDir(t)
			require.NoError(t, os.Remove(filepath.Join(dir, "clients", "valid.p12")))
			writeMarker(t, dir, "creating")
			return dir
		}},
		{name: "damaged after it was finished", created: true, setup: func(t *testing.T) string {
			dir := copyDir(t)
			require.NoError(t, os.Remove(filepath.Join(dir, "clients", "member.p12")))
			return dir
		}},
		{name: "unreadable marker", created: true, setup: func(t *testing.T) string {
			dir := copyDir(t)
			require.NoError(t, os.WriteFile(filepath.Join(dir, demo.MarkerFile), []byte("{"), 0o644))
			return dir
		}},
		{name: "a PKI from pki init", wantErr: "holds a PKI that the demo did not create", setup: func(t *testing.T) string {
			return pkitest.Dir(t)
		}},
		{name: "someone else's files", wantErr: "is not empty and was not created by the demo", setup: func(t *testing.T) string {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("keep me"), 0o644))
			return dir
		}},
		{name: "a file", wantErr: "exists and is not a directory", setup: func(t *testing.T) string {
			f := filepath.Join(t.TempDir(), "file")
			require.NoError(t, os.WriteFile(f, nil, 0o644))
			return f
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.setup(t)
			before := snapshot(t, dir)
			var steps []string
			ws, err := demo.Prepare(dir, func(s string) { steps = append(steps, s) })
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Equal(t, before, snapshot(t, dir), "a refused directory is left as it was")
				return
			}
			require.NoError(t, err, "steps: %v", steps)
			assert.Equal(t, tt.created, ws.Created, "steps: %v", steps)
			if tt.created {
				assert.NotEqual(t, baseSerial, validSerial(t, ws), "a new PKI")
			} else {
				assert.Equal(t, baseSerial, validSerial(t, ws), "the same PKI")
				assert.Empty(t, steps)
			}
			// Whatever happened, the result is a finished workspace.
			again, err := demo.Prepare(dir, nil)
			require.NoError(t, err)
			assert.False(t, again.Created)
			assert.NoDirExists(t, filepath.Join(dir, ".pki-staging"))
			assert.FileExists(t, filepath.Join(dir, demo.SecLevel0File))
		})
	}
}

func writeMarker(t *testing.T, dir, state string) {
	t.Helper()
	data, err := json.Marshal(map[string]string{"created_by": "albmtls demo", "state": state})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, demo.MarkerFile), data, 0o644))
}

// snapshot lists a path's files and their contents.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	fi, err := os.Stat(root)
	if err != nil || !fi.IsDir() {
		return out
	}
	require.NoError(t, filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		out[p] = string(data)
		return err
	}))
	return out
}

// TestP12 checks the browser files: one per client, with the key, the leaf
// and the CAs the client sends, readable with the printed password by Go
// and by the openssl command line.
func TestP12(t *testing.T) {
	ws, err := demo.Prepare(filepath.Join(t.TempDir(), "demo"), nil)
	require.NoError(t, err)
	for _, name := range ws.Set.ClientNames() {
		leaf, _ := ws.Set.Client(name)
		data, err := os.ReadFile(ws.P12(name))
		require.NoError(t, err, name)
		key, cert, cas, err := pkcs12.DecodeChain(data, demo.P12Password)
		require.NoError(t, err, name)
		assert.Equal(t, leaf.Cert.Raw, cert.Raw, name)
		assert.Equal(t, leaf.Key.Public(), key.(crypto.Signer).Public(), name)
		require.Len(t, cas, len(leaf.Chain)-1, name)
		for i, c := range cas {
			assert.Equal(t, leaf.Chain[i+1], c.Raw, name)
		}
	}
	out, err := exec.Command(testtool.Need(t, "openssl"), "pkcs12", "-in", ws.P12("member"), "-passin", "pass:"+demo.P12Password,
		"-nokeys", "-clcerts").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "subject=O = Example Corp, OU = Engineering, CN = member")
}
