package truststore

import (
	"bytes"
	"crypto/x509"
	encasn1 "encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// rawCRL is what parseCRLDER extracts from a DER CertificateList (RFC 5280
// §5.1): no per-entry allocation, serials straight into a serialSet.
type rawCRL struct {
	tbs        []byte // the TBSCertList element, as signed
	sigAlgo    x509.SignatureAlgorithm
	signature  []byte
	rawIssuer  []byte
	version    int // 1 (field absent) or 2
	thisUpdate time.Time
	nextUpdate time.Time // zero if absent
	number     *big.Int
	authKeyID  []byte

	entries  int // entries as listed, duplicates and negative serials included
	negative int // entries with a negative serial (never revocable)
	set      *serialSet

	// Extensions AWS-LC does not handle when critical (alb-behaviour §S1.4: the CRL
	// then fails with S2N_ERR_CRL_UNHANDLED_CRITICAL_EXTENSION).
	unhandledCritical []encasn1.ObjectIdentifier
	delta             bool // deltaCRLIndicator present: AWS-LC never uses delta CRLs
	idp               idpScope
}

// idpScope is the scope an IssuingDistributionPoint extension gives a CRL.
type idpScope struct {
	present, malformed         bool
	onlyUser, onlyCA, onlyAttr bool
	onlySomeReasons, indirect  bool
}

var (
	oidExtAuthorityKeyID = encasn1.ObjectIdentifier{2, 5, 29, 35}
	oidExtCRLNumber      = encasn1.ObjectIdentifier{2, 5, 29, 20}
	oidExtIDP            = encasn1.ObjectIdentifier{2, 5, 29, 28}
	oidExtDeltaCRL       = encasn1.ObjectIdentifier{2, 5, 29, 27}
	oidExtReasonCode     = encasn1.ObjectIdentifier{2, 5, 29, 21}
	oidExtCertIssuer     = encasn1.ObjectIdentifier{2, 5, 29, 29}
)

// parseCRLDER walks a DER CRL with cryptobyte. It accepts what
// x509.ParseRevocationList accepts (a differential test and FuzzParseCRL
// hold it to that), plus version-1 CRLs, which AWS-LC and OpenSSL accept
// and Go refuses.
func parseCRLDER(der []byte) (*rawCRL, error) {
	rl := &rawCRL{}
	input := cryptobyte.String(der)
	// Like Go, ignore bytes after the outer SEQUENCE.
	if !input.ReadASN1Element(&input, asn1.SEQUENCE) || !input.ReadASN1(&input, asn1.SEQUENCE) {
		return nil, errors.New("malformed CertificateList: not a DER SEQUENCE")
	}
	var tbs cryptobyte.String
	if !input.ReadASN1Element(&tbs, asn1.SEQUENCE) {
		return nil, errors.New("malformed tbsCertList")
	}
	rl.tbs = tbs
	if !tbs.ReadASN1(&tbs, asn1.SEQUENCE) {
		return nil, errors.New("malformed tbsCertList")
	}
	rl.version = 1
	if tbs.PeekASN1Tag(asn1.INTEGER) {
		var v int
		if !tbs.ReadASN1Integer(&v) {
			return nil, errors.New("malformed CRL version")
		}
		if v != 1 {
			return nil, fmt.Errorf("unsupported CRL version %d", v+1)
		}
		rl.version = 2
	}
	var innerAI, outerAI cryptobyte.String
	if !tbs.ReadASN1Element(&innerAI, asn1.SEQUENCE) {
		return nil, errors.New("malformed signature algorithm identifier")
	}
	if !input.ReadASN1Element(&outerAI, asn1.SEQUENCE) {
		return nil, errors.New("malformed algorithm identifier")
	}
	if !bytes.Equal(innerAI, outerAI) {
		return nil, errors.New("inner and outer signature algorithm identifiers differ")
	}
	var sig encasn1.BitString
	if !input.ReadASN1BitString(&sig) {
		return nil, errors.New("malformed signature")
	}
	rl.signature = sig.RightAlign()

	var issuer cryptobyte.String
	if !tbs.ReadASN1Element(&issuer, asn1.SEQUENCE) {
		return nil, errors.New("malformed issuer name")
	}
	rl.rawIssuer = issuer
	var err error
	if rl.sigAlgo, err = checkHeader(innerAI, issuer); err != nil {
		return nil, err
	}
	if rl.thisUpdate, err = readTime(&tbs); err != nil {
		return nil, fmt.Errorf("thisUpdate: %w", err)
	}
	if tbs.PeekASN1Tag(asn1.UTCTime) || tbs.PeekASN1Tag(asn1.GeneralizedTime) {
		if rl.nextUpdate, err = readTime(&tbs); err != nil {
			return nil, fmt.Errorf("nextUpdate: %w", err)
		}
	}
	if tbs.PeekASN1Tag(asn1.SEQUENCE) {
		var revoked cryptobyte.String
		if !tbs.ReadASN1(&revoked, asn1.SEQUENCE) {
			return nil, errors.New("malformed revokedCertificates")
		}
		if err := rl.readEntries(revoked); err != nil {
			return nil, err
		}
	} else {
		rl.set = newSerialSet(0, 0)
	}
	var exts cryptobyte.String
	var present bool
	if !tbs.ReadOptionalASN1(&exts, &present, asn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, errors.New("malformed crlExtensions")
	}
	if present {
		if !exts.ReadASN1(&exts, asn1.SEQUENCE) {
			return nil, errors.New("malformed crlExtensions")
		}
		for !exts.Empty() {
			if err := rl.readCRLExtension(&exts); err != nil {
				return nil, err
			}
		}
	}
	return rl, nil
}

// readEntries reads revokedCertificates in two passes: the first counts
// entries and serial bytes so the set is allocated once at its final size.
func (rl *rawCRL) readEntries(revoked cryptobyte.String) error {
	n, size := 0, 0
	for scan := revoked; !scan.Empty(); n++ {
		var entry, serial cryptobyte.String
		if !scan.ReadASN1(&entry, asn1.SEQUENCE) || !entry.ReadASN1(&serial, asn1.INTEGER) {
			break // the second pass reports it
		}
		size += len(serial)
	}
	rl.set = newSerialSet(n, size)
	for !revoked.Empty() {
		var entry, serial cryptobyte.String
		if !revoked.ReadASN1(&entry, asn1.SEQUENCE) {
			return fmt.Errorf("revoked certificate entry %d: malformed", rl.entries+1)
		}
		if !entry.ReadASN1(&serial, asn1.INTEGER) || !minimalInteger(serial) {
			return fmt.Errorf("revoked certificate entry %d: malformed serial number", rl.entries+1)
		}
		if err := skipTime(&entry); err != nil {
			return fmt.Errorf("revoked certificate entry %d: revocationDate: %w", rl.entries+1, err)
		}
		var exts cryptobyte.String
		var present bool
		if !entry.ReadOptionalASN1(&exts, &present, asn1.SEQUENCE) {
			return fmt.Errorf("revoked certificate entry %d: malformed extensions", rl.entries+1)
		}
		for present && !exts.Empty() {
			if err := rl.readEntryExtension(&exts); err != nil {
				return fmt.Errorf("revoked certificate entry %d: %w", rl.entries+1, err)
			}
		}
		rl.entries++
		switch {
		case serial[0]&0x80 != 0:
			rl.negative++
		case serial[0] == 0:
			rl.set.add(serial[1:])
		default:
			rl.set.add(serial)
		}
	}
	return nil
}

type extension struct {
	id       encasn1.ObjectIdentifier
	critical bool
	value    cryptobyte.String
}

// readExtension parses one Extension as x509's parseExtension does.
func readExtension(s *cryptobyte.String) (extension, error) {
	var ext extension
	var der cryptobyte.String
	if !s.ReadASN1(&der, asn1.SEQUENCE) {
		return ext, errors.New("malformed extension")
	}
	if !der.ReadASN1ObjectIdentifier(&ext.id) {
		return ext, errors.New("malformed extension OID")
	}
	if der.PeekASN1Tag(asn1.BOOLEAN) && !der.ReadASN1Boolean(&ext.critical) {
		return ext, errors.New("malformed extension critical field")
	}
	if !der.ReadASN1(&ext.value, asn1.OCTET_STRING) {
		return ext, errors.New("malformed extension value")
	}
	return ext, nil
}

func (rl *rawCRL) readEntryExtension(s *cryptobyte.String) error {
	ext, err := readExtension(s)
	if err != nil {
		return err
	}
	if ext.id.Equal(oidExtReasonCode) {
		var reason int
		if !ext.value.ReadASN1Enum(&reason) {
			return errors.New("malformed reasonCode extension")
		}
	}
	// AWS-LC (crl_set_issuers) treats every critical entry extension but
	// certificateIssuer as unhandled.
	if ext.critical && !ext.id.Equal(oidExtCertIssuer) {
		rl.noteCritical(ext.id)
	}
	return nil
}

func (rl *rawCRL) readCRLExtension(s *cryptobyte.String) error {
	ext, err := readExtension(s)
	if err != nil {
		return err
	}
	switch {
	case ext.id.Equal(oidExtAuthorityKeyID):
		if ext.critical {
			return errors.New("authority key identifier marked critical")
		}
		var akid cryptobyte.String
		if !ext.value.ReadASN1(&akid, asn1.SEQUENCE) {
			return errors.New("malformed authority key identifier")
		}
		if akid.PeekASN1Tag(asn1.Tag(0).ContextSpecific()) {
			if !akid.ReadASN1(&akid, asn1.Tag(0).ContextSpecific()) {
				return errors.New("malformed authority key identifier")
			}
			rl.authKeyID = akid
		}
	case ext.id.Equal(oidExtCRLNumber):
		rl.number = new(big.Int)
		if !ext.value.ReadASN1Integer(rl.number) {
			return errors.New("malformed CRL number")
		}
	case ext.id.Equal(oidExtIDP):
		rl.idp = parseIDP(ext.value)
	case ext.id.Equal(oidExtDeltaCRL):
		rl.delta = true
	default:
		if ext.critical {
			rl.noteCritical(ext.id)
		}
	}
	return nil
}

func (rl *rawCRL) noteCritical(id encasn1.ObjectIdentifier) {
	for _, o := range rl.unhandledCritical {
		if o.Equal(id) {
			return
		}
	}
	rl.unhandledCritical = append(rl.unhandledCritical, id)
}

// parseIDP reads the scope flags of an IssuingDistributionPoint (RFC 5280
// §5.2.5; implicit tags). Go ignores this extension, so a malformed one is
// recorded rather than failing the parse.
func parseIDP(v cryptobyte.String) idpScope {
	sc := idpScope{present: true}
	var seq cryptobyte.String
	if !v.ReadASN1(&seq, asn1.SEQUENCE) || !seq.SkipOptionalASN1(asn1.Tag(0).Constructed().ContextSpecific()) {
		sc.malformed = true
		return sc
	}
	flag := func(tag asn1.Tag, out *bool) {
		var b cryptobyte.String
		var present bool
		if !seq.ReadOptionalASN1(&b, &present, tag.ContextSpecific()) {
			sc.malformed = true
			return
		}
		if present {
			if len(b) != 1 || (b[0] != 0 && b[0] != 0xff) {
				sc.malformed = true
			}
			*out = len(b) == 1 && b[0] == 0xff
		}
	}
	flag(1, &sc.onlyUser)
	flag(2, &sc.onlyCA)
	var reasons cryptobyte.String
	if !seq.ReadOptionalASN1(&reasons, &sc.onlySomeReasons, asn1.Tag(3).ContextSpecific()) {
		sc.malformed = true
	}
	flag(4, &sc.indirect)
	flag(5, &sc.onlyAttr)
	if !seq.Empty() {
		sc.malformed = true
	}
	return sc
}

// minimalInteger applies DER's minimal-encoding rule for INTEGER, as
// cryptobyte's ReadASN1Integer (and so x509) does.
func minimalInteger(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if len(b) == 1 {
		return true
	}
	return !(b[0] == 0 && b[1]&0x80 == 0 || b[0] == 0xff && b[1]&0x80 == 0x80)
}

func readTime(s *cryptobyte.String) (time.Time, error) {
	var t time.Time
	switch {
	case s.PeekASN1Tag(asn1.UTCTime):
		if !s.ReadASN1UTCTime(&t) {
			return t, errors.New("malformed UTCTime")
		}
	case s.PeekASN1Tag(asn1.GeneralizedTime):
		if !s.ReadASN1GeneralizedTime(&t) {
			return t, errors.New("malformed GeneralizedTime")
		}
	default:
		return t, errors.New("unsupported time format")
	}
	return t, nil
}

// skipTime validates a revocationDate without building a time.Time: the
// canonical 13-byte UTCTime and 15-byte GeneralizedTime forms (all real
// CRLs) are checked inline; anything else goes through readTime, so the
// accepted set is exactly cryptobyte's.
func skipTime(s *cryptobyte.String) error {
	var b cryptobyte.String
	var tag asn1.Tag
	peek := *s
	if !peek.ReadAnyASN1(&b, &tag) {
		return errors.New("malformed time")
	}
	switch {
	case tag == asn1.UTCTime && len(b) == 13 && b[12] == 'Z' && digits(b[:12]):
		yy := num(b[0:2])
		parseYear := 2000 + yy // time.Parse's two-digit-year pivot is 69
		if yy >= 69 {
			parseYear = 1900 + yy
		}
		if validClock(parseYear, b[2:12]) {
			*s = peek
			return nil
		}
	case tag == asn1.GeneralizedTime && len(b) == 15 && b[14] == 'Z' && digits(b[:14]):
		if validClock(num(b[0:2])*100+num(b[2:4]), b[4:14]) {
			*s = peek
			return nil
		}
	}
	_, err := readTime(s)
	return err
}

// validClock checks MMDDhhmmss for the given year as time.Parse does.
func validClock(year int, b []byte) bool {
	month, day := num(b[0:2]), num(b[2:4])
	if month < 1 || month > 12 || day < 1 || num(b[4:6]) > 23 || num(b[6:8]) > 59 || num(b[8:10]) > 59 {
		return false
	}
	return day <= time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func num(b []byte) int { return int(b[0]-'0')*10 + int(b[1]-'0') }

// checkHeader validates the signature AlgorithmIdentifier and the issuer
// Name, and maps the former to x509's enum, by letting x509 parse a minimal
// CRL that carries both: exactly Go's rules (RSA-PSS parameters, string
// types in names) without copying its tables. It runs once per CRL.
func checkHeader(ai, issuer []byte) (x509.SignatureAlgorithm, error) {
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(1)
			b.AddBytes(ai)
			b.AddBytes(issuer)
			b.AddASN1UTCTime(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
		})
		b.AddBytes(ai)
		b.AddASN1BitString([]byte{0})
	})
	der, err := b.Bytes()
	if err != nil {
		return 0, fmt.Errorf("malformed signature algorithm or issuer: %w", err)
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return 0, fmt.Errorf("malformed signature algorithm or issuer: %w", err)
	}
	return rl.SignatureAlgorithm, nil
}
