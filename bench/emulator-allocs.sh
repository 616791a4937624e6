#!/usr/bin/env bash
# emulator-allocs.sh: the allocations albmtls itself makes per proxied
# kept-alive request (issue 17's figure). BenchmarkKeepAlive's allocs/op
# counts the whole process: the load generator's client, the backend (which
# parses the ALB headers the emulator adds) and the emulator. This runs the
# albmtls sub-benchmark with every allocation sampled and counts those under
# the emulator's HTTP/1.x front end (http1.(*Server).ServeConn: parsing,
# routing, the forward, the access-log entry), per request.
set -euo pipefail
N=${N:-20000}
GO=${GO:-go}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$GO" test -c -o "$dir/emulator.test" ./emulator
(cd "$dir" && ./emulator.test -test.run '^$' -test.bench 'BenchmarkKeepAlive/albmtls$' \
	-test.benchtime "${N}x" -test.benchmem -test.memprofile mem.out -test.memprofilerate 1 | grep Benchmark)
total=$("$GO" tool pprof -sample_index=alloc_objects -top -nodecount=100000 \
	-focus 'http1\.\(\*Server\)\.ServeConn' "$dir/emulator.test" "$dir/mem.out" 2>/dev/null |
	sed -n 's/^Showing nodes accounting for \([0-9]*\),.*/\1/p')
awk -v t="$total" -v n="$N" 'BEGIN { printf "emulator allocations per proxied kept-alive request: %.1f (%d in %d requests)\n", t / n, t, n }'
