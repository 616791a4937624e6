package accesslog

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"strconv"
)

// RequestURL builds the URL of the request field as ALB writes it:
// scheme://host:port followed by the request URI (path and query), e.g.
// https://petclinic.mission-critical.site:443/petclinic/vets (spec §7). An
// empty requestURI gives the "scheme://host:port-" of a malformed request.
func RequestURL(scheme, host string, port int, requestURI string) string {
	if requestURI == "" {
		requestURI = "-"
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port)) + requestURI
}

// TargetGroupARN returns a target group ARN as field 17 carries it:
// arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID.
func TargetGroupARN(region, accountID, name, id string) string {
	return "arn:aws:elasticloadbalancing:" + region + ":" + accountID + ":targetgroup/" + name + "/" + id
}

// TargetGroupID returns the 16-hex-digit ID the emulator gives a target
// group: the first 8 bytes of SHA-256("albmtls:targetgroup:" + accountID +
// ":" + name), so that ARNs stay stable across restarts.
func TargetGroupID(name, accountID string) string {
	sum := sha256.Sum256([]byte("albmtls:targetgroup:" + accountID + ":" + name))
	return hex.EncodeToString(sum[:8])
}

// CertificateARN returns the ACM-style ARN the emulator reports in
// chosen_cert_arn for a listener certificate:
// arn:aws:acm:REGION:ACCOUNT:certificate/UUID, where UUID is derived from
// SHA-256 of the certificate's DER bytes and shaped as a version-4 UUID like
// ACM's (be524858-3414-4e98-be52-240358d85b1c in spec §7). The same
// certificate always gets the same ARN.
func CertificateARN(region, accountID string, certDER []byte) string {
	sum := sha256.Sum256(certDER)
	u := sum[:16]
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], u[10:16])
	return "arn:aws:acm:" + region + ":" + accountID + ":certificate/" + string(s[:])
}
