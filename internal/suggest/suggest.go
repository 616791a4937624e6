// Package suggest finds the valid name nearest to a misspelt one, for error
// messages such as `unknown key "mod" (did you mean "mode"?)`.
package suggest

import "strings"

// Closest returns the candidate with the smallest edit distance to s,
// compared without case, if that distance is at most maxDistance; otherwise
// "". A negative maxDistance accepts any distance.
func Closest(s string, candidates []string, maxDistance int) string {
	best, bestD := "", -1
	lower := strings.ToLower(s)
	for _, c := range candidates {
		d := Distance(lower, strings.ToLower(c))
		if (maxDistance < 0 || d <= maxDistance) && (bestD < 0 || d < bestD) {
			best, bestD = c, d
		}
	}
	return best
}

// Distance is the Levenshtein edit distance between a and b, by bytes.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// SnakeCase writes a CamelCase or PascalCase name (CloudFormation's
// SslPolicy, MutualAuthentication, TrustStoreArn) in snake_case
// (ssl_policy, mutual_authentication, trust_store_arn); a run of capitals
// is one word (HTTPCode → http_code). A name without capitals is returned
// as it is.
func SnakeCase(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 && rs[i-1] != '_' {
			prevLower := rs[i-1] >= 'a' && rs[i-1] <= 'z' || rs[i-1] >= '0' && rs[i-1] <= '9'
			nextLower := i+1 < len(rs) && rs[i+1] >= 'a' && rs[i+1] <= 'z'
			prevUpper := rs[i-1] >= 'A' && rs[i-1] <= 'Z'
			if prevLower || prevUpper && nextLower {
				b.WriteByte('_')
			}
		}
		if upper {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
