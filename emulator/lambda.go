package emulator

import (
	"fmt"
	"time"

	"github.com/albmtls/albmtls/emulator/awsarn"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/lambdatarget"
)

// invokeGrace is how long past the function timeout albmtls waits for an
// Invoke API endpoint, which enforces the timeout itself and reports it.
const invokeGrace = time.Second

// lambdaState is the server's lambda target groups and the Runtime API
// hosts they own.
type lambdaState struct {
	groups  map[string]*lambdatarget.Group
	hosts   map[string]*lambdatarget.RuntimeHost // by target group name
	clients []*lambdatarget.InvokeClient
}

// buildLambdaGroups builds the target groups of target_type lambda
// (docs/lambda.md); buildTargetGroups skips them.
func (s *Server) buildLambdaGroups(errs *config.Errors) {
	s.lambda = lambdaState{groups: map[string]*lambdatarget.Group{}, hosts: map[string]*lambdatarget.RuntimeHost{}}
	lb := s.cfg.LoadBalancer
	for i, tg := range s.cfg.TargetGroups {
		if tg.TargetType != config.TargetTypeLambda {
			continue
		}
		cfg := lambdatarget.Config{
			Name:              tg.Name,
			ARN:               awsarn.TargetGroup(lb.Region, lb.AccountID, tg.Name, awsarn.TargetGroupID(lb.AccountID, tg.Name)),
			Timeout:           tg.Lambda.FunctionTimeout(),
			MultiValueHeaders: tg.MultiValueHeaders(),
		}
		if len(tg.Functions) > 0 {
			f := tg.Functions[0]
			cfg.Function = f.Function
			if f.Endpoint != "" {
				c, err := lambdatarget.NewInvokeClient(f.Endpoint)
				if err != nil {
					*errs = append(*errs, s.cfg.Errorf(fmt.Sprintf("target_groups[%d].targets[0].endpoint", i), "%v", err))
					continue
				}
				s.lambda.clients = append(s.lambda.clients, c)
				cfg.Invoker, cfg.Grace = c, invokeGrace
			} else {
				h := lambdatarget.NewRuntimeHost(tg.Lambda.RuntimeAPIAddress(), awsarn.LambdaFunction(lb.Region, lb.AccountID, f.Function))
				s.lambda.hosts[tg.Name] = h
				cfg.Invoker = h
			}
		}
		s.lambda.groups[tg.Name] = lambdatarget.New(cfg, s.log)
	}
}

// startLambdas binds the built-in Runtime API hosts.
func (s *Server) startLambdas() error {
	for name, h := range s.lambda.hosts {
		if err := h.Start(); err != nil {
			s.closeLambdas()
			return fmt.Errorf("target group %s: %w", name, err)
		}
		s.log.Info("lambda runtime API started", "target_group", name, "address", h.Addr())
	}
	return nil
}

func (s *Server) closeLambdas() {
	for _, h := range s.lambda.hosts {
		h.Close()
	}
	for _, c := range s.lambda.clients {
		c.Close()
	}
}

// LambdaRuntimeAPI returns the bound address of the built-in Runtime API
// of lambda target group name (for AWS_LAMBDA_RUNTIME_API), "" if it has
// none.
func (s *Server) LambdaRuntimeAPI(name string) string {
	if h := s.lambda.hosts[name]; h != nil {
		return h.Addr()
	}
	return ""
}
