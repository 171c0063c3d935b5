package workflowcheck

import (
	"fmt"

	"golang.org/x/tools/go/analysis"
)

// Analyzer reports the constructs of workflow code that break replay:
// map iteration, the real clock, goroutines, native channels and select,
// random numbers, I/O and blocking synchronisation. See the package
// documentation for what counts as workflow code.
var Analyzer = &analysis.Analyzer{
	Name: "workflowcheck",
	Doc: `check cairn workflow code for non-determinism

Workflow functions (first parameter workflow.Context), the closures they
define and the functions of the same package they reach must be
deterministic, because cairn replays them against their history. The check
reports ranging over maps, package time's clock and timers, go statements,
native channels and select, math/rand and crypto/rand, I/O through os,
os/exec, net, net/http and io/ioutil, and blocking calls of package sync,
and names the workflow replacement. Functions run by workflow.Step,
workflow.SideEffect and workflow.WaitForCallback are recorded and not
checked. A //workflowcheck:ignore comment on the line or the line above
suppresses a report.`,
	Run: run,
}

func run(pass *analysis.Pass) (any, error) {
	ignored := ignoredLines(pass)
	w := newWalker(pass, func(u *unit, f finding) {
		if ignored(f.pos) {
			return
		}
		pass.Report(analysis.Diagnostic{Pos: f.pos, Message: message(u, f.rule)})
	})
	w.walkFuncs()
	w.walkLiterals()
	return nil, nil
}

// message is the text of a diagnostic: what, where it was reached from,
// why it breaks replay and what to use instead.
func message(u *unit, r rule) string {
	return fmt.Sprintf("%s in workflow %s%s: %s; use %s instead", r.what, u.root().name, u.via(), r.why, r.instead)
}
