//go:build tools

// Package deps pins the modules of the Docker module while its packages land.
package deps

import (
	_ "github.com/albmtls/albmtls/pki"
	_ "github.com/stretchr/testify/require"
	_ "github.com/testcontainers/testcontainers-go"
	_ "github.com/testcontainers/testcontainers-go/wait"
)
