package acm_test

import (
	"context"
	"crypto/elliptic"
	"crypto/x509"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	acmsdk "github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/awsapi/acm"
)

// listAll pages through ListCertificates with the SDK's paginator.
func listAll(t *testing.T, f *fixture, in *acmsdk.ListCertificatesInput, pageSize int32) (arns []string, pages int) {
	t.Helper()
	p := acmsdk.NewListCertificatesPaginator(f.client, in, func(o *acmsdk.ListCertificatesPaginatorOptions) { o.Limit = pageSize })
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		require.NoError(t, err)
		assert.LessOrEqual(t, len(out.CertificateSummaryList), int(pageSize))
		for _, s := range out.CertificateSummaryList {
			arns = append(arns, aws.ToString(s.CertificateArn))
		}
		pages++
	}
	return arns, pages
}

func TestListCertificates(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, acm.Options{})
	now := f.clock.Now()
	var rsaARNs, ecARNs []string
	for i := range 5 {
		m := selfSigned(t, rsaKey(t, 2048), func(c *x509.Certificate) {
			c.SerialNumber = big.NewInt(int64(100 + i))
			c.Subject.CommonName = fmt.Sprintf("rsa%d.example.com", i)
			c.DNSNames = nil
			if i == 2 {
				c.NotAfter = now.Add(time.Hour) // expires first
			}
		})
		rsaARNs = append(rsaARNs, f.importMaterial(t, m))
		f.clock.Advance(time.Second)
	}
	for i := range 2 {
		m := selfSigned(t, ecKey(t, elliptic.P384()), func(c *x509.Certificate) { c.Subject.CommonName = fmt.Sprintf("ec%d.example.com", i) })
		ecARNs = append(ecARNs, f.importMaterial(t, m))
	}

	// Default filtering lists only RSA_1024 and RSA_2048 certificates.
	out, err := f.client.ListCertificates(ctx, &acmsdk.ListCertificatesInput{})
	require.NoError(t, err)
	require.Len(t, out.CertificateSummaryList, 5)
	assert.Nil(t, out.NextToken)
	s := out.CertificateSummaryList[0]
	assert.Equal(t, rsaARNs[0], aws.ToString(s.CertificateArn))
	assert.Equal(t, "rsa0.example.com", aws.ToString(s.DomainName))
	assert.Equal(t, []string{"rsa0.example.com"}, s.SubjectAlternativeNameSummaries)
	assert.Equal(t, types.KeyAlgorithmRsa2048, s.KeyAlgorithm)
	assert.Equal(t, types.CertificateStatusIssued, s.Status)
	assert.Equal(t, types.CertificateTypeImported, s.Type)
	assert.False(t, aws.ToBool(s.InUse))
	assert.True(t, now.Equal(aws.ToTime(s.ImportedAt)))
	assert.Equal(t, []types.KeyUsageName{types.KeyUsageNameDigitalSignature}, s.KeyUsages)
	assert.Equal(t, []types.ExtendedKeyUsageName{types.ExtendedKeyUsageNameTlsWebServerAuthentication}, s.ExtendedKeyUsages)

	ec, _ := listAll(t, f, &acmsdk.ListCertificatesInput{Includes: &types.Filters{KeyTypes: []types.KeyAlgorithm{types.KeyAlgorithmEcSecp384r1}}}, 10)
	assert.Equal(t, ecARNs, ec)
	all, _ := listAll(t, f, &acmsdk.ListCertificatesInput{Includes: &types.Filters{KeyTypes: types.KeyAlgorithm("").Values()}}, 10)
	assert.Equal(t, append(append([]string{}, rsaARNs...), ecARNs...), all)

	// Pagination: MaxItems 2 gives pages of 2, 2 and 1, in creation order.
	paged, pages := listAll(t, f, &acmsdk.ListCertificatesInput{}, 2)
	assert.Equal(t, rsaARNs, paged)
	assert.Equal(t, 3, pages)
	desc, _ := listAll(t, f, &acmsdk.ListCertificatesInput{SortBy: types.SortByCreatedAt, SortOrder: types.SortOrderDescending}, 2)
	assert.Equal(t, []string{rsaARNs[4], rsaARNs[3], rsaARNs[2], rsaARNs[1], rsaARNs[0]}, desc)

	// A certificate deleted between two pages does not shift the next page.
	first, err := f.client.ListCertificates(ctx, &acmsdk.ListCertificatesInput{MaxItems: aws.Int32(2)})
	require.NoError(t, err)
	require.NotNil(t, first.NextToken)
	_, err = f.client.DeleteCertificate(ctx, &acmsdk.DeleteCertificateInput{CertificateArn: &rsaARNs[0]})
	require.NoError(t, err)
	second, err := f.client.ListCertificates(ctx, &acmsdk.ListCertificatesInput{MaxItems: aws.Int32(2), NextToken: first.NextToken})
	require.NoError(t, err)
	require.Len(t, second.CertificateSummaryList, 2)
	assert.Equal(t, rsaARNs[2], aws.ToString(second.CertificateSummaryList[0].CertificateArn))

	// The CertificateStatuses filter, once one certificate has expired.
	f.clock.Advance(2 * time.Hour)
	expired, _ := listAll(t, f, &acmsdk.ListCertificatesInput{CertificateStatuses: []types.CertificateStatus{types.CertificateStatusExpired}}, 10)
	assert.Equal(t, []string{rsaARNs[2]}, expired)
	issued, _ := listAll(t, f, &acmsdk.ListCertificatesInput{CertificateStatuses: []types.CertificateStatus{types.CertificateStatusIssued}}, 10)
	assert.Equal(t, []string{rsaARNs[1], rsaARNs[3], rsaARNs[4]}, issued)
	both, _ := listAll(t, f, &acmsdk.ListCertificatesInput{CertificateStatuses: []types.CertificateStatus{types.CertificateStatusIssued, types.CertificateStatusExpired}}, 10)
	assert.Len(t, both, 4)

	// Key usage filters.
	eku, _ := listAll(t, f, &acmsdk.ListCertificatesInput{Includes: &types.Filters{
		KeyTypes:         types.KeyAlgorithm("").Values(),
		ExtendedKeyUsage: []types.ExtendedKeyUsageName{types.ExtendedKeyUsageNameTlsWebClientAuthentication},
	}}, 10)
	assert.Empty(t, eku)
	ku, _ := listAll(t, f, &acmsdk.ListCertificatesInput{Includes: &types.Filters{
		KeyTypes: types.KeyAlgorithm("").Values(),
		KeyUsage: []types.KeyUsageName{types.KeyUsageNameDigitalSignature},
	}}, 10)
	assert.Len(t, ku, 6)
}

func TestListCertificatesBadInput(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, acm.Options{})
	_, err := f.client.ListCertificates(ctx, &acmsdk.ListCertificatesInput{NextToken: aws.String("not-a-token")})
	e := requireAPIError[*types.InvalidArgsException](t, err)
	assert.Contains(t, e.ErrorMessage(), "NextToken")
	_, err = f.client.ListCertificates(ctx, &acmsdk.ListCertificatesInput{MaxItems: aws.Int32(0)})
	v := requireAPIError[*types.ValidationException](t, err)
	assert.Contains(t, v.ErrorMessage(), "'maxItems'")
	_, err = f.client.ListCertificates(ctx, &acmsdk.ListCertificatesInput{MaxItems: aws.Int32(1001)})
	requireAPIError[*types.ValidationException](t, err)
	_, err = f.client.ListCertificates(ctx, &acmsdk.ListCertificatesInput{CertificateStatuses: []types.CertificateStatus{"BOGUS"}})
	v = requireAPIError[*types.ValidationException](t, err)
	assert.Contains(t, v.ErrorMessage(), "'certificateStatuses.1.member'")
	_, err = f.client.ListCertificates(ctx, &acmsdk.ListCertificatesInput{Includes: &types.Filters{KeyTypes: []types.KeyAlgorithm{"RSA_8192"}}})
	requireAPIError[*types.ValidationException](t, err)
}

// TestConcurrentImportDelete drives imports, re-imports, deletes, lists,
// snapshots and lookups at once (run under -race): every call either
// commits completely or not at all, and the end state is exactly the
// certificates that were imported and not deleted.
func TestConcurrentImportDelete(t *testing.T) {
	ctx := context.Background()
	var changesMu sync.Mutex
	changes := 0
	var f *fixture
	f = newFixture(t, acm.Options{OnChange: func() {
		changesMu.Lock()
		changes++
		changesMu.Unlock()
		_, err := f.svc.Snapshot() // what the lead's --state persistence does
		assert.NoError(t, err)
	}})
	mats := make([]material, 4)
	for i := range mats {
		mats[i], _ = serverWithChain(t)
	}
	const workers, rounds = 8, 6
	kept := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				m := mats[(w+r)%len(mats)]
				out, err := f.client.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{Certificate: m.cert, PrivateKey: m.key, CertificateChain: m.chain})
				if !assert.NoError(t, err) {
					return
				}
				arn := aws.ToString(out.CertificateArn)
				n := mats[(w+r+1)%len(mats)]
				_, err = f.client.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{CertificateArn: &arn, Certificate: n.cert, PrivateKey: n.key, CertificateChain: n.chain})
				assert.NoError(t, err)
				c, ok := f.svc.Certificate(arn)
				if assert.True(t, ok) {
					// Never half-changed: the key always matches the certificate.
					assert.Contains(t, []string{string(n.key), string(m.key)}, string(c.PrivateKeyPEM))
					for _, x := range mats {
						if string(x.cert) == string(c.CertificatePEM) {
							assert.Equal(t, string(x.key), string(c.PrivateKeyPEM))
						}
					}
				}
				_, err = f.client.ListCertificates(ctx, &acmsdk.ListCertificatesInput{Includes: &types.Filters{KeyTypes: types.KeyAlgorithm("").Values()}, MaxItems: aws.Int32(3)})
				assert.NoError(t, err)
				if r%2 == 0 {
					_, err = f.client.DeleteCertificate(ctx, &acmsdk.DeleteCertificateInput{CertificateArn: &arn})
					assert.NoError(t, err)
				} else {
					kept[w] = append(kept[w], arn)
				}
			}
		}()
	}
	wg.Wait()
	var want []string
	for _, k := range kept {
		want = append(want, k...)
	}
	got, _ := listAll(t, f, &acmsdk.ListCertificatesInput{Includes: &types.Filters{KeyTypes: types.KeyAlgorithm("").Values()}}, 7)
	assert.ElementsMatch(t, want, got)
	assert.Len(t, got, workers*rounds/2)
	assert.Equal(t, workers*rounds*2+workers*rounds/2, changes, "one OnChange per import, re-import and delete")
}
