package emulator

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/truststore"
)

// ErrRestartRequired is returned by Apply when the new config changes more
// than trust stores: listeners, target groups, load balancer attributes,
// logs or emulation knobs. The caller (the AWS API's fleet) then builds a
// new Server from the config and replaces this one.
var ErrRestartRequired = errors.New("the change needs the load balancer's listeners rebuilt")

// Apply changes a running server to cfg in place when the two configs
// differ only in their trust stores' contents (ModifyTrustStore,
// AddTrustStoreRevocations, RemoveTrustStoreRevocations through the AWS
// API): every trust store is loaded first, and only when all of them load
// is each one published, so the next handshake sees the new state and no
// connection is dropped. On a load error nothing changes and the error
// names the trust store, as New's would. Any other difference returns an
// error wrapping ErrRestartRequired and changes nothing.
func (s *Server) Apply(cfg *config.Config) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if what, err := differsBeyondTrustStores(s.cfg, cfg); err != nil {
		return err
	} else if what != "" {
		return fmt.Errorf("%w: %s changed", ErrRestartRequired, what)
	}
	prepared := make([]*truststore.Prepared, len(cfg.TrustStores))
	var errs config.Errors
	for i := range cfg.TrustStores {
		if s.opts.OnLoad != nil {
			s.opts.OnLoad(fmt.Sprintf("trust_stores[%d]", i), cfg.Path(cfg.TrustStores[i].CACertificatesBundle))
		}
		p, err := truststore.Prepare(trustStoreSpec(cfg, i))
		if err != nil {
			errs = append(errs, cfg.Errorf(fmt.Sprintf("trust_stores[%d]", i), "%v", err))
			continue
		}
		prepared[i] = p
	}
	if len(errs) > 0 {
		return errs
	}
	for i, ts := range cfg.TrustStores {
		s.stores[ts.Name].Publish(prepared[i])
	}
	s.log.Info("applied trust store changes", "trust_stores", len(cfg.TrustStores))
	return nil
}

// differsBeyondTrustStores names the first part of next that differs from
// cur other than the trust stores' files, or "" when only those differ.
// The set of trust store names must stay the same (a listener holds its
// trust store).
func differsBeyondTrustStores(cur, next *config.Config) (string, error) {
	if len(cur.TrustStores) != len(next.TrustStores) {
		return "the set of trust stores", nil
	}
	for i := range cur.TrustStores {
		if cur.TrustStores[i].Name != next.TrustStores[i].Name {
			return "the set of trust stores", nil
		}
	}
	a, b := *cur, *next
	a.TrustStores, b.TrustStores = nil, nil
	ya, err := config.Marshal(&a)
	if err != nil {
		return "", err
	}
	yb, err := config.Marshal(&b)
	if err != nil {
		return "", err
	}
	if !bytes.Equal(ya, yb) {
		return "a part other than trust stores", nil
	}
	return "", nil
}

// trustStoreSpec is trust store i of cfg as the truststore package loads it.
func trustStoreSpec(cfg *config.Config, i int) truststore.Spec {
	ts := cfg.TrustStores[i]
	files := make([]string, len(ts.Revocations))
	for j, f := range ts.Revocations {
		files[j] = cfg.Path(f)
	}
	return truststore.Spec{
		Name:            ts.Name,
		BundleFile:      cfg.Path(ts.CACertificatesBundle),
		RevocationFiles: files,
	}
}
