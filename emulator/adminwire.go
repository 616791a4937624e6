package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/albmtls/albmtls/emulator/admin"
)

func (s *Server) adminHandler() http.Handler {
	lb := s.cfg.LoadBalancer
	return admin.Handler(admin.Config{
		TrustStores:  s.stores,
		TargetGroups: s.groups,
		Metrics:      promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}),
		Reload:       s.Reload,
		Health: func() map[string]any {
			var ls []map[string]any
			for _, l := range s.Listeners() {
				ls = append(ls, map[string]any{"Port": l.Port, "Protocol": l.Protocol, "Address": l.Addr.String()})
			}
			return map[string]any{"LoadBalancer": s.elb, "Listeners": ls}
		},
		Region:    lb.Region,
		AccountID: lb.AccountID,
		TrustStoreID: func(name string) string {
			sum := sha256.Sum256([]byte(lb.AccountID + "/truststore/" + name))
			return hex.EncodeToString(sum[:8])
		},
	})
}
