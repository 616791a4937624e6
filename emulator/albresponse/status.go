package albresponse

import "github.com/albmtls/albmtls/internal/enum"

// RedirectStatus is a redirect action's status_code (alb-behaviour §8.2).
type RedirectStatus string

// RedirectStatuses lists the redirect status codes.
var RedirectStatuses = []RedirectStatus{RedirectPermanent, RedirectTemporary}

// UnmarshalText reads a redirect status code; "" stays unset (Validate
// then says it is required).
func (s *RedirectStatus) UnmarshalText(b []byte) (err error) {
	*s, err = enum.Parse(string(b), "a redirect status code", RedirectStatuses...)
	return err
}
