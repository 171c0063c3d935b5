package workflowcheck

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/types/typeutil"
)

// A finding is one construct of workflow code that breaks a rule.
type finding struct {
	pos  token.Pos
	rule rule
}

// A scanner walks the body of one piece of workflow code. It collects the
// findings and the edges: the functions of the package being analysed
// that the body calls or passes on as values. Function literals inside
// the body are workflow code too and are walked, except those whose
// outcome is recorded (see recordedArg) and activity-shaped ones.
type scanner struct {
	info  *types.Info
	pkg   *types.Package
	lits  map[*ast.FuncLit]bool // literals walked, shared by all scanners of a pass
	found []finding
	edges []*types.Func

	recorded map[ast.Node]bool   // arguments run as recorded steps
	called   map[*ast.Ident]bool // identifiers in the callee position of a call
}

func newScanner(info *types.Info, pkg *types.Package, lits map[*ast.FuncLit]bool) *scanner {
	return &scanner{info: info, pkg: pkg, lits: lits,
		recorded: map[ast.Node]bool{}, called: map[*ast.Ident]bool{}}
}

func (s *scanner) walk(n ast.Node) {
	if n != nil {
		ast.Inspect(n, s.visit)
	}
}

func (s *scanner) report(pos token.Pos, r rule) { s.found = append(s.found, finding{pos, r}) }

func (s *scanner) visit(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.FuncLit:
		if s.recorded[n] || isActivityFunc(s.info.TypeOf(n)) {
			return false
		}
		s.lits[n] = true
	case *ast.GoStmt:
		s.report(n.Pos(), ruleGo)
	case *ast.SelectStmt:
		s.report(n.Pos(), ruleSelect)
		// The select is the finding: its cases' channel operations are
		// not reported again, the expressions in them and the bodies are
		// walked.
		for _, c := range n.Body.List {
			cc := c.(*ast.CommClause)
			s.walkComm(cc.Comm)
			for _, st := range cc.Body {
				s.walk(st)
			}
		}
		return false
	case *ast.SendStmt:
		s.report(n.Arrow, ruleSend)
	case *ast.UnaryExpr:
		if n.Op == token.ARROW {
			s.report(n.OpPos, ruleReceive)
		}
	case *ast.RangeStmt:
		s.checkRange(n)
	case *ast.CallExpr:
		s.checkCall(n)
	case *ast.SelectorExpr:
		if r, ok := objectRule(s.info.Uses[n.Sel]); ok {
			s.report(n.Pos(), r)
		}
	case *ast.Ident:
		s.checkEdge(n)
	}
	return true
}

// walkComm walks the communication of a select case without reporting
// its channel operation.
func (s *scanner) walkComm(st ast.Stmt) {
	switch st := st.(type) {
	case *ast.SendStmt:
		s.walk(st.Chan)
		s.walk(st.Value)
	case *ast.ExprStmt:
		s.walkRecv(st.X)
	case *ast.AssignStmt:
		for _, l := range st.Lhs {
			s.walk(l)
		}
		for _, r := range st.Rhs {
			s.walkRecv(r)
		}
	}
}

func (s *scanner) walkRecv(e ast.Expr) {
	if u, ok := ast.Unparen(e).(*ast.UnaryExpr); ok && u.Op == token.ARROW {
		s.walk(u.X)
		return
	}
	s.walk(e)
}

func (s *scanner) checkRange(n *ast.RangeStmt) {
	t := s.info.TypeOf(n.X)
	if t == nil {
		return
	}
	switch t.Underlying().(type) {
	case *types.Map:
		if !s.orderFree(n) {
			s.report(n.Pos(), ruleRangeMap)
		}
	case *types.Chan:
		s.report(n.Pos(), ruleRangeChan)
	case *types.Signature:
		// range over maps.Keys(m) and friends: still the map's order.
		call, ok := ast.Unparen(n.X).(*ast.CallExpr)
		if !ok {
			return
		}
		if fn, ok := typeutil.Callee(s.info, call).(*types.Func); ok && fn.Pkg() != nil &&
			fn.Pkg().Path() == "maps" && mapIterators[fn.Name()] {
			r := ruleRangeMap
			r.what = "range over maps." + fn.Name()
			s.report(n.Pos(), r)
		}
	}
}

// orderFree reports whether the body of a range over a map gives the same
// result in any order: it only copies entries into a map under the range
// key (dst[k] = expr, where expr calls nothing but conversions) or deletes
// them (delete(dst, k)), the loop of maps.Copy and maps.DeleteFunc.
func (s *scanner) orderFree(n *ast.RangeStmt) bool {
	key, ok := n.Key.(*ast.Ident)
	if !ok || key.Name == "_" || len(n.Body.List) == 0 {
		return false
	}
	keyObj := s.info.ObjectOf(key)
	isKey := func(e ast.Expr) bool {
		id, ok := ast.Unparen(e).(*ast.Ident)
		return ok && s.info.ObjectOf(id) == keyObj
	}
	for _, st := range n.Body.List {
		switch st := st.(type) {
		case *ast.AssignStmt:
			if st.Tok != token.ASSIGN || len(st.Lhs) != 1 || len(st.Rhs) != 1 {
				return false
			}
			ix, ok := st.Lhs[0].(*ast.IndexExpr)
			if !ok || !isMap(s.info.TypeOf(ix.X)) || !isKey(ix.Index) || !s.callsOnlyConversions(st.Rhs[0]) {
				return false
			}
		case *ast.ExprStmt:
			call, ok := st.X.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 || !isKey(call.Args[1]) {
				return false
			}
			id, _ := ast.Unparen(call.Fun).(*ast.Ident)
			if b, ok := s.info.Uses[id].(*types.Builtin); !ok || b.Name() != "delete" {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// callsOnlyConversions reports whether e has no calls but type
// conversions.
func (s *scanner) callsOnlyConversions(e ast.Expr) bool {
	pure := true
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if tv, ok := s.info.Types[n.Fun]; !ok || !tv.IsType() {
				pure = false
			}
		case *ast.FuncLit:
			pure = false
		case *ast.UnaryExpr:
			if n.Op == token.ARROW {
				pure = false
			}
		}
		return pure
	})
	return pure
}

func (s *scanner) checkCall(call *ast.CallExpr) {
	fun := ast.Unparen(call.Fun)
	if id, ok := fun.(*ast.Ident); ok {
		if b, ok := s.info.Uses[id].(*types.Builtin); ok {
			switch b.Name() {
			case "make":
				if len(call.Args) > 0 && isChan(s.info.TypeOf(call.Args[0])) {
					s.report(call.Pos(), ruleMakeChan)
				}
			case "close":
				s.report(call.Pos(), ruleClose)
			}
			return
		}
	}

	// Remember the callee, so that a call to an activity-shaped function
	// is followed while a mere reference to one is not.
	switch f := fun.(type) {
	case *ast.IndexExpr:
		fun = f.X
	case *ast.IndexListExpr:
		fun = f.X
	}
	switch f := ast.Unparen(fun).(type) {
	case *ast.Ident:
		s.called[f] = true
	case *ast.SelectorExpr:
		s.called[f.Sel] = true
	}

	fn, _ := typeutil.Callee(s.info, call).(*types.Func)
	if fn == nil {
		return
	}
	if i := recordedArgIndex(fn.Origin()); i >= 0 && i < len(call.Args) {
		switch a := ast.Unparen(call.Args[i]).(type) {
		case *ast.FuncLit:
			s.recorded[a] = true
		case *ast.Ident:
			s.recorded[a] = true
		case *ast.SelectorExpr:
			s.recorded[a.Sel] = true
		}
	}
}

// checkEdge records the function of the package that id calls or refers
// to.
func (s *scanner) checkEdge(id *ast.Ident) {
	fn, ok := s.info.Uses[id].(*types.Func)
	if !ok || s.recorded[id] {
		return
	}
	fn = fn.Origin()
	if fn.Pkg() != s.pkg {
		return
	}
	if !s.called[id] && isActivityFunc(fn.Type()) {
		return // an activity passed on, e.g. to workflow.ExecuteActivity
	}
	s.edges = append(s.edges, fn)
}

func isMap(t types.Type) bool {
	if t == nil {
		return false
	}
	_, ok := t.Underlying().(*types.Map)
	return ok
}

func isChan(t types.Type) bool {
	if t == nil {
		return false
	}
	_, ok := t.Underlying().(*types.Chan)
	return ok
}
