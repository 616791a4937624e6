package pki

import (
	"crypto/x509/pkix"
	"fmt"

	"github.com/cloudflare/cfssl/csr"
)

// Name is the subject of a certificate. The common fields have their own
// names; anything else (emailAddress, UID, serialNumber, a private OID) goes
// in Extra, in the order it should appear in the certificate.
type Name struct {
	CommonName         string
	Organization       string
	OrganizationalUnit string
	Country            string
	Province           string
	Locality           string
	// Extra holds further attributes by OID. Values must be strings; they
	// are encoded as PrintableString when possible, otherwise UTF8String.
	Extra []pkix.AttributeTypeAndValue
}

// cfsslRequest turns the name into cfssl's CSR request. Each extra attribute
// goes into its own csr.Name because csr.Name keeps OIDs in a map, and a map
// with several entries would lose their order.
func (n Name) cfsslRequest() (*csr.CertificateRequest, error) {
	req := &csr.CertificateRequest{CN: n.CommonName}
	if n.Organization != "" || n.OrganizationalUnit != "" || n.Country != "" || n.Province != "" || n.Locality != "" {
		req.Names = append(req.Names, csr.Name{C: n.Country, ST: n.Province, L: n.Locality, O: n.Organization, OU: n.OrganizationalUnit})
	}
	for _, atv := range n.Extra {
		s, ok := atv.Value.(string)
		if !ok {
			return nil, fmt.Errorf("subject attribute %s has a %T value: only string values are supported", atv.Type, atv.Value)
		}
		if len(atv.Type) == 0 {
			return nil, fmt.Errorf("subject attribute with value %q has an empty OID", s)
		}
		req.Names = append(req.Names, csr.Name{OID: map[string]string{atv.Type.String(): s}})
	}
	if req.CN == "" && len(req.Names) == 0 {
		return nil, fmt.Errorf("empty subject: set at least a common name")
	}
	return req, nil
}

// pkix returns the name as the standard library sees it, for the few
// certificates built without cfssl.
func (n Name) pkix() pkix.Name {
	var p pkix.Name
	p.CommonName = n.CommonName
	appendIf := func(dst *[]string, s string) {
		if s != "" {
			*dst = append(*dst, s)
		}
	}
	appendIf(&p.Organization, n.Organization)
	appendIf(&p.OrganizationalUnit, n.OrganizationalUnit)
	appendIf(&p.Country, n.Country)
	appendIf(&p.Province, n.Province)
	appendIf(&p.Locality, n.Locality)
	p.ExtraNames = append(p.ExtraNames, n.Extra...)
	return p
}
