package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/workflow"
)

func TestListAttributesPagesAndPurge(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, err := client.New(t.Context(), e.nc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		_, err := c.Start(t.Context(), client.StartOptions{ID: fmt.Sprintf("attr-%d", i), SearchAttributes: []workflow.SearchAttribute{
			workflow.Keyword("Customer", []string{"acme", "globex"}[i%2]), workflow.Int("Amount", int64(100*i)),
		}}, "Counter", struct{}{})
		if err != nil {
			t.Fatal(err)
		}
	}
	r := mustCLI(t, e.wf("list", "--attr", "Customer=acme", "--attr", "Amount>=100")...)
	if !strings.Contains(r.stdout, "attr-2") || !strings.Contains(r.stdout, "attr-4") || strings.Count(r.stdout, "attr-") != 2 ||
		!strings.Contains(r.stdout, `Amount=200 Customer="acme"`) {
		t.Fatalf("list --attr:\n%s", r.stdout)
	}
	r = mustCLI(t, e.wf("list", "--started-after", "1h", "--closed-before", "1h")...)
	if strings.TrimSpace(r.stdout) != "No workflows." {
		t.Fatalf("list --closed-before (all running):\n%s", r.stdout)
	}
	// Pages of 2: three pages, the last without a token.
	var seen []string
	args := e.wf("list", "--page-size", "2", "--json")
	for page := 1; ; page++ {
		r = mustCLI(t, args...)
		var p client.Page
		if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
			t.Fatalf("page %d: %v\n%s", page, err, r.stdout)
		}
		for _, s := range p.Summaries {
			seen = append(seen, s.WorkflowID)
		}
		if p.NextPageToken == "" {
			break
		}
		args = e.wf("list", "--page-size", "2", "--json", "--next", p.NextPageToken)
	}
	if strings.Join(seen, ",") != "attr-4,attr-3,attr-2,attr-1,attr-0" {
		t.Fatalf("pages: %v", seen)
	}
	wantFail(t, exitUsage, "flag -attr", e.wf("list", "--attr", "Customer")...)
	wantFail(t, exitUsage, "--next", e.wf("list", "--next", "garbage")...)

	r = mustCLI(t, e.wf("describe", "--id", "attr-3")...)
	if !strings.Contains(r.stdout, `Search attributes:`) || !strings.Contains(r.stdout, `Customer="globex"`) {
		t.Fatalf("describe:\n%s", r.stdout)
	}
	wantFail(t, exitError, "still running", e.wf("purge", "attr-3")...)
	wantFail(t, exitError, "not found", e.wf("purge", "nobody")...)
	mustCLI(t, e.wf("terminate", "--id", "attr-3")...)
	r = mustCLI(t, e.wf("purge", "attr-3")...)
	if !strings.Contains(r.stdout, "Purged") {
		t.Fatalf("purge:\n%s", r.stdout)
	}
	wantFail(t, exitError, "not found", e.wf("describe", "--id", "attr-3")...)
}
