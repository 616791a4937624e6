//go:build tools

// Package deps pins the modules the packages of this repository are being
// written against, so that go mod tidy keeps them while the packages that
// import them land. It is never built.
package deps

import (
	_ "github.com/cloudflare/cfssl/config"
	_ "github.com/cloudflare/cfssl/csr"
	_ "github.com/cloudflare/cfssl/helpers"
	_ "github.com/cloudflare/cfssl/initca"
	_ "github.com/cloudflare/cfssl/log"
	_ "github.com/cloudflare/cfssl/signer/local"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/prometheus/client_golang/prometheus/testutil"
	_ "github.com/spf13/cobra"
	_ "github.com/stretchr/testify/assert"
	_ "github.com/stretchr/testify/require"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/crypto/cryptobyte"
	_ "golang.org/x/net/http2"
)
