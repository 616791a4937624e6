package soak

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// metricValue finds one series in a Prometheus text exposition: series is
// the name with its labels as printed (`go_goroutines`,
// `albmtls_log_lines_dropped_total{log="access"}`).
func metricValue(body, series string) (float64, error) {
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		rest, ok := strings.CutPrefix(line, series)
		if !ok || !strings.HasPrefix(rest, " ") {
			continue
		}
		f := strings.Fields(rest)
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return 0, fmt.Errorf("metric %s: value %q: %w", series, f[0], err)
		}
		return v, nil
	}
	return 0, fmt.Errorf("metric %s not found in /metrics", series)
}

// vmRSS reads VmRSS (kB) from the text of /proc/PID/status and returns bytes.
func vmRSS(status string) (int64, error) {
	for _, line := range strings.Split(status, "\n") {
		v, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("VmRSS line %q: want \"VmRSS: N kB\"", line)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmRSS line %q: %w", line, err)
		}
		return n << 10, nil
	}
	return 0, fmt.Errorf("no VmRSS line in /proc/PID/status")
}

// accessURLs returns the request URL of every access-log line (field 13,
// "METHOD URL PROTO"), with lines that are not access-log lines counted.
func accessURLs(log string) (urls []string, bad int) {
	for _, line := range strings.Split(log, "\n") {
		if line == "" {
			continue
		}
		_, rest, ok := strings.Cut(line, `"`)
		if !ok {
			bad++
			continue
		}
		req, _, ok := strings.Cut(rest, `"`)
		f := strings.Fields(req)
		if !ok || len(f) != 3 {
			bad++
			continue
		}
		urls = append(urls, f[1])
	}
	return urls, bad
}

// mib formats bytes as MiB with one decimal.
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// kib formats bytes as KiB with one decimal.
func kib(b float64) string { return fmt.Sprintf("%.1f KiB", b/1024) }
