package workflowcheck

import (
	"fmt"
	"go/ast"
	"go/types"
	"path/filepath"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// A unit is a piece of workflow code walked as a whole: the body of a
// function declaration, or of a workflow function literal that lies
// outside any workflow code.
type unit struct {
	name   string
	body   *ast.BlockStmt
	parent *unit // the unit that reached this one; nil for a workflow function
}

// root returns the workflow function the unit was reached from.
func (u *unit) root() *unit {
	for u.parent != nil {
		u = u.parent
	}
	return u
}

// via describes the chain of calls from the workflow function to u, or
// is empty when u is the workflow function.
func (u *unit) via() string {
	var chain []string
	for ; u.parent != nil; u = u.parent {
		chain = append(chain, u.name)
	}
	if len(chain) == 0 {
		return ""
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return " (via " + strings.Join(chain, " -> ") + ")"
}

// A walker follows workflow code through the package: from the workflow
// functions, breadth first, to every function of the package they call
// or pass on as values, each walked once. A function reached from several
// workflow functions is attributed to the first in source order, by the
// shortest chain of calls.
type walker struct {
	pass    *analysis.Pass
	decls   map[*types.Func]*ast.FuncDecl
	visited map[*types.Func]bool
	lits    map[*ast.FuncLit]bool
	report  func(*unit, finding)
}

func newWalker(pass *analysis.Pass, report func(*unit, finding)) *walker {
	w := &walker{pass: pass, decls: map[*types.Func]*ast.FuncDecl{}, visited: map[*types.Func]bool{},
		lits: map[*ast.FuncLit]bool{}, report: report}
	for _, f := range pass.Files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				if fn, ok := pass.TypesInfo.Defs[fd.Name].(*types.Func); ok {
					w.decls[fn] = fd
				}
			}
		}
	}
	return w
}

// walkFuncs walks the workflow function declarations of the package and
// what they reach.
func (w *walker) walkFuncs() {
	var roots []*unit
	for _, f := range w.pass.Files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			fn, ok := w.pass.TypesInfo.Defs[fd.Name].(*types.Func)
			if !ok || !isWorkflowFunc(fn.Type()) {
				continue
			}
			w.visited[fn] = true
			roots = append(roots, &unit{name: funcName(fn), body: fd.Body})
		}
	}
	w.walk(roots)
}

// walkLiterals walks the workflow function literals not already walked as
// part of other workflow code (those registered in main, for instance)
// and what they reach.
func (w *walker) walkLiterals() {
	var lits []*ast.FuncLit
	for _, f := range w.pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.FuncLit); ok && isWorkflowFunc(w.pass.TypesInfo.TypeOf(lit)) {
				lits = append(lits, lit)
			}
			return true
		})
	}
	// Outer literals come first, and walking them marks the inner ones.
	for _, lit := range lits {
		if w.lits[lit] {
			continue
		}
		w.lits[lit] = true
		pos := w.pass.Fset.Position(lit.Pos())
		name := fmt.Sprintf("func literal at %s:%d", filepath.Base(pos.Filename), pos.Line)
		w.walk([]*unit{{name: name, body: lit.Body}})
	}
}

func (w *walker) walk(queue []*unit) {
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		s := newScanner(w.pass.TypesInfo, w.pass.Pkg, w.lits)
		s.walk(u.body)
		for _, f := range s.found {
			w.report(u, f)
		}
		for _, fn := range s.edges {
			fd := w.decls[fn]
			if fd == nil || w.visited[fn] {
				continue
			}
			w.visited[fn] = true
			queue = append(queue, &unit{name: funcName(fn), body: fd.Body, parent: u})
		}
	}
}

// funcName names a function as diagnostics show it: F, or T.M for a
// method.
func funcName(fn *types.Func) string {
	sig, ok := fn.Type().(*types.Signature)
	if !ok || sig.Recv() == nil {
		return fn.Name()
	}
	t := sig.Recv().Type()
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		return n.Obj().Name() + "." + fn.Name()
	}
	return fn.Name()
}
