package sslpolicy

import "crypto/tls"

// Cipher lists, in ALB's documented order (alb-behaviour §5 "Ciphers by policy").
// Each policy below is assembled from these blocks, so a reader can check a
// policy against the AWS table by name.
var (
	// tls13All is the TLS 1.3 suite list of the non-FIPS TLS13 policies.
	tls13All = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}
	// tls13FIPS drops ChaCha20 (alb-behaviour §5 "FIPS policies").
	tls13FIPS = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"}
	// tls13AES256 is the only TLS 1.3 suite RFC 9151 (CNSA 1.0) allows [INF].
	tls13AES256 = []string{"TLS_AES_256_GCM_SHA384"}

	// all18 is ELBSecurityPolicy-2016-08's list; also Ext2, TLS13-1-1 and TLS13-1-0.
	all18 = []string{
		"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
		"ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256",
		"ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA",
		"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
		"ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384",
		"ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA",
		"AES128-GCM-SHA256", "AES128-SHA256", "AES128-SHA",
		"AES256-GCM-SHA384", "AES256-SHA256", "AES256-SHA",
	}
	// noSHA1 is all18 without the CBC-SHA1 suites: TLS-1-2-2017-01 and TLS13-1-2-Ext1.
	noSHA1 = []string{
		"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
		"ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256",
		"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
		"ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384",
		"AES128-GCM-SHA256", "AES128-SHA256", "AES256-GCM-SHA384", "AES256-SHA256",
	}
	// ecdhe12 is every ECDHE suite: FS-2018-06, FS-1-1/1-2-2019-08 and the Ext0-FIPS TLS 1.2 part.
	ecdhe12 = []string{
		"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
		"ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256",
		"ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA",
		"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
		"ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384",
		"ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA",
	}
	// ecdhe8 is ECDHE GCM + SHA256/384: TLS13-1-2-2021-06 and FS-1-2-Res-2019-08.
	ecdhe8 = []string{
		"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
		"ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256",
		"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
		"ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384",
	}
	// ecdheGCM is the four ECDHE GCM suites: the Res policies and FS-1-2-Res-2020-10.
	ecdheGCM = []string{
		"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
		"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
	}
	// cnsa12 is the TLS 1.2 ECDHE list RFC 9151 §5 allows [INF: not in the reference].
	cnsa12 = []string{"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384"}
)

// Key-exchange group lists. ALB documents groups only for the PQ policies;
// the others come from s2n-tls or are inferred, as each comment says.
var (
	// groups2014 is s2n_ecc_preferences_20140601, used by s2n's ELB 2016-08
	// family (alb-behaviour §5 "s2n cross-check").
	groups2014 = []tls.CurveID{tls.CurveP256, tls.CurveP384}
	// groups2020 is s2n_ecc_preferences_20200310, which s2n pairs with the
	// TLS13-1-2-Ext2-2021-06 suite list [INF: s2n-semantics §5.3].
	groups2020 = []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384}
	// groupsFIPS leaves out X25519, which FIPS 140 does not approve [INF].
	groupsFIPS = []tls.CurveID{tls.CurveP256, tls.CurveP384}
	// groupsPQ adds the three hybrids the PQ policies support (alb-behaviour §5, [DOC]).
	groupsPQ = []tls.CurveID{
		tls.X25519MLKEM768, tls.SecP256r1MLKEM768, tls.SecP384r1MLKEM1024,
		tls.X25519, tls.CurveP256, tls.CurveP384,
	}
	// groupsFIPSPQ is groupsPQ without classical X25519 [INF].
	groupsFIPSPQ = []tls.CurveID{
		tls.X25519MLKEM768, tls.SecP256r1MLKEM768, tls.SecP384r1MLKEM1024,
		tls.CurveP256, tls.CurveP384,
	}
	// groupsCNSA1 is RFC 9151's ECDHE group [INF].
	groupsCNSA1 = []tls.CurveID{tls.CurveP384}
	// groupsCNSA2 is s2n's secp384r1 + ML-KEM-1024 (alb-behaviour §5, s2n commit
	// bffd7d1f1). Go has no pure ML-KEM-1024 group, so the closest Go offers,
	// the SecP384r1MLKEM1024 hybrid, stands in for it.
	groupsCNSA2 = []tls.CurveID{tls.SecP384r1MLKEM1024, tls.CurveP384}
	// groupsCNSA2Interop3 is INTEROP3's wider classical list, same stand-in.
	groupsCNSA2Interop3 = []tls.CurveID{tls.SecP384r1MLKEM1024, tls.CurveP384, tls.CurveP256, tls.CurveP521}
)

const (
	v10 = tls.VersionTLS10
	v11 = tls.VersionTLS11
	v12 = tls.VersionTLS12
	v13 = tls.VersionTLS13
)

// Provenance notes, shown by the docs and by Policy.Note.
const (
	noteDoc        = "protocols and ciphers: AWS table (alb-behaviour §5); groups: s2n-tls ELB entry"
	noteDoc13      = "protocols and ciphers: AWS table (alb-behaviour §5); groups inferred from s2n (x25519, secp256r1, secp384r1)"
	noteFIPS       = "protocols and ciphers: AWS table (alb-behaviour §5); groups inferred (FIPS: no x25519)"
	notePQ         = "ciphers: the non-PQ counterpart's (alb-behaviour §5 [INF]); hybrid groups: AWS docs"
	noteRFC9151    = "content not in the reference: mapped to RFC 9151 (AES-256-GCM, ECDHE P-384)"
	noteRFC9151Int = "content not in the reference: mapped to the closest FIPS-2023-04 policy"
	noteCNSA2      = "groups and versions: s2n commit bffd7d1f1; ciphers not in the reference: mapped to RFC 9151; ML-KEM-1024 replaced by the SecP384r1MLKEM1024 hybrid"
)

// table is every policy named in alb-behaviour §5, in the order of the AWS tables.
var table = []Policy{
	// TLS 1.3 policies, 2021-06.
	{Name: "ELBSecurityPolicy-TLS13-1-3-2021-06", MinVersion: v13, MaxVersion: v13, TLS13Ciphers: tls13All, Groups: groups2020, Note: noteDoc13},
	{Name: "ELBSecurityPolicy-TLS13-1-2-2021-06", MinVersion: v12, MaxVersion: v13, Ciphers: ecdhe8, TLS13Ciphers: tls13All, Groups: groups2020, Note: noteDoc13},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Res-2021-06", MinVersion: v12, MaxVersion: v13, Ciphers: ecdheGCM, TLS13Ciphers: tls13All, Groups: groups2020, Note: noteDoc13},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06", MinVersion: v12, MaxVersion: v13, Ciphers: all18, TLS13Ciphers: tls13All, Groups: groups2020, Note: noteDoc13},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", MinVersion: v12, MaxVersion: v13, Ciphers: noSHA1, TLS13Ciphers: tls13All, Groups: groups2020, Note: noteDoc13},
	{Name: "ELBSecurityPolicy-TLS13-1-1-2021-06", MinVersion: v11, MaxVersion: v13, Ciphers: all18, TLS13Ciphers: tls13All, Groups: groups2020, Note: noteDoc13},
	{Name: "ELBSecurityPolicy-TLS13-1-0-2021-06", MinVersion: v10, MaxVersion: v13, Ciphers: all18, TLS13Ciphers: tls13All, Groups: groups2020, Note: noteDoc13},

	// TLS 1.2-and-below policies.
	{Name: "ELBSecurityPolicy-TLS-1-2-Ext-2018-06", MinVersion: v12, MaxVersion: v12, Ciphers: all18, Groups: groups2014, Note: noteDoc},
	{Name: "ELBSecurityPolicy-TLS-1-2-2017-01", MinVersion: v12, MaxVersion: v12, Ciphers: noSHA1, Groups: groups2014, Note: noteDoc},
	{Name: "ELBSecurityPolicy-TLS-1-1-2017-01", MinVersion: v11, MaxVersion: v12, Ciphers: all18, Groups: groups2014, Note: noteDoc},
	{Name: "ELBSecurityPolicy-2016-08", MinVersion: v10, MaxVersion: v12, Ciphers: all18, Groups: groups2014, Note: noteDoc},

	// FIPS policies, 2023-04: the same patterns without ChaCha20.
	{Name: "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04", MinVersion: v13, MaxVersion: v13, TLS13Ciphers: tls13FIPS, Groups: groupsFIPS, FIPS: true, Note: noteFIPS},
	{Name: "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04", MinVersion: v12, MaxVersion: v13, Ciphers: ecdhe8, TLS13Ciphers: tls13FIPS, Groups: groupsFIPS, FIPS: true, Note: noteFIPS},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04", MinVersion: v12, MaxVersion: v13, Ciphers: ecdheGCM, TLS13Ciphers: tls13FIPS, Groups: groupsFIPS, FIPS: true, Note: noteFIPS},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04", MinVersion: v12, MaxVersion: v13, Ciphers: all18, TLS13Ciphers: tls13FIPS, Groups: groupsFIPS, FIPS: true, Note: noteFIPS},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04", MinVersion: v12, MaxVersion: v13, Ciphers: noSHA1, TLS13Ciphers: tls13FIPS, Groups: groupsFIPS, FIPS: true, Note: noteFIPS},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04", MinVersion: v12, MaxVersion: v13, Ciphers: ecdhe12, TLS13Ciphers: tls13FIPS, Groups: groupsFIPS, FIPS: true, Note: noteFIPS},
	{Name: "ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04", MinVersion: v11, MaxVersion: v13, Ciphers: all18, TLS13Ciphers: tls13FIPS, Groups: groupsFIPS, FIPS: true, Note: noteFIPS},
	{Name: "ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04", MinVersion: v10, MaxVersion: v13, Ciphers: all18, TLS13Ciphers: tls13FIPS, Groups: groupsFIPS, FIPS: true, Note: noteFIPS},

	// Forward-secrecy policies.
	{Name: "ELBSecurityPolicy-FS-1-2-Res-2020-10", MinVersion: v12, MaxVersion: v12, Ciphers: ecdheGCM, Groups: groups2014, Note: noteDoc},
	{Name: "ELBSecurityPolicy-FS-1-2-Res-2019-08", MinVersion: v12, MaxVersion: v12, Ciphers: ecdhe8, Groups: groups2014, Note: noteDoc},
	{Name: "ELBSecurityPolicy-FS-1-2-2019-08", MinVersion: v12, MaxVersion: v12, Ciphers: ecdhe12, Groups: groups2014, Note: noteDoc},
	{Name: "ELBSecurityPolicy-FS-1-1-2019-08", MinVersion: v11, MaxVersion: v12, Ciphers: ecdhe12, Groups: groups2014, Note: noteDoc},
	{Name: "ELBSecurityPolicy-FS-2018-06", MinVersion: v10, MaxVersion: v12, Ciphers: ecdhe12, Groups: groups2014, Note: noteDoc},

	// Post-quantum policies, 2025-09: the counterpart's ciphers plus hybrid groups.
	{Name: "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09", MinVersion: v13, MaxVersion: v13, TLS13Ciphers: tls13All, Groups: groupsPQ, PQ: true, Note: notePQ},
	{Name: "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09", MinVersion: v12, MaxVersion: v13, Ciphers: ecdhe8, TLS13Ciphers: tls13All, Groups: groupsPQ, PQ: true, Note: notePQ},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", MinVersion: v12, MaxVersion: v13, Ciphers: ecdheGCM, TLS13Ciphers: tls13All, Groups: groupsPQ, PQ: true, Note: notePQ},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09", MinVersion: v12, MaxVersion: v13, Ciphers: noSHA1, TLS13Ciphers: tls13All, Groups: groupsPQ, PQ: true, Note: notePQ},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09", MinVersion: v12, MaxVersion: v13, Ciphers: all18, TLS13Ciphers: tls13All, Groups: groupsPQ, PQ: true, Note: notePQ},
	{Name: "ELBSecurityPolicy-TLS13-1-0-PQ-2025-09", MinVersion: v10, MaxVersion: v13, Ciphers: all18, TLS13Ciphers: tls13All, Groups: groupsPQ, PQ: true, Note: notePQ},
	{Name: "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09", MinVersion: v13, MaxVersion: v13, TLS13Ciphers: tls13FIPS, Groups: groupsFIPSPQ, FIPS: true, PQ: true, Note: notePQ},
	{Name: "ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09", MinVersion: v12, MaxVersion: v13, Ciphers: ecdhe8, TLS13Ciphers: tls13FIPS, Groups: groupsFIPSPQ, FIPS: true, PQ: true, Note: notePQ},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09", MinVersion: v12, MaxVersion: v13, Ciphers: ecdheGCM, TLS13Ciphers: tls13FIPS, Groups: groupsFIPSPQ, FIPS: true, PQ: true, Note: notePQ},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09", MinVersion: v12, MaxVersion: v13, Ciphers: ecdhe12, TLS13Ciphers: tls13FIPS, Groups: groupsFIPSPQ, FIPS: true, PQ: true, Note: notePQ},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09", MinVersion: v12, MaxVersion: v13, Ciphers: noSHA1, TLS13Ciphers: tls13FIPS, Groups: groupsFIPSPQ, FIPS: true, PQ: true, Note: notePQ},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09", MinVersion: v12, MaxVersion: v13, Ciphers: all18, TLS13Ciphers: tls13FIPS, Groups: groupsFIPSPQ, FIPS: true, PQ: true, Note: notePQ},
	{Name: "ELBSecurityPolicy-TLS13-1-0-FIPS-PQ-2025-09", MinVersion: v10, MaxVersion: v13, Ciphers: all18, TLS13Ciphers: tls13FIPS, Groups: groupsFIPSPQ, FIPS: true, PQ: true, Note: notePQ},

	// RFC 9151 (CNSA 1.0) policies, 2023-07 [OBS names; content UNK]. Strict
	// ones get RFC 9151's algorithms; Ext0 and INTEROP4, which third-party
	// tables list with RSA key transport, get Ext1-FIPS's list; INTEROP1-3
	// get TLS13-1-2-FIPS's.
	{Name: "ELBSecurityPolicy-TLS13-1-3-RFC9151-FIPS-2023-07", MinVersion: v13, MaxVersion: v13, TLS13Ciphers: tls13AES256, Groups: groupsCNSA1, FIPS: true, Note: noteRFC9151},
	{Name: "ELBSecurityPolicy-TLS13-1-2-RFC9151-FIPS-2023-07", MinVersion: v12, MaxVersion: v13, Ciphers: cnsa12, TLS13Ciphers: tls13AES256, Groups: groupsCNSA1, FIPS: true, Note: noteRFC9151},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Ext0-RFC9151-FIPS-2023-07", MinVersion: v12, MaxVersion: v13, Ciphers: noSHA1, TLS13Ciphers: tls13FIPS, Groups: groupsFIPS, FIPS: true, Note: noteRFC9151Int},
	{Name: "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP1-FIPS-2023-07", MinVersion: v12, MaxVersion: v13, Ciphers: ecdhe8, TLS13Ciphers: tls13FIPS, Groups: groupsFIPS, FIPS: true, Note: noteRFC9151Int},
	{Name: "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP2-FIPS-2023-07", MinVersion: v12, MaxVersion: v13, Ciphers: ecdhe8, TLS13Ciphers: tls13FIPS, Groups: groupsFIPS, FIPS: true, Note: noteRFC9151Int},
	{Name: "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP3-FIPS-2023-07", MinVersion: v12, MaxVersion: v13, Ciphers: ecdhe8, TLS13Ciphers: tls13FIPS, Groups: groupsFIPS, FIPS: true, Note: noteRFC9151Int},
	{Name: "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP4-FIPS-2023-07", MinVersion: v12, MaxVersion: v13, Ciphers: noSHA1, TLS13Ciphers: tls13FIPS, Groups: groupsFIPS, FIPS: true, Note: noteRFC9151Int},

	// CNSA 2.0 interop policies, 2026-07 (s2n commit bffd7d1f1).
	{Name: "ELBSecurityPolicy-TLS13-1-3-CNSA2-INTEROP1-FIPS-PQ-2026-07", MinVersion: v13, MaxVersion: v13, TLS13Ciphers: tls13AES256, Groups: groupsCNSA2, FIPS: true, PQ: true, Note: noteCNSA2},
	{Name: "ELBSecurityPolicy-TLS13-1-2-CNSA2-INTEROP2-FIPS-PQ-2026-07", MinVersion: v12, MaxVersion: v13, Ciphers: cnsa12, TLS13Ciphers: tls13AES256, Groups: groupsCNSA2, FIPS: true, PQ: true, Note: noteCNSA2},
	{Name: "ELBSecurityPolicy-TLS13-1-2-CNSA2-INTEROP3-FIPS-PQ-2026-07", MinVersion: v12, MaxVersion: v13, Ciphers: cnsa12, TLS13Ciphers: tls13AES256, Groups: groupsCNSA2Interop3, FIPS: true, PQ: true, Note: noteCNSA2},
}
