package demo

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/connlog"
)

// TestEventPrinterWho: a known client is named by the PKI's name alone when
// its CN is that name, with its CN when not, and by its subject otherwise.
func TestEventPrinterWho(t *testing.T) {
	p := &eventPrinter{names: map[string]string{"01": "valid", "02": "renamed", "03": "escaped"}}
	for _, tc := range []struct {
		name  string
		entry connlog.Entry
		want  string
	}{
		{"http listener", connlog.Entry{}, "http"},
		{"no certificate", connlog.Entry{TLSProtocol: "TLSv1.3"}, "no certificate"},
		{"named after its CN", connlog.Entry{TLSProtocol: "TLSv1.3", Serial: "01", Subject: "CN=valid,O=Example Corp"}, "valid"},
		{"CN differs from the name", connlog.Entry{TLSProtocol: "TLSv1.3", Serial: "02", Subject: "CN=someone,O=Example Corp"}, "renamed (CN=someone)"},
		{"escaped comma in the CN", connlog.Entry{TLSProtocol: "TLSv1.3", Serial: "03", Subject: `CN=a\,b,O=X`}, `escaped (CN=a\,b)`},
		{"escaped backslash before the comma", connlog.Entry{TLSProtocol: "TLSv1.3", Serial: "03", Subject: `CN=a\\,O=X`}, `escaped (CN=a\\)`},
		{"unknown serial", connlog.Entry{TLSProtocol: "TLSv1.3", Serial: "FF", Subject: "CN=stranger,O=Elsewhere"}, "CN=stranger,O=Elsewhere"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, p.who(emulator.ConnectionEvent{Entry: tc.entry}))
		})
	}
}
