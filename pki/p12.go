package pki

import (
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"unicode/utf16"
)

// P12Password protects every PKCS#12 file the PKI writes. It is a constant
// on purpose: the certificates are for testing, and a workshop prints it on
// the board.
const P12Password = "albmtls"

// P12File is the PKCS#12 file of a client, next to its PEM files.
func P12File(name string) string { return "clients/" + name + ".p12" }

// P12FriendlyName is the name a browser or key store shows for the client's
// certificate and key: "albmtls NAME (CN=…)", so that the outcomes can be
// told apart in a certificate picker.
func P12FriendlyName(name string, leaf *Leaf) string {
	return fmt.Sprintf("albmtls %s (CN=%s)", name, leaf.Cert.Subject.CommonName)
}

// ClientP12 encodes the named client as PKCS#12: its key, its certificate
// and the CAs it sends (its chain without the root), the key and leaf
// carrying P12FriendlyName and a shared localKeyId. The encoding is the
// legacy one (pbeWithSHAAnd3-KeyTripleDES-CBC, HMAC-SHA1, 2048 iterations)
// on purpose: it is the one every browser and key store imports (Apple's
// keychain takes no other), and these are test certificates.
//
// The encoder is ours because go-pkcs12 cannot set friendly names on the
// key and certificate; its decoder and openssl read the result (tests).
func (s *Set) ClientP12(name, password string) ([]byte, error) {
	leaf, ok := s.Client(name)
	if !ok {
		return nil, fmt.Errorf("pki: no client %q", name)
	}
	return encodeP12(rand.Reader, leaf, P12FriendlyName(name, leaf), password)
}

// WriteP12s writes clients/NAME.p12 for every client into dir (the PKI's
// directory), with password.
func (s *Set) WriteP12s(dir, password string) ([]string, error) {
	var files []string
	for _, name := range s.ClientNames() {
		data, err := s.ClientP12(name, password)
		if err != nil {
			return files, err
		}
		p := filepath.Join(dir, filepath.FromSlash(P12File(name)))
		if err := os.WriteFile(p, data, 0o600); err != nil {
			return files, fmt.Errorf("writing %s: %w", p, err)
		}
		files = append(files, p)
	}
	return files, nil
}

var (
	oidData            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidPBES3DES        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidShroudedKeyBag  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidX509Certificate = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidFriendlyName    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 20}
	oidLocalKeyID      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 21}
	oidSHA1            = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	p12Iterations      = 2048
	p12SaltLen         = 8
	explicit0          = func(b []byte) asn1.RawValue {
		return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: b}
	}
	errP12ShortRandomness = fmt.Errorf("pki: reading randomness for the PKCS#12 salt")
)

// RFC 7292 structures, as encoding/asn1 writes them.
type (
	p12ContentInfo struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
	}
	p12Attribute struct {
		ID     asn1.ObjectIdentifier
		Values asn1.RawValue // SET OF
	}
	p12SafeBag struct {
		ID         asn1.ObjectIdentifier
		Value      asn1.RawValue  `asn1:"tag:0,explicit"`
		Attributes []p12Attribute `asn1:"set,optional"`
	}
	p12CertBag struct {
		ID   asn1.ObjectIdentifier
		Data []byte `asn1:"tag:0,explicit"`
	}
	p12PBEParams struct {
		Salt       []byte
		Iterations int
	}
	p12Algorithm struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue `asn1:"optional"`
	}
	p12EncryptedKey struct {
		Algorithm p12Algorithm
		Data      []byte
	}
	p12EncryptedContent struct {
		ContentType asn1.ObjectIdentifier
		Algorithm   p12Algorithm
		Content     []byte `asn1:"tag:0,optional"`
	}
	p12EncryptedData struct {
		Version int
		Content p12EncryptedContent
	}
	p12DigestInfo struct {
		Algorithm p12Algorithm
		Digest    []byte
	}
	p12MacData struct {
		Mac        p12DigestInfo
		Salt       []byte
		Iterations int `asn1:"optional,default:1"`
	}
	p12PFX struct {
		Version  int
		AuthSafe p12ContentInfo
		MacData  p12MacData `asn1:"optional"`
	}
)

func encodeP12(rnd io.Reader, leaf *Leaf, friendly, password string) ([]byte, error) {
	pw := bmpPassword(password)
	keyID := sha1.Sum(leaf.Cert.Raw)
	attrs, err := p12Attributes(friendly, keyID[:])
	if err != nil {
		return nil, err
	}
	// The certificates: the leaf (named, with the key's ID), then its CAs.
	var certBags []p12SafeBag
	ders := append([][]byte{leaf.Cert.Raw}, leaf.Chain[1:]...)
	for i, der := range ders {
		cb, err := asn1.Marshal(p12CertBag{ID: oidX509Certificate, Data: der})
		if err != nil {
			return nil, err
		}
		bag := p12SafeBag{ID: oidCertBag, Value: explicit0(cb)}
		if i == 0 {
			bag.Attributes = attrs
		} else if c, err := x509.ParseCertificate(der); err == nil {
			if bag.Attributes, err = p12Attributes(c.Subject.CommonName, nil); err != nil {
				return nil, err
			}
		}
		certBags = append(certBags, bag)
	}
	certSafe, err := asn1.Marshal(certBags)
	if err != nil {
		return nil, err
	}
	certAlg, certEnc, err := pbeEncrypt(rnd, certSafe, pw)
	if err != nil {
		return nil, err
	}
	encData, err := asn1.Marshal(p12EncryptedData{Content: p12EncryptedContent{ContentType: oidData, Algorithm: certAlg, Content: certEnc}})
	if err != nil {
		return nil, err
	}
	// The key, shrouded, in a plain SafeContents.
	pkcs8, err := x509.MarshalPKCS8PrivateKey(leaf.Key)
	if err != nil {
		return nil, fmt.Errorf("pki: encoding the key of %s: %w", friendly, err)
	}
	keyAlg, keyEnc, err := pbeEncrypt(rnd, pkcs8, pw)
	if err != nil {
		return nil, err
	}
	shrouded, err := asn1.Marshal(p12EncryptedKey{Algorithm: keyAlg, Data: keyEnc})
	if err != nil {
		return nil, err
	}
	keySafe, err := asn1.Marshal([]p12SafeBag{{ID: oidShroudedKeyBag, Value: explicit0(shrouded), Attributes: attrs}})
	if err != nil {
		return nil, err
	}
	keyOctets, err := asn1.Marshal(keySafe)
	if err != nil {
		return nil, err
	}
	authSafe, err := asn1.Marshal([]p12ContentInfo{
		{ContentType: oidEncryptedData, Content: explicit0(encData)},
		{ContentType: oidData, Content: explicit0(keyOctets)},
	})
	if err != nil {
		return nil, err
	}
	// The MAC over the AuthenticatedSafe (RFC 7292 §5, appendix B: ID 3).
	salt, err := p12Salt(rnd)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha1.New, p12KDF(pw, salt, 3, p12Iterations, 20))
	mac.Write(authSafe)
	authOctets, err := asn1.Marshal(authSafe)
	if err != nil {
		return nil, err
	}
	null := asn1.RawValue{Tag: asn1.TagNull}
	return asn1.Marshal(p12PFX{
		Version:  3,
		AuthSafe: p12ContentInfo{ContentType: oidData, Content: explicit0(authOctets)},
		MacData: p12MacData{Mac: p12DigestInfo{Algorithm: p12Algorithm{Algorithm: oidSHA1, Parameters: null}, Digest: mac.Sum(nil)},
			Salt: salt, Iterations: p12Iterations},
	})
}

// p12Attributes are a bag's friendlyName (a BMPString) and, when keyID is
// set, its localKeyId.
func p12Attributes(friendly string, keyID []byte) ([]p12Attribute, error) {
	name := bmpString(friendly)
	nameVal, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: 30, Bytes: name})
	if err != nil {
		return nil, err
	}
	attrs := []p12Attribute{{ID: oidFriendlyName, Values: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: nameVal}}}
	if keyID != nil {
		idVal, err := asn1.Marshal(keyID)
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, p12Attribute{ID: oidLocalKeyID, Values: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: idVal}})
	}
	return attrs, nil
}

func p12Salt(rnd io.Reader) ([]byte, error) {
	salt := make([]byte, p12SaltLen)
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return nil, fmt.Errorf("%w: %v", errP12ShortRandomness, err)
	}
	return salt, nil
}

// pbeEncrypt encrypts data with pbeWithSHAAnd3-KeyTripleDES-CBC (RFC 7292
// appendix C): key and IV from the PKCS#12 KDF (IDs 1 and 2), PKCS#7 padding.
func pbeEncrypt(rnd io.Reader, data, pw []byte) (p12Algorithm, []byte, error) {
	salt, err := p12Salt(rnd)
	if err != nil {
		return p12Algorithm{}, nil, err
	}
	params, err := asn1.Marshal(p12PBEParams{Salt: salt, Iterations: p12Iterations})
	if err != nil {
		return p12Algorithm{}, nil, err
	}
	block, err := des.NewTripleDESCipher(p12KDF(pw, salt, 1, p12Iterations, 24))
	if err != nil {
		return p12Algorithm{}, nil, err
	}
	pad := block.BlockSize() - len(data)%block.BlockSize()
	buf := make([]byte, len(data), len(data)+pad)
	copy(buf, data)
	for range pad {
		buf = append(buf, byte(pad))
	}
	cipher.NewCBCEncrypter(block, p12KDF(pw, salt, 2, p12Iterations, 8)).CryptBlocks(buf, buf)
	return p12Algorithm{Algorithm: oidPBES3DES, Parameters: asn1.RawValue{FullBytes: params}}, buf, nil
}

// p12KDF is the PKCS#12 key derivation of RFC 7292 appendix B.2 with
// SHA-1 (u = 20, v = 64): n bytes for purpose id (1 key, 2 IV, 3 MAC).
func p12KDF(pw, salt []byte, id byte, iterations, n int) []byte {
	const u, v = 20, 64
	fill := func(b []byte) []byte {
		if len(b) == 0 {
			return nil
		}
		out := make([]byte, v*((len(b)+v-1)/v))
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	d := make([]byte, v)
	for i := range d {
		d[i] = id
	}
	in := append(fill(salt), fill(pw)...)
	var out []byte
	for len(out) < n {
		h := sha1.New()
		h.Write(d)
		h.Write(in)
		a := h.Sum(nil)
		for range iterations - 1 {
			s := sha1.Sum(a)
			a = s[:]
		}
		out = append(out, a...)
		// I_j = (I_j + B + 1) mod 2^(8v), B = A repeated to v bytes.
		b := make([]byte, v)
		for i := range b {
			b[i] = a[i%u]
		}
		for j := 0; j < len(in); j += v {
			carry := 1
			for k := v - 1; k >= 0; k-- {
				sum := int(in[j+k]) + int(b[k]) + carry
				in[j+k] = byte(sum)
				carry = sum >> 8
			}
		}
	}
	return out[:n]
}

// bmpString is s in UTF-16 big-endian, as ASN.1 BMPString holds it.
func bmpString(s string) []byte {
	var b []byte
	for _, r := range utf16.Encode([]rune(s)) {
		b = append(b, byte(r>>8), byte(r))
	}
	return b
}

// bmpPassword is the password as the KDF takes it: BMPString plus a
// two-byte terminator.
func bmpPassword(s string) []byte { return append(bmpString(s), 0, 0) }
