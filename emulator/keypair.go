package emulator

import (
	"crypto/tls"

	"github.com/albmtls/albmtls/internal/boundedio"
)

// loadKeyPair is tls.LoadX509KeyPair with bounded reads (issue 19 item 6:
// /dev/zero as a certificate exhausted memory); limits in boundedio.
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	cert, err := boundedio.ReadFile(certFile, "certificate file", boundedio.MaxCertificateFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := boundedio.ReadFile(keyFile, "private key file", boundedio.MaxKeyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(cert, key)
}
