package verify_test

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/truststore"
	tt "github.com/albmtls/albmtls/emulator/truststore/truststoretest"
	"github.com/albmtls/albmtls/emulator/verify"
)

// TestSignatureCacheSkipsOnlySignatures decides the same chain twice: the
// second decision hits the cache, and the checks that depend on time still
// run on the cached chain (an expired leaf is ClientCertExpired at once).
func TestSignatureCacheSkipsOnlySignatures(t *testing.T) {
	k := testKit(t)
	st := storeSpec{bundle: []*tt.Cert{k.inter, k.root}, crls: [][]byte{k.inter.CRL(t, nil, nil)}}.load(t)
	now := time.Now()
	clock := func() time.Time { return now }
	v := verify.New(func() *truststore.Store { return st }, verify.Options{Now: clock})
	chain := parse(t, tt.Chain(k.leaf, k.inter))

	require.Equal(t, verify.Success, v.VerifyParsed(tls.VersionTLS13, chain).Code)
	assert.Equal(t, verify.CacheStats{Hits: 0, Misses: 1, Entries: 1}, v.CacheStats())
	r := v.VerifyParsed(tls.VersionTLS13, chain)
	require.Equal(t, verify.Success, r.Code, r.Reason)
	assert.Equal(t, verify.CacheStats{Hits: 1, Misses: 1, Entries: 1}, v.CacheStats())
	require.Len(t, r.Chain, 3, "a cached decision still returns the path, leaf to root")

	now = k.leaf.Cert.NotAfter.Add(time.Hour)
	r = v.VerifyParsed(tls.VersionTLS13, chain)
	assert.Equal(t, verify.ClientCertExpired, r.Code, "validity is checked on a cached chain: %s", r.Reason)
	assert.Equal(t, uint64(2), v.CacheStats().Hits)
}

// TestSignatureCacheNeverStoresFailures: a leaf whose signature does not
// verify is refused every time and leaves nothing in the cache, and a
// different chain (same names, other bytes) misses.
func TestSignatureCacheNeverStoresFailures(t *testing.T) {
	k := testKit(t)
	st := storeSpec{bundle: []*tt.Cert{k.inter, k.root}}.load(t)
	v := verify.New(func() *truststore.Store { return st }, verify.Options{})
	bad := parse(t, tt.Chain(tt.Tampered(t, k.leaf), k.inter))
	for range 2 {
		r := v.VerifyParsed(tls.VersionTLS13, bad)
		require.Equal(t, verify.ClientCertUntrusted, r.Code, r.Reason)
		require.Contains(t, r.Reason, "signature")
	}
	assert.Equal(t, verify.CacheStats{Misses: 2}, v.CacheStats())

	good := parse(t, tt.Chain(k.leaf, k.inter))
	require.Equal(t, verify.Success, v.VerifyParsed(tls.VersionTLS13, good).Code)
	r := v.VerifyParsed(tls.VersionTLS13, bad)
	require.Equal(t, verify.ClientCertUntrusted, r.Code, "a cached good chain does not vouch for a tampered copy: %s", r.Reason)
}

// TestSignatureCacheGenerations: a runtime revocation (a new trust store
// snapshot) refuses a cached chain with ClientCertCrlHit on the next
// decision, and every new snapshot starts an empty cache.
func TestSignatureCacheGenerations(t *testing.T) {
	k := testKit(t)
	dir := t.TempDir()
	spec := truststore.Spec{Name: "live", BundleFile: filepath.Join(dir, "bundle.pem")}
	require.NoError(t, os.WriteFile(spec.BundleFile, tt.Bundle(k.inter, k.root), 0o644))
	live, err := truststore.NewLive(spec)
	require.NoError(t, err)
	v := verify.New(live.Current, verify.Options{})
	chain := parse(t, tt.Chain(k.leaf, k.inter))

	for range 3 {
		require.Equal(t, verify.Success, v.VerifyParsed(tls.VersionTLS13, chain).Code)
	}
	require.Equal(t, verify.CacheStats{Hits: 2, Misses: 1, Entries: 1}, v.CacheStats())

	_, err = live.AddRevocations("inter.crl.pem", tt.CRLPEM(k.inter.CRL(t, tt.SerialsOf(k.leaf), nil)))
	require.NoError(t, err)
	r := v.VerifyParsed(tls.VersionTLS13, chain)
	require.Equal(t, verify.ClientCertCrlHit, r.Code, r.Reason)

	require.NoError(t, live.RemoveRevocations(1))
	require.Equal(t, verify.Success, v.VerifyParsed(tls.VersionTLS13, chain).Code)
	assert.Equal(t, verify.CacheStats{Hits: 2, Misses: 2, Entries: 1}, v.CacheStats(),
		"the snapshot after the removal is a new generation: its first decision misses")
}

// TestSignatureCacheBounded: the cache never holds more than its size,
// whatever the number of distinct chains, and can be turned off.
func TestSignatureCacheBounded(t *testing.T) {
	k := testKit(t)
	st := storeSpec{bundle: []*tt.Cert{k.inter, k.root}}.load(t)
	v := verify.New(func() *truststore.Store { return st }, verify.Options{SignatureCacheSize: 3})
	for i := range 10 {
		leaf := k.inter.Leaf(t, "client")
		require.Equal(t, verify.Success, v.VerifyParsed(tls.VersionTLS13, parse(t, tt.Chain(leaf, k.inter))).Code)
		assert.LessOrEqual(t, v.CacheStats().Entries, 3, "after %d chains", i+1)
	}
	assert.Equal(t, uint64(10), v.CacheStats().Misses)

	off := verify.New(func() *truststore.Store { return st }, verify.Options{SignatureCacheSize: -1})
	chain := parse(t, tt.Chain(k.leaf, k.inter))
	for range 2 {
		require.Equal(t, verify.Success, off.VerifyParsed(tls.VersionTLS13, chain).Code)
	}
	assert.Equal(t, verify.CacheStats{}, off.CacheStats())
}
