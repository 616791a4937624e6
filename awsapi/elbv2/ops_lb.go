package elbv2

import (
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/albmtls/albmtls/emulator/albheader"
	"github.com/albmtls/albmtls/emulator/awsarn"
	"github.com/albmtls/albmtls/emulator/config"
)

// Load balancer and target group names: 1–32 letters, digits and hyphens,
// not starting or ending with a hyphen (ELBv2 API reference, Name).
var resourceNameRE = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$`)

// Load balancer attribute keys (ELBv2 API reference, LoadBalancerAttribute).
const (
	attrIdleTimeout      = "idle_timeout.timeout_seconds"
	attrAccessLogs       = "access_logs.s3.enabled"
	attrAccessLogsBucket = "access_logs.s3.bucket"
	attrAccessLogsPrefix = "access_logs.s3.prefix"
	attrConnectionLogs   = "connection_logs.s3.enabled"
	attrConnectionBucket = "connection_logs.s3.bucket"
	attrConnectionPrefix = "connection_logs.s3.prefix"
	lbTypeApplication    = "application"
	defaultScheme        = "internet-facing"
	defaultIPAddressType = "ipv4"
	stateActive          = "active"
)

// emulatedLBAttributes are the load balancer attributes the emulator
// applies, with ALB's default values (ELBv2 API reference,
// LoadBalancerAttribute).
var emulatedLBAttributes = map[string]string{
	attrIdleTimeout:                        "60",
	attrAccessLogs:                         "false",
	attrAccessLogsBucket:                   "",
	attrAccessLogsPrefix:                   "",
	attrConnectionLogs:                     "false",
	attrConnectionBucket:                   "",
	attrConnectionPrefix:                   "",
	albheader.AttrDropInvalidHeaderFields:  "false",
	albheader.AttrTLSVersionAndCipherSuite: "false",
	albheader.AttrXFFClientPort:            "false",
	albheader.AttrXFFHeaderProcessingMode:  "append",
	attrPreserveHost:                       "false",
}

// acceptedLBAttributes are ALB attributes albmtls stores and describes
// but does not emulate (no effect on the data plane), with ALB's defaults.
var acceptedLBAttributes = map[string]string{
	"deletion_protection.enabled":         "false",
	"routing.http.desync_mitigation_mode": "defensive",
	"routing.http2.enabled":               "true",
	"waf.fail_open.enabled":               "false",
	"client_keep_alive.seconds":           "3600",
	"zonal_shift.config.enabled":          "false",
	"load_balancing.cross_zone.enabled":   "true",
	"health_check_logs.s3.enabled":        "false",
	"health_check_logs.s3.bucket":         "",
	"health_check_logs.s3.prefix":         "",
	"ipv6.deny_all_igw_traffic":           "false",
}

// lbHeaderAttributes are the emulated attributes kept in
// load_balancer.attributes of the config.
var lbHeaderAttributes = []string{
	albheader.AttrDropInvalidHeaderFields, albheader.AttrTLSVersionAndCipherSuite,
	albheader.AttrXFFClientPort, albheader.AttrXFFHeaderProcessingMode,
}

func checkResourceName(param, what, name string) *apiError {
	if !resourceNameRE.MatchString(name) {
		return errf(codeValidation, "%s %q is not a valid %s name: use 1–32 letters, digits and hyphens, not starting or ending with a hyphen", param, name, what)
	}
	return nil
}

func createLoadBalancer(r *request) (any, *apiError) {
	name, e := r.p.required("Name")
	if e != nil {
		return nil, e
	}
	if e := checkResourceName("Name", "load balancer", name); e != nil {
		return nil, e
	}
	if strings.HasPrefix(name, "internal-") {
		return nil, errf(codeValidation, "load balancer name %q must not begin with \"internal-\"", name)
	}
	if t := r.p.str("Type"); t != "" && t != lbTypeApplication {
		return nil, errf(codeValidation, "Type %q: albmtls emulates application load balancers only; leave Type out or use \"application\"", t)
	}
	scheme := r.p.str("Scheme")
	switch scheme {
	case "":
		scheme = defaultScheme
	case "internet-facing", "internal":
	default:
		return nil, errf(codeValidation, "Scheme %q is not valid; use internet-facing or internal", scheme)
	}
	ipType := r.p.str("IpAddressType")
	switch ipType {
	case "":
		ipType = defaultIPAddressType
	case "ipv4", "dualstack", "dualstack-without-public-ipv4":
	default:
		return nil, errf(codeValidation, "IpAddressType %q is not valid; use ipv4, dualstack or dualstack-without-public-ipv4", ipType)
	}
	tags, e := readTags(r.p, "Tags")
	if e != nil {
		return nil, e
	}
	id, e := r.s.newID()
	if e != nil {
		return nil, e
	}
	var rec *lbRec
	e = r.s.mutate(r.ctx, func(m *model) *apiError {
		for _, lb := range m.LoadBalancers {
			if lb.Name == name {
				return errf(codeDuplicateLoadBalancerName, "a load balancer named %q already exists (%s)", name, lb.ARN)
			}
		}
		rec = &lbRec{
			ARN: awsarn.LoadBalancer(r.s.opts.Region, r.s.opts.AccountID, name, id), Name: name, ID: id,
			Region: r.s.opts.Region, AccountID: r.s.opts.AccountID, Created: r.s.opts.Now().UTC(),
			Scheme: scheme, IPAddressType: ipType, IdleTimeout: config.Duration(config.DefaultIdleTimeout),
		}
		m.LoadBalancers[rec.ARN] = rec
		if len(tags) > 0 {
			m.Tags[rec.ARN] = tags
		}
		return nil
	})
	if e != nil {
		return nil, e
	}
	return struct {
		LoadBalancers []xLoadBalancer `xml:"LoadBalancers>member"`
	}{[]xLoadBalancer{describeLB(rec)}}, nil
}

func describeLB(lb *lbRec) xLoadBalancer {
	return xLoadBalancer{
		LoadBalancerArn:  lb.ARN,
		DNSName:          lb.Name + "-" + lb.ID + "." + lb.Region + ".elb.localhost",
		CreatedTime:      lb.Created.Format(time.RFC3339Nano),
		LoadBalancerName: lb.Name, Scheme: lb.Scheme, State: xState{Code: stateActive},
		Type: lbTypeApplication, IPAddressType: lb.IPAddressType,
		AvailabilityZones: []xAZ{{ZoneName: lb.Region + "a"}},
	}
}

func describeLoadBalancers(r *request) (any, *apiError) {
	if e := r.p.pageSize(); e != nil {
		return nil, e
	}
	arns, names := r.p.list("LoadBalancerArns"), r.p.list("Names")
	if len(arns) > 0 && len(names) > 0 {
		return nil, errf(codeValidation, "give LoadBalancerArns or Names, not both")
	}
	return r.read(func(m *model) (any, *apiError) {
		var out []xLoadBalancer
		switch {
		case len(arns) > 0:
			for _, a := range arns {
				lb, ok := m.LoadBalancers[a]
				if !ok {
					return nil, errf(codeLoadBalancerNotFound, "load balancer %s not found", a)
				}
				out = append(out, describeLB(lb))
			}
		case len(names) > 0:
			for _, n := range names {
				lb := lbByName(m, n)
				if lb == nil {
					return nil, errf(codeLoadBalancerNotFound, "no load balancer named %q", n)
				}
				out = append(out, describeLB(lb))
			}
		default:
			for _, lb := range sortedValues(m.LoadBalancers) {
				out = append(out, describeLB(lb))
			}
		}
		return struct {
			LoadBalancers []xLoadBalancer `xml:"LoadBalancers>member"`
		}{out}, nil
	})
}

func lbByName(m *model, name string) *lbRec {
	for _, lb := range m.LoadBalancers {
		if lb.Name == name {
			return lb
		}
	}
	return nil
}

func getLB(m *model, arn string) (*lbRec, *apiError) {
	lb, ok := m.LoadBalancers[arn]
	if !ok {
		return nil, errf(codeLoadBalancerNotFound, "load balancer %s not found", arn)
	}
	return lb, nil
}

func deleteLoadBalancer(r *request) (any, *apiError) {
	arn, e := r.p.required("LoadBalancerArn")
	if e != nil {
		return nil, e
	}
	e = r.s.mutate(r.ctx, func(m *model) *apiError {
		if _, ok := m.LoadBalancers[arn]; !ok {
			return nil // deleting a deleted load balancer succeeds, as on ALB
		}
		for _, l := range m.listenersOf(arn) {
			delete(m.Listeners, l.ARN)
			delete(m.Tags, l.ARN)
		}
		delete(m.LoadBalancers, arn)
		delete(m.Tags, arn)
		return nil
	})
	return struct{}{}, e
}

// lbAttributes lists every attribute of a load balancer, sorted by key.
func (s *Service) lbAttributes(lb *lbRec) []xAttribute {
	vals := map[string]string{}
	for k, v := range emulatedLBAttributes {
		vals[k] = v
	}
	for k, v := range acceptedLBAttributes {
		vals[k] = v
	}
	for k, v := range lb.Accepted {
		vals[k] = v
	}
	for k, v := range lb.Attributes {
		vals[k] = v
	}
	for k, v := range lb.LogBuckets {
		vals[k] = v
	}
	vals[attrIdleTimeout] = strconv.Itoa(int(lb.IdleTimeout.D() / time.Second))
	vals[attrAccessLogs] = strconv.FormatBool(lb.Logs.Access.File != "")
	vals[attrConnectionLogs] = strconv.FormatBool(lb.Logs.Connection.File != "")
	return sortedAttributes(vals)
}

func describeLoadBalancerAttributes(r *request) (any, *apiError) {
	return describeAttributes(r, "LoadBalancerArn", getLB, r.s.lbAttributes)
}

func readAttributes(p params) ([]xAttribute, *apiError) {
	var out []xAttribute
	for _, m := range p.members("Attributes") {
		k := p.str(m + ".Key")
		if k == "" {
			return nil, errf(codeValidation, "%s.Key is missing", m)
		}
		out = append(out, xAttribute{Key: k, Value: p.str(m + ".Value")})
	}
	if len(out) == 0 {
		return nil, errf(codeValidation, "1 validation error detected: Value null at 'attributes' failed to satisfy constraint: Member must not be null (give Attributes.member.1.Key and .Value)")
	}
	return out, nil
}

func modifyLoadBalancerAttributes(r *request) (any, *apiError) {
	return modifyAttributes(r, "LoadBalancerArn", getLB, func(lb *lbRec, a xAttribute) *apiError {
		return r.s.setLBAttribute(lb, a.Key, a.Value)
	}, r.s.lbAttributes)
}

func boolValue(key, v string) *apiError {
	if v != "true" && v != "false" {
		return errf(codeValidation, "load balancer attribute %q: %q is not valid; use true or false", key, v)
	}
	return nil
}

// setLBAttribute applies one attribute to the load balancer record; the
// compiled config is validated afterwards as a whole.
func (s *Service) setLBAttribute(lb *lbRec, key, v string) *apiError {
	if lb.Attributes == nil {
		lb.Attributes = map[string]string{}
	}
	switch key {
	case attrIdleTimeout:
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 4000 {
			return errf(codeValidation, "load balancer attribute %q: %q is not valid; use a number of seconds from 1 to 4000", key, v)
		}
		lb.IdleTimeout = config.Duration(time.Duration(n) * time.Second)
	case attrAccessLogs, attrConnectionLogs:
		if e := boolValue(key, v); e != nil {
			return e
		}
		f := &lb.Logs.Access.File
		name := "access.log"
		if key == attrConnectionLogs {
			f, name = &lb.Logs.Connection.File, "connection.log"
		}
		switch {
		case v == "false":
			*f = ""
		case *f == "":
			*f = filepath.Join(s.opts.Dir, "logs", lb.Name, name)
		}
		if lb.LogBuckets[attrAccessLogsBucket] != "" || lb.LogBuckets[attrConnectionBucket] != "" {
			if lb.Logs.S3LayoutDir == "" && (lb.Logs.Access.File != "" || lb.Logs.Connection.File != "") {
				lb.Logs.S3LayoutDir = filepath.Join(s.opts.Dir, "logs", lb.Name, "s3")
			}
		}
	case attrAccessLogsBucket, attrAccessLogsPrefix, attrConnectionBucket, attrConnectionPrefix:
		if lb.LogBuckets == nil {
			lb.LogBuckets = map[string]string{}
		}
		lb.LogBuckets[key] = v
	case attrPreserveHost:
		if e := boolValue(key, v); e != nil {
			return e
		}
		if lb.Accepted == nil {
			lb.Accepted = map[string]string{}
		}
		lb.Accepted[key] = v
	default:
		if slices.Contains(lbHeaderAttributes, key) {
			lb.Attributes[key] = v // checked by the config package
			return nil
		}
		if _, ok := acceptedLBAttributes[key]; ok {
			if lb.Accepted == nil {
				lb.Accepted = map[string]string{}
			}
			lb.Accepted[key] = v
			return nil
		}
		return errf(codeValidation, "load balancer attribute key %q is not recognized; albmtls knows %s", key, strings.Join(knownLBAttributes(), ", "))
	}
	return nil
}

func knownLBAttributes() []string {
	var keys []string
	for k := range emulatedLBAttributes {
		keys = append(keys, k)
	}
	for k := range acceptedLBAttributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
