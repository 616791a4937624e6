package elbv2

import (
	"maps"
	"slices"
	"time"

	"github.com/albmtls/albmtls/emulator/config"
)

// model is the whole ELBv2 state of one region: every resource by ARN.
// Mutating calls work on a clone and commit it only once every load
// balancer compiled, validated and applied (Service.mutate). Byte slices
// (PEM contents) are never changed in place, so clones share them.
type model struct {
	LoadBalancers map[string]*lbRec       `json:"load_balancers"`
	TargetGroups  map[string]*tgRec       `json:"target_groups"`
	Listeners     map[string]*listenerRec `json:"listeners"`
	TrustStores   map[string]*tsRec       `json:"trust_stores"`
	// Tags are by resource ARN, in the order they were added.
	Tags map[string][]tag `json:"tags,omitempty"`
}

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func newModel() *model {
	return &model{
		LoadBalancers: map[string]*lbRec{},
		TargetGroups:  map[string]*tgRec{},
		Listeners:     map[string]*listenerRec{},
		TrustStores:   map[string]*tsRec{},
		Tags:          map[string][]tag{},
	}
}

// lbRec is a load balancer.
type lbRec struct {
	ARN, Name, ID     string
	Region, AccountID string
	Created           time.Time
	Scheme            string
	IPAddressType     string
	// IdleTimeout is idle_timeout.timeout_seconds.
	IdleTimeout config.Duration
	// Attributes are the emulated load balancer attributes
	// (load_balancer.attributes of the config).
	Attributes map[string]string
	// Accepted are attributes ALB has that albmtls stores and describes
	// but does not emulate (acceptedLBAttributes).
	Accepted map[string]string
	// Logs are the config's logs section; access_logs.s3.* and
	// connection_logs.s3.* switch its files on and off.
	Logs       config.Logs
	LogBuckets map[string]string `json:",omitempty"` // access_logs.s3.bucket etc., as set
	// IPAddress, Admin and Emulation are the config's, kept from an
	// imported albmtls.yaml so that export gives it back.
	IPAddress string
	Admin     config.Admin
	Emulation config.Emulation
	// Imported: defined in albmtls.yaml (derived IDs).
	Imported bool
}

// tgRec is a target group (regional: several load balancers may forward
// to it).
type tgRec struct {
	ARN, Name, ID string
	Protocol      string // HTTP or HTTPS
	Port          int
	TargetType    string // ip or instance
	VpcID         string
	HealthCheck   config.HealthCheck
	Targets       []targetRec
	// Attributes are target group attributes albmtls stores and describes
	// but does not emulate (acceptedTGAttributes).
	Attributes map[string]string `json:",omitempty"`
}

// targetRec is a registered target: Id (an IP address or host name) and
// port, host:port in the config.
type targetRec struct {
	ID   string
	Port int
}

// listenerRec is a listener.
type listenerRec struct {
	ARN, ID, LoadBalancerARN string
	// Port is the ALB port, as DescribeListeners reports it.
	Port int
	// Bind is the host:port an imported listener binds (its address and
	// port in albmtls.yaml); empty for an API listener, which binds
	// Options.ListenAddress(Port).
	Bind         string
	Protocol     string
	SSLPolicy    string
	Certificates []certRef
	MutualAuth   mutualAuth
	Default      actionRec
	// Rules are the config's rules of an imported listener; their actions
	// name target groups by ARN here.
	Rules      []ruleRec
	Attributes map[string]string
}

// certRef is a listener certificate: an ACM certificate ARN resolved
// through Options.Certificates, or (imported) the files of albmtls.yaml.
type certRef struct {
	ARN      string
	CertFile string `json:",omitempty"`
	KeyFile  string `json:",omitempty"`
	// Derived is the ARN the emulator synthesises for an imported
	// certificate without one (awsarn.CertificateID of its DER), which
	// DescribeListeners reports; it is not written to the config.
	Derived string `json:",omitempty"`
}

// describedARN is the CertificateArn DescribeListeners reports.
func (c certRef) describedARN() string {
	if c.ARN != "" {
		return c.ARN
	}
	return c.Derived
}

type mutualAuth struct {
	Mode          string // off, passthrough, verify
	TrustStoreARN string
	IgnoreExpiry  *bool
	AdvertiseCA   string // on, off, "" (unset)
}

// actionRec is a listener or rule action; TargetGroupARN for forward.
type actionRec struct {
	Type           string
	TargetGroupARN string
	Redirect       *config.Redirect
	FixedResponse  *config.FixedResponse
}

type ruleRec struct {
	Priority   int
	Conditions config.Conditions
	Action     actionRec
}

// tsRec is a trust store.
type tsRec struct {
	ARN, Name, ID string
	Created       time.Time
	Bundle        objectRef
	NumCAs        int
	Revocations   []revRec
	// NextRevocationID counts up from 1; IDs are never reused
	// (alb-behaviour §1.2 "Revocation IDs").
	NextRevocationID int64
}

// objectRef is a file's content and where it came from: an S3 object
// (bucket, key, version) or, for an imported trust store, a file of
// albmtls.yaml, which the emulator then reads and watches itself.
type objectRef struct {
	Bucket, Key, Version string `json:",omitempty"`
	File                 string `json:",omitempty"`
	Data                 []byte `json:",omitempty"`
}

type revRec struct {
	ID      int64
	Object  objectRef
	Entries int64
}

func (m *model) clone() *model {
	c := &model{
		LoadBalancers: make(map[string]*lbRec, len(m.LoadBalancers)),
		TargetGroups:  make(map[string]*tgRec, len(m.TargetGroups)),
		Listeners:     make(map[string]*listenerRec, len(m.Listeners)),
		TrustStores:   make(map[string]*tsRec, len(m.TrustStores)),
		Tags:          make(map[string][]tag, len(m.Tags)),
	}
	for k, v := range m.LoadBalancers {
		x := *v
		x.Attributes = maps.Clone(v.Attributes)
		x.Accepted = maps.Clone(v.Accepted)
		x.LogBuckets = maps.Clone(v.LogBuckets)
		c.LoadBalancers[k] = &x
	}
	for k, v := range m.TargetGroups {
		x := *v
		x.Targets = slices.Clone(v.Targets)
		x.Attributes = maps.Clone(v.Attributes)
		c.TargetGroups[k] = &x
	}
	for k, v := range m.Listeners {
		x := *v
		x.Certificates = slices.Clone(v.Certificates)
		x.Rules = slices.Clone(v.Rules)
		x.Attributes = maps.Clone(v.Attributes)
		c.Listeners[k] = &x
	}
	for k, v := range m.TrustStores {
		x := *v
		x.Revocations = slices.Clone(v.Revocations)
		c.TrustStores[k] = &x
	}
	for k, v := range m.Tags {
		c.Tags[k] = slices.Clone(v)
	}
	return c
}

// listenersOf returns the listeners of a load balancer, by port then ARN.
func (m *model) listenersOf(lbARN string) []*listenerRec {
	var out []*listenerRec
	for _, l := range m.Listeners {
		if l.LoadBalancerARN == lbARN {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b *listenerRec) int {
		if a.Port != b.Port {
			return a.Port - b.Port
		}
		return compareStr(a.ARN, b.ARN)
	})
	return out
}

func compareStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// sortedValues returns a map's values ordered by key (ARN).
func sortedValues[V any](m map[string]V) []V {
	out := make([]V, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

// actions returns every action of a listener: the default, then the rules'.
func (l *listenerRec) actions() []actionRec {
	out := []actionRec{l.Default}
	for _, r := range l.Rules {
		out = append(out, r.Action)
	}
	return out
}

// targetGroupsUsed returns the ARNs of the target groups a load balancer's
// listeners forward to.
func (m *model) targetGroupsUsed(lbARN string) map[string]bool {
	used := map[string]bool{}
	for _, l := range m.listenersOf(lbARN) {
		for _, a := range l.actions() {
			if a.TargetGroupARN != "" {
				used[a.TargetGroupARN] = true
			}
		}
	}
	return used
}

// loadBalancersOf returns the ARNs of the load balancers forwarding to a
// target group, sorted.
func (m *model) loadBalancersOf(tgARN string) []string {
	var out []string
	for _, lb := range sortedValues(m.LoadBalancers) {
		if m.targetGroupsUsed(lb.ARN)[tgARN] {
			out = append(out, lb.ARN)
		}
	}
	return out
}

// trustStoreUsers returns the ARNs of the listeners whose mutual
// authentication names a trust store.
func (m *model) trustStoreUsers(tsARN string) []string {
	var out []string
	for _, l := range sortedValues(m.Listeners) {
		if l.MutualAuth.TrustStoreARN == tsARN {
			out = append(out, l.ARN)
		}
	}
	return out
}
