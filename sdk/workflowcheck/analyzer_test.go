package workflowcheck_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/cairnhq/cairn/sdk/workflowcheck"
)

// Each package of testdata/src covers one aspect; the // want comments in
// it are the expected diagnostics, and a line without one must get none.
func TestAnalyzer(t *testing.T) {
	for _, pkg := range []string{
		"rules",      // every rule, in workflow functions and methods
		"transitive", // functions of the package reached by calls and values
		"closures",   // literals inside workflows, workflow literals, recorded steps
		"ignore",     // the //workflowcheck:ignore directive
		"negative",   // non-workflow code, activities, and the workflow replacements
	} {
		t.Run(pkg, func(t *testing.T) {
			analysistest.Run(t, analysistest.TestData(), workflowcheck.Analyzer, pkg)
		})
	}
}
