// Package endtoend holds lambdatarget's end-to-end tests, apart from the
// package so that what they need (the emulator, aws-lambda-go, the
// Runtime Interface Emulator) stays out of the module graph of every
// module that imports lambdatarget (the docker module through routing):
// the same aws-lambda-go handler, the test binary itself, runs against
// albmtls's built-in Runtime API and under the real Runtime Interface
// Emulator, over real mTLS on 127.0.0.1. See docs/lambda.md.
package endtoend
