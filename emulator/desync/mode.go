package desync

import "fmt"

// AttrMode is the load balancer attribute that selects the mode.
const AttrMode = "routing.http.desync_mitigation_mode"

// Mode is routing.http.desync_mitigation_mode.
type Mode string

// Modes (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html#desync-mitigation-mode).
const (
	// Monitor forwards every request, whatever its class.
	Monitor Mode = "monitor"
	// Defensive, ALB's default, blocks Severe requests and forwards
	// Ambiguous ones but closes the client and target connections after.
	Defensive Mode = "defensive"
	// Strictest forwards only Compliant requests.
	Strictest Mode = "strictest"
)

// DefaultMode is ALB's default.
const DefaultMode = Defensive

// Modes lists the valid values.
var Modes = []Mode{Monitor, Defensive, Strictest}

// ParseMode checks an attribute value; "" is the default.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Monitor, Defensive, Strictest:
		return m, nil
	case "":
		return DefaultMode, nil
	}
	return "", fmt.Errorf("%q is not a desync mitigation mode; use monitor, defensive or strictest", s)
}

// Action is what the load balancer does with a request.
type Action uint8

// Actions.
const (
	// Allow routes the request as usual.
	Allow Action = iota
	// AllowThenClose routes the request, then closes the client connection
	// and the target connection (defensive mode, Ambiguous).
	AllowThenClose
	// Block answers 400 and closes the client connection.
	Block
)

// Decide is ALB's table of actions by mode and class (AWS, "Desync
// mitigation mode", link at Modes):
//
//	class        monitor  defensive         strictest
//	Compliant    allowed  allowed           allowed
//	Acceptable   allowed  allowed           blocked
//	Ambiguous    allowed  allowed, closes   blocked
//	Severe       allowed  blocked           blocked
func Decide(m Mode, c Class) Action {
	switch m {
	case Monitor:
		return Allow
	case Strictest:
		if c == Compliant {
			return Allow
		}
		return Block
	}
	switch c {
	case Ambiguous:
		return AllowThenClose
	case Severe:
		return Block
	}
	return Allow
}

// LogFields are the access log's classification and classification_reason
// for a request: empty ("-" in the log) for a Compliant one, as ALB logs it
// (docs/logs.md, fields 28–29).
func LogFields(c Class, r Reason) (classification, reason string) {
	if c == Compliant {
		return "", ""
	}
	return c.String(), r.String()
}
