package cloudformation

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIntrinsics evaluates each supported intrinsic in short and long form.
func TestIntrinsics(t *testing.T) {
	doc, err := decode([]byte(`
Parameters:
  Env: {Type: String, Default: dev}
Mappings:
  M: {dev: {Size: small}}
Conditions:
  IsDev: !Equals [!Ref Env, dev]
  NotDev: {"Fn::Not": [{Condition: IsDev}]}
Resources:
  Bucket: {Type: AWS::S3::Bucket, Properties: {BucketName: !Sub "b-${Env}"}}
  Store: {Type: AWS::ElasticLoadBalancingV2::TrustStore}
Values:
  - !Sub "x-${Env}-${AWS::Region}-${!Literal}"
  - !Sub ["${A}/${Env}", {A: a}]
  - !Join ["-", [a, !Ref Env, !Ref Bucket]]
  - !Select [1, !Split [",", "p,q,r"]]
  - !If [IsDev, yes, no]
  - !If [NotDev, yes, no]
  - !FindInMap [M, !Ref Env, Size]
  - !GetAtt Store.TrustStoreArn
  - {"Fn::GetAtt": [Store, TrustStoreArn]}
  - !Ref Store
  - !ImportValue shared
  - !Join ["", [!GetAtt Store.TrustStoreArn]]
  - [a, !Ref AWS::NoValue, b]
`))
	require.NoError(t, err)
	tp := &template{resources: map[string]map[string]any{}, params: map[string]any{"Env": "dev"}, region: "eu-west-1"}
	tp.mappings, _ = doc["Mappings"].(map[string]any)
	tp.conditions, _ = doc["Conditions"].(map[string]any)
	for id, r := range doc["Resources"].(map[string]any) {
		tp.resources[id] = r.(map[string]any)
	}
	got := tp.eval(doc["Values"]).([]any)
	want := []any{
		"x-dev-eu-west-1-${Literal}", "a/dev", "a-dev-b-dev", "q", "yes", "no", "small",
		ref{id: "Store", attr: "TrustStoreArn"}, ref{id: "Store", attr: "TrustStoreArn"}, ref{id: "Store"},
		&unresolved{why: "Fn::ImportValue is resolved only at deployment"},
		&unresolved{why: "Fn::Join of {Store TrustStoreArn}, which is known only after deployment"},
		[]any{"a", "b"},
	}
	require.Equal(t, want, got)
}
