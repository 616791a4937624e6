package emulator

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/albmtls/albmtls/emulator/config"
)

// Reload re-reads every trust store (bundle and CRL files; revocations added
// through the admin API are kept) and the listeners' certificates. A part
// that fails to reload keeps its previous state; the error says which.
func (s *Server) Reload() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	var errs config.Errors
	for i, ts := range s.cfg.TrustStores {
		live := s.stores[ts.Name]
		if live == nil {
			continue
		}
		err := live.Reload()
		s.metrics.reloaded(ts.Name, err)
		if err != nil {
			errs = append(errs, s.cfg.Errorf(fmt.Sprintf("trust_stores[%d]", i), "reload failed, keeping the previous trust store: %v", err))
		}
	}
	for _, lr := range s.lsns {
		if lr.cfg.Protocol != "HTTPS" {
			continue
		}
		settings, err := lr.tlsSettings()
		if err != nil {
			errs = append(errs, s.cfg.Errorf(err.Path, "reload failed, keeping the previous certificates: %s", err.Msg))
			continue
		}
		lr.tls = settings
		s.metrics.setServerCertificates(lr, settings.Config.Certificates)
		if lr.ln != nil {
			lr.ln.SetTLS(settings)
		}
	}
	if len(errs) > 0 {
		for _, e := range errs {
			s.log.Error("reload", "err", e.Error())
		}
		return errs
	}
	s.log.Info("reloaded trust stores and certificates")
	return nil
}

// watch polls the trust store and certificate files and reloads when one of
// them changes (modification time or size), so that re-issuing a CRL with
// `albmtls pki revoke` takes effect without a restart. Polling needs no
// extra dependency and works on every filesystem, bind mounts included.
//
// last is the stamp of the files taken before New loaded them, so a change
// made while loading or right after Start is not missed.
func (s *Server) watch(ctx context.Context, every time.Duration, last string) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.fileStamps()
		if now == last {
			continue
		}
		last = now
		s.log.Info("trust store or certificate files changed; reloading")
		_ = s.Reload() // errors are logged; the previous state is kept
	}
}

// fileStamps summarises the watched files' sizes and modification times.
func (s *Server) fileStamps() string {
	var b []byte
	add := func(p string) {
		b = append(b, p...)
		if fi, err := os.Stat(p); err == nil {
			b = fi.ModTime().AppendFormat(b, time.RFC3339Nano)
			b = append(b, byte(fi.Size()), byte(fi.Size()>>8), byte(fi.Size()>>16))
		}
		b = append(b, 0)
	}
	for _, ts := range s.cfg.TrustStores {
		add(s.cfg.Path(ts.CACertificatesBundle))
		for _, r := range ts.Revocations {
			add(s.cfg.Path(r))
		}
	}
	for _, l := range s.cfg.Listeners {
		for _, c := range l.Certificates {
			add(s.cfg.Path(c.Certificate))
			add(s.cfg.Path(c.PrivateKey))
		}
	}
	return string(b)
}
