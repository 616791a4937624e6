#!/usr/bin/env bash
# sched-idle.sh: where a loaded machine's idle CPU time comes from
# (BENCHMARKS.md, "Idle time is the scheduler's").
#
#   bench/sched-idle.sh record SECONDS [NAME=PID ...]
#   bench/sched-idle.sh analyze FILE [NAME=PID ...]
#
# record runs `perf sched record -a` for SECONDS (run it while a load is
# on, e.g. `albmtls bench load --mode keepalive`; needs perf and the right
# to trace the whole system) and analyzes what it recorded. analyze reads
# FILE, the text of `perf script -F pid,tid,cpu,time,event,trace` over
# such a recording. NAME=PID names a process (its threads are counted
# under NAME; the rest are "other", the CPUs' idle task "idle").
#
# It replays the scheduler's events (switches, wake-ups, migrations) to
# know, at each moment, what runs on each CPU and which tasks wait in
# each CPU's run queue, and prints:
#   - the CPUs' idle time, split into time when a task was waiting on
#     another CPU's queue (work was there, on the wrong CPU) and time when
#     every CPU was idle at once (no work anywhere);
#   - idle periods: how many a second, their mean length, and whose task
#     ended them;
#   - wake-ups a second by waker and wakee ("idle" as waker: a timer or an
#     interrupt that came while the CPU was idle);
#   - switch-outs a second by process: to sleep (S, D, ...) or preempted (R).
set -euo pipefail
usage() {
	echo "usage: bench/sched-idle.sh record SECONDS [NAME=PID ...]" >&2
	echo "       bench/sched-idle.sh analyze FILE [NAME=PID ...]" >&2
	exit 2
}
[ $# -ge 2 ] || usage
mode=$1 arg=$2
shift 2
for n in "$@"; do
	[[ $n =~ ^[A-Za-z0-9_.-]+=[0-9]+$ ]] || { echo "sched-idle.sh: $n: want NAME=PID" >&2; exit 2; }
done
case $mode in
record)
	[[ $arg =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "sched-idle.sh: $arg: want SECONDS" >&2; exit 2; }
	command -v perf >/dev/null || { echo "sched-idle.sh: needs perf (apt-get install linux-perf)" >&2; exit 2; }
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	perf sched record -o "$work/sched.data" -a -- sleep "$arg" >/dev/null 2>"$work/err" ||
		{ cat "$work/err" >&2; echo "sched-idle.sh: perf sched record failed (kernel.perf_event_paranoid, or not root?)" >&2; exit 1; }
	perf script -i "$work/sched.data" -F pid,tid,cpu,time,event,trace >"$work/sched.txt" 2>/dev/null
	file=$work/sched.txt
	;;
analyze)
	file=$arg
	[ -r "$file" ] || { echo "sched-idle.sh: $file: cannot read it" >&2; exit 2; }
	;;
*) usage ;;
esac

awk -v names="$*" '
function grp(tid,   p) {
	if (tid == 0) return "idle"
	p = (tid in tgid) ? tgid[tid] : -1
	return (p in name) ? name[p] : "other"
}
function field(s, key) { # the number after key= in s
	if (match(s, key "=[0-9]+")) return substr(s, RSTART + length(key) + 1, RLENGTH - length(key) - 1) + 0
	return -1
}
function enqueue(tid, c) {
	if (tid == 0 || tid in running) return
	if (tid in onq) queued[onq[tid]]--
	onq[tid] = c; queued[c]++
}
function dequeue(tid) {
	if (tid in onq) { queued[onq[tid]]--; delete onq[tid] }
}
function account(t,   c, d, dt, nidle, waiting) {
	if (known < ncpu || last == "") { last = t; return }
	dt = t - last
	nidle = 0
	for (c = 0; c < ncpu; c++) {
		if (cur[c] != 0) continue
		nidle++
		idle += dt
		waiting = 0
		for (d = 0; d < ncpu; d++) if (d != c && queued[d] > 0) waiting = 1
		if (waiting) misplaced += dt
	}
	if (nidle == ncpu) allidle += dt
	last = t
}
BEGIN {
	n = split(names, a, " ")
	for (i = 1; i <= n; i++) { split(a[i], kv, "="); name[kv[2] + 0] = kv[1] }
	last = ""
}
{
	split($1, pt, "/"); tgid[pt[2] + 0] = pt[1] + 0
	cpu = substr($2, 2, length($2) - 2) + 0
	t = substr($3, 1, length($3) - 1) + 0
	ev = $4
	if (first == "") first = t
	end = t
	if (ev == "sched:sched_switch:") {
		if (cpu + 1 > ncpu) ncpu = cpu + 1
		account(t)
		prev = field($0, "prev_pid"); next_ = field($0, "next_pid")
		match($0, /prev_state=[^ ]+/); state = substr($0, RSTART + 11, 1)
		delete running[prev]
		if (prev != 0 && state == "R") { enqueue(prev, cpu); preempted[grp(prev)]++ }
		else if (prev != 0) slept[grp(prev)]++
		dequeue(next_)
		if (next_ != 0) running[next_] = 1
		if (!(cpu in cur)) known++
		else if (cur[cpu] == 0 && next_ != 0 && (cpu in idlefrom)) {
			endn[next_]++; endt[next_] += t - idlefrom[cpu]; periods++; plen += t - idlefrom[cpu]
		}
		if (next_ == 0) idlefrom[cpu] = t
		cur[cpu] = next_
	} else if (ev == "sched:sched_waking:") {
		account(t)
		w = field($0, " pid"); tc = field($0, "target_cpu")
		waker = ($1 ~ /^0\//) ? "idle" : grp(pt[2] + 0)
		woke[waker SUBSEP w]++ # the process of the wakee is known by the end
		enqueue(w, tc)
	} else if (ev == "sched:sched_migrate_task:") {
		account(t)
		w = field($0, " pid"); o = field($0, "orig_cpu"); d = field($0, "dest_cpu")
		if ((w in onq) && onq[w] == o) { queued[o]--; onq[w] = d; queued[d]++ }
	}
}
function sorted(arr, keys,   n, k, i, j, tmp) { # keys[1..n]: the keys of arr, the largest value first, ties by key
	n = 0
	for (k in arr) keys[++n] = k
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && (arr[keys[j]] > arr[keys[j-1]] || (arr[keys[j]] == arr[keys[j-1]] && keys[j] < keys[j-1])); j--) {
			tmp = keys[j]; keys[j] = keys[j-1]; keys[j-1] = tmp
		}
	return n
}
END {
	span = end - first
	if (span <= 0 || ncpu == 0) { print "sched-idle.sh: no scheduler events in the input" > "/dev/stderr"; exit 1 }
	total = span * ncpu
	printf "%.3f s of %d CPUs\n", span, ncpu
	printf "idle: %.1f%% of CPU time; a task waiting on another CPU meanwhile: %.1f%%; every CPU idle at once: %.1f%% of the time\n", 100 * idle / total, 100 * misplaced / total, 100 * allidle / span
	for (k in endn) { g = grp(k + 0); ends[g] += endn[k]; endlen[g] += endt[k] } # processes known by now
	if (periods > 0) {
		printf "idle periods: %.0f/s, mean %.1f µs; ended by:", periods / span, 1e6 * plen / periods
		n = sorted(ends, ks)
		for (i = 1; i <= n; i++) printf " %s %.0f/s (%.1f µs)", ks[i], ends[ks[i]] / span, 1e6 * endlen[ks[i]] / ends[ks[i]]
		printf "\n"
	}
	for (k in woke) { split(k, kw, SUBSEP); wakes[kw[1] " -> " grp(kw[2] + 0)] += woke[k] }
	printf "wake-ups a second (waker -> wakee):"
	n = sorted(wakes, ks)
	for (i = 1; i <= n; i++) printf "  %s %.0f", ks[i], wakes[ks[i]] / span
	printf "\nswitch-outs a second, to sleep / preempted:"
	for (g in slept) all[g] += slept[g]
	for (g in preempted) all[g] += preempted[g]
	n = sorted(all, ks)
	for (i = 1; i <= n; i++) printf "  %s %.0f / %.0f", ks[i], slept[ks[i]] / span, preempted[ks[i]] / span
	printf "\n"
}' "$file"
