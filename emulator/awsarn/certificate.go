package awsarn

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strings"
)

// NewCertificateID is a fresh random version-4 UUID, the ID ACM gives a
// certificate when it is imported through the API: each ImportCertificate
// without a CertificateArn makes a new certificate, so the same PEM imported
// twice gets two ARNs, as in ACM. (CertificateID derives the ID of a
// certificate named in the config file instead.)
func NewCertificateID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails (Go 1.24+)
	return formatUUID(u)
}

func formatUUID(u [16]byte) string {
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
	return string(s[:])
}

var (
	certificateUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	regionName      = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	accountID       = regexp.MustCompile(`^[0-9]{12}$`)
)

// CertificateParts are the fields of an ACM certificate ARN.
type CertificateParts struct {
	Partition, Region, Account, ID string
}

// ParseCertificate splits an ACM certificate ARN,
// arn:PARTITION:acm:REGION:ACCOUNT:certificate/UUID, the inverse of
// Certificate. ok is false for anything else: another service, another
// resource type, a region or account that is not one, an ID that is not a
// lower-case UUID.
func ParseCertificate(arn string) (p CertificateParts, ok bool) {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[2] != "acm" {
		return p, false
	}
	id, found := strings.CutPrefix(f[5], "certificate/")
	if !found || !certificateUUID.MatchString(id) || !regionName.MatchString(f[3]) ||
		!accountID.MatchString(f[4]) || !strings.HasPrefix(f[1], partition) {
		return p, false
	}
	return CertificateParts{Partition: f[1], Region: f[3], Account: f[4], ID: id}, true
}
