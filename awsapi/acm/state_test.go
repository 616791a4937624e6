package acm_test

import (
	"context"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	acmsdk "github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/awsapi/acm"
	"github.com/albmtls/albmtls/emulator/awsarn"
)

func TestSnapshotRestore(t *testing.T) {
	ctx := context.Background()
	a := newFixture(t, acm.Options{})
	withChain, _ := serverWithChain(t)
	arn1 := a.importMaterial(t, withChain)
	a.clock.Advance(time.Minute)
	short := selfSigned(t, ecKey(t, elliptic.P256()), func(c *x509.Certificate) { c.NotAfter = time.Now().Add(time.Hour) })
	out, err := a.client.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{Certificate: short.cert, PrivateKey: short.key,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("edge")}}})
	require.NoError(t, err)
	arn2 := aws.ToString(out.CertificateArn)

	snap, err := a.svc.Snapshot()
	require.NoError(t, err)
	assert.True(t, json.Valid(snap))

	// A new service at a later time, restored from the snapshot.
	changes := 0
	b := newFixture(t, acm.Options{OnChange: func() { changes++ }})
	b.clock.Advance(time.Minute)
	require.NoError(t, b.svc.Restore(snap))
	assert.Zero(t, changes, "Restore does not call OnChange")

	for _, arn := range []string{arn1, arn2} {
		da, err := a.client.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &arn})
		require.NoError(t, err)
		db, err := b.client.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &arn})
		require.NoError(t, err)
		assert.Equal(t, da.Certificate, db.Certificate)
		ga, _ := a.svc.Certificate(arn)
		gb, ok := b.svc.Certificate(arn)
		require.True(t, ok)
		assert.Equal(t, ga, gb)
	}
	tags, err := b.client.ListTagsForCertificate(ctx, &acmsdk.ListTagsForCertificateInput{CertificateArn: &arn2})
	require.NoError(t, err)
	assert.Equal(t, []types.Tag{{Key: aws.String("team"), Value: aws.String("edge")}}, tags.Tags)
	listed, _ := listAll(t, b, &acmsdk.ListCertificatesInput{Includes: &types.Filters{KeyTypes: types.KeyAlgorithm("").Values()}}, 1)
	assert.Equal(t, []string{arn1, arn2}, listed, "creation order survives")

	// New imports after a restore keep the order going.
	arn3 := b.importMaterial(t, short)
	listed, _ = listAll(t, b, &acmsdk.ListCertificatesInput{Includes: &types.Filters{KeyTypes: types.KeyAlgorithm("").Values()}}, 10)
	assert.Equal(t, []string{arn1, arn2, arn3}, listed)

	// A certificate that expired while albmtls was stopped comes back EXPIRED.
	b.clock.Advance(3 * time.Hour)
	c := newFixture(t, acm.Options{Now: b.clock.Now})
	require.NoError(t, c.svc.Restore(snap))
	d, err := c.client.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &arn2})
	require.NoError(t, err)
	assert.Equal(t, types.CertificateStatusExpired, d.Certificate.Status)

	// Snapshot of the restored state is the same document.
	again, err := c.svc.Snapshot()
	require.NoError(t, err)
	assert.JSONEq(t, string(snap), string(again))
}

func TestRestoreRefusesBadState(t *testing.T) {
	f := newFixture(t, acm.Options{})
	m, _ := serverWithChain(t)
	arn := f.importMaterial(t, m)
	good, err := f.svc.Snapshot()
	require.NoError(t, err)

	edit := func(change func(map[string]any)) []byte {
		var st map[string]any
		require.NoError(t, json.Unmarshal(good, &st))
		change(st)
		b, err := json.Marshal(st)
		require.NoError(t, err)
		return b
	}
	cert := func(st map[string]any) map[string]any {
		return st["certificates"].([]any)[0].(map[string]any)
	}
	other := selfSigned(t, ecKey(t, elliptic.P256()), nil)
	for name, data := range map[string][]byte{
		"not JSON":        []byte("{"),
		"other version":   edit(func(st map[string]any) { st["version"] = 99 }),
		"bad ARN":         edit(func(st map[string]any) { cert(st)["arn"] = "arn:aws:acm:us-east-1:123456789012:certificate/x" }),
		"mismatched key":  edit(func(st map[string]any) { cert(st)["private_key_pem"] = string(other.key) }),
		"broken PEM":      edit(func(st map[string]any) { cert(st)["certificate_pem"] = "-----BEGIN CERTIFICATE-----\nAAAA\n" }),
		"duplicate ARN":   edit(func(st map[string]any) { st["certificates"] = append(st["certificates"].([]any), cert(st)) }),
		"no creation seq": edit(func(st map[string]any) { cert(st)["seq"] = 0 }),
	} {
		t.Run(name, func(t *testing.T) {
			assert.Error(t, f.svc.Restore(data))
			_, ok := f.svc.Certificate(arn)
			assert.True(t, ok, "the state before the failed Restore is kept")
		})
	}
}

// TestAddFromConfig: a listener certificate of albmtls.yaml is visible
// through the API under its derived ARN, even expired, and stays out of
// the --state snapshot.
func TestAddFromConfig(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, acm.Options{})
	m, leaf := serverWithChain(t)
	arn := awsarn.Certificate(region, account, awsarn.CertificateID(leaf.Cert.Raw))
	require.NoError(t, f.svc.AddFromConfig(acm.Certificate{ARN: arn, CertificatePEM: m.cert, PrivateKeyPEM: m.key, ChainPEM: m.chain}))
	d, err := f.client.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &arn})
	require.NoError(t, err)
	assert.Equal(t, "www.example.com", aws.ToString(d.Certificate.DomainName))
	require.NoError(t, f.svc.AddFromConfig(acm.Certificate{ARN: arn, CertificatePEM: m.cert, PrivateKeyPEM: m.key}), "again: replaces")

	expired := selfSigned(t, ecKey(t, elliptic.P256()), func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	})
	expiredARN := awsarn.Certificate(region, account, awsarn.CertificateID(expired.x509.Raw))
	require.NoError(t, f.svc.AddFromConfig(acm.Certificate{ARN: expiredARN, CertificatePEM: expired.cert, PrivateKeyPEM: expired.key}))
	d, err = f.client.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &expiredARN})
	require.NoError(t, err)
	assert.Equal(t, types.CertificateStatusExpired, d.Certificate.Status)

	other := selfSigned(t, ecKey(t, elliptic.P256()), nil)
	assert.ErrorContains(t, f.svc.AddFromConfig(acm.Certificate{ARN: arn, CertificatePEM: m.cert, PrivateKeyPEM: other.key}), "does not match")
	assert.ErrorContains(t, f.svc.AddFromConfig(acm.Certificate{ARN: "arn:aws:acm:us-east-1:123456789012:certificate/x", CertificatePEM: m.cert, PrivateKeyPEM: m.key}), "not a valid")
	imported := f.importMaterial(t, other)
	assert.ErrorContains(t, f.svc.AddFromConfig(acm.Certificate{ARN: imported, CertificatePEM: other.cert, PrivateKeyPEM: other.key}), "API-imported")

	snap, err := f.svc.Snapshot()
	require.NoError(t, err)
	assert.NotContains(t, string(snap), arn)
	assert.Contains(t, string(snap), imported)

	// Restoring keeps the configuration's certificates, after the restored ones.
	require.NoError(t, f.svc.Restore(snap))
	all, _ := listAll(t, f, &acmsdk.ListCertificatesInput{Includes: &types.Filters{KeyTypes: types.KeyAlgorithm("").Values()}}, 1)
	assert.Equal(t, []string{imported, arn, expiredARN}, all)
}
