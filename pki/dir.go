package pki

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/albmtls/albmtls/internal/boundedio"
)

// layoutEntries are the only names a PKI directory holds at its top level.
var layoutEntries = []string{"ca", "crl", "server", "clients", ManifestFile}

type fileContent struct {
	data []byte
	mode fs.FileMode
}

// contents returns every file of the layout except the manifest, by path
// relative to the PKI directory.
func (s *Set) contents() map[string]fileContent {
	files := map[string]fileContent{BundleFile: {s.Bundle(), 0o644}}
	for _, e := range s.entries {
		f := e.files()
		if e.ca != nil {
			files[f.Cert] = fileContent{e.ca.CertPEM, 0o644}
			files[f.Key] = fileContent{e.ca.KeyPEM, 0o600}
			continue
		}
		files[f.Cert] = fileContent{e.leaf.CertPEM, 0o644}
		files[f.Key] = fileContent{e.leaf.KeyPEM, 0o600}
		files[f.Chain] = fileContent{e.leaf.ChainPEM, 0o644}
	}
	for name, st := range s.crls {
		f := crlFiles(name)
		files[f.DER] = fileContent{st.der, 0o644}
		files[f.PEM] = fileContent{EncodeCRLPEM(st.der), 0o644}
	}
	return files
}

func (s *Set) manifestJSON() ([]byte, error) {
	data, err := json.MarshalIndent(s.Manifest(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", ManifestFile, err)
	}
	return append(data, '\n'), nil
}

// WriteDir writes the set's layout into dir. The files are written into a
// temporary sibling directory, manifest last, which then replaces dir, so
// dir is never left half-written. An existing PKI in dir is replaced only
// when force is set; a non-empty directory that is not a PKI is never
// replaced.
func (s *Set) WriteDir(dir string, force bool) error {
	dir = filepath.Clean(dir)
	exists, err := checkTarget(dir, force)
	if err != nil {
		return err
	}
	// The temporary directory is made next to the absolute path, so that
	// "." or "sub/.." do not put it inside dir itself.
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("resolving %s: %w", dir, err)
	}
	parent, base := filepath.Dir(abs), filepath.Base(abs)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp-")
	if err != nil {
		return fmt.Errorf("creating a temporary directory next to %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("setting permissions of %s: %w", tmp, err)
	}
	for rel, fc := range s.contents() {
		p := filepath.Join(tmp, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", filepath.Dir(p), err)
		}
		if err := os.WriteFile(p, fc.data, fc.mode); err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
	}
	manifest, err := s.manifestJSON()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, ManifestFile), manifest, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Join(tmp, ManifestFile), err)
	}
	if err := replaceDir(tmp, abs, exists); err != nil {
		return err
	}
	s.dir = dir
	s.pending = map[string]bool{}
	return nil
}

// CheckOutputDir reports whether WriteDir(dir, force) may write there, so
// that a command can refuse before spending time on generation.
func CheckOutputDir(dir string, force bool) error {
	_, err := checkTarget(filepath.Clean(dir), force)
	return err
}

// checkTarget decides whether dir may receive a new PKI and says whether it
// exists.
func checkTarget(dir string, force bool) (bool, error) {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return false, fmt.Errorf("%s exists and is not a directory: choose another output directory", dir)
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", dir, err)
	}
	if len(des) == 0 {
		return true, nil
	}
	for _, de := range des {
		if !slices.Contains(layoutEntries, de.Name()) {
			return false, fmt.Errorf("%s is not empty and does not look like a PKI (it holds %q): refusing to replace it, even with force; choose a new or empty directory", dir, de.Name())
		}
	}
	if !force {
		return false, fmt.Errorf("%s already holds a PKI: refusing to overwrite it without force (albmtls pki init --force)", dir)
	}
	return true, nil
}

// replaceDir moves tmp into place as dir, keeping the old dir until the
// new one is in place.
func replaceDir(tmp, dir string, exists bool) error {
	if !exists {
		if err := os.Rename(tmp, dir); err != nil {
			return fmt.Errorf("moving the new PKI into %s: %w", dir, err)
		}
		return nil
	}
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil {
		return fmt.Errorf("moving the old %s aside: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.Rename(old, dir)
		return fmt.Errorf("moving the new PKI into %s: %w", dir, err)
	}
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("removing the old PKI %s: %w", old, err)
	}
	return nil
}

// Save writes what Issue and Revoke changed to the set's directory: each
// file through a temporary file and a rename, the manifest last.
func (s *Set) Save() error {
	if s.dir == "" {
		return fmt.Errorf("the PKI has no directory yet: write it with WriteDir first")
	}
	contents := s.contents()
	paths := slices.Sorted(func(yield func(string) bool) {
		for p := range s.pending {
			if !yield(p) {
				return
			}
		}
	})
	for _, rel := range paths {
		fc, ok := contents[rel]
		if !ok {
			continue
		}
		if err := WriteFileAtomic(filepath.Join(s.dir, filepath.FromSlash(rel)), fc.data, fc.mode); err != nil {
			return err
		}
		delete(s.pending, rel)
	}
	manifest, err := s.manifestJSON()
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(s.dir, ManifestFile), manifest, 0o644)
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so that path holds either its old content or the
// new one, never a part. The CLI uses it for every output file.
func WriteFileAtomic(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(f.Name()) // a no-op once renamed
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// LoadOption changes how Load builds the set.
type LoadOption func(*Set)

// WithClock makes the loaded set use clock for "now": new certificates,
// CRL dates and the expectations in its manifest.
func WithClock(clock func() time.Time) LoadOption {
	return func(s *Set) { s.clock = clock }
}

// Load reads a PKI directory written by WriteDir. It checks that the
// manifest is complete, that every file it lists parses, that each key
// matches its certificate and that each certificate and CRL is signed by
// the CA the manifest names. Errors name the file and the problem.
func Load(dir string, opts ...LoadOption) (*Set, error) {
	dir = filepath.Clean(dir)
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("loading PKI: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("loading PKI: %s is not a directory", dir)
	}
	mpath := filepath.Join(dir, ManifestFile)
	data, err := boundedio.ReadFile(mpath, "PKI manifest", boundedio.MaxPKIManifest)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("loading PKI: %s has no %s: it is not a PKI directory, or `albmtls pki init` was interrupted (create one with `albmtls pki init --out %s --force`)", dir, ManifestFile, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("loading PKI: %w", err)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("loading PKI: %s: %w (the manifest is damaged; recreate the PKI with `albmtls pki init --force`)", mpath, err)
	}
	if m.FormatVersion != ManifestFormatVersion {
		return nil, fmt.Errorf("loading PKI: %s: format_version is %d, this albmtls reads %d: recreate the PKI with `albmtls pki init --force`", mpath, m.FormatVersion, ManifestFormatVersion)
	}
	s := &Set{
		dir:         dir,
		clock:       time.Now,
		generatedAt: m.GeneratedAt,
		updatedAt:   m.UpdatedAt,
		keyType:     m.DefaultKeyType,
		org:         m.Organization,
		byName:      map[string]*entry{},
		crls:        map[string]*crlState{},
		pending:     map[string]bool{},
	}
	for _, o := range opts {
		o(s)
	}
	l := loader{dir: dir, set: s}
	if err := l.load(m); err != nil {
		return nil, fmt.Errorf("loading PKI %s: %w", dir, err)
	}
	return s, nil
}
