package albheader

import (
	"net/http"
	"sync"
	"sync/atomic"
)

// prepared is what NewConnHeaders derives from a listener's Options alone:
// the strip and variant sets and the canonical header names. It is the same
// for every connection of the listener, so it is computed once per distinct
// Options (see preparedFor) rather than once per connection. Its slices are
// shared by every ConnHeaders made from it and never modified.
type prepared struct {
	strip    []string
	variants []string
	// Canonical names of the headers the connection sets.
	serial, issuer, subject, validity, leaf, clientCert, tlsVersion, tlsCipher string
}

// preparedKey is the part of Options that prepared depends on.
type preparedKey struct {
	names                                  Names
	stripClient, stripDefault, stripVarnts bool
}

// maxPrepared bounds the cache of preparedFor: a process has a handful of
// listener configurations (more after reloads that rename headers); past
// the bound, Options are prepared on every call, which is correct, only
// slower.
const maxPrepared = 256

var (
	preparedCache sync.Map // preparedKey → *prepared
	preparedCount atomic.Int64
)

// preparedFor returns the prepared values of o, from the cache when o's
// names and strip knobs were seen before.
func preparedFor(o *Options) *prepared {
	k := preparedKey{names: o.Names, stripClient: o.StripClientHeaders, stripDefault: o.StripDefaultNames, stripVarnts: o.StripNameVariants}
	if p, ok := preparedCache.Load(k); ok {
		return p.(*prepared)
	}
	p := o.prepare()
	if preparedCount.Load() < maxPrepared {
		if _, loaded := preparedCache.LoadOrStore(k, p); !loaded {
			preparedCount.Add(1)
		}
	}
	return p
}

// prepare computes the prepared values of o.
func (o *Options) prepare() *prepared {
	n := o.Names.withDefaults()
	return &prepared{
		strip:      o.stripSet(),
		variants:   o.variantSet(),
		serial:     http.CanonicalHeaderKey(n.ClientCertSerialNumber),
		issuer:     http.CanonicalHeaderKey(n.ClientCertIssuer),
		subject:    http.CanonicalHeaderKey(n.ClientCertSubject),
		validity:   http.CanonicalHeaderKey(n.ClientCertValidity),
		leaf:       http.CanonicalHeaderKey(n.ClientCertLeaf),
		clientCert: http.CanonicalHeaderKey(n.ClientCert),
		tlsVersion: http.CanonicalHeaderKey(n.TLSVersion),
		tlsCipher:  http.CanonicalHeaderKey(n.TLSCipherSuite),
	}
}
