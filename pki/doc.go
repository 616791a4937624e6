// Package pki builds the test PKI that albmtls runs on: root and
// intermediate CAs, server and client certificates with every key type and
// subject the failure catalogue needs, and v2 CRLs in DER and PEM.
//
// Certificates are signed with cfssl's local signer (csr, signer/local and
// config profiles), so they look like what a cfssl-run CA issues. The few
// certificates cfssl cannot make (self-signed leaves, leaves without any key
// usage) are built with x509.CreateCertificate, and CRLs with
// x509.CreateRevocationList; each place says why.
//
// Generate builds the standard set of the product brief (one client per ALB
// outcome), WriteDir and Load store it as a directory with a manifest.json
// that says what each certificate is for and what ALB does with it, and
// package pkitest gives tests a cached standard set and fast throw-away CAs.
package pki
