package emulator

import (
	"fmt"

	"github.com/albmtls/albmtls/emulator/config"
)

// Check validates a config without serving it, for `albmtls serve --check`:
// static holds the config's own problems (config.ParseAll), and Check adds
// every problem New would find reading files (trust store bundles and CRLs,
// server certificates and keys), so that one run lists them all. Nothing
// is bound and no log file is opened. With static problems the config has
// no plans, so only its files are read; without, Check builds the server as
// New does.
func Check(cfg *config.Config, static config.Errors, opts Options) config.Errors {
	errs := append(config.Errors(nil), static...)
	if cfg == nil {
		return errs
	}
	if len(static) == 0 {
		s, more := build(cfg, opts)
		for _, g := range s.groups {
			g.Close()
		}
		return append(errs, more...)
	}
	for i, ts := range cfg.TrustStores {
		if ts.CACertificatesBundle == "" {
			continue // reported by the config
		}
		if opts.OnLoad != nil {
			opts.OnLoad(fmt.Sprintf("trust_stores[%d]", i), cfg.Path(ts.CACertificatesBundle))
		}
		if _, err := loadTrustStore(cfg, i); err != nil {
			errs = append(errs, err)
		}
	}
	for i, l := range cfg.Listeners {
		for j, c := range l.Certificates {
			if c.Certificate == "" || c.PrivateKey == "" {
				continue // reported by the config
			}
			if opts.OnLoad != nil {
				opts.OnLoad(config.ListenerPath(i)+".certificates", cfg.Path(c.Certificate))
			}
			if _, err := loadServerCertificate(cfg, config.ListenerPath(i), j, c); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}
