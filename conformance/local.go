package conformance

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/scenarios"
)

// events collects the emulator's connection- and access-log entries by the
// client port of the connection, so that each step finds its own lines
// while other steps run.
type events struct {
	mu      sync.Mutex
	conns   map[uint16]string
	access  map[uint16][]string
	changed chan struct{}
}

func newEvents() *events {
	return &events{conns: map[uint16]string{}, access: map[uint16][]string{}, changed: make(chan struct{})}
}

func (e *events) signal() {
	close(e.changed)
	e.changed = make(chan struct{})
}

func (e *events) onConnection(ev emulator.ConnectionEvent) {
	line := ev.Entry.String()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.conns[ev.Entry.Client.Port()] = line
	e.signal()
}

func (e *events) onRequest(ev emulator.RequestEvent) {
	line := ev.Entry.String()
	e.mu.Lock()
	defer e.mu.Unlock()
	port := ev.Entry.Client.Port()
	e.access[port] = append(e.access[port], line)
	e.signal()
}

// wait returns the lines of a client port once the connection line and at
// least wantAccess access lines are there, or what there is at the deadline.
func (e *events) wait(ctx context.Context, port uint16, wantAccess int, timeout time.Duration) (string, []string) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		e.mu.Lock()
		conn, acc, ch := e.conns[port], append([]string(nil), e.access[port]...), e.changed
		e.mu.Unlock()
		if conn != "" && len(acc) >= wantAccess {
			return conn, acc
		}
		select {
		case <-ch:
		case <-deadline.C:
			return conn, acc
		case <-ctx.Done():
			return conn, acc
		}
	}
}

// localLB is a scenario's own emulator, in this process.
type localLB struct {
	h      *harness
	srv    *emulator.Server
	ev     *events
	https  string
	http   string
	dir    string
	bumped int64
	// revoked holds the serials revoked at run time, by issuer, so that a
	// second revocation of the same CA keeps the first.
	revoked map[string][]*big.Int
}

// startLocal builds the scenario's config, starts an emulator with it on
// free ports and returns it; for a scenario whose setup must fail to load,
// the load error is returned as loadErr instead.
func (h *harness) startLocal(ctx context.Context, s *scenarios.Scenario, res *Result, targets targetAddrs) (lb *localLB, loadErr error, err error) {
	dir := filepath.Join(h.work, "scenarios", safeName(s.Name))
	ts, err := writeTrustStore(h.set, h.pkiDir, dir, s.Setup.TrustStore, time.Now())
	if err != nil {
		return nil, nil, fmt.Errorf("preparing the trust store files: %w", err)
	}
	cfgMap, err := configMap(s.Setup, h.pkiDir, ts, targets)
	if err != nil {
		return nil, nil, fmt.Errorf("building the scenario's config: %w", err)
	}
	for _, set := range h.opts.Set {
		if err := set.apply(cfgMap); err != nil {
			return nil, nil, err
		}
	}
	if h.opts.Mutate != nil {
		h.opts.Mutate(s.Name, cfgMap)
	}
	data, err := yaml.Marshal(cfgMap)
	if err != nil {
		return nil, nil, err
	}
	res.Config = string(data)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	file := filepath.Join(dir, "albmtls.yaml")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return nil, nil, err
	}
	lb = &localLB{h: h, ev: newEvents(), dir: dir, revoked: map[string][]*big.Int{}}
	cfg, err := config.Parse(file, data)
	if err == nil {
		lb.srv, err = emulator.New(cfg, emulator.Options{
			Logger:       h.logger.With("scenario", s.Name),
			OnConnection: lb.ev.onConnection,
			OnRequest:    lb.ev.onRequest,
		})
	}
	if err != nil {
		return nil, err, nil
	}
	if err := lb.srv.Start(ctx); err != nil {
		return nil, nil, fmt.Errorf("starting the emulator: %w", err)
	}
	readyCtx, cancel := context.WithTimeout(ctx, h.opts.Timeout)
	defer cancel()
	if err := lb.srv.WaitReady(readyCtx); err != nil {
		lb.close()
		return nil, nil, fmt.Errorf("the emulator's target group did not become ready: %w", err)
	}
	for _, l := range lb.srv.Listeners() {
		switch l.Protocol {
		case "HTTPS":
			lb.https = l.URL()
		case "HTTP":
			lb.http = l.URL()
		}
	}
	return lb, nil, nil
}

func (lb *localLB) base(listener string) (string, string, string) {
	if listener == "http" {
		return lb.http, "", ""
	}
	return lb.https, "localhost", ""
}

func (lb *localLB) logs(ctx context.Context, o *outcome, wantAccess int) logs {
	if !o.local.IsValid() {
		return logs{}
	}
	conn, acc := lb.ev.wait(ctx, o.local.Port(), wantAccess, logWait(lb.h.opts.Timeout))
	return logs{conn: conn, access: acc}
}

// revoke re-signs the issuers' CRLs with the clients added and adds them to
// the running trust store, as AddTrustStoreRevocations does: the next
// handshake must see them (alb-behaviour §1.2).
func (lb *localLB) revoke(_ context.Context, names []string) (string, error) {
	live, ok := lb.srv.TrustStore(TrustStoreName)
	if !ok {
		return "", errors.New("the emulator has no trust store " + TrustStoreName)
	}
	groups, order, err := groupByIssuer(lb.h.set, names)
	if err != nil {
		return "", err
	}
	var desc []string
	for _, issuer := range order {
		lb.revoked[issuer] = append(lb.revoked[issuer], groups[issuer]...)
		lb.bumped++
		der, err := signCRL(lb.h.set, issuer, lb.revoked[issuer], time.Time{}, time.Time{}, lb.bumped)
		if err != nil {
			return "", err
		}
		infos, err := live.AddRevocations(fmt.Sprintf("runtime-%d-%s.crl.pem", lb.bumped, issuer), pki.EncodeCRLPEM(der))
		if err != nil {
			return "", fmt.Errorf("AddTrustStoreRevocations: %w", err)
		}
		ids := make([]string, len(infos))
		for i, in := range infos {
			ids[i] = fmt.Sprint(in.RevocationID)
		}
		desc = append(desc, fmt.Sprintf("a new CRL of %s listing %s added as revocation ID %s", issuer, serialList(groups[issuer]), strings.Join(ids, ",")))
	}
	return strings.Join(desc, "; "), nil
}

func (lb *localLB) close() {
	if lb.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := lb.srv.Shutdown(ctx); err != nil {
		lb.h.logger.Warn("stopping a scenario's emulator", "err", err)
	}
}

// groupByIssuer maps clients to their issuers' names and serials.
func groupByIssuer(set *pki.Set, names []string) (map[string][]*big.Int, []string, error) {
	groups := map[string][]*big.Int{}
	var order []string
	for _, n := range names {
		issuer, err := issuerName(set, n)
		if err != nil {
			return nil, nil, err
		}
		leaf, _ := set.Client(n)
		if _, seen := groups[issuer]; !seen {
			order = append(order, issuer)
		}
		groups[issuer] = append(groups[issuer], leaf.Cert.SerialNumber)
	}
	return groups, order, nil
}

func serialList(serials []*big.Int) string {
	out := make([]string, len(serials))
	for i, s := range serials {
		out[i] = "serial " + certfmt.SerialNumber(s)
	}
	return strings.Join(out, ", ")
}

// logWait bounds how long a step waits for its log lines.
func logWait(timeout time.Duration) time.Duration { return min(timeout, 3*time.Second) }
