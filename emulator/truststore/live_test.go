package truststore_test

import (
	"math/big"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/truststore"
	tt "github.com/albmtls/albmtls/emulator/truststore/truststoretest"
)

func ids(infos []truststore.RevocationInfo) []int64 {
	out := []int64{}
	for _, i := range infos {
		out = append(out, i.RevocationID)
	}
	return out
}

func newLive(t *testing.T, limits truststore.Limits) (*truststore.Live, *kit, string) {
	t.Helper()
	k := testKit(t)
	bundle := writeFile(t, "bundle.pem", tt.Bundle(k.inter, k.root))
	crl := writeFile(t, "inter.crl.pem", tt.CRLPEM(k.inter.CRL(t, tt.SerialsOf(k.revoked), nil)))
	l, err := truststore.NewLive(truststore.Spec{Name: "demo", BundleFile: bundle, RevocationFiles: []string{crl}, Limits: limits})
	require.NoError(t, err)
	return l, k, bundle
}

func TestLiveRevocationIDs(t *testing.T) {
	l, k, _ := newLive(t, truststore.Limits{})
	assert.Equal(t, []int64{1}, ids(l.DescribeRevocations()))

	added, err := l.AddRevocations("s3://bucket/root.crl.pem", tt.CRLPEM(k.root.CRL(t, tt.SerialsOf(k.inter), nil)))
	require.NoError(t, err)
	require.Len(t, added, 1)
	assert.Equal(t, int64(2), added[0].RevocationID)
	assert.Equal(t, int64(1), added[0].NumberOfRevokedEntries)
	assert.Equal(t, "s3://bucket/root.crl.pem", added[0].File)
	assert.True(t, l.Current().Lookup(k.root.Cert, k.inter.Cert.SerialNumber).Revoked)

	require.NoError(t, l.RemoveRevocations(1))
	assert.Equal(t, []int64{2}, ids(l.DescribeRevocations()))
	assert.False(t, l.Current().Lookup(k.inter.Cert, k.revoked.Cert.SerialNumber).Checked, "the intermediate's CRL is gone")

	err = l.RemoveRevocations(1, 2)
	var nf *truststore.RevocationIDNotFoundError
	require.ErrorAs(t, err, &nf)
	assert.Equal(t, truststore.ErrRevocationIDNotFound, nf.ALBError())
	assert.Equal(t, []int64{1}, nf.IDs)
	assert.Equal(t, []int64{2}, ids(l.DescribeRevocations()), "a failed removal removes nothing")
	require.ErrorContains(t, l.RemoveRevocations(), "no revocation ID given")

	// A refused upload consumes no ID; IDs are never reused.
	_, err = l.AddRevocations("bad.crl", k.inter.CRL(t, nil, nil))
	var le *truststore.LoadError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, truststore.ErrInvalidRevocationContent, le.ALBError())
	added, err = l.AddRevocations("inter2.crl.pem", tt.CRLPEM(k.inter.CRL(t, nil, nil)))
	require.NoError(t, err)
	assert.Equal(t, int64(3), added[0].RevocationID)
}

func TestLiveAddRespectsEntryQuota(t *testing.T) {
	l, k, _ := newLive(t, truststore.Limits{MaxRevocationEntries: 2})
	_, err := l.AddRevocations("big.pem", tt.CRLPEM(k.inter.CRL(t, []*big.Int{big.NewInt(1), big.NewInt(2)}, nil)))
	var le *truststore.LoadError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, truststore.ErrTooManyTrustStoreRevocationEntries, le.ALBError())
	assert.Equal(t, 1, l.Current().TotalRevokedEntries())
}

func TestLiveSnapshotsShareCRLs(t *testing.T) {
	l, k, _ := newLive(t, truststore.Limits{})
	before := l.Current()
	first, ok := before.CRL(1)
	require.True(t, ok)
	_, err := l.AddRevocations("root.pem", tt.CRLPEM(k.root.CRL(t, nil, nil)))
	require.NoError(t, err)
	after := l.Current()
	again, ok := after.CRL(1)
	require.True(t, ok)
	assert.Same(t, first, again, "adding a CRL must not copy the others")
	_, ok = before.CRL(2)
	assert.False(t, ok, "old snapshots are immutable")
}

func TestLiveReload(t *testing.T) {
	l, k, bundle := newLive(t, truststore.Limits{})
	_, err := l.AddRevocations("root.pem", tt.CRLPEM(k.root.CRL(t, tt.SerialsOf(k.inter), nil)))
	require.NoError(t, err)
	good := l.Current()

	// A broken bundle: the reload fails and the previous snapshot stays.
	require.NoError(t, os.WriteFile(bundle, append(k.inter.PEM(), '\n'), 0o644))
	err = l.Reload()
	var le *truststore.LoadError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, truststore.ErrInvalidCaCertificatesBundle, le.ALBError())
	assert.Same(t, good, l.Current())

	// A bundle without the root: the runtime-added root CRL has no issuer.
	require.NoError(t, os.WriteFile(bundle, k.inter.PEM(), 0o644))
	err = l.Reload()
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "crl-issuer-not-in-bundle", le.Findings[0].Rule)
	assert.Same(t, good, l.Current())

	// Back to a good bundle plus another CA: IDs and CRLs are kept.
	require.NoError(t, os.WriteFile(bundle, tt.Bundle(k.inter, k.root, k.other), 0o644))
	require.NoError(t, l.Reload())
	assert.NotSame(t, good, l.Current())
	assert.Len(t, l.Current().CACertificates, 3)
	assert.Equal(t, []int64{1, 2}, ids(l.DescribeRevocations()))
	assert.True(t, l.Current().Lookup(k.root.Cert, k.inter.Cert.SerialNumber).Revoked)
	assert.True(t, l.Current().Lookup(k.inter.Cert, k.revoked.Cert.SerialNumber).Revoked)
}

// TestLiveConcurrent runs lookups while revocations come and go; run with
// -race. Every snapshot a reader sees is consistent: the revoked serial is
// listed exactly when the intermediate's CRL is present.
func TestLiveConcurrent(t *testing.T) {
	l, k, _ := newLive(t, truststore.Limits{})
	crl := tt.CRLPEM(k.inter.CRL(t, tt.SerialsOf(k.revoked), nil))
	var stop atomic.Bool
	var wg sync.WaitGroup
	var lookups atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				s := l.Current()
				r := s.LookupCert(k.revoked.Cert, k.inter.Cert)
				if r.Revoked != (len(s.Revocations()) > 0) {
					t.Errorf("inconsistent snapshot: revoked=%v with %d CRLs", r.Revoked, len(s.Revocations()))
					return
				}
				lookups.Add(1)
			}
		}()
	}
	for range 200 {
		infos, err := l.AddRevocations("again.pem", crl)
		require.NoError(t, err)
		all := ids(l.DescribeRevocations())
		require.NoError(t, l.RemoveRevocations(all...))
		_ = infos
		if _, err := l.AddRevocations("again.pem", crl); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	assert.Positive(t, lookups.Load())
	assert.Equal(t, int64(401), ids(l.DescribeRevocations())[0], "one CRL left, IDs kept increasing")
}
