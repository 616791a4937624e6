package elbv2

import (
	"maps"
	"slices"
	"strings"

	"github.com/albmtls/albmtls/emulator/albheader"
	"github.com/albmtls/albmtls/emulator/albresponse"
	"github.com/albmtls/albmtls/emulator/awsarn"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/sslpolicy"
)

func createListener(r *request) (any, *apiError) {
	p := r.p
	lbARN, e := p.required("LoadBalancerArn")
	if e != nil {
		return nil, e
	}
	in, e := readListenerInput(p, true)
	if e != nil {
		return nil, e
	}
	id, e := r.s.newID()
	if e != nil {
		return nil, e
	}
	tags, e := readTags(p, "Tags")
	if e != nil {
		return nil, e
	}
	var out xListener
	e = r.s.mutate(r.ctx, func(m *model) *apiError {
		lb, e := getLB(m, lbARN)
		if e != nil {
			return e
		}
		l := &listenerRec{ARN: awsarn.Listener(lb.Region, lb.AccountID, lb.Name, lb.ID, id), ID: id, LoadBalancerARN: lb.ARN}
		if e := r.s.applyListenerInput(m, l, in); e != nil {
			return e
		}
		m.Listeners[l.ARN] = l
		if len(tags) > 0 {
			m.Tags[l.ARN] = tags
		}
		out = describeListener(l)
		return nil
	})
	if e != nil {
		return nil, e
	}
	return struct {
		Listeners []xListener `xml:"Listeners>member"`
	}{[]xListener{out}}, nil
}

func modifyListener(r *request) (any, *apiError) {
	arn, e := r.p.required("ListenerArn")
	if e != nil {
		return nil, e
	}
	in, e := readListenerInput(r.p, false)
	if e != nil {
		return nil, e
	}
	var out xListener
	e = r.s.mutate(r.ctx, func(m *model) *apiError {
		l, e := getListener(m, arn)
		if e != nil {
			return e
		}
		if e := r.s.applyListenerInput(m, l, in); e != nil {
			return e
		}
		out = describeListener(l)
		return nil
	})
	if e != nil {
		return nil, e
	}
	return struct {
		Listeners []xListener `xml:"Listeners>member"`
	}{[]xListener{out}}, nil
}

// listenerInput is what CreateListener and ModifyListener were given;
// nil or zero means "not given" (keep the current value on Modify).
type listenerInput struct {
	port       int
	protocol   string
	sslPolicy  *string
	certs      []string
	action     *actionRec
	mutualAuth *mutualAuth
}

func readListenerInput(p params, create bool) (*listenerInput, *apiError) {
	in := &listenerInput{protocol: p.str("Protocol")}
	n, ok, e := p.optInt("Port", 1, 65535)
	if e != nil {
		return nil, e
	}
	if ok {
		in.port = int(n)
	}
	switch in.protocol {
	case "", "HTTP", "HTTPS":
	default:
		return nil, errf(codeUnsupportedProtocol, "protocol %q is not supported by an application load balancer listener; use HTTP or HTTPS", in.protocol)
	}
	if create {
		if in.protocol == "" {
			return nil, errf(codeValidation, "1 validation error detected: Value null at 'protocol' failed to satisfy constraint: Member must not be null (HTTP or HTTPS)")
		}
		if in.port == 0 {
			return nil, errf(codeValidation, "1 validation error detected: Value null at 'port' failed to satisfy constraint: Member must not be null (1–65535)")
		}
	}
	if p.has("SslPolicy") {
		s := p.str("SslPolicy")
		if _, err := sslpolicy.Lookup(s); err != nil {
			return nil, errf(codeSSLPolicyNotFound, "%v", err)
		}
		in.sslPolicy = &s
	}
	for _, mem := range p.members("Certificates") {
		a := p.str(mem + ".CertificateArn")
		if a == "" {
			return nil, errf(codeValidation, "%s.CertificateArn is missing", mem)
		}
		in.certs = append(in.certs, a)
	}
	if len(in.certs) > 1 {
		return nil, errf(codeTooManyCertificates, "give one certificate, the listener's default (ELBv2 takes more with AddListenerCertificates, which albmtls does not implement)")
	}
	actions := p.members("DefaultActions")
	switch {
	case len(actions) > 1:
		return nil, errf(codeTooManyActions, "albmtls emulates one default action per listener (forward, redirect or fixed-response); got %d", len(actions))
	case len(actions) == 1:
		a, e := readAction(p, actions[0])
		if e != nil {
			return nil, e
		}
		in.action = &a
	case create:
		return nil, errf(codeValidation, "1 validation error detected: Value null at 'defaultActions' failed to satisfy constraint: Member must not be null")
	}
	if p.hasPrefix("MutualAuthentication") {
		ma := &mutualAuth{Mode: p.str("MutualAuthentication.Mode"), TrustStoreARN: p.str("MutualAuthentication.TrustStoreArn"),
			AdvertiseCA: p.str("MutualAuthentication.AdvertiseTrustStoreCaNames")}
		if ma.Mode == "" {
			ma.Mode = "off"
		}
		switch ma.Mode {
		case "off", "passthrough", "verify":
		default:
			return nil, errf(codeValidation, "MutualAuthentication.Mode %q is not valid; use off, passthrough or verify", ma.Mode)
		}
		switch ma.AdvertiseCA {
		case "", "on", "off":
		default:
			return nil, errf(codeValidation, "MutualAuthentication.AdvertiseTrustStoreCaNames %q is not valid; use on or off", ma.AdvertiseCA)
		}
		ign, e := p.optBool("MutualAuthentication.IgnoreClientCertificateExpiry")
		if e != nil {
			return nil, e
		}
		ma.IgnoreExpiry = ign
		if ma.Mode == "verify" && ma.TrustStoreARN == "" {
			return nil, errf(codeValidation, "MutualAuthentication.TrustStoreArn is required when Mode is verify")
		}
		if ma.Mode != "verify" {
			// Clients such as Terraform send the verify options' off values
			// with every mode; only a value that would take effect is refused.
			if ma.IgnoreExpiry != nil && !*ma.IgnoreExpiry {
				ma.IgnoreExpiry = nil
			}
			if ma.AdvertiseCA == "off" {
				ma.AdvertiseCA = ""
			}
			if ma.TrustStoreARN != "" || ma.IgnoreExpiry != nil || ma.AdvertiseCA != "" {
				return nil, errf(codeValidation, "MutualAuthentication.TrustStoreArn, IgnoreClientCertificateExpiry=true and AdvertiseTrustStoreCaNames=on apply to Mode verify only, not %s", ma.Mode)
			}
		}
		in.mutualAuth = ma
	}
	return in, nil
}

func readAction(p params, mem string) (actionRec, *apiError) {
	a := actionRec{Type: p.str(mem + ".Type")}
	switch a.Type {
	case "forward":
		a.TargetGroupARN = p.str(mem + ".TargetGroupArn")
		tuples := p.members(mem + ".ForwardConfig.TargetGroups")
		if len(tuples) > 1 {
			return a, errf(codeValidation, "%s.ForwardConfig: albmtls forwards to one target group; weighted forwarding to %d is not emulated", mem, len(tuples))
		}
		if len(tuples) == 1 {
			t := p.str(tuples[0] + ".TargetGroupArn")
			if a.TargetGroupARN != "" && a.TargetGroupARN != t {
				return a, errf(codeValidation, "%s: TargetGroupArn and ForwardConfig name different target groups", mem)
			}
			a.TargetGroupARN = t
		}
		if a.TargetGroupARN == "" {
			return a, errf(codeValidation, "%s: a forward action needs TargetGroupArn or ForwardConfig.TargetGroups", mem)
		}
	case "redirect":
		c := mem + ".RedirectConfig."
		a.Redirect = &config.Redirect{Protocol: p.str(c + "Protocol"), Port: p.str(c + "Port"), Host: p.str(c + "Host"),
			Path: p.str(c + "Path"), Query: p.str(c + "Query"), StatusCode: albresponse.RedirectStatus(p.str(c + "StatusCode"))}
		switch a.Redirect.StatusCode {
		case albresponse.RedirectPermanent, albresponse.RedirectTemporary:
		default:
			return a, errf(codeValidation, "%sStatusCode %q is not valid; use HTTP_301 or HTTP_302", c, a.Redirect.StatusCode)
		}
	case "fixed-response":
		c := mem + ".FixedResponseConfig."
		a.FixedResponse = &config.FixedResponse{StatusCode: p.str(c + "StatusCode"), ContentType: p.str(c + "ContentType"), MessageBody: p.str(c + "MessageBody")}
		if a.FixedResponse.StatusCode == "" {
			return a, errf(codeValidation, "%sStatusCode is missing (2XX, 4XX or 5XX)", c)
		}
	case "":
		return a, errf(codeValidation, "%s.Type is missing; use forward, redirect or fixed-response", mem)
	case "authenticate-oidc", "authenticate-cognito", "jwt-validation":
		return a, errf(codeInvalidLoadBalancerAction, "%s.Type %s is not emulated by albmtls; use forward, redirect or fixed-response", mem, a.Type)
	default:
		return a, errf(codeValidation, "%s.Type %q is not valid; use forward, redirect or fixed-response", mem, a.Type)
	}
	return a, nil
}

// applyListenerInput changes a listener (new or existing) as the call says
// and checks what needs the model: duplicates, resources that must exist.
func (s *Service) applyListenerInput(m *model, l *listenerRec, in *listenerInput) *apiError {
	if in.port != 0 && in.port != l.Port {
		for _, o := range m.listenersOf(l.LoadBalancerARN) {
			if o.ARN != l.ARN && o.Port == in.port {
				return errf(codeDuplicateListener, "a listener already exists on port %d of this load balancer (%s)", in.port, o.ARN)
			}
		}
		l.Port, l.Bind = in.port, "" // a new port binds by the ListenAddress rule
	}
	if in.protocol != "" && in.protocol != l.Protocol {
		if in.protocol == "HTTP" {
			l.Certificates, l.SSLPolicy, l.MutualAuth = nil, "", mutualAuth{}
		}
		l.Protocol = in.protocol
	}
	if in.sslPolicy != nil {
		if l.Protocol != "HTTPS" {
			return errf(codeValidation, "an HTTP listener has no SslPolicy; use Protocol HTTPS or leave SslPolicy out")
		}
		l.SSLPolicy = *in.sslPolicy
	}
	if len(in.certs) > 0 {
		if l.Protocol != "HTTPS" {
			return errf(codeValidation, "an HTTP listener has no certificates; use Protocol HTTPS or leave Certificates out")
		}
		if _, ok := s.lookupCertificate(in.certs[0]); !ok {
			return errf(codeCertificateNotFound, "certificate %s not found; import it into ACM first (ImportCertificate)", in.certs[0])
		}
		rest := slices.Clone(l.Certificates)
		if len(rest) > 0 {
			rest = rest[1:]
		}
		l.Certificates = append([]certRef{{ARN: in.certs[0]}}, rest...)
	}
	if l.Protocol == "HTTPS" && len(l.Certificates) == 0 {
		return errf(codeValidation, "an HTTPS listener needs a certificate: give Certificates.member.1.CertificateArn")
	}
	if in.action != nil {
		if a := in.action; a.TargetGroupARN != "" {
			if _, ok := m.TargetGroups[a.TargetGroupARN]; !ok {
				return errf(codeTargetGroupNotFound, "target group %s not found", a.TargetGroupARN)
			}
		}
		l.Default = *in.action
	}
	if ma := in.mutualAuth; ma != nil {
		if l.Protocol != "HTTPS" && ma.Mode != "off" {
			return errf(codeValidation, "mutual authentication needs an HTTPS listener")
		}
		if ma.TrustStoreARN != "" {
			if _, ok := m.TrustStores[ma.TrustStoreARN]; !ok {
				return errf(codeTrustStoreNotFound, "trust store %s not found", ma.TrustStoreARN)
			}
		}
		l.MutualAuth = *ma
		if l.Protocol != "HTTPS" {
			l.MutualAuth = mutualAuth{}
		}
	}
	return nil
}

func describeListener(l *listenerRec) xListener {
	x := xListener{ListenerArn: l.ARN, LoadBalancerArn: l.LoadBalancerARN, Port: l.Port, Protocol: l.Protocol, SslPolicy: l.SSLPolicy}
	if l.Protocol == "HTTPS" && x.SslPolicy == "" {
		x.SslPolicy = sslpolicy.Default // an imported listener without ssl_policy
	}
	if len(l.Certificates) > 0 {
		x.Certificates = []xCert{{CertificateArn: l.Certificates[0].describedARN()}}
	}
	x.DefaultActions = []xAction{describeAction(l.Default)}
	if l.Protocol == "HTTPS" {
		ma := l.MutualAuth
		mode := ma.Mode
		if mode == "" {
			mode = "off"
		}
		x.MutualAuthentication = &xMutualAuth{Mode: mode, TrustStoreArn: ma.TrustStoreARN, AdvertiseTrustStoreCaNames: ma.AdvertiseCA}
		if mode == "verify" {
			f := false
			if ma.IgnoreExpiry != nil {
				f = *ma.IgnoreExpiry
			}
			x.MutualAuthentication.IgnoreClientCertificateExpiry = &f
			x.MutualAuthentication.TrustStoreAssociationStatus = "active"
			if ma.AdvertiseCA == "" {
				x.MutualAuthentication.AdvertiseTrustStoreCaNames = "off"
			}
		}
	}
	return x
}

func describeAction(a actionRec) xAction {
	x := xAction{Type: a.Type, Order: 1}
	switch {
	case a.TargetGroupARN != "":
		x.TargetGroupArn = a.TargetGroupARN
		x.ForwardConfig = &xForwardConfig{TargetGroups: []xTargetGroupTuple{{TargetGroupArn: a.TargetGroupARN, Weight: 1}}}
	case a.Redirect != nil:
		rd := a.Redirect
		// ALB reports the #{…} defaults of the fields left out.
		x.RedirectConfig = &xRedirect{Protocol: or(rd.Protocol, "#{protocol}"), Port: or(rd.Port, "#{port}"), Host: or(rd.Host, "#{host}"),
			Path: or(rd.Path, "/#{path}"), Query: or(rd.Query, "#{query}"), StatusCode: string(rd.StatusCode)}
	case a.FixedResponse != nil:
		f := a.FixedResponse
		x.FixedResponseConfig = &xFixedResponse{StatusCode: f.StatusCode, ContentType: f.ContentType, MessageBody: f.MessageBody}
	}
	return x
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func getListener(m *model, arn string) (*listenerRec, *apiError) {
	l, ok := m.Listeners[arn]
	if !ok {
		return nil, errf(codeListenerNotFound, "listener %s not found", arn)
	}
	return l, nil
}

func describeListeners(r *request) (any, *apiError) {
	if e := r.p.pageSize(); e != nil {
		return nil, e
	}
	lbARN, arns := r.p.str("LoadBalancerArn"), r.p.list("ListenerArns")
	if lbARN == "" && len(arns) == 0 {
		return nil, errf(codeValidation, "give LoadBalancerArn or ListenerArns")
	}
	return r.read(func(m *model) (any, *apiError) {
		var out []xListener
		if len(arns) > 0 {
			for _, a := range arns {
				l, e := getListener(m, a)
				if e != nil {
					return nil, e
				}
				out = append(out, describeListener(l))
			}
		} else {
			if _, e := getLB(m, lbARN); e != nil {
				return nil, e
			}
			for _, l := range m.listenersOf(lbARN) {
				out = append(out, describeListener(l))
			}
		}
		return struct {
			Listeners []xListener `xml:"Listeners>member"`
		}{out}, nil
	})
}

func deleteListener(r *request) (any, *apiError) {
	arn, e := r.p.required("ListenerArn")
	if e != nil {
		return nil, e
	}
	e = r.s.mutate(r.ctx, func(m *model) *apiError {
		if _, e := getListener(m, arn); e != nil {
			return e
		}
		delete(m.Listeners, arn)
		delete(m.Tags, arn)
		return nil
	})
	return struct{}{}, e
}

// listenerAttributeDefaults are the listener attributes albmtls emulates
// with ALB's defaults: the header renames (alb-behaviour §4.3; empty means
// the default name, which is what ALB describes) and the response headers.
func listenerAttributeDefaults() map[string]string {
	d := map[string]string{
		albheader.AttrClientCertName:             albheader.ClientCert,
		albheader.AttrClientCertSerialNumberName: albheader.ClientCertSerialNumber,
		albheader.AttrClientCertIssuerName:       albheader.ClientCertIssuer,
		albheader.AttrClientCertSubjectName:      albheader.ClientCertSubject,
		albheader.AttrClientCertValidityName:     albheader.ClientCertValidity,
		albheader.AttrClientCertLeafName:         albheader.ClientCertLeaf,
		albheader.AttrTLSVersionName:             albheader.TLSVersion,
		albheader.AttrTLSCipherSuiteName:         albheader.TLSCipherSuite,
	}
	for _, k := range albheader.ResponseKeys() {
		d[k] = ""
	}
	d[albheader.AttrServerEnabled] = "true"
	return d
}

func listenerAttributes(l *listenerRec) []xAttribute {
	vals := listenerAttributeDefaults()
	maps.Copy(vals, l.Attributes)
	return sortedAttributes(vals)
}

func describeListenerAttributes(r *request) (any, *apiError) {
	return describeAttributes(r, "ListenerArn", getListener, listenerAttributes)
}

func modifyListenerAttributes(r *request) (any, *apiError) {
	defaults := listenerAttributeDefaults()
	return modifyAttributes(r, "ListenerArn", getListener, func(l *listenerRec, a xAttribute) *apiError {
		if _, ok := defaults[a.Key]; !ok {
			return errf(codeValidation, "listener attribute key %q is not recognized; albmtls knows %s (the load balancer's own attributes go to ModifyLoadBalancerAttributes)",
				a.Key, strings.Join(slices.Sorted(maps.Keys(defaults)), ", "))
		}
		if l.Attributes == nil {
			l.Attributes = map[string]string{}
		}
		if a.Value == "" || a.Value == defaults[a.Key] {
			delete(l.Attributes, a.Key) // the default, as albmtls.yaml leaves it out
		} else {
			l.Attributes[a.Key] = a.Value
		}
		return nil
	}, listenerAttributes)
}
