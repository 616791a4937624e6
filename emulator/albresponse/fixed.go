package albresponse

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/albmtls/albmtls/internal/enum"
)

// FixedResponseContentTypes are the content types ALB accepts for a
// fixed-response action (alb-behaviour §8.3, [DOC: API]).
var FixedResponseContentTypes = []string{"text/plain", "text/css", "text/html", "application/javascript", "application/json"}

// fixedStatusPattern is the API's pattern for FixedResponseActionConfig.StatusCode.
var fixedStatusPattern = regexp.MustCompile(`^(2|4|5)\d\d$`)

// fixedBodyMax is the API's limit on MessageBody, in characters.
const fixedBodyMax = 1024

// FixedResponseConfig is ALB's FixedResponseActionConfig (alb-behaviour §8.3).
type FixedResponseConfig struct {
	StatusCode  string `yaml:"status_code" json:"status_code"`                       // ^(2|4|5)\d\d$ (required)
	ContentType string `yaml:"content_type,omitempty" json:"content_type,omitempty"` // one of FixedResponseContentTypes, or empty
	MessageBody string `yaml:"message_body,omitempty" json:"message_body,omitempty"` // at most 1024 characters
}

// Validate applies ALB's rules, so a configuration ALB would refuse is
// refused here too. Errors name the field and the valid values.
func (c FixedResponseConfig) Validate() error {
	var errs []error
	if !fixedStatusPattern.MatchString(c.StatusCode) {
		errs = append(errs, fmt.Errorf("status_code %q is not valid: use a 2xx, 4xx or 5xx code such as \"200\" or \"503\"", c.StatusCode))
	}
	if c.ContentType != "" && !contains(FixedResponseContentTypes, c.ContentType) {
		errs = append(errs, fmt.Errorf("content_type %q is not valid: use one of %s", c.ContentType, strings.Join(FixedResponseContentTypes, ", ")))
	}
	if n := utf8.RuneCountInString(c.MessageBody); n > fixedBodyMax {
		errs = append(errs, fmt.Errorf("message_body has %d characters: ALB allows at most %d", n, fixedBodyMax))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("fixed-response action: %w", err)
	}
	return nil
}

// FixedResponseCharset is the parameter ALB appends to a fixed-response's
// configured Content-Type: "text/plain" goes out as
// "text/plain; charset=utf-8" (observed, issue 15: one capture, an
// aws-load-balancer-controller default action). The emulator appends it to
// every type ALB accepts [INF]: all five are text formats and ALB's
// MessageBody is counted in UTF-8 characters; only text/plain is observed
// (alb-behaviour §8.3). ResponseOptions.NoFixedResponseCharset turns it off.
const FixedResponseCharset = "; charset=utf-8"

// WriteFixed answers r with the configured fixed response: the status, the
// Content-Type with FixedResponseCharset (omitted when empty; what ALB sends
// then is [UNK]), the body with its exact Content-Length and
// Server: awselb/2.0 (unless disabled). The reason phrase follows Reason, as
// for ALB's own pages [INF]. It returns the bytes sent. The configuration
// is assumed valid (see Validate).
func WriteFixed(w http.ResponseWriter, r *http.Request, cfg FixedResponseConfig, opts ResponseOptions) int64 {
	code, err := strconv.Atoi(cfg.StatusCode)
	if err != nil {
		code = http.StatusOK
	}
	contentType := cfg.ContentType
	if contentType != "" && !opts.NoFixedResponseCharset {
		contentType += FixedResponseCharset
	}
	return write(w, r, response{
		code:        code,
		reason:      opts.reason(code),
		contentType: contentType,
		body:        []byte(cfg.MessageBody),
	}, opts)
}

// Charset is the emulation knob emulation.fixed_response_charset: what a
// fixed-response action appends to its configured content_type.
type Charset string

// Charsets.
const (
	// CharsetUTF8 sends "text/plain" as "text/plain; charset=utf-8", as a
	// real ALB did (observed, alb-behaviour §8.3); applied to every type
	// ALB accepts (inferred).
	CharsetUTF8 Charset = "utf-8"
	// CharsetNone sends the content type exactly as configured.
	CharsetNone Charset = "none"
)

// Charsets lists the valid values.
var Charsets = []Charset{CharsetUTF8, CharsetNone}

// UnmarshalText reads the knob; "" stays unset (utf-8).
func (c *Charset) UnmarshalText(b []byte) (err error) {
	*c, err = enum.ParseKnob(string(b), Charsets...)
	return err
}
