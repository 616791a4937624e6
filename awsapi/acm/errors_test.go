package acm_test

import (
	"bytes"
	"context"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	acmsdk "github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/awsapi/acm"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// TestImportValidation: each input ACM's import rules refuse is a
// ValidationException naming the field, and nothing is imported.
func TestImportValidation(t *testing.T) {
	ctx := context.Background()
	changes := 0
	f := newFixture(t, acm.Options{OnChange: func() { changes++ }})
	good, _ := serverWithChain(t)
	other := selfSigned(t, ecKey(t, elliptic.P256()), nil)
	ecCA := pkitest.NewCA(t)
	rsaLeaf := pkitest.Issue(t, ecCA, pki.LeafRequest{Subject: pki.Name{CommonName: "rsa.example.com"}, Key: rsaKey(t, 2048)})
	stranger := pkitest.NewCA(t, pkitest.WithCommonName("Stranger CA"))
	big := bytes.Repeat([]byte("A"), 5121)
	der, _ := pem.Decode(good.cert)
	noNames := selfSigned(t, ecKey(t, elliptic.P256()), func(c *x509.Certificate) {
		c.Subject, c.DNSNames = pkix.Name{Organization: []string{"albmtls test"}}, nil
	})

	cases := []struct {
		name             string
		cert, key, chain []byte
		want             []string // substrings of the message
	}{
		{"DER instead of PEM", der.Bytes, good.key, nil, []string{"Certificate:", "PEM"}},
		{"text around the PEM", append([]byte("subject=CN=x\n"), good.cert...), good.key, nil, []string{"Certificate:", "PEM"}},
		{"two certificates", append(append([]byte{}, good.cert...), other.cert...), good.key, nil, []string{"Certificate:", "exactly one certificate"}},
		{"not a certificate", good.key, good.key, nil, []string{"Certificate:", `"PRIVATE KEY"`}},
		{"key of another certificate", good.cert, other.key, nil, []string{"PrivateKey:", "does not match"}},
		{"encrypted PKCS #8 key", good.cert, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2, 3}}), nil, []string{"PrivateKey:", "encrypted"}},
		{"encrypted legacy key", good.cert, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte{1}}), nil, []string{"PrivateKey:", "encrypted"}},
		{"key larger than 5120 bytes", good.cert, big, nil, []string{"privateKey", "less than or equal to 5120"}},
		{"certificate larger than 32768 bytes", bytes.Repeat([]byte("A"), 32769), good.key, nil, []string{"certificate", "less than or equal to 32768"}},
		{"chain that did not issue it", good.cert, good.key, stranger.CertPEM, []string{"CertificateChain:", "could not validate"}},
		{"chain with a key in it", good.cert, good.key, append(append([]byte{}, good.chain...), good.key...), []string{"CertificateChain:", `"PRIVATE KEY"`}},
		{"RSA certificate signed by an ECDSA CA", rsaLeaf.CertPEM, rsaLeaf.KeyPEM, ecCA.CertPEM, []string{"Certificate:", "match the signing CA"}},
		{"no names", noNames.cert, noNames.key, nil, []string{"Certificate:", "names no domain"}},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.client.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{Certificate: tc.cert, PrivateKey: tc.key, CertificateChain: tc.chain})
			e := requireAPIError[*types.ValidationException](t, err)
			for _, w := range tc.want {
				assert.Contains(t, e.ErrorMessage(), w)
			}
		})
	}
	list, err := f.client.ListCertificates(ctx, &acmsdk.ListCertificatesInput{Includes: &types.Filters{KeyTypes: types.KeyAlgorithm("").Values()}})
	require.NoError(t, err)
	assert.Empty(t, list.CertificateSummaryList, "nothing imported")
	assert.Zero(t, changes)
}

// TestImportValidityPeriod: "The current time must be between the Not
// Before and Not After certificate fields"; a certificate that expires
// after its import turns EXPIRED.
func TestImportValidityPeriod(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, acm.Options{})
	now := f.clock.Now()
	m := selfSigned(t, ecKey(t, elliptic.P256()), func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = now.Add(time.Hour), now.Add(2*time.Hour)
	})
	_, err := f.client.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{Certificate: m.cert, PrivateKey: m.key})
	e := requireAPIError[*types.ValidationException](t, err)
	assert.Contains(t, e.ErrorMessage(), "not valid yet")

	f.clock.Advance(90 * time.Minute)
	arn := f.importMaterial(t, m)
	d, err := f.client.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &arn})
	require.NoError(t, err)
	assert.Equal(t, types.CertificateStatusIssued, d.Certificate.Status)

	f.clock.Advance(time.Hour)
	d, err = f.client.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &arn})
	require.NoError(t, err)
	assert.Equal(t, types.CertificateStatusExpired, d.Certificate.Status)
	_, err = f.client.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{Certificate: m.cert, PrivateKey: m.key})
	e = requireAPIError[*types.ValidationException](t, err)
	assert.Contains(t, e.ErrorMessage(), "has expired")
}

func TestReimport(t *testing.T) {
	ctx := context.Background()
	changes := 0
	f := newFixture(t, acm.Options{OnChange: func() { changes++ }})
	first, _ := serverWithChain(t)
	arn := f.importMaterial(t, first)
	created := f.clock.Now()

	f.clock.Advance(time.Minute)
	second, leaf := serverWithChain(t)
	out, err := f.client.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{CertificateArn: &arn, Certificate: second.cert, PrivateKey: second.key, CertificateChain: second.chain})
	require.NoError(t, err)
	assert.Equal(t, arn, aws.ToString(out.CertificateArn), "a re-import keeps the ARN")
	assert.Equal(t, 2, changes)
	d, err := f.client.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &arn})
	require.NoError(t, err)
	assert.Equal(t, colonHex(leaf.Cert.SerialNumber.Bytes()), aws.ToString(d.Certificate.Serial), "the new certificate replaced the old")
	assert.True(t, created.Equal(aws.ToTime(d.Certificate.CreatedAt)), "CreatedAt stays")
	assert.True(t, f.clock.Now().Equal(aws.ToTime(d.Certificate.ImportedAt)), "ImportedAt moves")
	got, _ := f.svc.Certificate(arn)
	assert.Equal(t, second.key, got.PrivateKeyPEM)

	_, err = f.client.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{CertificateArn: &arn, Certificate: second.cert, PrivateKey: second.key,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("edge")}}})
	e := requireAPIError[*types.InvalidParameterException](t, err)
	assert.Contains(t, e.ErrorMessage(), "Tags")

	missing := strings.Replace(arn, arn[len(arn)-12:], "000000000000", 1)
	_, err = f.client.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{CertificateArn: &missing, Certificate: second.cert, PrivateKey: second.key})
	requireAPIError[*types.ResourceNotFoundException](t, err)

	bad := "arn:aws:acm:us-east-1:123456789012:certificate/NOT-A-UUID"
	_, err = f.client.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{CertificateArn: &bad, Certificate: second.cert, PrivateKey: second.key})
	requireAPIError[*types.InvalidArnException](t, err)

	// A re-import may not add a KeyUsage or ExtendedKeyUsage extension the
	// imported certificate lacks.
	key := ecKey(t, elliptic.P256())
	bare := selfSigned(t, key, func(c *x509.Certificate) { c.KeyUsage, c.ExtKeyUsage = 0, nil })
	bareARN := f.importMaterial(t, bare)
	withKU := selfSigned(t, key, func(c *x509.Certificate) { c.ExtKeyUsage = nil })
	_, err = f.client.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{CertificateArn: &bareARN, Certificate: withKU.cert, PrivateKey: withKU.key})
	e2 := requireAPIError[*types.ValidationException](t, err)
	assert.Contains(t, e2.ErrorMessage(), "KeyUsage")
	withEKU := selfSigned(t, key, func(c *x509.Certificate) { c.KeyUsage = 0 })
	_, err = f.client.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{CertificateArn: &bareARN, Certificate: withEKU.cert, PrivateKey: withEKU.key})
	e2 = requireAPIError[*types.ValidationException](t, err)
	assert.Contains(t, e2.ErrorMessage(), "ExtendedKeyUsage")
	assert.Equal(t, 3, changes, "failed re-imports change nothing")
	still, _ := f.svc.Certificate(bareARN)
	assert.Equal(t, bare.cert, still.CertificatePEM)
}

// TestARNErrors: an ARN that fails the API model's constraints is a
// ValidationException; one of the right pattern that is no certificate ARN
// is InvalidArnException; a well-formed one of another region or account,
// or of no certificate, is ResourceNotFoundException.
func TestARNErrors(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, acm.Options{})
	const id = "12345678-1234-4234-8234-123456789012"
	cases := []struct {
		arn  string
		want func(*testing.T, error)
	}{
		{"short", func(t *testing.T, err error) {
			e := requireAPIError[*types.ValidationException](t, err)
			assert.Contains(t, e.ErrorMessage(), "'certificateArn'")
		}},
		{"arn:aws:elasticloadbalancing:us-east-1:123456789012:truststore/x/1", func(t *testing.T, err error) {
			e := requireAPIError[*types.ValidationException](t, err)
			assert.Contains(t, e.ErrorMessage(), "regular expression pattern")
		}},
		{"arn:aws:acm:us-east-1:123456789012:certificate/not-a-uuid", func(t *testing.T, err error) {
			e := requireAPIError[*types.InvalidArnException](t, err)
			assert.Contains(t, e.ErrorMessage(), "arn:aws:acm:REGION:ACCOUNT:certificate/UUID")
		}},
		{"arn:aws:acm:us-east-1:123456789012:key/" + id, func(t *testing.T, err error) { requireAPIError[*types.InvalidArnException](t, err) }},
		{"arn:aws:acm:eu-west-1:123456789012:certificate/" + id, func(t *testing.T, err error) { requireAPIError[*types.ResourceNotFoundException](t, err) }},
		{"arn:aws:acm:us-east-1:210987654321:certificate/" + id, func(t *testing.T, err error) { requireAPIError[*types.ResourceNotFoundException](t, err) }},
		{"arn:aws:acm:us-east-1:123456789012:certificate/" + id, func(t *testing.T, err error) { requireAPIError[*types.ResourceNotFoundException](t, err) }},
	}
	for _, tc := range cases {
		t.Run(tc.arn, func(t *testing.T) {
			arn := tc.arn
			_, err := f.client.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &arn})
			tc.want(t, err)
			_, err = f.client.GetCertificate(ctx, &acmsdk.GetCertificateInput{CertificateArn: &arn})
			tc.want(t, err)
			_, err = f.client.DeleteCertificate(ctx, &acmsdk.DeleteCertificateInput{CertificateArn: &arn})
			tc.want(t, err)
			_, err = f.client.ListTagsForCertificate(ctx, &acmsdk.ListTagsForCertificateInput{CertificateArn: &arn})
			tc.want(t, err)
		})
	}
}

func TestDeleteInUse(t *testing.T) {
	ctx := context.Background()
	const listener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/story/0123456789abcdef/fedcba9876543210"
	var used string
	var f *fixture
	f = newFixture(t, acm.Options{InUse: func(arn string) []string {
		// Calling back into the service from InUse must not deadlock.
		if _, ok := f.svc.Certificate(arn); ok && arn == used {
			return []string{listener}
		}
		return nil
	}})
	m, _ := serverWithChain(t)
	arn := f.importMaterial(t, m)
	used = arn

	d, err := f.client.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &arn})
	require.NoError(t, err)
	assert.Equal(t, []string{listener}, d.Certificate.InUseBy)
	l, err := f.client.ListCertificates(ctx, &acmsdk.ListCertificatesInput{Includes: &types.Filters{KeyTypes: []types.KeyAlgorithm{types.KeyAlgorithmEcPrime256v1}}})
	require.NoError(t, err)
	require.Len(t, l.CertificateSummaryList, 1)
	assert.True(t, aws.ToBool(l.CertificateSummaryList[0].InUse))

	_, err = f.client.DeleteCertificate(ctx, &acmsdk.DeleteCertificateInput{CertificateArn: &arn})
	e := requireAPIError[*types.ResourceInUseException](t, err)
	assert.Contains(t, e.ErrorMessage(), listener)
	_, ok := f.svc.Certificate(arn)
	assert.True(t, ok, "still there")

	used = ""
	_, err = f.client.DeleteCertificate(ctx, &acmsdk.DeleteCertificateInput{CertificateArn: &arn})
	require.NoError(t, err)
}

func TestTags(t *testing.T) {
	ctx := context.Background()
	changes := 0
	f := newFixture(t, acm.Options{OnChange: func() { changes++ }})
	m, _ := serverWithChain(t)
	out, err := f.client.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{Certificate: m.cert, PrivateKey: m.key,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("edge")}, {Key: aws.String("story")}}})
	require.NoError(t, err)
	tags, err := f.client.ListTagsForCertificate(ctx, &acmsdk.ListTagsForCertificateInput{CertificateArn: out.CertificateArn})
	require.NoError(t, err)
	assert.Equal(t, []types.Tag{{Key: aws.String("team"), Value: aws.String("edge")}, {Key: aws.String("story")}}, tags.Tags)

	// AddTagsToCertificate replaces a key's value and adds new keys;
	// RemoveTagsFromCertificate removes by key, or by key and value.
	_, err = f.client.AddTagsToCertificate(ctx, &acmsdk.AddTagsToCertificateInput{CertificateArn: out.CertificateArn,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}, {Key: aws.String("env"), Value: aws.String("local")}}})
	require.NoError(t, err)
	tags, err = f.client.ListTagsForCertificate(ctx, &acmsdk.ListTagsForCertificateInput{CertificateArn: out.CertificateArn})
	require.NoError(t, err)
	assert.Equal(t, []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}, {Key: aws.String("story")}, {Key: aws.String("env"), Value: aws.String("local")}}, tags.Tags)
	_, err = f.client.RemoveTagsFromCertificate(ctx, &acmsdk.RemoveTagsFromCertificateInput{CertificateArn: out.CertificateArn,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("edge")}, {Key: aws.String("story")}}})
	require.NoError(t, err)
	tags, err = f.client.ListTagsForCertificate(ctx, &acmsdk.ListTagsForCertificateInput{CertificateArn: out.CertificateArn})
	require.NoError(t, err)
	assert.Equal(t, []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}, {Key: aws.String("env"), Value: aws.String("local")}}, tags.Tags,
		"team stays: its value is not edge")
	assert.Equal(t, 3, changes)
	_, err = f.client.AddTagsToCertificate(ctx, &acmsdk.AddTagsToCertificateInput{CertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-4234-8234-123456789012"),
		Tags: []types.Tag{{Key: aws.String("a")}}})
	requireAPIError[*types.ResourceNotFoundException](t, err)

	_, err = f.client.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{Certificate: m.cert, PrivateKey: m.key,
		Tags: []types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("x")}}})
	requireAPIError[*types.InvalidTagException](t, err)
	many := make([]types.Tag, 51)
	for i := range many {
		many[i] = types.Tag{Key: aws.String(strings.Repeat("k", i+1))}
	}
	_, err = f.client.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{Certificate: m.cert, PrivateKey: m.key, Tags: many})
	requireAPIError[*types.TooManyTagsException](t, err)
	_, err = f.client.AddTagsToCertificate(ctx, &acmsdk.AddTagsToCertificateInput{CertificateArn: out.CertificateArn, Tags: many[:49]})
	requireAPIError[*types.TooManyTagsException](t, err) // 2 + 49 > 50
	assert.Equal(t, 3, changes, "refused calls change nothing")
}

// rawCall posts one JSON 1.1 request without the SDK, for what the SDK
// refuses to send (missing required members, unknown targets, bad JSON).
func rawCall(t *testing.T, url, target, body string) (int, http.Header, map[string]string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]string
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, resp.Header, out
}

func TestProtocolErrors(t *testing.T) {
	f := newFixture(t, acm.Options{})

	status, h, body := rawCall(t, f.url, "CertificateManager.RequestCertificate", `{"DomainName":"example.com"}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "UnknownOperationException", body["__type"])
	assert.Equal(t, "UnknownOperationException", h.Get("X-Amzn-Errortype"))
	assert.Equal(t, "application/x-amz-json-1.1", h.Get("Content-Type"))
	assert.Contains(t, body["message"], "ImportCertificate")

	status, _, body = rawCall(t, f.url, "", `{}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "UnknownOperationException", body["__type"])
	_, _, body = rawCall(t, f.url, "Route53.ImportCertificate", `{}`)
	assert.Equal(t, "UnknownOperationException", body["__type"])

	_, _, body = rawCall(t, f.url, "CertificateManager.ImportCertificate", `{"Certificate": 5`)
	assert.Equal(t, "SerializationException", body["__type"])
	_, _, body = rawCall(t, f.url, "CertificateManager.ImportCertificate", `{}`)
	assert.Equal(t, "ValidationException", body["__type"])
	assert.Equal(t, "2 validation errors detected: Value null at 'certificate' failed to satisfy constraint: Member must not be null; "+
		"Value null at 'privateKey' failed to satisfy constraint: Member must not be null", body["message"])
	_, _, body = rawCall(t, f.url, "CertificateManager.DescribeCertificate", ``)
	assert.Equal(t, "ValidationException", body["__type"])
	assert.Contains(t, body["message"], "'certificateArn'")

	// The SDK maps an operation the endpoint lacks to a generic API error
	// with the code.
	_, err := f.client.RequestCertificate(context.Background(), &acmsdk.RequestCertificateInput{DomainName: aws.String("example.com")})
	code, _ := apiCode(t, err)
	assert.Equal(t, "UnknownOperationException", code)

	// A body over the dispatcher's limit.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat(" ", 100)))
	req.Header.Set("X-Amz-Target", "CertificateManager.ListCertificates")
	req.Body = http.MaxBytesReader(rec, req.Body, 10)
	f.svc.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	assert.Contains(t, rec.Body.String(), "larger than the 10 bytes")
}

// TestWriteError is the shape the dispatcher uses for requests that fail
// before they reach the service; the SDK reads it as its typed exception.
func TestWriteError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acm.WriteError(w, http.StatusBadRequest, "InvalidArnException", "signed for another service")
	}))
	t.Cleanup(srv.Close)
	status, h, body := rawCall(t, srv.URL, "CertificateManager.DescribeCertificate", `{}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, map[string]string{"__type": "InvalidArnException", "message": "signed for another service"}, body)
	assert.Equal(t, "application/x-amz-json-1.1", h.Get("Content-Type"))

	f := newFixture(t, acm.Options{})
	f.client = acmsdk.New(acmsdk.Options{Region: region, BaseEndpoint: aws.String(srv.URL), Credentials: f.client.Options().Credentials, RetryMaxAttempts: 1})
	_, err := f.client.DescribeCertificate(context.Background(), &acmsdk.DescribeCertificateInput{CertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/x")})
	e := requireAPIError[*types.InvalidArnException](t, err)
	assert.Equal(t, "signed for another service", e.ErrorMessage())
}
