package albheader

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/albmtls/albmtls/emulator/certfmt"
)

// XFFMode is routing.http.xff_header_processing.mode (alb-behaviour §4.4).
//
//	append   add the client address to X-Forwarded-For (the default)
//	preserve forward the client's X-Forwarded-For unchanged
//	remove   drop X-Forwarded-For
type XFFMode string

// The values of routing.http.xff_header_processing.mode.
const (
	XFFAppend   XFFMode = "append"
	XFFPreserve XFFMode = "preserve"
	XFFRemove   XFFMode = "remove"
)

// ParseXFFMode reads an XFF processing mode; "" is the default, append.
func ParseXFFMode(s string) (XFFMode, error) {
	switch m := XFFMode(s); m {
	case "":
		return XFFAppend, nil
	case XFFAppend, XFFPreserve, XFFRemove:
		return m, nil
	}
	return "", fmt.Errorf("albheader: %q is not an X-Forwarded-For processing mode: use append, preserve or remove", s)
}

// Options is how a listener builds the forwarded request's headers. The
// zero value is usable (default names, append, no TLS headers) but does not
// strip client headers: start from DefaultOptions or OptionsFromAttributes.
type Options struct {
	// Names are the header names, after any rename attribute.
	Names Names
	// StripClientHeaders removes client-sent headers that carry any of the
	// mTLS or TLS header names before ALB's own are set, in every mode. ALB's
	// behaviour is [UNK] (alb-behaviour §10.4); stripping is the safe default, and
	// turning it off rehearses a load balancer that lets them through.
	StripClientHeaders bool
	// StripDefaultNames also strips the default name of a renamed header.
	// Whether a rename frees the default name for clients is [UNK] (spec
	// §10.4); the default strips both.
	StripDefaultNames bool
	// Equals is how '=' is written in the Leaf and Clientcert values
	// ([UNK] alb-behaviour §10.5; literal, the documented rule, by default).
	Equals certfmt.EqualsEncoding
	// TLSHeaders adds X-Amzn-Tls-Version and X-Amzn-Tls-Cipher-Suite
	// (routing.http.x_amzn_tls_version_and_cipher_suite.enabled, default false).
	TLSHeaders bool
	// XFFMode is routing.http.xff_header_processing.mode ("" means append).
	XFFMode XFFMode
	// XFFClientPort appends ":port" to the client address in append mode
	// (routing.http.xff_client_port.enabled).
	XFFClientPort bool
	// StripNameVariants also removes client-sent headers whose names a
	// CGI-style target (WSGI, PHP $_SERVER, Rack, FastCGI) folds onto a
	// header the emulator owns: any case, with '_', '.' or any other
	// non-alphanumeric byte in place of '-' (X_Amzn_Mtls_Clientcert_Subject).
	// Such a target reads them as the header itself, so a client could
	// claim an identity. Whether ALB removes them is [UNK] (alb-behaviour §10.4, as
	// for the exact names); stripping is the safe default, and turning it
	// off rehearses a load balancer that forwards them. The mTLS and TLS
	// names are stripped only when StripClientHeaders is on too; the
	// variants of X-Forwarded-*, X-Amzn-Trace-Id are stripped by this alone.
	StripNameVariants bool
	// Order is emulation.forwarded_header_order: the order of the
	// forwarded request's header lines ("" means OrderALB; see Order).
	Order Order
	// DropInvalidHeaderFields is the load balancer attribute
	// routing.http.drop_invalid_header_fields.enabled (default false, as on
	// ALB): remove header fields whose names are not [-A-Za-z0-9]+.
	DropInvalidHeaderFields bool
	// ClientCopies is what happens, with StripClientHeaders off, to a
	// client's copy of a header the load balancer sets: CopiesReplace (""),
	// or both lines are forwarded, the client's first or last. Whether ALB
	// overwrites or passes such copies is [UNK] (alb-behaviour §10.4); duplicates
	// rehearse a backend that reads the first or the last line.
	ClientCopies Copies
}

// Copies is emulation.client_header_duplicates.
type Copies string

// The values of emulation.client_header_duplicates.
const (
	CopiesReplace     Copies = "replace"
	CopiesClientFirst Copies = "client-first"
	CopiesClientLast  Copies = "client-last"
)

// DefaultOptions is a listener with no attributes set.
func DefaultOptions() Options {
	return Options{
		Names:              DefaultNames(),
		StripClientHeaders: true,
		StripDefaultNames:  true,
		StripNameVariants:  true,
		Equals:             certfmt.EqualsLiteral,
		XFFMode:            XFFAppend,
	}
}

// maxAttributeValue is ALB's limit on an attribute value (alb-behaviour §4.3).
const maxAttributeValue = 1024

// OptionsFromAttributes starts from DefaultOptions and applies the attribute
// keys listed by Keys; it ignores other keys (see IsKey). An empty value
// keeps the default, as on ALB (alb-behaviour §4.3). Errors quote the key and the
// valid values.
func OptionsFromAttributes(attrs map[string]string) (Options, error) {
	o := DefaultOptions()
	for _, r := range renames {
		v, ok := attrs[r.key]
		if !ok || v == "" {
			continue
		}
		if err := validHeaderName(v); err != nil {
			return Options{}, fmt.Errorf("albheader: attribute %s: %w", r.key, err)
		}
		*r.field(&o.Names) = v
	}
	if err := checkNameClashes(o.Names); err != nil {
		return Options{}, err
	}
	var err error
	if o.TLSHeaders, err = parseBool(attrs, AttrTLSVersionAndCipherSuite, false); err != nil {
		return Options{}, err
	}
	if o.XFFClientPort, err = parseBool(attrs, AttrXFFClientPort, false); err != nil {
		return Options{}, err
	}
	if o.DropInvalidHeaderFields, err = parseBool(attrs, AttrDropInvalidHeaderFields, false); err != nil {
		return Options{}, err
	}
	if o.XFFMode, err = ParseXFFMode(attrs[AttrXFFHeaderProcessingMode]); err != nil {
		return Options{}, fmt.Errorf("albheader: attribute %s: %w", AttrXFFHeaderProcessingMode, err)
	}
	return o, nil
}

// validHeaderName checks a renamed header name. ALB's rules for names are
// [UNK] (alb-behaviour §4.3); the emulator requires an RFC 7230 token, because nothing
// else can be sent, and ALB's 1 K limit on attribute values.
func validHeaderName(name string) error {
	if len(name) > maxAttributeValue {
		return fmt.Errorf("header name of %d bytes is too long: at most %d", len(name), maxAttributeValue)
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return fmt.Errorf("%q is not a valid header name: use letters, digits and !#$%%&'*+-.^_`|~ (an RFC 7230 token)", name)
		}
	}
	return nil
}

func isTokenChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// reservedNames are headers the emulator sets itself; a rename onto one of
// them would make two headers fight over one name. ALB's answer is [UNK].
var reservedNames = []string{XForwardedFor, XForwardedProto, XForwardedPort, TraceID, "Host"}

// checkNameClashes refuses two renames onto one name, or a rename onto a
// reserved name. Names are compared as a CGI-style target sees them (foldEqual): X_Client_Id
// and X-Client-Id would reach it as one variable.
func checkNameClashes(n Names) error {
	names := n.list()
	for i, a := range names {
		for j := i + 1; j < len(names); j++ {
			if foldEqual(a, names[j]) {
				return fmt.Errorf("albheader: attributes %s and %s both name the header %q: give each header its own name",
					renames[i].key, renames[j].key, a)
			}
		}
		for _, r := range reservedNames {
			if foldEqual(a, r) {
				return fmt.Errorf("albheader: attribute %s renames a header to %q, which the load balancer sets itself: choose another name",
					renames[i].key, a)
			}
		}
	}
	return nil
}

// parseBool reads a "true"/"false" attribute; absent or "" gives def.
func parseBool(attrs map[string]string, key string, def bool) (bool, error) {
	switch v := attrs[key]; v {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return false, fmt.Errorf("albheader: attribute %s: %q is not a boolean: use true or false", key, v)
	}
}

// stripSet returns the canonical header names Apply removes from a request.
func (o *Options) stripSet() []string {
	if !o.StripClientHeaders {
		return nil
	}
	names := o.Names.withDefaults().list()
	if o.StripDefaultNames {
		names = append(names, DefaultNames().list()...)
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		c := http.CanonicalHeaderKey(n)
		if !containsFold(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// variantSet returns the canonical names whose spellings under foldEqual
// Apply removes (StripNameVariants): the strip set, plus the headers the
// emulator sets itself whatever the strip knobs say.
func (o *Options) variantSet() []string {
	if !o.StripNameVariants {
		return nil
	}
	out := o.stripSet()
	for _, n := range []string{XForwardedFor, XForwardedProto, XForwardedPort, TraceID} {
		if !containsFold(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// foldEqual reports whether a CGI-style target folds header names a and b
// onto one variable: letters compare in any case, digits exactly, and every
// other byte ('-', '_', '.', ...) matches any other such byte. WSGI and Rack
// map '-' to '_'; PHP also maps '.'; Apache 2.2 mapped every other byte.
func foldEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := foldByte(a[i]), foldByte(b[i])
		if x != y {
			return false
		}
	}
	return true
}

// foldByte upper-cases a letter, keeps a digit and maps anything else to '_'.
func foldByte(c byte) byte {
	switch {
	case 'a' <= c && c <= 'z':
		return c - 'a' + 'A'
	case 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return c
	}
	return '_'
}

// validFieldName reports whether a header name is [-A-Za-z0-9]+, the names
// routing.http.drop_invalid_header_fields.enabled keeps.
func validFieldName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c != '-' && foldByte(c) == '_' {
			return false
		}
	}
	return true
}
