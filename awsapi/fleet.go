package awsapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/awsarn"
	"github.com/albmtls/albmtls/emulator/config"
)

// LoadBalancer is one load balancer of the AWS API's model compiled to the
// config that runs it.
type LoadBalancer struct {
	ARN    string
	Config *config.Config
}

// restartDrain is how long requests in flight on a load balancer being
// rebuilt (a listener added, changed or deleted) may run before they are
// cut: a short wait, since the caller of the API is waiting too.
const restartDrain = 2 * time.Second

// fleet runs one emulator.Server per load balancer and changes them to the
// API's model: trust store changes in place (emulator.Server.Apply: no
// connection dropped), anything else by building the new server first
// (so a config that does not load changes nothing) and then replacing the
// old one on the same ports.
type fleet struct {
	mu      sync.Mutex
	log     *slog.Logger
	opts    emulator.Options
	ctx     context.Context // lives as long as the fleet; servers start under it
	started bool
	pending []LoadBalancer // the desired state before Start
	running map[string]*running
}

type running struct {
	cfg  *config.Config
	yaml []byte
	srv  *emulator.Server
}

func newFleet(log *slog.Logger, opts emulator.Options) *fleet {
	return &fleet{log: log, opts: opts, running: map[string]*running{}}
}

// adopt makes srv the server of the load balancer arn: the config file's
// own, built from the file and started by the fleet with the others. cfg
// is the same load balancer as the API compiles it, so that an unchanged
// model leaves srv alone.
func (f *fleet) adopt(arn string, cfg *config.Config, srv *emulator.Server) {
	f.mu.Lock()
	defer f.mu.Unlock()
	y, _ := config.Marshal(cfg)
	f.running[arn] = &running{cfg: cfg, yaml: y, srv: srv}
}

// apply changes the running servers to lbs, the desired state of every
// load balancer. When one load balancer cannot be changed, those already
// changed go back to their previous config and the error says which failed.
func (f *fleet) apply(ctx context.Context, lbs []LoadBalancer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.started {
		f.pending = slices.Clone(lbs)
		return nil
	}
	want := map[string]bool{}
	type undo struct {
		arn  string
		prev *running // nil: the load balancer is new
	}
	var done []undo
	rollback := func() {
		for _, u := range slices.Backward(done) {
			if u.prev == nil {
				f.stop(u.arn)
				continue
			}
			if err := f.change(ctx, u.arn, u.prev.cfg); err != nil {
				f.log.Error("aws api: restoring a load balancer after a failed change", "load_balancer", u.arn, "err", err)
			}
		}
	}
	for _, lb := range lbs {
		want[lb.ARN] = true
		prev := f.running[lb.ARN]
		y, err := config.Marshal(lb.Config)
		if err != nil {
			rollback()
			return err
		}
		if prev != nil && bytes.Equal(prev.yaml, y) {
			continue
		}
		if err := f.change(ctx, lb.ARN, lb.Config); err != nil {
			rollback()
			return err
		}
		done = append(done, undo{lb.ARN, prev})
	}
	for arn := range f.running {
		if !want[arn] {
			f.stop(arn)
		}
	}
	return nil
}

// change brings the load balancer arn to cfg (starting it if it is new).
func (f *fleet) change(ctx context.Context, arn string, cfg *config.Config) error {
	y, err := config.Marshal(cfg)
	if err != nil {
		return err
	}
	prev := f.running[arn]
	if prev != nil {
		err := prev.srv.Apply(cfg)
		if err == nil {
			f.running[arn] = &running{cfg: cfg, yaml: y, srv: prev.srv}
			return nil
		}
		if !errors.Is(err, emulator.ErrRestartRequired) {
			return err
		}
	}
	next, err := emulator.New(cfg, f.opts)
	if err != nil {
		return err
	}
	if prev != nil {
		sctx, cancel := context.WithTimeout(ctx, restartDrain)
		_ = prev.srv.Shutdown(sctx) // requests cut by the drain are logged
		cancel()
	}
	if err := next.Start(f.ctx); err != nil {
		_ = next.Shutdown(context.Background())
		if prev != nil {
			if again, rerr := emulator.New(prev.cfg, f.opts); rerr == nil && again.Start(f.ctx) == nil {
				f.running[arn] = &running{cfg: prev.cfg, yaml: prev.yaml, srv: again}
			} else {
				delete(f.running, arn)
				f.log.Error("aws api: the load balancer could not be restarted with its previous config either", "load_balancer", arn)
			}
		}
		return err
	}
	f.running[arn] = &running{cfg: cfg, yaml: y, srv: next}
	f.log.Info("aws api: load balancer running", "load_balancer", arn, "listeners", len(next.Listeners()))
	return nil
}

// stop shuts the load balancer arn down (DeleteLoadBalancer).
func (f *fleet) stop(arn string) {
	r := f.running[arn]
	if r == nil {
		return
	}
	delete(f.running, arn)
	ctx, cancel := context.WithTimeout(context.Background(), restartDrain)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
}

// start starts the adopted servers and the load balancers recorded before
// Start.
func (f *fleet) start(ctx context.Context) error {
	f.mu.Lock()
	f.ctx = context.WithoutCancel(ctx)
	f.started = true
	for arn, r := range f.running {
		if err := r.srv.Start(f.ctx); err != nil {
			f.mu.Unlock()
			return fmt.Errorf("load balancer %s: %w", arn, err)
		}
	}
	pending := f.pending
	f.pending = nil
	f.mu.Unlock()
	if pending == nil {
		return nil
	}
	return f.apply(ctx, pending)
}

// each calls fn for every running server, in ARN order.
func (f *fleet) each(fn func(arn string, srv *emulator.Server)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, arn := range slices.Sorted(maps.Keys(f.running)) {
		fn(arn, f.running[arn].srv)
	}
}

// shutdown stops every server, letting requests in flight run until ctx.
func (f *fleet) shutdown(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	for arn, r := range f.running {
		if err := r.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("load balancer %s: %w", arn, err))
		}
	}
	f.running = map[string]*running{}
	return errors.Join(errs...)
}

// configs are the running load balancers' configs, by ARN.
func (f *fleet) configs() map[string]*config.Config {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]*config.Config, len(f.running))
	for arn, r := range f.running {
		out[arn] = r.cfg
	}
	return out
}

// targetHealth is the live health of a target (host:port) of the target
// group arn in whichever running load balancer forwards to it.
func (f *fleet) targetHealth(tgARN, target string) (state, reason, desc string, ok bool) {
	a, err := awsarn.Parse(tgARN)
	if err != nil {
		return "", "", "", false
	}
	parts := strings.Split(a.Resource, "/") // targetgroup/NAME/ID
	if len(parts) != 3 {
		return "", "", "", false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.running {
		sts, found := r.srv.TargetHealth(parts[1])
		if !found {
			continue
		}
		for _, st := range sts {
			if st.Address == target {
				return string(st.State), st.Reason, st.Description, true
			}
		}
	}
	return "", "", "", false
}
