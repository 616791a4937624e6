package boundedio

import (
	"github.com/albmtls/albmtls/emulator/alb"
)

// The size limits of every file albmtls reads, in one place. Each is either
// an ALB quota (alb-behaviour §1.2 "Quotas", [DOC: Q]) or, where ALB documents none,
// a bound far above any legitimate file, chosen so that a wrong path (a
// device, a huge or sparse file) fails at once with a clear error instead of
// exhausting memory. Sizes are in bytes; "MB"/"KB" of the quotas are read as
// MiB/KiB, the lenient reading.
const (
	// MaxRevocationFile is ALB's "Revocation list file size: 50 MB" quota
	// (alb.MaxRevocationFileSize, alb-behaviour §1.2). The largest CRL the project generates (the
	// 500,000-entry CRL of the benchmarks, ALB's "Revocation entries per
	// trust store" default) is about 24 MB of PEM, half of this.
	MaxRevocationFile = alb.MaxRevocationFileSize

	// MaxBundleFile bounds a CA certificates bundle. ALB documents "CA
	// certificate size: 16 KB" and "CA certificates per trust store: 25"
	// (adjustable), i.e. about 550 KB of PEM at the default quotas; whether
	// ALB limits the bundle file itself is [UNK] (alb-behaviour §10.8). 8 MiB
	// holds more than 350 certificates of the maximum size with comments
	// and text dumps, so a raised CA quota still fits.
	MaxBundleFile = 8 << 20

	// MaxCertificateFile bounds a listener's certificate (chain) file. ALB
	// takes certificates from ACM and the reference gives no size quota;
	// ALB's "TLS message size: 64 K" caps what a listener can send, so 1 MiB
	// is far above any chain that could be served.
	MaxCertificateFile = 1 << 20

	// MaxKeyFile bounds a private key file: an RSA 8192 key (the largest
	// ALB supports, alb-behaviour §1.3) is under 7 KB of PEM.
	MaxKeyFile = 1 << 20

	// MaxConfigFile bounds the YAML config file (no ALB counterpart); a
	// config with every ALB quota at its maximum is well under this.
	MaxConfigFile = 8 << 20

	// MaxPKIManifest bounds the test PKI's manifest.json (pki package); the
	// PKI's certificates, keys and CRLs are read with MaxRevocationFile.
	MaxPKIManifest = 8 << 20
)
