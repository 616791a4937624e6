package http1

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPlainTargetMatchesParseRequestURI: where plainTarget answers, it
// answers what url.ParseRequestURI does; the targets it leaves alone are
// the ones that need the parse.
func TestPlainTargetMatchesParseRequestURI(t *testing.T) {
	plain := []string{"/", "/a/b", "/a-b_c.d~e/", "//x", "/a?b=c", "/a?b=c&d=%20e", "/?x", "/a?b=/c:d@e", "/a.html?q=a+b"}
	other := []string{"", "*", "a", "http://h/p", "/a?", "/a??b", "/a?b?c", "/%20", "/a b", "/a;b", "/a:b", "/a@b", "/a#f", "/a?b#f", "/ä", "/a?b\x7f"}
	for _, target := range plain {
		got := plainTarget(target)
		require.NotNil(t, got, "%q", target)
		want, err := url.ParseRequestURI(target)
		require.NoError(t, err, "%q", target)
		assert.Equal(t, want, got, "%q", target)
	}
	for _, target := range other {
		assert.Nil(t, plainTarget(target), "%q", target)
	}
}

// FuzzPlainTarget: for any target, plainTarget declines or agrees with
// url.ParseRequestURI.
func FuzzPlainTarget(f *testing.F) {
	for _, s := range []string{"/", "/a?b", "/a%2fb", "/a?b?c", "//h/p"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		got := plainTarget(target)
		if got == nil {
			return
		}
		want, err := url.ParseRequestURI(target)
		if err != nil {
			t.Fatalf("%q: plainTarget %+v, ParseRequestURI fails: %v", target, got, err)
		}
		if *got != *want {
			t.Fatalf("%q: plainTarget %+v, ParseRequestURI %+v", target, got, want)
		}
	})
}
