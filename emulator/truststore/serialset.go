package truststore

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math/big"
)

// serialSet is an immutable hash set of certificate serial numbers, built
// for CRLs with hundreds of thousands of entries: the serials' magnitude
// bytes sit back to back in one arena (uvarint length, then the bytes) and
// an open-addressing table of uint32 arena offsets indexes them. A
// 500,000-entry CRL of 16-byte serials takes about 13 MB, against about
// 60 MB for a map[string]struct{}, and a lookup costs one hash and, almost
// always, one comparison.
type serialSet struct {
	seed  maphash.Seed
	arena []byte
	slots []uint32 // arena offset + 1; 0 means empty. len is a power of two.
	n     int      // distinct serials
}

// newSerialSet sizes the set for n serials totalling size magnitude bytes.
func newSerialSet(n, size int) *serialSet {
	slots := 8
	for slots < 2*n { // load factor ≤ 0.5 keeps probe chains short
		slots <<= 1
	}
	return &serialSet{
		seed:  maphash.MakeSeed(),
		arena: make([]byte, 0, size+n*binary.MaxVarintLen16),
		slots: make([]uint32, slots),
	}
}

// add inserts a serial's magnitude (big-endian, no leading zero bytes).
func (s *serialSet) add(mag []byte) {
	if s.n+1 > len(s.slots)/2 {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := maphash.Bytes(s.seed, mag) & mask; ; i = (i + 1) & mask {
		off := s.slots[i]
		if off == 0 {
			s.slots[i] = uint32(len(s.arena)) + 1
			s.arena = binary.AppendUvarint(s.arena, uint64(len(mag)))
			s.arena = append(s.arena, mag...)
			s.n++
			return
		}
		if bytes.Equal(s.at(off-1), mag) {
			return
		}
	}
}

// grow doubles the table; it runs only when the first pass of the parser
// under-counted, which a well-formed CRL never makes it do.
func (s *serialSet) grow() {
	old := s.slots
	s.slots = make([]uint32, 2*len(old))
	mask := uint64(len(s.slots) - 1)
	for _, off := range old {
		if off == 0 {
			continue
		}
		for i := maphash.Bytes(s.seed, s.at(off-1)) & mask; ; i = (i + 1) & mask {
			if s.slots[i] == 0 {
				s.slots[i] = off
				break
			}
		}
	}
}

// at returns the serial stored at arena offset off.
func (s *serialSet) at(off uint32) []byte {
	l, n := binary.Uvarint(s.arena[off:])
	start := int(off) + n
	return s.arena[start : start+int(l)]
}

// contains reports whether the magnitude is in the set. It does not
// allocate.
func (s *serialSet) contains(mag []byte) bool {
	if s == nil || s.n == 0 {
		return false
	}
	mask := uint64(len(s.slots) - 1)
	for i := maphash.Bytes(s.seed, mag) & mask; ; i = (i + 1) & mask {
		off := s.slots[i]
		if off == 0 {
			return false
		}
		if bytes.Equal(s.at(off-1), mag) {
			return true
		}
	}
}

// containsInt looks up a positive serial without allocating for serials up
// to 64 bytes (RFC 5280 allows 20). Negative serials are never in the set:
// ALB "can't revoke certificates that have a negative serial number" (spec
// §1.2 "CRL format").
func (s *serialSet) containsInt(serial *big.Int) bool {
	if serial == nil || serial.Sign() < 0 {
		return false
	}
	var buf [64]byte
	n := (serial.BitLen() + 7) / 8
	if n > len(buf) {
		return s.contains(serial.Bytes())
	}
	return s.contains(serial.FillBytes(buf[:n]))
}
