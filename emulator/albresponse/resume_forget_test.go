package albresponse

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestCompanionForgottenAtShutdown: the registry of companion servers must
// not keep every server a long process ever built (the conformance harness
// builds one per scenario).
func TestCompanionForgottenAtShutdown(t *testing.T) {
	orig := &http.Server{Handler: http.NotFoundHandler()}
	cp := companionFor(orig)
	_, ok := companions.Load(orig)
	assert.True(t, ok)
	assert.NoError(t, orig.Shutdown(context.Background()))
	// net/http runs the shutdown hooks in goroutines of their own.
	assert.Eventually(t, func() bool {
		_, o := companions.Load(orig)
		_, c := companions.Load(cp.srv)
		return !o && !c
	}, 5*time.Second, 10*time.Millisecond, "the server and its companion are forgotten")
}
