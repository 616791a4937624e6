package verify

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/albmtls/albmtls/emulator/truststore"
)

// DefaultSignatureCacheSize is the number of verified chains the handshake
// path remembers per trust store generation (Options.SignatureCacheSize).
const DefaultSignatureCacheSize = 4096

// sigCache remembers the certificate paths whose every signature verified
// (AWS-LC's internal_verify, the one costly step of a decision), so a client
// that reconnects with the same chain skips the public-key operations.
//
// What it caches is a fact about bytes only: "the signature of path[i]
// verifies with the key of path[i+1], for every i", keyed by the SHA-256 of
// the exact DER of the path (the certificates the client sent that made it
// into the path and the trust store certificates above them). Everything
// that depends on time or on the trust store's revocations (validity,
// CRLs, purpose, extensions, the path itself) still runs on every
// handshake, so a runtime revocation or an expiry applies to the next one.
//
// Entries belong to one trust store generation: every truststore.Store
// snapshot (a reload, ModifyTrustStore, added or removed revocations) is a
// new one, and the first decision against it empties the cache. Only
// successes are stored, a failed signature is checked again each time.
// The cache holds at most max entries; when full it is emptied (clients
// choose their chains, so no client can make it grow without bound, and an
// attacker cycling chains only costs the checks that were not cached).
type sigCache struct {
	max int

	mu      sync.Mutex
	gen     *truststore.Store // the generation the entries belong to
	entries map[[sha256.Size]byte]struct{}

	hits, misses atomic.Uint64
}

func newSigCache(max int) *sigCache {
	if max <= 0 {
		return nil
	}
	return &sigCache{max: max}
}

// pathKey hashes the path's certificates, length-prefixed so that no two
// different paths share an input.
func pathKey(path []*x509.Certificate) [sha256.Size]byte {
	h := sha256.New()
	var n [4]byte
	for _, c := range path {
		binary.BigEndian.PutUint32(n[:], uint32(len(c.Raw)))
		h.Write(n[:])
		h.Write(c.Raw)
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// verified reports whether key's signatures were verified under generation
// st. A nil cache never has anything.
func (s *sigCache) verified(st *truststore.Store, key [sha256.Size]byte) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	if s.gen != st {
		s.gen, s.entries = st, nil
	}
	_, ok := s.entries[key]
	s.mu.Unlock()
	if ok {
		s.hits.Add(1)
	} else {
		s.misses.Add(1)
	}
	return ok
}

// remember records that key's signatures verified under generation st.
func (s *sigCache) remember(st *truststore.Store, key [sha256.Size]byte) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != st {
		s.gen, s.entries = st, nil
	}
	if s.entries == nil || len(s.entries) >= s.max {
		s.entries = make(map[[sha256.Size]byte]struct{}, min(s.max, 64))
	}
	s.entries[key] = struct{}{}
}

func (s *sigCache) len() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// CacheStats is what the signature cache did since the verifier was made.
type CacheStats struct {
	// Hits and Misses count decisions that reached the signature check.
	Hits, Misses uint64
	// Entries is the number of chains remembered for the current trust
	// store generation.
	Entries int
}

// CacheStats reports the signature cache's counters (all zero when the
// cache is off, Options.SignatureCacheSize < 0).
func (v *Verifier) CacheStats() CacheStats {
	if v.sigs == nil {
		return CacheStats{}
	}
	return CacheStats{Hits: v.sigs.hits.Load(), Misses: v.sigs.misses.Load(), Entries: v.sigs.len()}
}
