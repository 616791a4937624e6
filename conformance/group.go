package conformance

import "strings"

// groups maps the catalogue's file-name prefixes to the behaviour group a
// scenario belongs to. The catalogue names every file GROUP-BEHAVIOUR
// (verify-rejects-revoked-client.yaml, xff-remove-drops-header.yaml); a few
// groups have more than one prefix. CI reporters show the group as the
// JUnit classname (a "package"); TestEveryScenarioHasAGroup keeps the table
// complete as scenarios are added. Longer prefixes come first.
var groups = []struct{ prefix, group string }{
	{"verify-", "verify"},
	{"passthrough-", "passthrough"},
	{"off-", "off"},
	{"truststore-", "truststore"},
	{"tls-headers-", "tls-headers"},
	{"xff-", "forwarded-headers"},
	{"x-forwarded-", "forwarded-headers"},
	{"trace-id-", "trace-id"},
	{"forwards-", "client-headers"},
	{"strips-", "client-headers"},
	{"drop-invalid-header-fields-", "client-headers"},
	{"desync-", "desync-mitigation"},
	{"lambda-", "lambda-targets"},
	{"target-", "targets"},
	{"no-registered-targets-", "targets"},
	{"fixed-response-", "actions"},
	{"redirect-", "actions"},
	{"http-listener-", "actions"},
	{"response-server-header-", "responses"},
	{"backend/", "backend"},
}

// Group is the behaviour group of a scenario name: the catalogue's group
// for a known prefix, else the name's first word.
func Group(name string) string {
	if g, ok := knownGroup(name); ok {
		return g
	}
	first, _, _ := strings.Cut(name, "-")
	first, _, _ = strings.Cut(first, "/")
	return first
}

func knownGroup(name string) (string, bool) {
	for _, g := range groups {
		if strings.HasPrefix(name, g.prefix) {
			return g.group, true
		}
	}
	return "", false
}
