package emulator

import (
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/albmtls/albmtls/emulator/admin"
	"github.com/albmtls/albmtls/emulator/awsarn"
)

// adminHandler builds the admin handler for the bound listener s.adminLn
// and warns when it is reachable from other hosts.
func (s *Server) adminHandler() http.Handler {
	lb := s.cfg.LoadBalancer
	ac := s.cfg.Admin
	listenHost, _, _ := net.SplitHostPort(ac.Listen)
	access := admin.Access{Token: ac.Token, Addr: s.adminLn.Addr(), ListenHost: listenHost, AllowedHosts: ac.AllowedHosts}
	if msg := admin.ExposureWarning(access.Addr, ac.Token != ""); msg != "" {
		s.log.Warn(msg, "address", access.Addr.String(), "token", ac.Token != "")
	}
	s.log.Info("admin endpoint", "address", access.Addr.String(), "token", ac.Token != "")
	return admin.Handler(admin.Config{
		TrustStores:  s.stores,
		TargetGroups: s.groups,
		Metrics:      promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}),
		Reload:       s.Reload,
		Health: func() map[string]any {
			var ls []map[string]any
			status := "ok"
			for _, l := range s.Listeners() {
				e := map[string]any{"Port": l.Port, "Protocol": l.Protocol, "Address": l.Addr.String()}
				// A listener that stopped or keeps failing to accept (out
				// of file descriptors) makes the whole process unhealthy.
				h := s.lsns[l.Index].ln.Health()
				e["Accepting"] = !h.Stopped && !h.Failing
				e["AcceptErrors"] = h.AcceptErrors
				if h.LastAcceptError != "" {
					e["LastAcceptError"] = h.LastAcceptError
					e["LastAcceptErrorAt"] = h.LastAcceptErrorAt
				}
				if h.Stopped || h.Failing {
					status = "degraded"
				}
				ls = append(ls, e)
			}
			return map[string]any{"Status": status, "LoadBalancer": s.elb, "Listeners": ls}
		},
		Region:       lb.Region,
		AccountID:    lb.AccountID,
		TrustStoreID: func(name string) string { return awsarn.TrustStoreID(lb.AccountID, name) },
		Access:       access,
	})
}
