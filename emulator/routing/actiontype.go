package routing

import "github.com/albmtls/albmtls/internal/enum"

// ActionType is a listener or rule action's type (alb-behaviour §8).
type ActionType string

// Action types.
const (
	ActionForward       ActionType = "forward"
	ActionRedirect      ActionType = "redirect"
	ActionFixedResponse ActionType = "fixed-response"
)

// ActionTypes lists the action types.
var ActionTypes = []ActionType{ActionForward, ActionRedirect, ActionFixedResponse}

// UnmarshalText reads an action type; "" stays unset (the config requires
// one).
func (t *ActionType) UnmarshalText(b []byte) (err error) {
	*t, err = enum.Parse(string(b), "an action type", ActionTypes...)
	return err
}
