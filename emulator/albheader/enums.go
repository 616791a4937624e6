package albheader

import "github.com/albmtls/albmtls/internal/enum"

// XFFModes lists the values of routing.http.xff_header_processing.mode.
var XFFModes = []XFFMode{XFFAppend, XFFPreserve, XFFRemove}

// UnmarshalText reads an XFF processing mode; "" stays unset (append).
func (m *XFFMode) UnmarshalText(b []byte) (err error) {
	*m, err = enum.ParseKnob(string(b), XFFModes...)
	return err
}

// CopiesValues lists the values of emulation.client_header_duplicates.
var CopiesValues = []Copies{CopiesReplace, CopiesClientFirst, CopiesClientLast}

// UnmarshalText reads emulation.client_header_duplicates; "" stays unset
// (replace).
func (c *Copies) UnmarshalText(b []byte) (err error) {
	*c, err = enum.ParseKnob(string(b), CopiesValues...)
	return err
}

// OrderValues lists the values of emulation.forwarded_header_order.
var OrderValues = []Order{OrderALB, OrderSorted}

// UnmarshalText reads emulation.forwarded_header_order; "" stays unset
// (alb).
func (o *Order) UnmarshalText(b []byte) (err error) {
	*o, err = enum.ParseKnob(string(b), OrderValues...)
	return err
}
