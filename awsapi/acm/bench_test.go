package acm_test

import (
	"context"
	"testing"

	acmsdk "github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acm/types"

	"github.com/albmtls/albmtls/awsapi/acm"
)

// BenchmarkImportCertificate is one ImportCertificate with a chain through
// the SDK and HTTP on 127.0.0.1: the parse and checks of the material
// dominate the endpoint's share.
func BenchmarkImportCertificate(b *testing.B) {
	f := newFixture(b, acm.Options{})
	m, _ := serverWithChain(b)
	in := &acmsdk.ImportCertificateInput{Certificate: m.cert, PrivateKey: m.key, CertificateChain: m.chain}
	for b.Loop() {
		if _, err := f.client.ImportCertificate(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListCertificates lists a page of 100 of 1000 certificates.
func BenchmarkListCertificates(b *testing.B) {
	f := newFixture(b, acm.Options{})
	m, _ := serverWithChain(b)
	for range 1000 {
		f.importMaterial(b, m)
	}
	page := int32(100)
	in := &acmsdk.ListCertificatesInput{Includes: &types.Filters{KeyTypes: []types.KeyAlgorithm{types.KeyAlgorithmEcPrime256v1}}, MaxItems: &page}
	for b.Loop() {
		if _, err := f.client.ListCertificates(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}
