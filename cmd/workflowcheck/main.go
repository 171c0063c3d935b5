// Command workflowcheck checks cairn workflow code for non-determinism
// (see package sdk/workflowcheck for the rules).
//
// Run it on packages directly:
//
//	workflowcheck ./...
//
// or as a go vet tool:
//
//	go vet -vettool=$(which workflowcheck) ./...
package main

import (
	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/cairnhq/cairn/sdk/workflowcheck"
)

func main() { singlechecker.Main(workflowcheck.Analyzer) }
