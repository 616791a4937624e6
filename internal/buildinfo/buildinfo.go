// Package buildinfo says which albmtls this is: the version `albmtls
// --version` prints and the albmtls_build_info metric carries come from
// here, so the two cannot disagree.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Info is the version of the running binary.
type Info struct {
	// Version is the release (v1.2.3), the module version `go install
	// …@version` recorded, or "dev".
	Version string
	// Revision is the first 12 hex digits of the VCS commit, or "".
	Revision string
	// GoVersion is the toolchain that built the binary (runtime.Version).
	GoVersion string
}

// Read returns the binary's version. override is the version stamped at
// link time (-X main.version=…, as make docker and the docker module's
// BuildImage do); it wins over the module version when set.
func Read(override string) Info {
	in := Info{Version: override, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				in.Revision = s.Value[:12]
			}
		}
	}
	if in.Version == "" {
		in.Version = "dev"
	}
	return in
}
