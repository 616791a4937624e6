#!/usr/bin/env bash
# ab.sh: A/B two albmtls binaries on kept-alive mTLS requests, on one
# machine at one time (BENCHMARKS.md: this stop's changes, the PGO and
# GOMAXPROCS experiments).
#
#   bench/ab.sh OLD NEW [PAIRS]
#
# OLD and NEW are albmtls binaries (or wrappers that exec one, e.g. with
# GOMAXPROCS=1). Both serve at once, in verify mode in front of one
# backend (`albmtls bench backend`), and the load (`NEW bench load
# --mode keepalive -c 32`) alternates between them in PAIRS pairs of
# SLICE-long runs (default 20 pairs of 1500ms), the order swapped every
# pair, then again with the two binaries in each other's place. Each slice
# gives the server's CPU time per request (user + system, /proc/PID/stat)
# and its rate; the figures are from the medians of the per-pair NEW/OLD
# ratios (see phase below). Linux only (procfs); every process listens on
# 127.0.0.1 and is stopped at the end.
set -euo pipefail
if [ $# -lt 2 ]; then
	echo "usage: bench/ab.sh OLD NEW [PAIRS]   (env: SLICE=1500ms, CONCURRENCY=32)" >&2
	exit 2
fi
old=$1 new=$2 pairs=${3:-20}
slice=${SLICE:-1500ms} conc=${CONCURRENCY:-32}
for b in "$old" "$new"; do
	[ -x "$b" ] || { echo "ab.sh: $b is not an executable" >&2; exit 2; }
done
[ -r /proc/self/stat ] || { echo "ab.sh: needs Linux's /proc" >&2; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

freeport() { # a port nothing listens on (nor was handed out before)
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		case " ${taken:-} " in *" $p "*) continue ;; esac
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			taken="${taken:-} $p"
			echo "$p"
			return
		fi
	done
}
"$new" pki init --out "$work/pki" -q >/dev/null
taken=""
backend=$(freeport)
taken="$backend"
portA=$(freeport)
taken="$taken $portA"
portB=$(freeport)
config() { # port -> albmtls.yaml on stdout
	cat <<EOF
load_balancer: {name: ab}
trust_stores:
  - name: ab
    ca_certificates_bundle: $work/pki/ca/bundle.pem
    revocations: [$work/pki/crl/intermediate.crl.pem, $work/pki/crl/root.crl.pem]
target_groups:
  - name: backend
    targets: ["127.0.0.1:$backend"]
    health_check: {enabled: false}
listeners:
  - port: $1
    address: 127.0.0.1
    protocol: HTTPS
    ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-06   # TLS 1.3, as the load generator speaks
    certificates: [{certificate: $work/pki/server/server-chain.pem, private_key: $work/pki/server/server-key.pem}]
    mutual_authentication: {mode: verify, trust_store: ab}
    default_action: {type: forward, target_group: backend}
emulation: {watch_interval: 0s}
EOF
}
config "$portA" >"$work/a.yaml"
config "$portB" >"$work/b.yaml"

waitport() {
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return
		sleep 0.1
	done
	echo "ab.sh: nothing listens on 127.0.0.1:$1" >&2
	exit 1
}
"$new" bench backend --listen "127.0.0.1:$backend" >"$work/backend.log" 2>&1 &
pids+=($!)
waitport "$backend"

cpu() { # pid -> utime+stime in clock ticks
	local f
	read -r -a f <"/proc/$1/stat"
	echo $((f[13] + f[14]))
}
run() { # pid port -> "µs-per-request requests-per-second"
	local before after
	before=$(cpu "$1")
	"$new" bench load "https://127.0.0.1:$2/" --cert "$work/pki/clients/valid-chain.pem" \
		--key "$work/pki/clients/valid-key.pem" --mode keepalive -c "$conc" -d "$slice" --json >"$work/load.json"
	after=$(cpu "$1")
	local n rps
	n=$(grep -o '"requests": *[0-9]*' "$work/load.json" | grep -o '[0-9]*$')
	rps=$(grep -o '"requests_per_second": *[0-9.e+]*' "$work/load.json" | grep -o '[0-9.e+]*$')
	awk -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" -v n="$n" -v r="$rps" 'BEGIN { printf "%.2f %.0f\n", t / hz * 1e6 / n, r }'
}

# phase BIN_A BIN_B: both serve (A on portA, started first) for PAIRS
# pairs; prints "A-µs A-rate B-µs B-rate" per pair.
phase() {
	"$1" serve -c "$work/a.yaml" >"$work/a.log" 2>&1 &
	local pa=$!
	"$2" serve -c "$work/b.yaml" >"$work/b.log" 2>&1 &
	local pb=$!
	pids+=("$pa" "$pb")
	waitport "$portA"
	waitport "$portB"
	run "$pa" "$portA" >/dev/null # warm-up, unmeasured
	run "$pb" "$portB" >/dev/null
	local i a b
	for i in $(seq "$pairs"); do
		if [ $((i % 2)) = 0 ]; then
			a=$(run "$pa" "$portA")
			b=$(run "$pb" "$portB")
		else
			b=$(run "$pb" "$portB")
			a=$(run "$pa" "$portA")
		fi
		echo "$a $b"
		echo "ab: pair $i/$pairs: A $a, B $b (µs/request, requests/s)" >&2
	done
	kill "$pa" "$pb"
	wait "$pa" "$pb" 2>/dev/null || true
}

# The two slots are not alike (which server started first, its port): on
# a 2-CPU VM either may be a few percent cheaper. So OLD and NEW swap
# slots halfway, and the slot's share cancels out: with m1 the median
# NEW/OLD ratio with NEW in slot B and m2 with NEW in slot A, NEW/OLD is
# sqrt(m1 * m2) and the slot's own effect sqrt(m1 / m2).
echo "ab: 2 x $pairs pairs of $slice, concurrency $conc; OLD $old, NEW $new" >&2
phase "$old" "$new" >"$work/phase1"
phase "$new" "$old" >"$work/phase2"
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# phase 1: A = OLD, B = NEW; phase 2: A = NEW, B = OLD
for what in "server CPU per request:1" "requests per second:2"; do
	name=${what%:*} i=${what##*:}
	m1=$(awk -v i="$i" '{ print $(i + 2) / $i }' "$work/phase1" | median)
	m2=$(awk -v i="$i" '{ print $i / $(i + 2) }' "$work/phase2" | median)
	awk -v name="$name" -v m1="$m1" -v m2="$m2" 'BEGIN {
		printf "NEW/OLD %-23s %.3f  (NEW in slot B %.3f, in slot A %.3f; slot B over A %.3f)\n", name, sqrt(m1 * m2), m1, m2, sqrt(m1 / m2) }'
done
echo "n = $(wc -l <"$work/phase1") + $(wc -l <"$work/phase2") pairs"
