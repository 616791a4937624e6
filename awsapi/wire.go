package awsapi

import "context"

// wire builds the three services and connects them (filled in when the
// service packages land).
func (s *Server) wire(ctx context.Context, opts Options) error {
	_ = ctx
	_ = opts
	return nil
}
