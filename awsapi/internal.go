package awsapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/config"
)

// internalPrefix is albmtls's own routes on the API port, outside every
// AWS service (an S3 bucket name cannot start with "_"), like LocalStack's
// /_localstack/.
const internalPrefix = "/_albmtls/"

// BoundListener is where a listener of a load balancer is bound locally:
// the ALB port the API reports and the address to connect to.
type BoundListener struct {
	Protocol string `json:"Protocol"`
	Port     int    `json:"Port"`    // as ALB reports and logs it (443)
	Address  string `json:"Address"` // where to connect (127.0.0.1:10443)
	URL      string `json:"URL"`
}

// RunningLoadBalancer is one load balancer the API runs.
type RunningLoadBalancer struct {
	LoadBalancerArn  string          `json:"LoadBalancerArn"`
	LoadBalancerName string          `json:"LoadBalancerName"`
	Listeners        []BoundListener `json:"Listeners"`
}

func (s *Server) internalHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_albmtls/health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "services": []string{serviceELBv2, serviceACM, serviceS3}})
	})
	mux.HandleFunc("GET /_albmtls/load-balancers", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"LoadBalancers": s.Running()})
	})
	mux.HandleFunc("GET /_albmtls/export", s.serveExport)
	mux.HandleFunc("/_albmtls/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": r.URL.Path + " is not an albmtls route; there are /_albmtls/health, /_albmtls/load-balancers and /_albmtls/export?load_balancer=NAME"})
	})
	return mux
}

// Running lists the load balancers the API runs and where their listeners
// are bound, in ARN order.
func (s *Server) Running() []RunningLoadBalancer {
	var out []RunningLoadBalancer
	cfgs := s.fleet.configs()
	s.fleet.each(func(arn string, srv *emulator.Server) {
		lb := RunningLoadBalancer{LoadBalancerArn: arn, Listeners: []BoundListener{}}
		if c := cfgs[arn]; c != nil {
			lb.LoadBalancerName = c.LoadBalancer.Name
		}
		for _, l := range srv.Listeners() {
			lb.Listeners = append(lb.Listeners, BoundListener{Protocol: l.Protocol, Port: l.Port, Address: l.Addr.String(), URL: l.URL()})
		}
		out = append(out, lb)
	})
	return out
}

// Export is the running config of one load balancer (by name or ARN; ""
// when there is only one), as an albmtls.yaml that starts the same ALB:
// `albmtls aws export`.
func (s *Server) Export(lb string) ([]byte, error) {
	cfgs := s.fleet.configs()
	var names []string
	for arn, c := range cfgs {
		names = append(names, c.LoadBalancer.Name)
		if lb == arn || lb == c.LoadBalancer.Name || (lb == "" && len(cfgs) == 1) {
			return config.Marshal(c)
		}
	}
	slices.Sort(names)
	if lb == "" {
		return nil, &exportError{"there are " + itoa(int64(len(cfgs))) + " load balancers; name one with load_balancer= (" + strings.Join(names, ", ") + ")"}
	}
	return nil, &exportError{"no load balancer " + quoteShort(lb) + "; there are: " + strings.Join(names, ", ")}
}

type exportError struct{ msg string }

func (e *exportError) Error() string { return e.msg }

func (s *Server) serveExport(w http.ResponseWriter, r *http.Request) {
	y, err := s.Export(r.URL.Query().Get("load_balancer"))
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(y)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
