package soak

import (
	"fmt"
	"strconv"
)

type errStatus int

func (e errStatus) Error() string { return fmt.Sprintf("status %d", int(e)) }

func itoa(n int) string {
	s := strconv.Itoa(n)
	if n < 10_000 {
		return s
	}
	// thousands separators for the table
	out := ""
	for len(s) > 3 {
		out = "," + s[len(s)-3:] + out
		s = s[:len(s)-3]
	}
	return s + out
}
