package terraform

import (
	"strconv"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// resource is one managed resource instance of the plan: its planned values
// (what is known before apply) and its configuration expressions (the
// references that link it to others where values are unknown).
type resource struct {
	addr   string // absolute address: module.edge.aws_lb_listener.api
	module string // module path: "" or module.edge
	typ    string
	name   string // the resource name label
	values map[string]any
	expr   map[string]*tfjson.Expression
}

// plan indexes a plan's resources and modules for reference resolution.
type plan struct {
	resources []*resource
	byAddr    map[string]*resource // absolute address without instance key
	byARN     map[string]*resource
	modules   map[string]*tfjson.ConfigModule // module path → configuration
	calls     map[string]*tfjson.ModuleCall   // module path → the call that made it
}

func newPlan(p *tfjson.Plan) *plan {
	pl := &plan{byAddr: map[string]*resource{}, byARN: map[string]*resource{},
		modules: map[string]*tfjson.ConfigModule{}, calls: map[string]*tfjson.ModuleCall{}}
	if p.Config != nil && p.Config.RootModule != nil {
		pl.indexConfig("", p.Config.RootModule)
	}
	if p.PlannedValues != nil && p.PlannedValues.RootModule != nil {
		pl.indexValues(p.PlannedValues.RootModule)
	}
	return pl
}

func (pl *plan) indexConfig(path string, m *tfjson.ConfigModule) {
	pl.modules[path] = m
	for name, call := range m.ModuleCalls {
		child := join(path, "module."+name)
		pl.calls[child] = call
		if call.Module != nil {
			pl.indexConfig(child, call.Module)
		}
	}
}

func (pl *plan) indexValues(m *tfjson.StateModule) {
	for _, r := range m.Resources {
		if r.Mode != tfjson.ManagedResourceMode && r.Mode != "" {
			continue
		}
		res := &resource{addr: r.Address, module: m.Address, typ: r.Type, name: r.Name, values: r.AttributeValues}
		if cm := pl.modules[modulePath(m.Address)]; cm != nil {
			for _, cr := range cm.Resources {
				if cr.Type == r.Type && cr.Name == r.Name {
					res.expr = cr.Expressions
				}
			}
		}
		res.module = modulePath(m.Address)
		pl.resources = append(pl.resources, res)
		pl.byAddr[join(res.module, r.Type+"."+r.Name)] = res
		if arn, ok := res.values["arn"].(string); ok && arn != "" {
			pl.byARN[arn] = res
		}
	}
	for _, c := range m.ChildModules {
		pl.indexValues(c)
	}
}

// modulePath strips instance keys: module.edge["a"] → module.edge, since
// configuration is per module call, not per instance.
func modulePath(addr string) string {
	var parts []string
	for _, p := range strings.Split(addr, ".") {
		if i := strings.IndexByte(p, '['); i >= 0 {
			p = p[:i]
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ".")
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// ofType returns the resources of one type in plan order.
func (pl *plan) ofType(typ string) []*resource {
	var out []*resource
	for _, r := range pl.resources {
		if r.typ == typ {
			out = append(out, r)
		}
	}
	return out
}

// value walks values along a path of keys and list indexes.
func value(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// expression walks configuration expressions along the same path: nested
// blocks are lists of maps.
func expression(m map[string]*tfjson.Expression, path ...any) *tfjson.Expression {
	var e *tfjson.Expression
	for i := 0; i < len(path); i++ {
		k, ok := path[i].(string)
		if !ok || m == nil {
			return nil
		}
		e = m[k]
		if e == nil || e.ExpressionData == nil {
			return nil
		}
		if i+1 < len(path) {
			if idx, ok := path[i+1].(int); ok {
				if idx >= len(e.NestedBlocks) {
					return nil
				}
				m = e.NestedBlocks[idx]
				i++
				if i+1 == len(path) {
					return nil
				}
				continue
			}
			m = nil
		}
	}
	return e
}

// str is the known string (or number) at path.
func str(r *resource, path ...any) string {
	switch v := value(r.values, path...).(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func num(r *resource, path ...any) int {
	if f, ok := value(r.values, path...).(float64); ok {
		return int(f)
	}
	n, _ := strconv.Atoi(str(r, path...))
	return n
}

func blocks(r *resource, path ...any) []any {
	l, _ := value(r.values, path...).([]any)
	return l
}

// link finds the resource an argument points at: by a known ARN, else by
// the configuration's references, followed through module variables and
// outputs. attr is the attribute of that resource the reference reads
// (arn, id, bucket, key), "" when only the resource is known.
func (pl *plan) link(r *resource, path ...any) (*resource, string) {
	if arn := str(r, path...); arn != "" {
		if t := pl.byARN[arn]; t != nil {
			return t, "arn"
		}
	}
	e := expression(r.expr, path...)
	if e == nil {
		return nil, ""
	}
	return pl.follow(r.module, e.References, 0)
}

func (pl *plan) follow(module string, refs []string, depth int) (*resource, string) {
	if depth > 16 {
		return nil, ""
	}
	for _, ref := range refs {
		parts := strings.Split(stripIndex(ref), ".")
		switch {
		case parts[0] == "var" && len(parts) >= 2:
			call := pl.calls[module]
			if call == nil || call.Expressions[parts[1]] == nil || call.Expressions[parts[1]].ExpressionData == nil {
				continue
			}
			if t, a := pl.follow(parentModule(module), call.Expressions[parts[1]].References, depth+1); t != nil {
				return t, a
			}
		case parts[0] == "module" && len(parts) >= 3:
			child := join(module, "module."+parts[1])
			cm := pl.modules[child]
			if cm == nil || cm.Outputs[parts[2]] == nil || cm.Outputs[parts[2]].Expression == nil || cm.Outputs[parts[2]].Expression.ExpressionData == nil {
				continue
			}
			if t, a := pl.follow(child, cm.Outputs[parts[2]].Expression.References, depth+1); t != nil {
				return t, a
			}
		case len(parts) >= 2:
			if t := pl.byAddr[join(module, parts[0]+"."+parts[1])]; t != nil {
				attr := ""
				if len(parts) >= 3 {
					attr = parts[2]
				}
				return t, attr
			}
		}
	}
	return nil, ""
}

// stripIndex drops instance keys from a reference: aws_lb.x[0].arn → aws_lb.x.arn.
func stripIndex(ref string) string {
	var b strings.Builder
	depth := 0
	for _, c := range ref {
		switch {
		case c == '[':
			depth++
		case c == ']':
			depth--
		case depth == 0:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func parentModule(m string) string {
	i := strings.LastIndex(m, ".module.")
	if i < 0 {
		return ""
	}
	return m[:i]
}

// resolved is the string an argument has, known or read through its
// reference (aws_s3_bucket.ca.id → the bucket's name).
func (pl *plan) resolved(r *resource, path ...any) string {
	if s := str(r, path...); s != "" {
		return s
	}
	t, attr := pl.link(r, path...)
	if t == nil || attr == "" {
		return ""
	}
	if s := str(t, attr); s != "" {
		return s
	}
	if t.typ == "aws_s3_bucket" && (attr == "id" || attr == "bucket") {
		return str(t, "bucket")
	}
	return ""
}
