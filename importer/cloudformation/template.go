package cloudformation

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ref is what Ref or Fn::GetAtt of a resource evaluates to: the resource,
// linked by logical ID, since its ARN exists only after deployment.
type ref struct {
	id   string
	attr string // "" for Ref
}

// unresolved is a value the template cannot give before deployment
// (Fn::ImportValue, a parameter without a value); why says which.
type unresolved struct{ why string }

// template is a parsed template with its parameters and conditions.
type template struct {
	resources  map[string]map[string]any // logical ID → {Type, Properties, …}
	params     map[string]any
	mappings   map[string]any
	conditions map[string]any
	region     string
	account    string
	stack      string
}

// decode reads YAML or JSON (JSON is YAML) and turns CloudFormation's
// short-form tags into their long form: !Ref X → {Ref: X}, !GetAtt A.B →
// {Fn::GetAtt: [A, B]}, !Sub … → {Fn::Sub: …}, and so on.
func decode(data []byte) (map[string]any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("the template is empty")
	}
	v, err := toValue(doc.Content[0])
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the template is not a mapping")
	}
	return m, nil
}

func toValue(n *yaml.Node) (any, error) {
	tag := ""
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		tag = n.Tag[1:]
	}
	var v any
	switch n.Kind {
	case yaml.AliasNode:
		return toValue(n.Alias)
	case yaml.ScalarNode:
		if tag != "" {
			v = n.Value
			break
		}
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
	case yaml.SequenceNode:
		l := []any{}
		for _, c := range n.Content {
			cv, err := toValue(c)
			if err != nil {
				return nil, err
			}
			l = append(l, cv)
		}
		v = l
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			cv, err := toValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = cv
		}
		v = m
	}
	switch tag {
	case "":
		return v, nil
	case "Ref", "Condition":
		return map[string]any{tag: v}, nil
	case "GetAtt":
		if s, ok := v.(string); ok {
			id, attr, _ := strings.Cut(s, ".")
			v = []any{id, attr}
		}
	}
	return map[string]any{"Fn::" + tag: v}, nil
}

func (t *template) eval(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if r := t.eval(e); r != noValue {
				out = append(out, r)
			}
		}
		return out
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") || k == "Condition" {
					return t.intrinsic(k, arg)
				}
			}
		}
		out := map[string]any{}
		for k, e := range x {
			if r := t.eval(e); r != noValue {
				out[k] = r
			}
		}
		return out
	}
	return v
}

// noValue is AWS::NoValue: the property is removed.
var noValue = &unresolved{why: "AWS::NoValue"}

func (t *template) intrinsic(fn string, arg any) any {
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		switch name {
		case "AWS::Region":
			return t.region
		case "AWS::AccountId":
			return t.account
		case "AWS::StackName":
			return t.stack
		case "AWS::Partition":
			return "aws"
		case "AWS::URLSuffix":
			return "amazonaws.com"
		case "AWS::NoValue":
			return noValue
		}
		if p, ok := t.params[name]; ok {
			return p
		}
		if _, ok := t.resources[name]; ok {
			return ref{id: name}
		}
		return &unresolved{why: fmt.Sprintf("Ref %s names no parameter or resource of the template", name)}
	case "Fn::GetAtt":
		l, _ := t.eval(arg).([]any)
		if len(l) == 2 {
			id, _ := l[0].(string)
			attr, _ := l[1].(string)
			if _, ok := t.resources[id]; ok {
				return ref{id: id, attr: attr}
			}
		}
		return &unresolved{why: fmt.Sprintf("Fn::GetAtt %v names no resource of the template", arg)}
	case "Fn::Join":
		l, _ := arg.([]any)
		if len(l) != 2 {
			return &unresolved{why: "Fn::Join needs [delimiter, list]"}
		}
		sep, _ := l[0].(string)
		items, _ := t.eval(l[1]).([]any)
		parts := make([]string, 0, len(items))
		for _, it := range items {
			s, ok := t.text(it)
			if !ok {
				return &unresolved{why: fmt.Sprintf("Fn::Join of %v, which is known only after deployment", it)}
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, sep)
	case "Fn::Sub":
		var s string
		vars := map[string]any{}
		switch a := arg.(type) {
		case string:
			s = a
		case []any:
			if len(a) == 2 {
				s, _ = a[0].(string)
				vars, _ = t.eval(a[1]).(map[string]any)
			}
		}
		return t.sub(s, vars)
	case "Fn::If":
		l, _ := arg.([]any)
		if len(l) != 3 {
			return &unresolved{why: "Fn::If needs [condition, then, else]"}
		}
		name, _ := l[0].(string)
		if t.condition(name) {
			return t.eval(l[1])
		}
		return t.eval(l[2])
	case "Fn::Select":
		l, _ := arg.([]any)
		if len(l) == 2 {
			i, _ := strconv.Atoi(fmt.Sprint(t.eval(l[0])))
			if items, ok := t.eval(l[1]).([]any); ok && i >= 0 && i < len(items) {
				return items[i]
			}
		}
		return &unresolved{why: "Fn::Select out of range"}
	case "Fn::Split":
		l, _ := arg.([]any)
		if len(l) == 2 {
			sep, _ := l[0].(string)
			if s, ok := t.text(t.eval(l[1])); ok {
				var out []any
				for _, p := range strings.Split(s, sep) {
					out = append(out, p)
				}
				return out
			}
		}
		return &unresolved{why: "Fn::Split of a value known only after deployment"}
	case "Fn::FindInMap":
		l, _ := t.eval(arg).([]any)
		if len(l) == 3 {
			v := any(t.mappings)
			for _, k := range l {
				m, _ := v.(map[string]any)
				v = m[fmt.Sprint(k)]
			}
			if v != nil {
				return t.eval(v)
			}
		}
		return &unresolved{why: fmt.Sprintf("Fn::FindInMap %v finds nothing", arg)}
	case "Condition":
		name, _ := arg.(string)
		return t.condition(name)
	case "Fn::Equals":
		l, _ := t.eval(arg).([]any)
		return len(l) == 2 && fmt.Sprint(l[0]) == fmt.Sprint(l[1])
	case "Fn::Not":
		l, _ := t.eval(arg).([]any)
		return len(l) == 1 && l[0] == false
	case "Fn::And", "Fn::Or":
		l, _ := t.eval(arg).([]any)
		all, anyTrue := true, false
		for _, e := range l {
			b, _ := e.(bool)
			all, anyTrue = all && b, anyTrue || b
		}
		if fn == "Fn::And" {
			return all
		}
		return anyTrue
	}
	return &unresolved{why: fn + " is resolved only at deployment"}
}

func (t *template) condition(name string) bool {
	b, _ := t.eval(t.conditions[name]).(bool)
	return b
}

// sub substitutes ${Name} and ${Resource.Attr}; ${!Literal} stays literal.
func (t *template) sub(s string, vars map[string]any) any {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		name := s[i+2 : i+j]
		s = s[i+j+1:]
		if strings.HasPrefix(name, "!") {
			b.WriteString("${" + name[1:] + "}")
			continue
		}
		var v any
		if x, ok := vars[name]; ok {
			v = x
		} else if id, attr, ok := strings.Cut(name, "."); ok {
			v = t.intrinsic("Fn::GetAtt", []any{id, attr})
		} else {
			v = t.intrinsic("Ref", name)
		}
		text, ok := t.text(v)
		if !ok {
			return &unresolved{why: fmt.Sprintf("Fn::Sub ${%s} is known only after deployment", name)}
		}
		b.WriteString(text)
	}
}

// text is a value as a string, where it is known before deployment: an
// S3 bucket's Ref is its BucketName.
func (t *template) text(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int, float64, bool:
		return fmt.Sprint(x), true
	case ref:
		r := t.resources[x.id]
		if typ, _ := r["Type"].(string); typ == "AWS::S3::Bucket" && (x.attr == "" || x.attr == "BucketName") {
			props, _ := r["Properties"].(map[string]any)
			return t.text(t.eval(props["BucketName"]))
		}
	}
	return "", false
}

// ids are the logical IDs of resources of one type, sorted.
func (t *template) ids(typ string) []string {
	var out []string
	for id, r := range t.resources {
		if r["Type"] == typ {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}
