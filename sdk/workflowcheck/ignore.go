package workflowcheck

import (
	"go/token"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// ignoreDirective, as a line comment, suppresses the diagnostics of its
// line and of the line below it. Text may follow it (a reason).
const ignoreDirective = "//workflowcheck:ignore"

// ignoredLines returns a function that reports whether a diagnostic at pos
// is suppressed by an ignore directive.
func ignoredLines(pass *analysis.Pass) func(token.Pos) bool {
	type line struct {
		file string
		n    int
	}
	lines := map[line]bool{}
	for _, f := range pass.Files {
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if rest, ok := strings.CutPrefix(c.Text, ignoreDirective); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
					p := pass.Fset.Position(c.Slash)
					lines[line{p.Filename, p.Line}] = true
				}
			}
		}
	}
	return func(pos token.Pos) bool {
		p := pass.Fset.Position(pos)
		return lines[line{p.Filename, p.Line}] || lines[line{p.Filename, p.Line - 1}]
	}
}
