package fuzzedit

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSplice(t *testing.T) {
	for _, tc := range []struct {
		doc      string
		off, cut int
		insert   string
		want     string
		comment  string
	}{
		{"abcdef", 2, 2, "XY", "abXYef", "replace in the middle"},
		{"abcdef", 0, 0, "X", "Xabcdef", "insert at the start"},
		{"abcdef", 6, 3, "X", "abcdefX", "off at the end: cut clipped"},
		{"abcdef", 7, 0, "X", "Xabcdef", "off wraps modulo len+1"},
		{"abcdef", 3, 100, "", "abc", "cut clipped to the end"},
		{"", 5, 5, "raw", "raw", "the empty document: insert alone"},
	} {
		assert.Equal(t, tc.want, SpliceString(tc.doc, tc.off, tc.cut, tc.insert), tc.comment)
		assert.Equal(t, tc.want, string(Splice([]byte(tc.doc), tc.off, tc.cut, []byte(tc.insert))), tc.comment)
	}
	doc := []byte("abc")
	_ = Splice(doc, 1, 1, []byte("XYZ"))
	assert.Equal(t, "abc", string(doc), "the document is not modified")
}
