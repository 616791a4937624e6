// Package idleslack is how albmtls moves a connection's idle-timeout
// deadline coarsely: to the timeout plus a slack, and again only once the
// slack has passed since it was last moved, so a busy kept-alive
// connection moves its runtime timer once per slack instead of on every
// read, write or request. The connection then times out no sooner than
// the timeout after its last progress, and at most the slack later. One
// rule for the client side (emulator/http1) and the target side
// (emulator/targetgroup).
package idleslack

import "time"

// Slack is how late past idle a connection may time out: 1%, at most
// 100ms (ALB's default idle timeout of 60s gets 100ms).
func Slack(idle time.Duration) time.Duration {
	return min(idle/100, 100*time.Millisecond)
}

// epoch is the origin of stamps: a monotonic clock reading.
var epoch = time.Now()

// Stamp is now as a stamp for Due: monotonic, and above 0 (0 means never).
func Stamp(now time.Time) time.Duration { return now.Sub(epoch) + 1 }

// Due reports whether a deadline last moved at stamp last (0: never, or
// since replaced by another deadline) must be moved at stamp now.
func Due(last, now, slack time.Duration) bool { return last == 0 || now-last >= slack }
