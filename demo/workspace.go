package demo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/albmtls/albmtls/pki"
)

// MarkerFile marks a directory as the demo's own. Without it the demo
// never writes into a non-empty directory, so it cannot overwrite a PKI (or
// anything else) that it did not create.
const MarkerFile = ".albmtls-demo.json"

// P12Password protects the PKCS#12 files: pki.P12Password, the one
// `albmtls pki init` uses too.
const P12Password = pki.P12Password

// pkiEntries are the PKI layout's top-level names (pki.WriteDir's layout).
var pkiEntries = []string{"ca", "crl", "server", "clients", pki.ManifestFile}

// SecLevel0File is an OpenSSL config that lowers the security level to 0,
// so that OpenSSL 3 clients (curl) load the RSA 1024 weak-rsa key and the
// ALB gets to reject it: OPENSSL_CONF=DIR/openssl-seclevel0.cnf curl ….
const SecLevel0File = "openssl-seclevel0.cnf"

const secLevel0Config = `# Written by albmtls demo: lets OpenSSL 3 (curl) use the RSA 1024 weak-rsa
# client key, which its default security level refuses to load.
# Use: OPENSSL_CONF=this-file curl ...
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
CipherString = DEFAULT:@SECLEVEL=0
`

// stagingDir is where a new PKI is written before it is moved into place.
const stagingDir = ".pki-staging"

// marker is the content of MarkerFile.
type marker struct {
	CreatedBy string    `json:"created_by"`
	State     string    `json:"state"` // stateCreating until everything is written
	CreatedAt time.Time `json:"created_at"`
}

const (
	stateCreating = "creating"
	stateReady    = "ready"
)

// Workspace is the demo's directory: the test PKI (the layout of `albmtls
// pki init`), a PKCS#12 file per client, the config the demo runs and the
// logs.
type Workspace struct {
	// Dir is the directory as given.
	Dir string
	// Set is the PKI loaded from Dir.
	Set *pki.Set
	// Created is true when this call generated the PKI, false when it
	// reused one from an earlier run.
	Created bool
}

// P12 is the PKCS#12 file of a client, for importing into a browser.
func (w *Workspace) P12(client string) string {
	return filepath.Join(w.Dir, "clients", client+".p12")
}

// Prepare makes dir a demo workspace, or reuses it:
//
//   - a missing or empty dir gets a new PKI and PKCS#12 files;
//   - a dir that an earlier Prepare finished is reused as it is;
//   - a dir that an earlier Prepare started but did not finish (it was
//     interrupted), or whose PKI no longer loads, is regenerated;
//   - any other non-empty dir, a PKI made by `albmtls pki init` included,
//     is refused: the demo only ever replaces what it created itself.
//
// progress, when not nil, receives one line per step.
func Prepare(dir string, progress func(string)) (*Workspace, error) {
	if progress == nil {
		progress = func(string) {}
	}
	if dir == "" {
		return nil, errors.New("demo: no directory given")
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return create(dir, progress)
	case err != nil:
		return nil, fmt.Errorf("demo: %w", err)
	case !fi.IsDir():
		return nil, fmt.Errorf("demo: %s exists and is not a directory: choose another directory", dir)
	}
	m, err := readMarker(dir)
	if errors.Is(err, fs.ErrNotExist) {
		des, rerr := os.ReadDir(dir)
		if rerr != nil {
			return nil, fmt.Errorf("demo: %w", rerr)
		}
		if len(des) == 0 {
			return create(dir, progress)
		}
		if _, serr := os.Stat(filepath.Join(dir, pki.ManifestFile)); serr == nil {
			return nil, fmt.Errorf("demo: %s holds a PKI that the demo did not create (no %s): the demo never overwrites it; choose another directory", dir, MarkerFile)
		}
		return nil, fmt.Errorf("demo: %s is not empty and was not created by the demo (no %s): the demo never writes into it; choose a new or empty directory", dir, MarkerFile)
	}
	if err != nil || m.State != stateReady {
		progress(fmt.Sprintf("%s was left unfinished by an interrupted run: regenerating it", dir))
		return create(dir, progress)
	}
	ws, err := load(dir)
	if err != nil {
		progress(fmt.Sprintf("%s is damaged (%v): regenerating it", dir, err))
		return create(dir, progress)
	}
	if _, err := os.Stat(filepath.Join(dir, SecLevel0File)); err != nil {
		if err := writeFileAtomic(filepath.Join(dir, SecLevel0File), []byte(secLevel0Config), 0o644); err != nil {
			return nil, err
		}
	}
	return ws, nil
}

// load reads a finished workspace.
func load(dir string) (*Workspace, error) {
	set, err := pki.Load(dir)
	if err != nil {
		return nil, err
	}
	ws := &Workspace{Dir: dir, Set: set}
	for _, name := range set.ClientNames() {
		if _, err := os.Stat(ws.P12(name)); err != nil {
			return nil, fmt.Errorf("missing %s", ws.P12(name))
		}
	}
	return ws, nil
}

// create writes a new workspace into dir, which is missing, empty or the
// demo's own. The marker says "creating" until the last file is written, so
// an interrupted run is recognised and redone by the next one.
func create(dir string, progress func(string)) (*Workspace, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("demo: creating %s: %w", dir, err)
	}
	if err := writeMarker(dir, marker{CreatedBy: "albmtls demo", State: stateCreating, CreatedAt: time.Now().UTC()}); err != nil {
		return nil, err
	}
	for _, name := range append(pkiEntries, stagingDir) {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return nil, fmt.Errorf("demo: clearing %s: %w", dir, err)
		}
	}
	progress("generating the test PKI in " + dir)
	set, err := pki.Generate(pki.GenerateOptions{})
	if err != nil {
		return nil, fmt.Errorf("demo: generating the PKI: %w", err)
	}
	// pki.WriteDir replaces a whole directory, so the PKI is written to a
	// staging directory inside dir (same file system, even when dir is a
	// mount point) and its entries are moved up, the manifest last.
	staging := filepath.Join(dir, stagingDir)
	if err := set.WriteDir(staging, false); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	for _, name := range pkiEntries {
		if err := os.Rename(filepath.Join(staging, name), filepath.Join(dir, name)); err != nil {
			return nil, fmt.Errorf("demo: moving the PKI into %s: %w", dir, err)
		}
	}
	if err := os.Remove(staging); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if set, err = pki.Load(dir); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	ws := &Workspace{Dir: dir, Set: set, Created: true}
	progress("writing a PKCS#12 file per client certificate (password " + P12Password + ")")
	if err := ws.writeP12s(); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(dir, SecLevel0File), []byte(secLevel0Config), 0o644); err != nil {
		return nil, err
	}
	if err := writeMarker(dir, marker{CreatedBy: "albmtls demo", State: stateReady, CreatedAt: time.Now().UTC()}); err != nil {
		return nil, err
	}
	return ws, nil
}

// writeP12s writes clients/NAME.p12 with the PKI's encoder: the key, the
// leaf and the CAs the client sends, named "albmtls NAME (CN=…)" for the
// browser's certificate picker (pki.ClientP12).
func (w *Workspace) writeP12s() error {
	for _, name := range w.Set.ClientNames() {
		data, err := w.Set.ClientP12(name, P12Password)
		if err != nil {
			return fmt.Errorf("demo: encoding %s: %w", w.P12(name), err)
		}
		if err := writeFileAtomic(w.P12(name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func readMarker(dir string) (marker, error) {
	var m marker
	data, err := os.ReadFile(filepath.Join(dir, MarkerFile))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("demo: %s: %w", filepath.Join(dir, MarkerFile), err)
	}
	return m, nil
}

func writeMarker(dir string, m marker) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, MarkerFile), append(data, '\n'), 0o644)
}

// writeFileAtomic writes through a temporary file and a rename, so that a
// reader (or an interrupted run) never sees half a file.
func writeFileAtomic(path string, data []byte, mode fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("demo: writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("demo: writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("demo: writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return fmt.Errorf("demo: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("demo: writing %s: %w", path, err)
	}
	return nil
}
