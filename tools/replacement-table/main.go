// Command replacementtable reads a provider's Go source, as the Go module proxy serves it, and prints as JSON
// which resource properties force a replacement. It only parses (go/parser): nothing of the provider is
// compiled or run, so it needs no dependency of the provider.
//
//	replacementtable aws DIR aws_db_instance aws_vpc ...   terraform-provider-aws: ForceNew / RequiresReplace
//	replacementtable kubernetes DIR                         pulumi-kubernetes: the provider's forceNew tables
//	replacementtable random DIR                             terraform-provider-random: RequiresReplace
//
// tools/replacement_table.py runs it and maps Terraform names onto Pulumi property names.
package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Attr is one schema attribute or block, with what changing it does.
type Attr struct {
	Name        string  `json:"name"`
	Type        string  `json:"type,omitempty"`
	MaxItemsOne bool    `json:"maxItemsOne,omitempty"`
	ForceNew    bool    `json:"forceNew,omitempty"`
	Conditional string  `json:"conditional,omitempty"`
	Required    bool    `json:"required,omitempty"`
	Optional    bool    `json:"optional,omitempty"`
	Computed    bool    `json:"computed,omitempty"`
	Children    []*Attr `json:"children,omitempty"`
	Unresolved  string  `json:"unresolved,omitempty"`
}

// Conditional is a replacement decided at plan time by code (CustomizeDiff, ModifyPlan).
type Conditional struct {
	Path   string `json:"path"`
	How    string `json:"how"`
	Source string `json:"source"`
}

// Resource is one Terraform resource type's schema.
type Resource struct {
	TypeName     string        `json:"typeName"`
	SDK          string        `json:"sdk"` // sdkv2 | framework
	Source       string        `json:"source"`
	Attrs        []*Attr       `json:"attributes"`
	Conditionals []Conditional `json:"conditionals,omitempty"`
}

type pkg struct {
	importPath string
	dir        string
	files      []*ast.File
	names      map[*ast.File]string
	funcs      map[string]*ast.FuncDecl
	methods    map[string]map[string]*ast.FuncDecl
	types      map[string]*ast.TypeSpec
	values     map[string]ast.Expr
	declFile   map[ast.Node]*ast.File
}

type module struct {
	root string
	path string
	fset *token.FileSet
	pkgs map[string]*pkg
}

type ctx struct {
	p    *pkg
	f    *ast.File
	body *ast.BlockStmt
}

func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "replacementtable: "+format+"\n", args...)
	os.Exit(2)
}

func newModule(root string) *module {
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		die("%v", err)
	}
	first := strings.Fields(strings.SplitN(string(data), "\n", 2)[0])
	if len(first) != 2 || first[0] != "module" {
		die("%s/go.mod has no module line", root)
	}
	return &module{root: root, path: first[1], fset: token.NewFileSet(), pkgs: map[string]*pkg{}}
}

func (m *module) load(importPath string) *pkg {
	if p, ok := m.pkgs[importPath]; ok {
		return p
	}
	if importPath != m.path && !strings.HasPrefix(importPath, m.path+"/") {
		m.pkgs[importPath] = nil
		return nil
	}
	dir := filepath.Join(m.root, strings.TrimPrefix(strings.TrimPrefix(importPath, m.path), "/"))
	entries, err := os.ReadDir(dir)
	if err != nil {
		m.pkgs[importPath] = nil
		return nil
	}
	p := &pkg{importPath: importPath, dir: dir, names: map[*ast.File]string{}, funcs: map[string]*ast.FuncDecl{},
		methods: map[string]map[string]*ast.FuncDecl{}, types: map[string]*ast.TypeSpec{}, values: map[string]ast.Expr{},
		declFile: map[ast.Node]*ast.File{}}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(m.fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			die("parse %s: %v", name, err)
		}
		p.files = append(p.files, f)
		p.names[f] = name
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				p.declFile[d] = f
				if d.Recv == nil {
					p.funcs[d.Name.Name] = d
				} else if recv := recvType(d); recv != "" {
					if p.methods[recv] == nil {
						p.methods[recv] = map[string]*ast.FuncDecl{}
					}
					p.methods[recv][d.Name.Name] = d
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						p.types[s.Name.Name] = s
						p.declFile[s] = f
					case *ast.ValueSpec:
						for i, n := range s.Names {
							if i < len(s.Values) {
								p.values[n.Name] = s.Values[i]
								p.declFile[s.Values[i]] = f
							}
						}
					}
				}
			}
		}
	}
	m.pkgs[importPath] = p
	return p
}

func recvType(d *ast.FuncDecl) string {
	if len(d.Recv.List) == 0 {
		return ""
	}
	t := d.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if ix, ok := t.(*ast.IndexExpr); ok {
		t = ix.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

func importsOf(f *ast.File) map[string]string {
	out := map[string]string{}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		name := filepath.Base(path)
		if imp.Name != nil {
			name = imp.Name.Name
		}
		out[name] = path
	}
	return out
}

func (m *module) pos(n ast.Node) string {
	p := m.fset.Position(n.Pos())
	rel, err := filepath.Rel(m.root, p.Filename)
	if err != nil {
		rel = p.Filename
	}
	return fmt.Sprintf("%s:%d", filepath.ToSlash(rel), p.Line)
}

func unparen(e ast.Expr) ast.Expr {
	for {
		switch x := e.(type) {
		case *ast.ParenExpr:
			e = x.X
		case *ast.UnaryExpr:
			if x.Op != token.AND {
				return e
			}
			e = x.X
		default:
			return e
		}
	}
}

// selectorPkg resolves `pkgname.Name` to the imported package, when it is part of the module.
func (m *module) selectorPkg(sel *ast.SelectorExpr, c ctx) (*pkg, ctx, bool) {
	id, ok := sel.X.(*ast.Ident)
	if !ok || c.f == nil {
		return nil, c, false
	}
	path, ok := importsOf(c.f)[id.Name]
	if !ok {
		return nil, c, false
	}
	p := m.load(path)
	if p == nil {
		return nil, c, false
	}
	return p, ctx{p: p}, true
}

func (m *module) str(e ast.Expr, c ctx) (string, bool) {
	switch x := unparen(e).(type) {
	case *ast.BasicLit:
		if x.Kind == token.STRING {
			s, err := strconv.Unquote(x.Value)
			return s, err == nil
		}
	case *ast.Ident:
		if v := localValue(x.Name, c.body); v != nil {
			return m.str(v, c)
		}
		if v, ok := c.p.values[x.Name]; ok {
			return m.str(v, ctx{p: c.p, f: c.p.declFile[v]})
		}
	case *ast.SelectorExpr:
		if p, _, ok := m.selectorPkg(x, c); ok {
			if v, ok := p.values[x.Sel.Name]; ok {
				return m.str(v, ctx{p: p, f: p.declFile[v]})
			}
		}
	case *ast.BinaryExpr:
		if x.Op == token.ADD {
			a, ok1 := m.str(x.X, c)
			b, ok2 := m.str(x.Y, c)
			return a + b, ok1 && ok2
		}
	}
	return "", false
}

// localValue is the expression last assigned to a plain variable at the top level of a function body.
func localValue(name string, body *ast.BlockStmt) ast.Expr {
	if body == nil {
		return nil
	}
	var found ast.Expr
	for _, st := range body.List {
		switch s := st.(type) {
		case *ast.AssignStmt:
			for i, l := range s.Lhs {
				if id, ok := l.(*ast.Ident); ok && id.Name == name && i < len(s.Rhs) && len(s.Lhs) == len(s.Rhs) {
					if found == nil {
						found = s.Rhs[i]
					}
				}
			}
		case *ast.DeclStmt:
			if g, ok := s.Decl.(*ast.GenDecl); ok {
				for _, sp := range g.Specs {
					if vs, ok := sp.(*ast.ValueSpec); ok {
						for i, n := range vs.Names {
							if n.Name == name && i < len(vs.Values) && found == nil {
								found = vs.Values[i]
							}
						}
					}
				}
			}
		}
	}
	return found
}

func (m *module) funcOf(e ast.Expr, c ctx) (*ast.FuncDecl, ctx) {
	switch x := unparen(e).(type) {
	case *ast.Ident:
		if fd, ok := c.p.funcs[x.Name]; ok {
			return fd, ctx{p: c.p, f: c.p.declFile[fd], body: fd.Body}
		}
	case *ast.SelectorExpr:
		if p, _, ok := m.selectorPkg(x, c); ok {
			if fd, ok := p.funcs[x.Sel.Name]; ok {
				return fd, ctx{p: p, f: p.declFile[fd], body: fd.Body}
			}
		}
	case *ast.IndexExpr: // a generic function instantiation
		return m.funcOf(x.X, c)
	}
	return nil, c
}

func (m *module) onceValue(fun ast.Expr, c ctx) (ast.Expr, ctx, bool) {
	var v ast.Expr
	var p *pkg
	switch x := unparen(fun).(type) {
	case *ast.Ident:
		v, p = c.p.values[x.Name], c.p
	case *ast.SelectorExpr:
		if q, _, ok := m.selectorPkg(x, c); ok {
			v, p = q.values[x.Sel.Name], q
		}
	}
	call, ok := v.(*ast.CallExpr)
	if !ok || !strings.HasPrefix(typeName(call.Fun), "OnceValue") || len(call.Args) != 1 {
		return nil, c, false
	}
	lit, ok := call.Args[0].(*ast.FuncLit)
	if !ok {
		return nil, c, false
	}
	r := lastReturn(lit.Body)
	if r == nil {
		return nil, c, false
	}
	return r, ctx{p: p, f: p.declFile[v], body: lit.Body}, true
}

func lastReturn(body *ast.BlockStmt) ast.Expr {
	if body == nil {
		return nil
	}
	for i := len(body.List) - 1; i >= 0; i-- {
		if r, ok := body.List[i].(*ast.ReturnStmt); ok && len(r.Results) > 0 {
			return r.Results[0]
		}
	}
	return nil
}

// deref follows calls, function references and variables to the composite literal that builds a value.
func (m *module) deref(e ast.Expr, c ctx) (ast.Expr, ctx) {
	for i := 0; i < 12; i++ {
		e = unparen(e)
		switch x := e.(type) {
		case *ast.CompositeLit:
			return x, c
		case *ast.CallExpr:
			if sel, ok := x.Fun.(*ast.SelectorExpr); ok && len(x.Args) == 1 {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "maps" && sel.Sel.Name == "Clone" {
					e = x.Args[0]
					continue
				}
			}
			fd, c2 := m.funcOf(x.Fun, c)
			if fd == nil {
				// `var TagsSchema = sync.OnceValue(func() *schema.Schema {...})`, called as TagsSchema()
				if v, c3, ok := m.onceValue(x.Fun, c); ok {
					e, c = v, c3
					continue
				}
				return e, c
			}
			r := lastReturn(fd.Body)
			if r == nil {
				return e, c
			}
			e, c = r, c2
		case *ast.FuncLit:
			r := lastReturn(x.Body)
			if r == nil {
				return e, c
			}
			e, c = r, ctx{p: c.p, f: c.f, body: x.Body}
		case *ast.Ident:
			if v := localValue(x.Name, c.body); v != nil {
				e = v
				continue
			}
			if fd, ok := c.p.funcs[x.Name]; ok {
				r := lastReturn(fd.Body)
				if r == nil {
					return e, c
				}
				e, c = r, ctx{p: c.p, f: c.p.declFile[fd], body: fd.Body}
				continue
			}
			if v, ok := c.p.values[x.Name]; ok {
				e, c = v, ctx{p: c.p, f: c.p.declFile[v]}
				continue
			}
			return e, c
		case *ast.SelectorExpr:
			p, _, ok := m.selectorPkg(x, c)
			if !ok {
				return e, c
			}
			if v, ok := p.values[x.Sel.Name]; ok {
				e, c = v, ctx{p: p, f: p.declFile[v]}
				continue
			}
			return e, c
		default:
			return e, c
		}
	}
	return e, c
}

func typeName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.SelectorExpr:
		return x.Sel.Name
	case *ast.Ident:
		return x.Name
	case *ast.StarExpr:
		return typeName(x.X)
	case *ast.IndexExpr:
		return typeName(x.X)
	case *ast.MapType:
		return "map"
	case *ast.ArrayType:
		return "slice"
	}
	return ""
}

func fields(lit *ast.CompositeLit) map[string]ast.Expr {
	out := map[string]ast.Expr{}
	for _, el := range lit.Elts {
		if kv, ok := el.(*ast.KeyValueExpr); ok {
			if id, ok := kv.Key.(*ast.Ident); ok {
				out[id.Name] = kv.Value
			}
		}
	}
	return out
}

func isTrue(e ast.Expr) bool {
	id, ok := unparen(e).(*ast.Ident)
	return ok && id.Name == "true"
}

func exprText(m *module, e ast.Expr) string {
	start, end := m.fset.Position(e.Pos()), m.fset.Position(e.End())
	data, err := os.ReadFile(start.Filename)
	if err != nil || end.Offset > len(data) {
		return "?"
	}
	text := strings.Join(strings.Fields(string(data[start.Offset:end.Offset])), " ")
	if len(text) > 80 {
		text = text[:77] + "..."
	}
	return text
}

// ------------------------------------------------------------------ terraform-plugin-sdk/v2

func (m *module) sdkSchemaMap(e ast.Expr, c ctx) []*Attr {
	lit, c2 := m.deref(e, c)
	cl, ok := lit.(*ast.CompositeLit)
	if !ok {
		return []*Attr{{Name: "?", Unresolved: exprText(m, e)}}
	}
	if typeName(cl.Type) == "Resource" {
		return m.sdkResourceAttrs(cl, c2)
	}
	var out []*Attr
	for _, el := range cl.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		name, ok := m.str(kv.Key, c2)
		if !ok {
			out = append(out, &Attr{Name: "?", Unresolved: exprText(m, kv.Key)})
			continue
		}
		a := m.sdkSchema(kv.Value, c2)
		a.Name = name
		out = append(out, a)
	}
	// Entries added after the literal: `s["name"] = &schema.Schema{...}` in the building function.
	if id, ok := unparen(e).(*ast.Ident); ok && c.body != nil {
		out = append(out, m.sdkIndexAssignments(id.Name, c)...)
	}
	return out
}

func (m *module) sdkIndexAssignments(name string, c ctx) []*Attr {
	var out []*Attr
	for _, st := range c.body.List {
		as, ok := st.(*ast.AssignStmt)
		if !ok || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
			continue
		}
		ix, ok := as.Lhs[0].(*ast.IndexExpr)
		if !ok {
			continue
		}
		if id, ok := ix.X.(*ast.Ident); !ok || id.Name != name {
			continue
		}
		key, ok := m.str(ix.Index, c)
		if !ok {
			continue
		}
		a := m.sdkSchema(as.Rhs[0], c)
		a.Name = key
		out = append(out, a)
	}
	return out
}

func (m *module) sdkResourceAttrs(cl *ast.CompositeLit, c ctx) []*Attr {
	f := fields(cl)
	if s, ok := f["Schema"]; ok {
		return m.sdkSchemaMap(s, c)
	}
	if s, ok := f["SchemaFunc"]; ok {
		return m.sdkSchemaMap(s, c)
	}
	return []*Attr{{Name: "?", Unresolved: "no Schema in " + exprText(m, cl)}}
}

var sdkTypes = map[string]string{
	"TypeString": "string", "TypeInt": "number", "TypeFloat": "number", "TypeBool": "bool",
	"TypeList": "list", "TypeSet": "set", "TypeMap": "map",
}

func (m *module) sdkSchema(e ast.Expr, c ctx) *Attr {
	lit, c2 := m.deref(e, c)
	cl, ok := lit.(*ast.CompositeLit)
	if !ok {
		return &Attr{Unresolved: exprText(m, e)}
	}
	a := &Attr{}
	f := fields(cl)
	if t, ok := f["Type"]; ok {
		a.Type = sdkTypes[typeName(unparen(t))]
	}
	a.ForceNew = isTrue(f["ForceNew"])
	a.Required, a.Optional, a.Computed = isTrue(f["Required"]), isTrue(f["Optional"]), isTrue(f["Computed"])
	if mi, ok := f["MaxItems"]; ok {
		if b, ok := unparen(mi).(*ast.BasicLit); ok && b.Value == "1" {
			a.MaxItemsOne = true
		}
	}
	if el, ok := f["Elem"]; ok {
		elit, c3 := m.deref(el, c2)
		if ecl, ok := elit.(*ast.CompositeLit); ok {
			switch typeName(ecl.Type) {
			case "Resource":
				a.Children = m.sdkResourceAttrs(ecl, c3)
			case "Schema":
				if inner := m.sdkSchema(ecl, c3); inner.ForceNew {
					a.ForceNew = true
				}
			}
		}
	}
	return a
}

// ------------------------------------------------------------------ terraform-plugin-framework

var fwTypes = map[string]string{
	"StringAttribute": "string", "BoolAttribute": "bool", "Int64Attribute": "number", "Int32Attribute": "number",
	"Float64Attribute": "number", "Float32Attribute": "number", "NumberAttribute": "number",
	"ListAttribute": "list", "SetAttribute": "set", "MapAttribute": "map", "ObjectAttribute": "object",
	"ListNestedAttribute": "list", "SetNestedAttribute": "set", "MapNestedAttribute": "map", "SingleNestedAttribute": "object",
	"ListNestedBlock": "list", "SetNestedBlock": "set", "SingleNestedBlock": "object",
}

func (m *module) fwMap(e ast.Expr, c ctx) []*Attr {
	lit, c2 := m.deref(e, c)
	cl, ok := lit.(*ast.CompositeLit)
	if !ok {
		return []*Attr{{Name: "?", Unresolved: exprText(m, e)}}
	}
	var out []*Attr
	for _, el := range cl.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		name, ok := m.str(kv.Key, c2)
		if !ok {
			out = append(out, &Attr{Name: "?", Unresolved: exprText(m, kv.Key)})
			continue
		}
		a := m.fwAttr(kv.Value, c2)
		a.Name = name
		out = append(out, a)
	}
	return out
}

func (m *module) fwAttr(e ast.Expr, c ctx) *Attr {
	lit, c2 := m.deref(e, c)
	cl, ok := lit.(*ast.CompositeLit)
	if !ok {
		return &Attr{Unresolved: exprText(m, e)}
	}
	kind := typeName(cl.Type)
	a := &Attr{Type: fwTypes[kind]}
	if a.Type == "" {
		a.Unresolved = "unknown attribute kind " + kind
	}
	f := fields(cl)
	a.Required, a.Optional, a.Computed = isTrue(f["Required"]), isTrue(f["Optional"]), isTrue(f["Computed"])
	if pm, ok := f["PlanModifiers"]; ok {
		if pl, ok := unparen(pm).(*ast.CompositeLit); ok {
			for _, mod := range pl.Elts {
				call, ok := unparen(mod).(*ast.CallExpr)
				if !ok {
					continue
				}
				name := typeName(call.Fun)
				if !strings.HasPrefix(name, "RequiresReplace") {
					continue
				}
				a.ForceNew = true
				if name != "RequiresReplace" {
					a.Conditional = name
				}
			}
		}
	}
	if v, ok := f["Validators"]; ok {
		if vl, ok := unparen(v).(*ast.CompositeLit); ok {
			for _, val := range vl.Elts {
				if call, ok := unparen(val).(*ast.CallExpr); ok && typeName(call.Fun) == "SizeAtMost" && len(call.Args) == 1 {
					if b, ok := unparen(call.Args[0]).(*ast.BasicLit); ok && b.Value == "1" {
						a.MaxItemsOne = true
					}
				}
			}
		}
	}
	if no, ok := f["NestedObject"]; ok {
		if nlit, c3 := m.deref(no, c2); nlit != nil {
			if ncl, ok := nlit.(*ast.CompositeLit); ok {
				nf := fields(ncl)
				if x, ok := nf["Attributes"]; ok {
					a.Children = append(a.Children, m.fwMap(x, c3)...)
				}
				if x, ok := nf["Blocks"]; ok {
					a.Children = append(a.Children, m.fwMap(x, c3)...)
				}
			}
		}
	}
	for _, key := range []string{"Attributes", "Blocks"} {
		if x, ok := f[key]; ok {
			a.Children = append(a.Children, m.fwMap(x, c2)...)
		}
	}
	return a
}

func (m *module) fwSchema(p *pkg, factory *ast.FuncDecl) ([]*Attr, *ast.FuncDecl) {
	typ := ""
	ast.Inspect(factory.Body, func(n ast.Node) bool {
		if typ != "" {
			return false
		}
		if cl, ok := n.(*ast.CompositeLit); ok {
			if id, ok := cl.Type.(*ast.Ident); ok {
				if _, ok := p.types[id.Name]; ok {
					typ = id.Name
				}
			}
		}
		return true
	})
	return m.fwSchemaOf(p, typ)
}

func (m *module) fwSchemaOf(p *pkg, typ string) ([]*Attr, *ast.FuncDecl) {
	method := m.findMethod(p, typ, "Schema", 0)
	if method == nil {
		return []*Attr{{Name: "?", Unresolved: "no Schema method for " + typ}}, nil
	}
	c := ctx{p: p, f: p.declFile[method], body: method.Body}
	var rhs ast.Expr
	ast.Inspect(method.Body, func(n ast.Node) bool {
		if as, ok := n.(*ast.AssignStmt); ok && len(as.Lhs) == 1 && len(as.Rhs) == 1 {
			if sel, ok := as.Lhs[0].(*ast.SelectorExpr); ok && sel.Sel.Name == "Schema" && rhs == nil {
				rhs = as.Rhs[0]
			}
		}
		return true
	})
	if rhs == nil {
		return []*Attr{{Name: "?", Unresolved: "no response.Schema assignment in " + typ}}, method
	}
	lit, c2 := m.deref(rhs, c)
	cl, ok := lit.(*ast.CompositeLit)
	if !ok {
		return []*Attr{{Name: "?", Unresolved: exprText(m, rhs)}}, method
	}
	f := fields(cl)
	var out []*Attr
	for _, key := range []string{"Attributes", "Blocks"} {
		if x, ok := f[key]; ok {
			out = append(out, m.fwMap(x, c2)...)
		}
	}
	return out, method
}

// findMethod looks for a method on a type, then on the types it embeds.
func (m *module) findMethod(p *pkg, typ, name string, depth int) *ast.FuncDecl {
	if typ == "" || depth > 4 {
		return nil
	}
	if fd, ok := p.methods[typ][name]; ok {
		return fd
	}
	ts, ok := p.types[typ]
	if !ok {
		return nil
	}
	st, ok := ts.Type.(*ast.StructType)
	if !ok {
		return nil
	}
	for _, fld := range st.Fields.List {
		if len(fld.Names) != 0 {
			continue
		}
		t := fld.Type
		if s, ok := t.(*ast.StarExpr); ok {
			t = s.X
		}
		if id, ok := t.(*ast.Ident); ok {
			if fd := m.findMethod(p, id.Name, name, depth+1); fd != nil {
				return fd
			}
		}
	}
	return nil
}

// conditionals are replacements decided by code in the resource's file: CustomizeDiff's ForceNew* and
// the framework's response.RequiresReplace.
func (m *module) conditionals(f *ast.File, c ctx) []Conditional {
	var out []Conditional
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.CallExpr:
			name := typeName(x.Fun)
			if (name == "ForceNewIf" || name == "ForceNewIfChange" || name == "ForceNew") && len(x.Args) >= 1 {
				if path, ok := m.str(x.Args[0], c); ok {
					out = append(out, Conditional{Path: path, How: name, Source: m.pos(x)})
				}
			}
		case *ast.AssignStmt:
			if len(x.Lhs) == 1 {
				if sel, ok := x.Lhs[0].(*ast.SelectorExpr); ok && sel.Sel.Name == "RequiresReplace" {
					ast.Inspect(x.Rhs[0], func(n ast.Node) bool {
						if call, ok := n.(*ast.CallExpr); ok && typeName(call.Fun) == "Root" && len(call.Args) == 1 {
							if path, ok := m.str(call.Args[0], c); ok {
								out = append(out, Conditional{Path: path, How: "ModifyPlan RequiresReplace", Source: m.pos(call)})
							}
						}
						return true
					})
				}
			}
		}
		return true
	})
	return out
}

type factory struct {
	p    *pkg
	name string
	sdk  string
}

func (m *module) factories() map[string]factory {
	out := map[string]factory{}
	serviceDir := filepath.Join(m.root, "internal", "service")
	dirs, err := os.ReadDir(serviceDir)
	if err != nil {
		die("%v", err)
	}
	for _, d := range dirs {
		file := filepath.Join(serviceDir, d.Name(), "service_package_gen.go")
		f, err := parser.ParseFile(m.fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		importPath := m.path + "/internal/service/" + d.Name()
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || (fd.Name.Name != "SDKResources" && fd.Name.Name != "FrameworkResources") {
				continue
			}
			sdk := map[string]string{"SDKResources": "sdkv2", "FrameworkResources": "framework"}[fd.Name.Name]
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				cl, ok := n.(*ast.CompositeLit)
				if !ok {
					return true
				}
				fs := fields(cl)
				tn, ok1 := fs["TypeName"]
				fac, ok2 := fs["Factory"]
				if !ok1 || !ok2 {
					return true
				}
				lit, ok := tn.(*ast.BasicLit)
				id, ok3 := fac.(*ast.Ident)
				if ok && ok3 {
					name, _ := strconv.Unquote(lit.Value)
					out[name] = factory{p: &pkg{importPath: importPath}, name: id.Name, sdk: sdk}
				}
				return true
			})
		}
	}
	return out
}

func (m *module) resource(typeName string, fac factory) Resource {
	p := m.load(fac.p.importPath)
	if p == nil {
		die("cannot load %s for %s", fac.p.importPath, typeName)
	}
	fd, ok := p.funcs[fac.name]
	if !ok {
		die("no factory %s for %s", fac.name, typeName)
	}
	f := p.declFile[fd]
	c := ctx{p: p, f: f, body: fd.Body}
	r := Resource{TypeName: typeName, SDK: fac.sdk, Source: m.pos(fd)}
	if fac.sdk == "sdkv2" {
		lit, c2 := m.deref(lastReturn(fd.Body), c)
		cl, ok := lit.(*ast.CompositeLit)
		if !ok {
			die("%s: factory %s returns no schema.Resource literal", typeName, fac.name)
		}
		r.Attrs = m.sdkResourceAttrs(cl, c2)
		r.Conditionals = m.conditionals(f, c)
	} else {
		attrs, method := m.fwSchema(p, fd)
		r.Attrs = attrs
		r.Conditionals = m.conditionals(f, c)
		if method != nil && p.declFile[method] != f {
			r.Conditionals = append(r.Conditionals, m.conditionals(p.declFile[method], ctx{p: p, f: p.declFile[method]})...)
		}
	}
	sortAttrs(r.Attrs)
	return r
}

func sortAttrs(attrs []*Attr) {
	sort.SliceStable(attrs, func(i, j int) bool { return attrs[i].Name < attrs[j].Name })
	for _, a := range attrs {
		sortAttrs(a.Children)
	}
}

// regionRule finds how the provider replaces a resource whose `region` changes (Terraform AWS provider 6).
func (m *module) regionRule() []Conditional {
	var out []Conditional
	for _, rel := range []string{"internal/provider/sdkv2/region.go", "internal/provider/framework/region.go"} {
		file := filepath.Join(m.root, rel)
		f, err := parser.ParseFile(m.fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		p := m.load(m.path + "/" + filepath.ToSlash(filepath.Dir(rel)))
		c := ctx{p: p, f: f}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				return true
			}
			name := typeName(call.Fun)
			if name == "ForceNew" || strings.HasPrefix(name, "RequiresReplace") || name == "Root" {
				if s, ok := m.str(call.Args[0], c); ok && s == "region" {
					out = append(out, Conditional{Path: "region", How: name, Source: m.pos(call)})
				}
			}
			return true
		})
	}
	return out
}

// frameworkMain reads a terraform-plugin-framework provider laid out as internal/provider (the random
// provider): each resource type's Metadata method names it, its Schema method says what it is.
func frameworkMain(dir, prefix string) {
	m := newModule(dir)
	p := m.load(m.path + "/internal/provider")
	if p == nil {
		die("no internal/provider in %s", dir)
	}
	resources := map[string]Resource{}
	for typ, methods := range p.methods {
		md, ok := methods["Metadata"]
		if !ok || methods["Schema"] == nil || methods["Create"] == nil {
			continue
		}
		suffix := ""
		ast.Inspect(md.Body, func(n ast.Node) bool {
			if be, ok := n.(*ast.BinaryExpr); ok && be.Op == token.ADD {
				if lit, ok := be.Y.(*ast.BasicLit); ok {
					suffix, _ = strconv.Unquote(lit.Value)
				}
			}
			return true
		})
		if suffix == "" {
			continue
		}
		attrs, method := m.fwSchemaOf(p, typ)
		sortAttrs(attrs)
		r := Resource{TypeName: prefix + suffix, SDK: "framework", Source: m.pos(method), Attrs: attrs}
		r.Conditionals = m.conditionals(p.declFile[method], ctx{p: p, f: p.declFile[method]})
		resources[r.TypeName] = r
	}
	emit(map[string]any{"resources": resources})
}

func awsMain(dir string, types []string) {
	m := newModule(dir)
	facs := m.factories()
	out := map[string]any{}
	resources := map[string]Resource{}
	missing := []string{}
	for _, t := range types {
		fac, ok := facs[t]
		if !ok {
			missing = append(missing, t)
			continue
		}
		resources[t] = m.resource(t, fac)
	}
	out["resources"] = resources
	out["missing"] = missing
	out["region"] = m.regionRule()
	emit(out)
}

// ------------------------------------------------------------------ pulumi-kubernetes

// kubeEval is a tiny evaluator for the provider's forceNew tables: string lists built from literals,
// concatenation, append and helper functions over prefixes.
type kubeEval struct {
	m *module
	p *pkg
}

func (k *kubeEval) list(e ast.Expr, env map[string][]string) []string {
	switch x := unparen(e).(type) {
	case *ast.CompositeLit:
		var out []string
		for _, el := range x.Elts {
			out = append(out, k.list(el, env)...)
		}
		return out
	case *ast.BasicLit:
		s, _ := strconv.Unquote(x.Value)
		return []string{s}
	case *ast.BinaryExpr:
		var out []string
		for _, a := range k.list(x.X, env) {
			for _, b := range k.list(x.Y, env) {
				out = append(out, a+b)
			}
		}
		return out
	case *ast.Ident:
		if v, ok := env[x.Name]; ok {
			return v
		}
		if v, ok := k.p.values[x.Name]; ok {
			return k.list(v, env)
		}
		die("kubernetes: cannot evaluate %s", x.Name)
	case *ast.CallExpr:
		name := typeName(x.Fun)
		if name == "append" {
			var out []string
			for _, a := range x.Args {
				out = append(out, k.list(a, env)...)
			}
			return out
		}
		fd, ok := k.p.funcs[name]
		if !ok {
			die("kubernetes: cannot evaluate call %s", name)
		}
		callEnv := map[string][]string{}
		var params []string
		for _, f := range fd.Type.Params.List {
			for _, n := range f.Names {
				params = append(params, n.Name)
			}
		}
		for i, pname := range params {
			if i == len(params)-1 && fd.Type.Params.List[len(fd.Type.Params.List)-1].Type != nil {
				if _, variadic := fd.Type.Params.List[len(fd.Type.Params.List)-1].Type.(*ast.Ellipsis); variadic {
					var rest []string
					for _, a := range x.Args[i:] {
						rest = append(rest, k.list(a, env)...)
					}
					callEnv[pname] = rest
					continue
				}
			}
			callEnv[pname] = k.list(x.Args[i], env)
		}
		return k.body(fd.Body, callEnv)
	}
	die("kubernetes: cannot evaluate %T", e)
	return nil
}

func (k *kubeEval) body(b *ast.BlockStmt, env map[string][]string) []string {
	for _, st := range b.List {
		switch s := st.(type) {
		case *ast.ReturnStmt:
			return k.list(s.Results[0], env)
		case *ast.DeclStmt:
			g := s.Decl.(*ast.GenDecl)
			for _, sp := range g.Specs {
				for _, n := range sp.(*ast.ValueSpec).Names {
					env[n.Name] = nil
				}
			}
		case *ast.AssignStmt:
			name := s.Lhs[0].(*ast.Ident).Name
			env[name] = k.list(s.Rhs[0], env)
		case *ast.RangeStmt:
			over := k.list(s.X, env)
			loopVar := s.Value.(*ast.Ident).Name
			for _, v := range over {
				inner := map[string][]string{}
				for key, val := range env {
					inner[key] = val
				}
				inner[loopVar] = []string{v}
				for _, ist := range s.Body.List {
					as := ist.(*ast.AssignStmt)
					name := as.Lhs[0].(*ast.Ident).Name
					env[name] = k.list(as.Rhs[0], inner)
					inner[name] = env[name]
				}
			}
		}
	}
	die("kubernetes: function without return")
	return nil
}

func kubeMain(dir string) {
	m := newModule(dir)
	p := m.load(m.path + "/pkg/provider")
	if p == nil {
		die("no pkg/provider in %s", dir)
	}
	k := &kubeEval{m: m, p: p}
	groups, ok := p.values["forceNew"].(*ast.CompositeLit)
	if !ok {
		die("kubernetes: no forceNew table")
	}
	kinds := map[string][]string{}
	for _, g := range groups.Elts {
		gkv := g.(*ast.KeyValueExpr)
		group, _ := strconv.Unquote(gkv.Key.(*ast.BasicLit).Value)
		versions := unparen(gkv.Value)
		if id, ok := versions.(*ast.Ident); ok {
			versions = p.values[id.Name]
		}
		for _, v := range versions.(*ast.CompositeLit).Elts {
			vkv := v.(*ast.KeyValueExpr)
			version, _ := strconv.Unquote(vkv.Key.(*ast.BasicLit).Value)
			for _, kd := range vkv.Value.(*ast.CompositeLit).Elts {
				kkv := kd.(*ast.KeyValueExpr)
				kind, _ := strconv.Unquote(kkv.Key.(*ast.BasicLit).Value)
				gname := group
				if gname == "" {
					continue // the legacy alias of core
				}
				kinds[gname+"/"+version+":"+kind] = k.list(kkv.Value, map[string][]string{})
			}
		}
	}
	out := map[string]any{"kinds": kinds}
	// forceNewProperties: metadata for every kind, and the Secret / ConfigMap rules with their conditions.
	fd := p.methods["kubeProvider"]["forceNewProperties"]
	if fd == nil {
		die("kubernetes: no forceNewProperties")
	}
	var branches []map[string]any
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		ifs, ok := n.(*ast.IfStmt)
		if !ok {
			return true
		}
		cond := exprText(m, ifs.Cond)
		for _, st := range ifs.Body.List {
			if as, ok := st.(*ast.AssignStmt); ok {
				if call, ok := as.Rhs[0].(*ast.CallExpr); ok && typeName(call.Fun) == "append" && len(call.Args) == 2 {
					if _, isLit := unparen(call.Args[1]).(*ast.CompositeLit); isLit {
						branches = append(branches, map[string]any{"condition": cond, "properties": k.list(call.Args[1], nil), "source": m.pos(ifs)})
					}
				}
			}
		}
		return true
	})
	out["conditional"] = branches
	out["metadata"] = k.list(&ast.CallExpr{Fun: ast.NewIdent("metadataForceNewProperties"), Args: []ast.Expr{&ast.BasicLit{Kind: token.STRING, Value: `".metadata"`}}}, nil)
	// Helm v3 Release and the provider's own config: the literal lists next to their diff code.
	out["helmRelease"] = kubeLiteralList(m, p, "forceNewFields", "helm_release.go")
	out["providerConfig"] = kubeDiffConfig(m, p)
	emit(out)
}

// kubeLiteralList is the string slice assigned to `name` in the named file.
func kubeLiteralList(m *module, p *pkg, name, file string) map[string]any {
	for _, f := range p.files {
		if p.names[f] != file {
			continue
		}
		var found map[string]any
		ast.Inspect(f, func(n ast.Node) bool {
			as, ok := n.(*ast.AssignStmt)
			if !ok || found != nil || len(as.Lhs) != 1 {
				return true
			}
			if id, ok := as.Lhs[0].(*ast.Ident); ok && id.Name == name {
				if cl, ok := as.Rhs[0].(*ast.CompositeLit); ok {
					k := &kubeEval{m: m, p: p}
					found = map[string]any{"properties": k.list(cl, nil), "source": m.pos(as)}
				}
			}
			return true
		})
		if found != nil {
			return found
		}
	}
	die("kubernetes: no %s in %s", name, file)
	return nil
}

// kubeDiffConfig: the provider config keys whose change replaces the provider (and so every resource it manages).
func kubeDiffConfig(m *module, p *pkg) map[string]any {
	fd := p.methods["kubeProvider"]["DiffConfig"]
	if fd == nil {
		die("kubernetes: no DiffConfig")
	}
	c := ctx{p: p, f: p.declFile[fd], body: fd.Body}
	keys := map[string]bool{}
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.RangeStmt:
			appends := false
			ast.Inspect(x.Body, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok && typeName(call.Fun) == "append" && len(call.Args) > 0 {
					if id, ok := call.Args[0].(*ast.Ident); ok && id.Name == "replaces" {
						appends = true
					}
				}
				return true
			})
			if cl, ok := x.X.(*ast.CompositeLit); ok && appends {
				for _, el := range cl.Elts {
					if s, ok := m.str(el, c); ok {
						keys[s] = true
					}
				}
			}
		case *ast.CallExpr:
			if typeName(x.Fun) == "append" && len(x.Args) == 2 {
				if id, ok := x.Args[0].(*ast.Ident); ok && id.Name == "replaces" {
					arg := unparen(x.Args[1])
					if call, ok := arg.(*ast.CallExpr); ok && len(call.Args) == 1 { // string(key)
						arg = call.Args[0]
					}
					if s, ok := m.str(arg, c); ok {
						keys[s] = true
					}
				}
			}
		}
		return true
	})
	var list []string
	for key := range keys {
		list = append(list, key)
	}
	sort.Strings(list)
	return map[string]any{"properties": list, "source": m.pos(fd)}
}

func emit(v any) {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		die("%v", err)
	}
}

func main() {
	if len(os.Args) < 3 {
		die("usage: replacementtable aws DIR TYPE... | replacementtable kubernetes DIR")
	}
	switch os.Args[1] {
	case "aws":
		awsMain(os.Args[2], os.Args[3:])
	case "kubernetes":
		kubeMain(os.Args[2])
	case "random":
		frameworkMain(os.Args[2], "random")
	default:
		die("unknown provider %q", os.Args[1])
	}
}
