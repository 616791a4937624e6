// Package awsapi serves the AWS API of the emulated load balancers on one
// port, as LocalStack's edge port does: ELBv2 (awsapi/elbv2), ACM
// (awsapi/acm) and S3 (awsapi/s3), told apart by the service of each
// request's SigV4 credential scope. The API's model and the config file
// are one model: the config's load balancer appears in Describe* with
// stable ARNs, every load balancer of the model runs as an
// emulator.Server, and a change through the API reaches the running
// servers before the call returns (docs/aws-api.md).
package awsapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/config"
)

// Options configure the AWS API endpoint.
type Options struct {
	// Config is the albmtls.yaml: its aws_api section, and its load
	// balancer, which is imported into the API's model.
	Config *config.Config
	// Server, when set, was built from Config and is not started: the API
	// starts and owns it, so that API calls can change it.
	Server *emulator.Server
	// Emulator are the options of the servers the API builds.
	Emulator emulator.Options
	// Logger receives operational logs; nil discards them.
	Logger *slog.Logger
}

// Server is the AWS API endpoint and the load balancers it runs.
type Server struct {
	cfg      config.AWSAPI
	log      *slog.Logger
	keys     map[string]string
	services map[string]*service
	internal http.Handler
	fleet    *fleet

	stateDir string // "" without --state
	filesDir string // compiled trust store and certificate files
	tempDir  string // removed at Shutdown ("" with a state directory)

	persistMu sync.Mutex
	snapshots []snapshot
	closers   []func() error

	http *http.Server
	ln   net.Listener
}

// snapshot is one service's state, written to file under the state
// directory after each change.
type snapshot struct {
	file string
	take func() ([]byte, error)
}

// New builds the endpoint: the services, the state restored from the state
// directory, and the config's load balancer imported. Nothing listens yet.
func New(ctx context.Context, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Emulator.Logger == nil {
		opts.Emulator.Logger = opts.Logger
	}
	cfg := opts.Config
	s := &Server{cfg: cfg.AWSAPI, log: opts.Logger, keys: map[string]string{}, services: map[string]*service{}}
	for _, k := range cfg.AWSAPI.AccessKeys {
		s.keys[k.AccessKeyID] = k.SecretAccessKey
	}
	s.fleet = newFleet(opts.Logger, opts.Emulator)
	if dir := cfg.AWSAPI.StateDir; dir != "" {
		s.stateDir = cfg.Path(dir)
		s.filesDir = filepath.Join(s.stateDir, "files")
	} else {
		tmp, err := os.MkdirTemp("", "albmtls-aws-api-")
		if err != nil {
			return nil, fmt.Errorf("aws_api: creating a directory for the trust store and certificate files: %w", err)
		}
		s.tempDir, s.filesDir = tmp, filepath.Join(tmp, "files")
	}
	if err := os.MkdirAll(s.filesDir, 0o755); err != nil {
		return nil, s.cleanup(fmt.Errorf("aws_api.state_dir: %w", err))
	}
	s.internal = s.internalHandler()
	if err := s.wire(ctx, opts); err != nil {
		return nil, s.cleanup(err)
	}
	return s, nil
}

// cleanup undoes New after err.
func (s *Server) cleanup(err error) error {
	for _, c := range s.closers {
		_ = c()
	}
	if s.tempDir != "" {
		_ = os.RemoveAll(s.tempDir)
	}
	return err
}

// Start starts the load balancers and then binds the API's port.
func (s *Server) Start(ctx context.Context) error {
	if err := s.fleet.start(ctx); err != nil {
		_ = s.fleet.shutdown(context.Background())
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.Address())
	if err != nil {
		_ = s.fleet.shutdown(context.Background())
		return fmt.Errorf("aws_api.listen: cannot listen on %s: %v (is LocalStack or another albmtls using the port? set aws_api.listen or --aws-api to another)", s.cfg.Address(), errors.Unwrap(err))
	}
	s.ln = ln
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: nil}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("aws api stopped", "err", err)
		}
	}()
	s.log.Info("aws api endpoint", "address", ln.Addr().String(), "services", "elasticloadbalancing, acm, s3", "state_dir", s.stateDir)
	return nil
}

// Addr is the API's bound address.
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// URL is the endpoint URL to give the AWS SDKs (AWS_ENDPOINT_URL).
func (s *Server) URL() string {
	host, port, _ := net.SplitHostPort(s.ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// LoadBalancers calls fn for each running load balancer, in ARN order.
func (s *Server) LoadBalancers(fn func(arn string, srv *emulator.Server)) { s.fleet.each(fn) }

// Reload re-reads the trust stores and certificates of every load balancer.
func (s *Server) Reload() error {
	var errs []error
	s.fleet.each(func(arn string, srv *emulator.Server) {
		if err := srv.Reload(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", arn, err))
		}
	})
	return errors.Join(errs...)
}

// Shutdown stops the API and then every load balancer, letting requests in
// flight run until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	if s.http != nil {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if err := s.http.Shutdown(sctx); err != nil {
			s.http.Close()
		}
		cancel()
	}
	errs = append(errs, s.fleet.shutdown(ctx))
	for _, c := range s.closers {
		errs = append(errs, c())
	}
	if s.tempDir != "" {
		errs = append(errs, os.RemoveAll(s.tempDir))
	}
	return errors.Join(errs...)
}

// persist writes every service's state to the state directory (after each
// successful change); without one it does nothing. Each file is written
// whole and renamed into place, so a crash leaves the previous state.
func (s *Server) persist() {
	if s.stateDir == "" {
		return
	}
	s.persistMu.Lock()
	defer s.persistMu.Unlock()
	for _, sn := range s.snapshots {
		data, err := sn.take()
		if err == nil {
			err = writeFileAtomic(filepath.Join(s.stateDir, sn.file), data)
		}
		if err != nil {
			s.log.Error("aws api: saving the state; API changes will not survive a restart", "file", sn.file, "err", err)
		}
	}
}

// restore reads a service's state file, if the state directory has one.
func (s *Server) restore(file string, fn func([]byte) error) error {
	if s.stateDir == "" {
		return nil
	}
	path := filepath.Join(s.stateDir, file)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err == nil {
		err = fn(data)
	}
	if err != nil {
		return fmt.Errorf("aws_api.state_dir: restoring %s: %w (move the state directory away to start empty)", path, err)
	}
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
