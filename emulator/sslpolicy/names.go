package sslpolicy

import (
	"crypto/tls"
)

// The canonical names below are the strings ALB writes in its logs and
// headers. One place owns them so that the connection log, the access log and
// the X-Amzn-Tls-* headers never disagree.

// cipherTable maps IANA cipher suite IDs to the OpenSSL-style names that ALB
// uses in its policy tables (alb-behaviour §5) and logs (alb-behaviour §6.2 field 6, §7 field
// 15). TLS 1.3 suites keep their RFC 8446 names, as in the real access-log
// line of alb-behaviour §7 (TLS_AES_128_GCM_SHA256). The table also holds suites Go
// cannot negotiate (0xC024, 0xC028, 0x003D) so that policy tables can name them.
var cipherTable = []struct {
	id   uint16
	name string
}{
	{0x1301, "TLS_AES_128_GCM_SHA256"},
	{0x1302, "TLS_AES_256_GCM_SHA384"},
	{0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
	{0xC02B, "ECDHE-ECDSA-AES128-GCM-SHA256"},
	{0xC02F, "ECDHE-RSA-AES128-GCM-SHA256"},
	{0xC023, "ECDHE-ECDSA-AES128-SHA256"},
	{0xC027, "ECDHE-RSA-AES128-SHA256"},
	{0xC009, "ECDHE-ECDSA-AES128-SHA"},
	{0xC013, "ECDHE-RSA-AES128-SHA"},
	{0xC02C, "ECDHE-ECDSA-AES256-GCM-SHA384"},
	{0xC030, "ECDHE-RSA-AES256-GCM-SHA384"},
	{0xC024, "ECDHE-ECDSA-AES256-SHA384"},
	{0xC028, "ECDHE-RSA-AES256-SHA384"},
	{0xC00A, "ECDHE-ECDSA-AES256-SHA"},
	{0xC014, "ECDHE-RSA-AES256-SHA"},
	{0x009C, "AES128-GCM-SHA256"},
	{0x003C, "AES128-SHA256"},
	{0x002F, "AES128-SHA"},
	{0x009D, "AES256-GCM-SHA384"},
	{0x003D, "AES256-SHA256"},
	{0x0035, "AES256-SHA"},
	{0xCCA9, "ECDHE-ECDSA-CHACHA20-POLY1305"},
	{0xCCA8, "ECDHE-RSA-CHACHA20-POLY1305"},
	{0x000A, "DES-CBC3-SHA"},
	{0xC012, "ECDHE-RSA-DES-CBC3-SHA"},
	{0x0005, "RC4-SHA"},
	{0xC007, "ECDHE-ECDSA-RC4-SHA"},
	{0xC011, "ECDHE-RSA-RC4-SHA"},
}

var (
	cipherByID   = make(map[uint16]string, len(cipherTable))
	cipherByName = make(map[string]uint16, len(cipherTable))
)

func init() {
	for _, c := range cipherTable {
		cipherByID[c.id] = c.name
		cipherByName[c.name] = c.id
	}
}

// CipherName returns the name ALB logs for a negotiated cipher suite:
// OpenSSL names for TLS 1.2 and below (ECDHE-RSA-AES128-GCM-SHA256) and RFC
// 8446 names for TLS 1.3 (TLS_AES_128_GCM_SHA256), alb-behaviour §6.2 and §7. It
// returns "" for 0 (no TLS), which log formatters print as "-". An unknown ID
// falls back to Go's name, or 0xXXXX.
func CipherName(id uint16) string {
	if id == 0 {
		return ""
	}
	if n, ok := cipherByID[id]; ok {
		return n
	}
	return tls.CipherSuiteName(id)
}

// CipherID is the reverse of CipherName for the names in ALB's policy tables;
// ok is false for a name it does not know.
func CipherID(name string) (id uint16, ok bool) {
	id, ok = cipherByName[name]
	return id, ok
}

// VersionName returns the protocol name ALB logs (alb-behaviour §6.2 field 5, §7 field
// 16). TLS 1.0 is "TLSv1", not "TLSv1.0": that is the name in the ELB API's
// SslProtocols and the value Athena queries for TLS 1.0 clients match. It
// returns "" for 0 (no TLS), which log formatters print as "-".
func VersionName(v uint16) string {
	switch v {
	case 0:
		return ""
	case 0x0300: // SSL 3.0, named only so that old captures read back
		return "SSLv3"
	case tls.VersionTLS10:
		return "TLSv1"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return tls.VersionName(v)
}

// KeyExchangeName returns the tls_keyexchange value (alb-behaviour §6.2 field 13) for
// a negotiated group. The only observed value is "secp256r1"; the spelling of
// the others is [UNK] (alb-behaviour §10.13), so they follow s2n-tls, the TLS library
// ALB runs: "secp384r1", "secp521r1", "x25519" (lower case) and the IANA
// spellings of the hybrids, "X25519MLKEM768", "SecP256r1MLKEM768",
// "SecP384r1MLKEM1024". It returns "" for 0 (no ECDHE: plain HTTP or an RSA
// key-transport suite), which log formatters print as "-".
func KeyExchangeName(id tls.CurveID) string {
	switch id {
	case 0:
		return ""
	case tls.CurveP256:
		return "secp256r1"
	case tls.CurveP384:
		return "secp384r1"
	case tls.CurveP521:
		return "secp521r1"
	case tls.X25519:
		return "x25519"
	case tls.X25519MLKEM768:
		return "X25519MLKEM768"
	case tls.SecP256r1MLKEM768:
		return "SecP256r1MLKEM768"
	case tls.SecP384r1MLKEM1024:
		return "SecP384r1MLKEM1024"
	}
	return id.String()
}
