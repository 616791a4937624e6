package soak

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/albmtls/albmtls/emulator/accesslog"
)

// runTargetKill forwards to a target that resets its connection before
// answering (/cut-head) and after 1,000 of 100,000 announced body bytes
// (/cut-body). The client must get an answer (502, or a body cut short),
// the access-log line must record the failure (elb_status_code 5xx or an
// error_reason, not a plain 200), and the next request must be served.
func runTargetKill(ctx context.Context, h *harness, r *Result) error {
	addr, stopT, err := startDyingTarget()
	if err != nil {
		return err
	}
	defer stopT()
	e, err := h.startEmulator(ctx, "target-kill", emuConfig{Targets: []string{addr}})
	if err != nil {
		return err
	}
	defer e.stop()
	pass := true
	client := map[string]string{}
	for _, p := range []string{"/cut-head", "/cut-body"} {
		st, n, err := request(e.addr, e.tlsClient, p)
		var saw string
		switch {
		case st == 0:
			saw, pass = fmt.Sprintf("no answer (%v)", err), false
		case st >= 500:
			saw = fmt.Sprintf("%d", st)
		case err != nil || n < cutBodyLength:
			saw = fmt.Sprintf("%d with %d of %d body bytes, then %v", st, n, cutBodyLength, err)
		default:
			saw, pass = fmt.Sprintf("%d with the whole body?", st), false
		}
		client[p] = saw
		nst, _, nerr := request(e.addr, e.tlsClient, "/ok")
		if nerr != nil || nst != 200 {
			pass = false
			client[p] += fmt.Sprintf("; next request: %d %v", nst, nerr)
		} else {
			client[p] += "; next request 200"
		}
	}
	time.Sleep(500 * time.Millisecond) // the log writer is asynchronous
	logged, err := os.ReadFile(filepath.Join(e.logDir, "access.log"))
	if err != nil {
		return err
	}
	line := map[string]*accesslog.Entry{}
	for _, l := range strings.Split(string(logged), "\n") {
		if l == "" {
			continue
		}
		en, err := accesslog.ParseLine(l)
		if err != nil {
			return fmt.Errorf("access log line %q: %w", l, err)
		}
		for _, p := range []string{"/cut-head", "/cut-body"} {
			if strings.HasSuffix(en.RequestURL, p) {
				line[p] = &en
			}
		}
	}
	for _, p := range []string{"/cut-head", "/cut-body"} {
		en := line[p]
		logs := "no access-log line"
		if en != nil {
			logs = fmt.Sprintf("logged elb %s target %s sent_bytes %d error_reason %s",
				dash(en.ELBStatusCode), dash(en.TargetStatusCode), en.SentBytes, orDash(en.ErrorReason))
		}
		if en == nil || (en.ELBStatusCode < 500 && en.ErrorReason == "") {
			pass = false
		}
		r.figure(p, "client saw %s; %s", client[p], logs)
	}
	r.Pass = pass
	return nil
}

func dash(code int) string {
	if code == 0 {
		return "-"
	}
	return fmt.Sprint(code)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
