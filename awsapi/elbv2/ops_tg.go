package elbv2

import (
	"maps"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/albmtls/albmtls/emulator/awsarn"
	"github.com/albmtls/albmtls/emulator/config"
)

// ALB's target group health check defaults (ELBv2 API reference,
// CreateTargetGroup; HTTP/HTTPS target groups).
const (
	defaultHCInterval  = 30
	defaultHCTimeout   = 5
	defaultHCHealthy   = 5
	defaultHCUnhealthy = 2
	defaultHCPath      = "/"
	defaultHCPort      = "traffic-port"
	defaultHCMatcher   = "200"
)

var hostnameRE = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$`)

func createTargetGroup(r *request) (any, *apiError) {
	p := r.p
	name, e := p.required("Name")
	if e != nil {
		return nil, e
	}
	if e := checkResourceName("Name", "target group", name); e != nil {
		return nil, e
	}
	tt := p.str("TargetType")
	switch tt {
	case "":
		tt = "instance"
	case "instance", "ip":
	default:
		return nil, errf(codeValidation, "TargetType %q: albmtls emulates instance and ip target groups (a target's Id is an IP address or host name)", tt)
	}
	proto := p.str("Protocol")
	switch proto {
	case "HTTP", "HTTPS":
	case "":
		return nil, errf(codeValidation, "a target group of type %s needs a Protocol (HTTP or HTTPS)", tt)
	default:
		return nil, errf(codeValidation, "Protocol %q: an application load balancer's target group uses HTTP or HTTPS", proto)
	}
	if v := p.str("ProtocolVersion"); v != "" && v != "HTTP1" {
		return nil, errf(codeValidation, "ProtocolVersion %q: albmtls forwards HTTP/1.1 only; leave it out or use HTTP1", v)
	}
	port, ok, e := p.optInt("Port", 1, 65535)
	if e != nil {
		return nil, e
	}
	if !ok {
		return nil, errf(codeValidation, "a target group of type %s needs a Port (1–65535)", tt)
	}
	hc, e := readHealthCheck(p)
	if e != nil {
		return nil, e
	}
	tags, e := readTags(p, "Tags")
	if e != nil {
		return nil, e
	}
	id, e := r.s.newID()
	if e != nil {
		return nil, e
	}
	var rec *tgRec
	e = r.s.mutate(r.ctx, func(m *model) *apiError {
		for _, tg := range m.TargetGroups {
			if tg.Name == name {
				return errf(codeDuplicateTargetGroupName, "a target group named %q already exists (%s)", name, tg.ARN)
			}
		}
		rec = &tgRec{ARN: awsarn.TargetGroup(r.s.opts.Region, r.s.opts.AccountID, name, id), Name: name, ID: id,
			Protocol: proto, Port: int(port), TargetType: tt, VpcID: p.str("VpcId"), HealthCheck: hc}
		m.TargetGroups[rec.ARN] = rec
		if len(tags) > 0 {
			m.Tags[rec.ARN] = tags
		}
		return nil
	})
	if e != nil {
		return nil, e
	}
	r.s.mu.RLock()
	out := describeTG(r.s.m, rec)
	r.s.mu.RUnlock()
	return struct {
		TargetGroups []xTargetGroup `xml:"TargetGroups>member"`
	}{[]xTargetGroup{out}}, nil
}

func readHealthCheck(p params) (config.HealthCheck, *apiError) {
	var hc config.HealthCheck
	var e *apiError
	if hc.Enabled, e = p.optBool("HealthCheckEnabled"); e != nil {
		return hc, e
	}
	hc.Path = p.str("HealthCheckPath")
	if hc.Path != "" && !strings.HasPrefix(hc.Path, "/") {
		return hc, errf(codeValidation, "HealthCheckPath %q must begin with '/'", hc.Path)
	}
	hc.Port = p.str("HealthCheckPort")
	if hc.Port != "" && hc.Port != defaultHCPort {
		if n, err := strconv.Atoi(hc.Port); err != nil || n < 1 || n > 65535 {
			return hc, errf(codeValidation, "HealthCheckPort %q is not valid; use traffic-port or a port from 1 to 65535", hc.Port)
		}
	}
	if hc.Port == defaultHCPort {
		hc.Port = ""
	}
	if v := p.str("HealthCheckProtocol"); v != "" && v != "HTTP" && v != "HTTPS" {
		return hc, errf(codeValidation, "HealthCheckProtocol %q: use HTTP or HTTPS", v)
	}
	secs := func(key string, lo, hi int64, d *config.Duration) *apiError {
		n, ok, e := p.optInt(key, lo, hi)
		if ok {
			*d = config.Duration(time.Duration(n) * time.Second)
		}
		return e
	}
	if e := secs("HealthCheckIntervalSeconds", 5, 300, &hc.Interval); e != nil {
		return hc, e
	}
	if e := secs("HealthCheckTimeoutSeconds", 2, 120, &hc.Timeout); e != nil {
		return hc, e
	}
	for _, c := range []struct {
		key string
		dst *int
	}{{"HealthyThresholdCount", &hc.HealthyThreshold}, {"UnhealthyThresholdCount", &hc.UnhealthyThreshold}} {
		n, ok, e := p.optInt(c.key, 2, 10)
		if e != nil {
			return hc, e
		}
		if ok {
			*c.dst = int(n)
		}
	}
	hc.Matcher = p.str("Matcher.HttpCode")
	return hc, nil
}

func describeTG(m *model, tg *tgRec) xTargetGroup {
	hc := tg.HealthCheck
	x := xTargetGroup{
		TargetGroupArn: tg.ARN, TargetGroupName: tg.Name, Protocol: tg.Protocol, Port: tg.Port, VpcID: tg.VpcID,
		HealthCheckProtocol: tg.Protocol, HealthCheckPort: defaultHCPort, HealthCheckEnabled: hc.Enabled == nil || *hc.Enabled,
		HealthCheckIntervalSeconds: defaultHCInterval, HealthCheckTimeoutSeconds: defaultHCTimeout,
		HealthyThresholdCount: defaultHCHealthy, UnhealthyThresholdCount: defaultHCUnhealthy,
		HealthCheckPath: defaultHCPath, Matcher: xMatcher{HTTPCode: defaultHCMatcher},
		LoadBalancerArns: m.loadBalancersOf(tg.ARN), TargetType: tg.TargetType, ProtocolVersion: "HTTP1", IPAddressType: "ipv4",
	}
	if hc.Port != "" {
		x.HealthCheckPort = hc.Port
	}
	if hc.Interval != 0 {
		x.HealthCheckIntervalSeconds = int(hc.Interval.D() / time.Second)
	}
	if hc.Timeout != 0 {
		x.HealthCheckTimeoutSeconds = int(hc.Timeout.D() / time.Second)
	}
	if hc.HealthyThreshold != 0 {
		x.HealthyThresholdCount = hc.HealthyThreshold
	}
	if hc.UnhealthyThreshold != 0 {
		x.UnhealthyThresholdCount = hc.UnhealthyThreshold
	}
	if hc.Path != "" {
		x.HealthCheckPath = hc.Path
	}
	if hc.Matcher != "" {
		x.Matcher.HTTPCode = hc.Matcher
	}
	return x
}

func getTG(m *model, arn string) (*tgRec, *apiError) {
	tg, ok := m.TargetGroups[arn]
	if !ok {
		return nil, errf(codeTargetGroupNotFound, "target group %s not found", arn)
	}
	return tg, nil
}

func describeTargetGroups(r *request) (any, *apiError) {
	if e := r.p.pageSize(); e != nil {
		return nil, e
	}
	lbARN, arns, names := r.p.str("LoadBalancerArn"), r.p.list("TargetGroupArns"), r.p.list("Names")
	return r.read(func(m *model) (any, *apiError) {
		var out []xTargetGroup
		switch {
		case len(arns) > 0:
			for _, a := range arns {
				tg, e := getTG(m, a)
				if e != nil {
					return nil, e
				}
				out = append(out, describeTG(m, tg))
			}
		case len(names) > 0:
			for _, n := range names {
				var found *tgRec
				for _, tg := range m.TargetGroups {
					if tg.Name == n {
						found = tg
					}
				}
				if found == nil {
					return nil, errf(codeTargetGroupNotFound, "no target group named %q", n)
				}
				out = append(out, describeTG(m, found))
			}
		default:
			var used map[string]bool
			if lbARN != "" {
				if _, e := getLB(m, lbARN); e != nil {
					return nil, e
				}
				used = m.targetGroupsUsed(lbARN)
			}
			for _, tg := range sortedValues(m.TargetGroups) {
				if used == nil || used[tg.ARN] {
					out = append(out, describeTG(m, tg))
				}
			}
		}
		return struct {
			TargetGroups []xTargetGroup `xml:"TargetGroups>member"`
		}{out}, nil
	})
}

func deleteTargetGroup(r *request) (any, *apiError) {
	arn, e := r.p.required("TargetGroupArn")
	if e != nil {
		return nil, e
	}
	e = r.s.mutate(r.ctx, func(m *model) *apiError {
		if _, ok := m.TargetGroups[arn]; !ok {
			return nil // as on ALB, deleting a deleted target group succeeds
		}
		for _, l := range sortedValues(m.Listeners) {
			for _, a := range l.actions() {
				if a.TargetGroupARN == arn {
					return errf(codeResourceInUse, "target group %s is currently in use by listener %s; change or delete that listener's forward action first", arn, l.ARN)
				}
			}
		}
		delete(m.TargetGroups, arn)
		delete(m.Tags, arn)
		return nil
	})
	return struct{}{}, e
}

// readTargets reads Targets.member.N.Id/Port; a missing port is the
// target group's.
func readTargets(p params, tg *tgRec) ([]targetRec, *apiError) {
	members := p.members("Targets")
	if len(members) == 0 {
		return nil, errf(codeValidation, "1 validation error detected: Value null at 'targets' failed to satisfy constraint: Member must not be null (give Targets.member.1.Id)")
	}
	var out []targetRec
	for _, mem := range members {
		id := p.str(mem + ".Id")
		if id == "" {
			return nil, errf(codeValidation, "%s.Id is missing", mem)
		}
		if net.ParseIP(id) == nil && (len(id) > 253 || !hostnameRE.MatchString(id)) {
			return nil, errf(codeInvalidTarget, "target %q is not an IP address or host name (albmtls has no EC2: an instance target's Id is the host to forward to)", id)
		}
		port := tg.Port
		if p.has(mem + ".Port") {
			n, _, e := p.optInt(mem+".Port", 1, 65535)
			if e != nil {
				return nil, e
			}
			port = int(n)
		}
		out = append(out, targetRec{ID: id, Port: port})
	}
	return out, nil
}

func registerTargets(r *request) (any, *apiError) {
	return changeTargets(r, func(tg *tgRec, t targetRec) *apiError {
		if !slices.Contains(tg.Targets, t) {
			tg.Targets = append(tg.Targets, t)
		}
		return nil
	})
}

func deregisterTargets(r *request) (any, *apiError) {
	return changeTargets(r, func(tg *tgRec, t targetRec) *apiError {
		i := slices.Index(tg.Targets, t)
		if i < 0 {
			return errf(codeInvalidTarget, "the target Id %s, port %d is not registered with target group %s", t.ID, t.Port, tg.Name)
		}
		tg.Targets = slices.Delete(tg.Targets, i, i+1)
		return nil
	})
}

// changeTargets applies change to each target of a Register/DeregisterTargets
// call, all or nothing.
func changeTargets(r *request, change func(*tgRec, targetRec) *apiError) (any, *apiError) {
	arn, e := r.p.required("TargetGroupArn")
	if e != nil {
		return nil, e
	}
	e = r.s.mutate(r.ctx, func(m *model) *apiError {
		tg, e := getTG(m, arn)
		if e != nil {
			return e
		}
		ts, e := readTargets(r.p, tg)
		if e != nil {
			return e
		}
		for _, t := range ts {
			if e := change(tg, t); e != nil {
				return e
			}
		}
		return nil
	})
	return struct{}{}, e
}

func describeTargetHealth(r *request) (any, *apiError) {
	arn, e := r.p.required("TargetGroupArn")
	if e != nil {
		return nil, e
	}
	return r.read(func(m *model) (any, *apiError) {
		tg, e := getTG(m, arn)
		if e != nil {
			return nil, e
		}
		targets := tg.Targets
		if len(r.p.members("Targets")) > 0 {
			if targets, e = readTargets(r.p, tg); e != nil {
				return nil, e
			}
		}
		inUse := len(m.loadBalancersOf(tg.ARN)) > 0
		var out []xTargetHealthDescription
		for _, t := range targets {
			d := xTargetHealthDescription{Target: xTarget(t), HealthCheckPort: strconv.Itoa(t.Port)}
			if tg.HealthCheck.Port != "" {
				d.HealthCheckPort = tg.HealthCheck.Port
			}
			d.TargetHealth = r.s.targetHealth(tg, t, inUse, slices.Contains(tg.Targets, t))
			out = append(out, d)
		}
		return struct {
			TargetHealthDescriptions []xTargetHealthDescription `xml:"TargetHealthDescriptions>member"`
		}{out}, nil
	})
}

// targetHealth answers with ALB's states and reason codes
// (TargetHealth): unregistered, unused (no listener forwards to the
// group), unavailable (health checks off), the fleet's live answer when
// Options.TargetHealth gives one, else initial.
func (s *Service) targetHealth(tg *tgRec, t targetRec, inUse, registered bool) xTargetHealth {
	switch {
	case !registered:
		return xTargetHealth{State: "unused", Reason: "Target.NotRegistered", Description: "Target is not registered to the target group"}
	case !inUse:
		return xTargetHealth{State: "unused", Reason: "Target.NotInUse", Description: "Target group is not configured to receive traffic from the load balancer"}
	case tg.HealthCheck.Enabled != nil && !*tg.HealthCheck.Enabled:
		return xTargetHealth{State: "unavailable", Reason: "Target.HealthCheckDisabled", Description: "Health checks are disabled"}
	}
	if s.opts.TargetHealth != nil {
		if st, reason, desc, ok := s.opts.TargetHealth(tg.ARN, net.JoinHostPort(t.ID, strconv.Itoa(t.Port))); ok {
			return xTargetHealth{State: st, Reason: reason, Description: desc}
		}
	}
	return xTargetHealth{State: "initial", Reason: "Elb.InitialHealthChecking", Description: "Initial health checks in progress"}
}

// acceptedTGAttributes are the target group attributes of an HTTP/HTTPS
// target group (ELBv2 API reference, TargetGroupAttribute) with ALB's
// defaults. albmtls stores and describes them, so that clients such as
// Terraform that set them work, but does not emulate them: its target
// groups balance round robin, without stickiness, slow start or a
// deregistration delay.
var acceptedTGAttributes = map[string]string{
	"deregistration_delay.timeout_seconds":                                           "300",
	"stickiness.enabled":                                                             "false",
	"stickiness.type":                                                                "lb_cookie",
	"stickiness.lb_cookie.duration_seconds":                                          "86400",
	"stickiness.app_cookie.cookie_name":                                              "",
	"stickiness.app_cookie.duration_seconds":                                         "86400",
	"load_balancing.algorithm.type":                                                  "round_robin",
	"load_balancing.algorithm.anomaly_mitigation":                                    "off",
	"load_balancing.cross_zone.enabled":                                              "use_load_balancer_configuration",
	"slow_start.duration_seconds":                                                    "0",
	"target_group_health.dns_failover.minimum_healthy_targets.count":                 "1",
	"target_group_health.dns_failover.minimum_healthy_targets.percentage":            "off",
	"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count":      "1",
	"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
}

func tgAttributes(tg *tgRec) []xAttribute {
	vals := maps.Clone(acceptedTGAttributes)
	maps.Copy(vals, tg.Attributes)
	return sortedAttributes(vals)
}

func describeTargetGroupAttributes(r *request) (any, *apiError) {
	return describeAttributes(r, "TargetGroupArn", getTG, tgAttributes)
}

func modifyTargetGroupAttributes(r *request) (any, *apiError) {
	return modifyAttributes(r, "TargetGroupArn", getTG, func(tg *tgRec, a xAttribute) *apiError {
		if _, ok := acceptedTGAttributes[a.Key]; !ok {
			return errf(codeValidation, "target group attribute key %q is not recognized; albmtls knows %s",
				a.Key, strings.Join(slices.Sorted(maps.Keys(acceptedTGAttributes)), ", "))
		}
		if tg.Attributes == nil {
			tg.Attributes = map[string]string{}
		}
		tg.Attributes[a.Key] = a.Value
		return nil
	}, tgAttributes)
}
