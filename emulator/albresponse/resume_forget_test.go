package albresponse

import (
	"context"
	"net/http"
	"testing"

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
	_, ok = companions.Load(orig)
	assert.False(t, ok, "the original server is forgotten")
	_, ok = companions.Load(cp.srv)
	assert.False(t, ok, "its companion too")
}
