package elbv2

import (
	"maps"
	"slices"
)

// XML shapes of the ELBv2 responses: element names are the API model's
// member names, lists are wrapped in <member> (the Query protocol's
// default; the model has no xmlName or xmlFlattened traits).

type xLoadBalancer struct {
	LoadBalancerArn       string   `xml:"LoadBalancerArn"`
	DNSName               string   `xml:"DNSName"`
	CanonicalHostedZoneID string   `xml:"CanonicalHostedZoneId"`
	CreatedTime           string   `xml:"CreatedTime"`
	LoadBalancerName      string   `xml:"LoadBalancerName"`
	Scheme                string   `xml:"Scheme"`
	VpcID                 string   `xml:"VpcId,omitempty"`
	State                 xState   `xml:"State"`
	Type                  string   `xml:"Type"`
	AvailabilityZones     []xAZ    `xml:"AvailabilityZones>member"`
	SecurityGroups        []string `xml:"SecurityGroups>member,omitempty"`
	IPAddressType         string   `xml:"IpAddressType"`
}

type xState struct {
	Code   string `xml:"Code"`
	Reason string `xml:"Reason,omitempty"`
}

type xAZ struct {
	ZoneName string `xml:"ZoneName"`
	SubnetID string `xml:"SubnetId,omitempty"`
}

type xAttribute struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type xTargetGroup struct {
	TargetGroupArn             string   `xml:"TargetGroupArn"`
	TargetGroupName            string   `xml:"TargetGroupName"`
	Protocol                   string   `xml:"Protocol"`
	Port                       int      `xml:"Port"`
	VpcID                      string   `xml:"VpcId,omitempty"`
	HealthCheckProtocol        string   `xml:"HealthCheckProtocol"`
	HealthCheckPort            string   `xml:"HealthCheckPort"`
	HealthCheckEnabled         bool     `xml:"HealthCheckEnabled"`
	HealthCheckIntervalSeconds int      `xml:"HealthCheckIntervalSeconds"`
	HealthCheckTimeoutSeconds  int      `xml:"HealthCheckTimeoutSeconds"`
	HealthyThresholdCount      int      `xml:"HealthyThresholdCount"`
	UnhealthyThresholdCount    int      `xml:"UnhealthyThresholdCount"`
	HealthCheckPath            string   `xml:"HealthCheckPath"`
	Matcher                    xMatcher `xml:"Matcher"`
	LoadBalancerArns           []string `xml:"LoadBalancerArns>member"`
	TargetType                 string   `xml:"TargetType"`
	ProtocolVersion            string   `xml:"ProtocolVersion"`
	IPAddressType              string   `xml:"IpAddressType"`
}

type xMatcher struct {
	HTTPCode string `xml:"HttpCode"`
}

type xTargetHealthDescription struct {
	Target          xTarget       `xml:"Target"`
	HealthCheckPort string        `xml:"HealthCheckPort"`
	TargetHealth    xTargetHealth `xml:"TargetHealth"`
}

type xTarget struct {
	ID   string `xml:"Id"`
	Port int    `xml:"Port"`
}

type xTargetHealth struct {
	State       string `xml:"State"`
	Reason      string `xml:"Reason,omitempty"`
	Description string `xml:"Description,omitempty"`
}

type xListener struct {
	ListenerArn          string       `xml:"ListenerArn"`
	LoadBalancerArn      string       `xml:"LoadBalancerArn"`
	Port                 int          `xml:"Port"`
	Protocol             string       `xml:"Protocol"`
	Certificates         []xCert      `xml:"Certificates>member,omitempty"`
	SslPolicy            string       `xml:"SslPolicy,omitempty"`
	DefaultActions       []xAction    `xml:"DefaultActions>member"`
	MutualAuthentication *xMutualAuth `xml:"MutualAuthentication,omitempty"`
}

type xCert struct {
	CertificateArn string `xml:"CertificateArn"`
	IsDefault      *bool  `xml:"IsDefault,omitempty"`
}

type xAction struct {
	Type                string          `xml:"Type"`
	TargetGroupArn      string          `xml:"TargetGroupArn,omitempty"`
	Order               int             `xml:"Order,omitempty"`
	RedirectConfig      *xRedirect      `xml:"RedirectConfig,omitempty"`
	FixedResponseConfig *xFixedResponse `xml:"FixedResponseConfig,omitempty"`
	ForwardConfig       *xForwardConfig `xml:"ForwardConfig,omitempty"`
}

type xRedirect struct {
	Protocol   string `xml:"Protocol,omitempty"`
	Port       string `xml:"Port,omitempty"`
	Host       string `xml:"Host,omitempty"`
	Path       string `xml:"Path,omitempty"`
	Query      string `xml:"Query,omitempty"`
	StatusCode string `xml:"StatusCode"`
}

type xFixedResponse struct {
	MessageBody string `xml:"MessageBody,omitempty"`
	StatusCode  string `xml:"StatusCode"`
	ContentType string `xml:"ContentType,omitempty"`
}

type xForwardConfig struct {
	TargetGroups []xTargetGroupTuple `xml:"TargetGroups>member"`
}

type xTargetGroupTuple struct {
	TargetGroupArn string `xml:"TargetGroupArn"`
	Weight         int    `xml:"Weight"`
}

type xMutualAuth struct {
	Mode                          string `xml:"Mode"`
	TrustStoreArn                 string `xml:"TrustStoreArn,omitempty"`
	IgnoreClientCertificateExpiry *bool  `xml:"IgnoreClientCertificateExpiry,omitempty"`
	TrustStoreAssociationStatus   string `xml:"TrustStoreAssociationStatus,omitempty"`
	AdvertiseTrustStoreCaNames    string `xml:"AdvertiseTrustStoreCaNames,omitempty"`
}

type xTrustStore struct {
	Name                   string `xml:"Name"`
	TrustStoreArn          string `xml:"TrustStoreArn"`
	Status                 string `xml:"Status"`
	NumberOfCaCertificates int    `xml:"NumberOfCaCertificates"`
	TotalRevokedEntries    int64  `xml:"TotalRevokedEntries"`
}

type xRevocation struct {
	TrustStoreArn          string `xml:"TrustStoreArn"`
	RevocationID           int64  `xml:"RevocationId"`
	RevocationType         string `xml:"RevocationType"`
	NumberOfRevokedEntries int64  `xml:"NumberOfRevokedEntries"`
}

type xSSLPolicy struct {
	SslProtocols               []string  `xml:"SslProtocols>member"`
	Ciphers                    []xCipher `xml:"Ciphers>member"`
	Name                       string    `xml:"Name"`
	SupportedLoadBalancerTypes []string  `xml:"SupportedLoadBalancerTypes>member"`
}

type xCipher struct {
	Name     string `xml:"Name"`
	Priority int    `xml:"Priority"`
}

type xTagDescription struct {
	ResourceArn string `xml:"ResourceArn"`
	Tags        []xTag `xml:"Tags>member"`
}

type xTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value,omitempty"`
}

// sortedAttributes lists attribute values in key order, as ELBv2 does.
func sortedAttributes(vals map[string]string) []xAttribute {
	out := make([]xAttribute, 0, len(vals))
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		out = append(out, xAttribute{Key: k, Value: vals[k]})
	}
	return out
}

// describeAttributes answers a Describe*Attributes call: the resource the
// ARN parameter param names, found by get, and its attributes by list.
func describeAttributes[T any](r *request, param string, get func(*model, string) (T, *apiError), list func(T) []xAttribute) (any, *apiError) {
	arn, e := r.p.required(param)
	if e != nil {
		return nil, e
	}
	return r.read(func(m *model) (any, *apiError) {
		res, e := get(m, arn)
		if e != nil {
			return nil, e
		}
		return struct {
			Attributes []xAttribute `xml:"Attributes>member"`
		}{list(res)}, nil
	})
}

// modifyAttributes answers a Modify*Attributes call: each attribute is set
// on the resource the ARN parameter param names (found by get) with set,
// all or nothing, and the resource's attributes after the change are
// listed by list.
func modifyAttributes[T any](r *request, param string, get func(*model, string) (T, *apiError), set func(T, xAttribute) *apiError, list func(T) []xAttribute) (any, *apiError) {
	arn, e := r.p.required(param)
	if e != nil {
		return nil, e
	}
	attrs, e := readAttributes(r.p)
	if e != nil {
		return nil, e
	}
	var out []xAttribute
	e = r.s.mutate(r.ctx, func(m *model) *apiError {
		res, e := get(m, arn)
		if e != nil {
			return e
		}
		for _, a := range attrs {
			if e := set(res, a); e != nil {
				return e
			}
		}
		out = list(res)
		return nil
	})
	if e != nil {
		return nil, e
	}
	return struct {
		Attributes []xAttribute `xml:"Attributes>member"`
	}{out}, nil
}
