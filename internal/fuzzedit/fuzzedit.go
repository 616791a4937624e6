// Package fuzzedit is the input shape of albmtls's fuzz targets that edit a
// valid document kept inside the target (a config, a CRL, a bundle, a
// header value) instead of carrying the document in the input.
//
// Go's fuzzer minimises every input that finds new coverage, in time
// quadratic in its length and for up to a minute, without counting those
// executions: seeded with whole documents, a target spends its budget
// minimising them (docs/fuzzing.md). With the document in the target, an
// input is one edit of a few bytes: replace doc[off:off+cut] with insert.
package fuzzedit

// Splice returns doc with the bytes from off to off+cut replaced by insert,
// in a new slice; off wraps modulo len(doc)+1 and cut is clipped, so every
// input names a valid edit.
func Splice(doc []byte, off, cut int, insert []byte) []byte {
	o, c := bounds(len(doc), off, cut)
	out := make([]byte, 0, len(doc)-c+len(insert))
	return append(append(append(out, doc[:o]...), insert...), doc[o+c:]...)
}

// SpliceString is Splice for strings.
func SpliceString(doc string, off, cut int, insert string) string {
	o, c := bounds(len(doc), off, cut)
	return doc[:o] + insert + doc[o+c:]
}

func bounds(n, off, cut int) (o, c int) {
	o = off % (n + 1)
	return o, min(cut, n-o)
}
