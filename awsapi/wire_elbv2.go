package awsapi

import (
	"context"
	"net/http"

	"github.com/albmtls/albmtls/awsapi/acm"
	"github.com/albmtls/albmtls/awsapi/s3"
)

// wireELBv2 builds the ELBv2 service (until it lands: a stub that answers
// InvalidAction).
func (s *Server) wireELBv2(_ context.Context, _ Options, _ s3.Objects, _ *acm.Service) (func(string) []string, error) {
	s.services[serviceELBv2] = &service{name: serviceELBv2, maxBody: controlPlaneMaxBody, codes: queryAuthCodes,
		writeError: func(w http.ResponseWriter, status int, code, message string) {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(code + ": " + message))
		},
		handler: http.NotFoundHandler()}
	return func(string) []string { return nil }, nil
}
