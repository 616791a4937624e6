package accesslog

// The real access-log lines of alb-behaviour §7, copied verbatim (the "…" are the
// third-party sources' own redactions and are part of the bytes).
const (
	// specForward: a forwarded HEAD over TLS 1.3, 34 fields and two unreleased "-" (2026-09).
	specForward = `https 2026-09-17T05:19:57.006409Z app/mc-alb-public/0780e6e7d84abe76 3.172.65.112:48058 10.0.10.189:80 0.000 0.055 0.000 200 200 360 199 "HEAD https://petclinic.mission-critical.site:443/petclinic/vets HTTP/1.1" "curl/8.5.0" TLS_AES_128_GCM_SHA256 TLSv1.3 arn:…:targetgroup/mc-tg-web/5ae742de9f467369 "Root=1-6aab787c-27aaf3f93f32ff1f5a67dc16" "petclinic.mission-critical.site" "session-reused" 10 2026-09-17T05:19:56.950000Z "forward" "-" "-" "10.0.10.189:80" "200" "-" "-" TID_f412ec94f0d7274a995f1719b4f4f35e "-" "-" "-" 3.34.116.99 "-" "-"`
	// specMalformed: an ALB-generated 400 for a malformed request, 30 fields (2025-03).
	specMalformed = `http 2025-03-01T10:03:17.218099Z app/MyALB1/240dbdc5244653c9 205.210.31.158:61084 - -1 -1 -1 400 - 0 272 "- http://myalb1-878688131.us-east-1.elb.amazonaws.com:80- -" "-" - - - "-" "-" "-" - 2025-03-01T10:03:16.682000Z "-" "-" "-" "-" "-" "-" "-" TID_6cfb27fd2ef25c42932bd6e0ff56d631`
	// specFixedResponse: a fixed-response default action, 33 fields (2026-02).
	specFixedResponse = `https 2026-02-05T23:58:32.578204Z app/defang-project-stack7d0286/c9b3756e8ef89456 11.22.33.44:34025 - -1 -1 -1 404 - 842 1023 "POST https://11.22.33.44:443/ HTTP/1.1" "Mozilla/5.0 …" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 - "Root=1-69852ea8-7429674e211c223e3c211c6d" "-" "arn:aws:acm:us-test-2:123456789012:certificate/be524858-3414-4e98-be52-240358d85b1c" 0 2026-02-05T23:58:32.493000Z "fixed-response" "-" "-" "-" "-" "-" "-" TID_ba88f3bfb4f5c249b7d9f74348a70697 "-" "-" "-"`
)
