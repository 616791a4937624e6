package pki

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"net"
	"sync"
	"time"
)

// GenerateOptions configure Generate. Zero values pick the defaults named on
// each field.
type GenerateOptions struct {
	// KeyType is the key type of the server and of every client without a
	// fixed one (valid-rsa is RSA 2048, weak-rsa RSA 1024). Default
	// ecdsa-p256.
	KeyType KeyType
	// CAKeyType is the key type of every CA. Default ecdsa-p256.
	CAKeyType KeyType
	// Organization is the base DN of member (default O=Example Corp,
	// OU=Engineering).
	Organization BaseDN
	// Clock supplies "now" for every validity window (default time.Now).
	Clock func() time.Time
	// Progress, if set, receives one short line per step, for the CLI.
	Progress func(step string)
}

// The standard set's fixed choices.
const (
	caBackdate       = 90 * 24 * time.Hour
	oversizedPadding = 80 * 1024 // bytes of the large extension of oversized
)

// oidOversizedPadding is under 1.3.6.1.4.1.32473, the private enterprise
// number RFC 5612 reserves for documentation.
var oidOversizedPadding = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 32473, 1, 1}

type caSpec struct {
	name, issuer, cn, o, purpose string
}

// standardCAs are created in this order, each after its issuer.
var standardCAs = []caSpec{
	{"root", "", "albmtls Test Root CA", "albmtls test PKI", "Root CA of the trust store; its CRL revokes revoked-intermediate-ca."},
	{"intermediate", "root", "albmtls Test Intermediate CA", "albmtls test PKI", "Intermediate CA in the trust store; issues the server and most clients, and its CRL revokes revoked."},
	{"revoked-intermediate-ca", "root", "albmtls Revoked Intermediate CA", "albmtls test PKI", "Second intermediate under the root, listed in the root's CRL; issues revoked-intermediate."},
	{"deep-ca-1", "root", "albmtls Deep Chain CA 1", "albmtls test PKI", "First of the four sub-CAs that deep-chain sends (root > deep-ca-1 > ... > deep-ca-4)."},
	{"deep-ca-2", "deep-ca-1", "albmtls Deep Chain CA 2", "albmtls test PKI", "Second of the four sub-CAs that deep-chain sends."},
	{"deep-ca-3", "deep-ca-2", "albmtls Deep Chain CA 3", "albmtls test PKI", "Third of the four sub-CAs that deep-chain sends."},
	{"deep-ca-4", "deep-ca-3", "albmtls Deep Chain CA 4", "albmtls test PKI", "Fourth sub-CA; issues deep-chain."},
	{"untrusted-root", "", "albmtls Untrusted Root CA", "Somebody Else", "Root outside the trust store."},
	{"untrusted-intermediate", "untrusted-root", "albmtls Untrusted Intermediate CA", "Somebody Else", "Intermediate under untrusted-root; issues untrusted."},
}

type clientSpec struct {
	name, issuer, purpose, note string
	keyType                     KeyType // "" = the set's default
	subject                     func(org BaseDN) Name
	eku                         []x509.ExtKeyUsage
	window                      func(now time.Time) (notBefore, notAfter time.Time)
	extensions                  func() []pkix.Extension
	selfSigned                  bool
}

func cn(name string) func(BaseDN) Name {
	return func(BaseDN) Name { return Name{CommonName: name} }
}

// standardClients are the brief's client table, in its order.
var standardClients = []clientSpec{
	{name: "valid", issuer: "intermediate", subject: cn("valid"),
		purpose: "Client certificate with the default key type and clientAuth, from the intermediate: the happy path."},
	{name: "valid-rsa", issuer: "intermediate", subject: cn("valid-rsa"), keyType: RSA2048,
		purpose: "RSA 2048 client certificate: the happy path with an RSA key."},
	{name: "member", issuer: "intermediate", subject: func(o BaseDN) Name {
		return Name{CommonName: "member", Organization: o.O, OrganizationalUnit: o.OU}
	}, purpose: "Subject carries the organisation's base DN (O and OU).",
		note: "the sample authz backend allows it"},
	{name: "outsider", issuer: "intermediate", subject: func(BaseDN) Name {
		return Name{CommonName: "outsider", Organization: "Outsider Ltd", OrganizationalUnit: "Sales"}
	}, purpose: "Same CA as member but a different O and OU: ALB accepts it, the application must not.",
		note: "the sample authz backend answers 403"},
	{name: "revoked", issuer: "intermediate", subject: cn("revoked"),
		purpose: "Serial listed in the intermediate's CRL."},
	{name: "revoked-intermediate", issuer: "revoked-intermediate-ca", subject: cn("revoked-intermediate"),
		purpose: "Issued by revoked-intermediate-ca, which the root's CRL revokes; sends the leaf and that CA."},
	{name: "expired", issuer: "intermediate", subject: cn("expired"),
		window: func(now time.Time) (time.Time, time.Time) {
			return now.Add(-60 * 24 * time.Hour), now.Add(-24 * time.Hour)
		},
		purpose: "notAfter one day in the past."},
	{name: "not-yet-valid", issuer: "intermediate", subject: cn("not-yet-valid"),
		window: func(now time.Time) (time.Time, time.Time) {
			return now.Add(30 * 24 * time.Hour), now.Add(395 * 24 * time.Hour)
		},
		purpose: "notBefore 30 days in the future."},
	{name: "untrusted", issuer: "untrusted-intermediate", subject: cn("untrusted"),
		purpose: "Issued under untrusted-root, which is not in the trust store; sends the leaf and untrusted-intermediate."},
	{name: "self-signed", selfSigned: true, subject: cn("self-signed"),
		purpose: "Self-signed leaf that no trust store vouches for."},
	{name: "server-purpose", issuer: "intermediate", subject: cn("server-purpose"), eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		purpose: "EKU serverAuth only, so it fails the client purpose check."},
	{name: "weak-rsa", issuer: "intermediate", subject: cn("weak-rsa"), keyType: RSA1024,
		purpose: "RSA 1024 key, below ALB's RSA 2048 minimum (alb-behaviour §1.3)."},
	{name: "deep-chain", issuer: "deep-ca-4", subject: cn("deep-chain"),
		purpose: "Sends 5 certificates (the leaf and deep-ca-4 to deep-ca-1), one more than ALB's maximum chain depth of 4."},
	{name: "oversized", issuer: "intermediate", subject: cn("oversized"),
		extensions: func() []pkix.Extension {
			v, _ := asn1.Marshal(make([]byte, oversizedPadding)) // an OCTET STRING of zeros
			return []pkix.Extension{{Id: oidOversizedPadding, Value: v}}
		},
		purpose: "Leaf with an 80 KiB non-critical extension: 2 certificates whose Certificate message exceeds ALB's 64 KiB limit (alb-behaviour §S7)."},
}

func (o GenerateOptions) withDefaults() GenerateOptions {
	if o.KeyType == "" {
		o.KeyType = DefaultKeyType
	}
	if o.CAKeyType == "" {
		o.CAKeyType = DefaultKeyType
	}
	if o.Organization == (BaseDN{}) {
		o.Organization = BaseDN{O: "Example Corp", OU: "Engineering"}
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	return o
}

// Generate builds the whole standard PKI in memory: the trust store's root
// and intermediate, the revoked second intermediate, the deep-chain sub-CAs,
// the untrusted root and its intermediate, the server, every client of the
// brief's table and both CRLs. Keys are generated concurrently, because RSA
// key generation dominates the time.
func Generate(opts GenerateOptions) (*Set, error) {
	opts = opts.withDefaults()
	for _, kt := range []KeyType{opts.KeyType, opts.CAKeyType} {
		if _, err := ParseKeyType(string(kt)); err != nil {
			return nil, err
		}
	}
	now := opts.Clock().UTC().Truncate(time.Second)
	clock := func() time.Time { return now }

	opts.Progress(fmt.Sprintf("generating %d keys", len(standardCAs)+len(standardClients)+1))
	keyTypes := map[string]KeyType{"server": opts.KeyType}
	for _, c := range standardCAs {
		keyTypes[c.name] = opts.CAKeyType
	}
	for _, c := range standardClients {
		keyTypes[c.name] = opts.KeyType
		if c.keyType != "" {
			keyTypes[c.name] = c.keyType
		}
	}
	keys, err := generateKeys(keyTypes)
	if err != nil {
		return nil, err
	}

	s := &Set{
		clock:       opts.Clock,
		generatedAt: now,
		updatedAt:   now,
		keyType:     opts.KeyType,
		org:         opts.Organization,
		byName:      map[string]*entry{},
		crls:        map[string]*crlState{},
		pending:     map[string]bool{},
	}
	opts.Progress(fmt.Sprintf("creating %d CAs", len(standardCAs)))
	for _, c := range standardCAs {
		req := CARequest{Key: keys[c.name], Subject: Name{CommonName: c.cn, Organization: c.o}, NotBefore: now.Add(-caBackdate), Clock: clock}
		var ca *CA
		if c.issuer == "" {
			ca, err = NewRootCA(req)
		} else {
			parent, _ := s.CA(c.issuer)
			ca, err = parent.NewIntermediate(req)
		}
		if err != nil {
			return nil, err
		}
		s.add(&entry{name: c.name, kind: KindCA, issuer: c.issuer, purpose: c.purpose, ca: ca})
	}
	s.Root, _ = s.CA("root")
	s.Intermediate, _ = s.CA("intermediate")

	opts.Progress(fmt.Sprintf("issuing the server certificate and %d client certificates", len(standardClients)))
	server, err := s.Intermediate.Issue(LeafRequest{
		Key:         keys["server"],
		Subject:     Name{CommonName: "localhost"},
		SANs:        SANs{DNSNames: []string{"localhost", "alb"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		Clock:       clock,
	})
	if err != nil {
		return nil, err
	}
	s.Server = server
	s.add(&entry{name: "server", kind: KindServer, issuer: "intermediate", leaf: server,
		purpose: "Server certificate of the emulated listener; SANs localhost, 127.0.0.1, ::1 and alb."})

	for _, c := range standardClients {
		req := LeafRequest{Key: keys[c.name], Subject: c.subject(opts.Organization), ExtKeyUsage: c.eku, Clock: clock}
		if c.window != nil {
			req.NotBefore, req.NotAfter = c.window(now)
		}
		if c.extensions != nil {
			req.Extensions = c.extensions()
		}
		var leaf *Leaf
		if c.selfSigned {
			leaf, err = NewSelfSigned(req)
		} else {
			ca, _ := s.CA(c.issuer)
			leaf, err = ca.Issue(req)
		}
		if err != nil {
			return nil, err
		}
		s.add(&entry{name: c.name, kind: KindClient, issuer: c.issuer, purpose: c.purpose, note: c.note, leaf: leaf})
	}

	opts.Progress("signing the CRLs of root and intermediate")
	for issuer, victim := range map[string]string{"intermediate": "revoked", "root": "revoked-intermediate-ca"} {
		ca, _ := s.CA(issuer)
		serial := s.byName[victim].cert().SerialNumber
		if err := s.issueCRL(issuer, ca, big.NewInt(1), []Revocation{{Serial: serial, RevokedAt: now}}, now); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// generateKeys makes one key per name, all at once.
func generateKeys(types map[string]KeyType) (map[string]crypto.Signer, error) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		keys = make(map[string]crypto.Signer, len(types))
		errs []error
	)
	for name, kt := range types {
		wg.Go(func() {
			k, err := kt.Generate()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("generating %s key for %s: %w", kt, name, err))
				return
			}
			keys[name] = k
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return keys, nil
}
