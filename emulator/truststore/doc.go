// Package truststore models ALB trust stores: a CA certificates bundle and
// the certificate revocation lists (CRLs) added to it, with the upload rules
// and quotas ALB applies (alb-behaviour §1.2, §1.3, §9 item 7).
//
// One implementation checks the files for Load, for Live (runtime
// revocations and reload) and for `albmtls truststore check`, so that the
// emulator refuses exactly what the linter reports as fatal. Every problem is
// a Finding that names ALB's API error, the file and line, and the fix.
//
// A Store is an immutable snapshot that the verifier reads on every
// handshake: CA lookup by subject and CRL lookup by issuer are O(1), and a
// CRL's revoked serials live in a compact hash set. A Live handle swaps
// snapshots atomically; snapshots share the CRLs they have in common.
package truststore
