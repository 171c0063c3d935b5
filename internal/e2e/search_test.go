package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

var searchEpoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// Searchable sets one attribute of each type, removes one, waits for an
// event, then upserts again; it returns what GetSearchAttributes read back,
// so a replay on another worker is checked too.
func Searchable(ctx workflow.Context, customer string) (map[string]string, error) {
	err := workflow.UpsertSearchAttributes(ctx,
		workflow.Keyword("Customer", customer),
		workflow.Int("Amount", 42),
		workflow.Double("Score", 0.5),
		workflow.Bool("Vip", true),
		workflow.Datetime("Due", searchEpoch),
		workflow.Text("Note", "Delivery is LATE again"),
		workflow.Keywords("Tags", "red", "blue"),
		workflow.Keyword("Temp", "x"),
	)
	if err != nil {
		return nil, err
	}
	if err := workflow.UpsertSearchAttributes(ctx, workflow.Unset("Temp")); err != nil {
		return nil, err
	}
	if _, err := workflow.ReceiveSignal[string](ctx, "go"); err != nil {
		return nil, err
	}
	if err := workflow.UpsertSearchAttributes(ctx, workflow.Int("Amount", 150)); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for name, v := range workflow.GetSearchAttributes(ctx) {
		out[name] = string(v.Value)
	}
	return out, nil
}

func listIDs(t *testing.T, ctx context.Context, c *client.Client, opts client.ListOptions) []string {
	t.Helper()
	sums, err := c.List(ctx, opts)
	if err != nil {
		t.Fatalf("list %+v: %v", opts, err)
	}
	ids := make([]string, 0, len(sums))
	for _, s := range sums {
		ids = append(ids, s.WorkflowID)
	}
	return ids
}

func attrFilters(t *testing.T, exprs ...string) []client.AttributeFilter {
	t.Helper()
	var out []client.AttributeFilter
	for _, e := range exprs {
		f, err := client.ParseAttributeFilter(e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

func TestSearchAttributesUpsertDescribeListAndReplay(t *testing.T) {
	env := testenv.New(t)
	register := func(w *worker.Worker) { w.RegisterWorkflow(Searchable) }
	w := env.StartWorker(t, "default", register)
	c := env.Client(t)
	ctx := testCtx(t, 60*time.Second)
	start := func(id, customer string, attrs ...history.SearchAttribute) {
		if _, err := c.Start(ctx, client.StartOptions{ID: id, SearchAttributes: attrs}, Searchable, customer); err != nil {
			t.Fatal(err)
		}
	}
	start("s-1", "acme", workflow.Keyword("Region", "eu"))
	start("s-2", "globex")
	// Start-time attributes are validated.
	if _, err := c.Start(ctx, client.StartOptions{ID: "bad", SearchAttributes: []history.SearchAttribute{workflow.Keyword("A=b", "x")}},
		Searchable, "x"); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("start with a bad attribute name: %v", err)
	}

	waitFor(t, ctx, func() bool {
		return len(listIDs(t, ctx, c, client.ListOptions{Attributes: attrFilters(t, "Amount=42")})) == 2
	})
	cases := []struct {
		exprs []string
		want  []string
	}{
		{[]string{"Customer=acme"}, []string{"s-1"}},
		{[]string{"Customer!=acme"}, []string{"s-2"}},
		{[]string{"Region=eu"}, []string{"s-1"}}, // from the start options
		{[]string{"Amount>=42", "Amount<43"}, []string{"s-1", "s-2"}},
		{[]string{"Amount>42"}, nil},
		{[]string{"Score<0.6"}, []string{"s-1", "s-2"}},
		{[]string{"Vip=true", "Customer=globex"}, []string{"s-2"}},
		{[]string{"Vip=false"}, nil},
		{[]string{"Due>=2025-03-01"}, []string{"s-1", "s-2"}},
		{[]string{"Due>2025-03-01T12:00:00Z"}, nil},
		{[]string{"Note~late"}, []string{"s-1", "s-2"}},
		{[]string{"Note~early"}, nil},
		{[]string{"Tags=blue"}, []string{"s-1", "s-2"}},
		{[]string{"Tags~green"}, nil},
		{[]string{"Temp=x"}, nil}, // removed
		{[]string{"Missing!=x"}, nil},
	}
	for _, tc := range cases {
		got := listIDs(t, ctx, c, client.ListOptions{Attributes: attrFilters(t, tc.exprs...)})
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("list %v = %v, want %v", tc.exprs, got, tc.want)
		}
	}
	d, err := c.Describe(ctx, "s-1", "")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := d.SearchAttributes["Customer"].AsString(); err != nil || v != "acme" || d.SearchAttributes["Temp"].Type != "" {
		t.Fatalf("describe attributes: %+v", d.SearchAttributes)
	}

	// Another worker replays the runs: the attributes read back are the
	// recorded ones, and the last upsert reaches list and describe.
	w.Kill()
	env.StartWorker(t, "default", register)
	for _, id := range []string{"s-1", "s-2"} {
		if err := c.Signal(ctx, id, "", "go", "go-"+id); err != nil {
			t.Fatal(err)
		}
	}
	var got map[string]string
	if err := c.Result(ctx, "s-1", "", &got); err != nil {
		t.Fatal(err)
	}
	if got["Amount"] != "150" || got["Customer"] != `"acme"` || got["Region"] != `"eu"` || got["Temp"] != "" || len(got) != 8 {
		t.Fatalf("attributes read back by the workflow: %v", got)
	}
	if err := c.Result(ctx, "s-2", "", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool {
		ids := listIDs(t, ctx, c, client.ListOptions{Status: history.StatusCompleted, Attributes: attrFilters(t, "Amount>100")})
		return len(ids) == 2
	})
	d, err = c.Describe(ctx, "s-2", "")
	if n, err2 := d.SearchAttributes["Amount"].AsInt(); err != nil || err2 != nil || n != 150 {
		t.Fatalf("describe after close: %+v %v", d.SearchAttributes, err)
	}
	checkHistory(t, c, "s-1")
}

// TestSearchAttributesSurviveCrashBeforeSummaryWrite kills a worker after
// it committed a batch of attributes but before the summary reflected it:
// the instances bucket refuses writes (its message size limit is lowered)
// while the worker commits, then the worker dies. Another worker takes the
// redelivered task and the attributes appear in list.
func TestSearchAttributesSurviveCrashBeforeSummaryWrite(t *testing.T) {
	env := testenv.New(t)
	ctx := testCtx(t, 60*time.Second)
	register := func(w *worker.Worker) { w.RegisterWorkflow(Searchable) }
	w1 := env.StartWorker(t, "default", register)
	c := env.Client(t)

	kvStream, err := env.JetStream().Stream(ctx, "KV_"+env.Names().InstancesBucket())
	if err != nil {
		t.Fatal(err)
	}
	cfg := kvStream.CachedInfo().Config
	limit := cfg.MaxMsgSize
	setLimit := func(n int32) {
		t.Helper()
		cfg.MaxMsgSize = n
		if _, err := env.JetStream().UpdateStream(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}
	setLimit(16) // no summary fits: every write fails
	if _, err := c.Start(ctx, client.StartOptions{ID: "crash-1"}, Searchable, "initech"); err != nil {
		t.Fatal(err)
	}
	// Wait for the upserts to be committed to history.
	waitFor(t, ctx, func() bool {
		events, err := c.History(ctx, "crash-1", "")
		return err == nil && count(events, history.TypeSearchAttributesUpserted) == 2
	})
	w1.Kill()
	if sums, err := c.List(ctx, client.ListOptions{}); err != nil || len(sums) != 0 {
		t.Fatalf("the summary was written although the bucket refused writes: %+v %v", sums, err)
	}
	setLimit(limit)
	env.StartWorker(t, "default", register)
	waitFor(t, ctx, func() bool {
		ids := listIDs(t, ctx, c, client.ListOptions{Status: history.StatusRunning, Attributes: attrFilters(t, "Customer=initech", "Amount=42")})
		return len(ids) == 1
	})
	sum, err := c.List(ctx, client.ListOptions{})
	if err != nil || len(sum) != 1 || sum[0].StartTime.IsZero() || sum[0].SearchAttributes["Temp"].Type != "" {
		t.Fatalf("rebuilt summary: %+v %v", sum, err)
	}
	// The close is written the same way.
	if err := c.Signal(ctx, "crash-1", "", "go", "go-1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool {
		return len(listIDs(t, ctx, c, client.ListOptions{Status: history.StatusCompleted, Attributes: attrFilters(t, "Amount=150")})) == 1
	})
}

// Tagged completes at once after setting attributes derived from n.
func Tagged(ctx workflow.Context, n int) (int, error) {
	parity := "odd"
	if n%2 == 0 {
		parity = "even"
	}
	err := workflow.UpsertSearchAttributes(ctx, workflow.Keyword("Parity", parity), workflow.Int("N", int64(n)),
		workflow.Keywords("Tags", fmt.Sprintf("t%d", n%7), "all"))
	return n, err
}

// TestListThousandInstancesFiltersAndPagination lists 1,000 instances
// (start-time attributes plus attributes set by the workflow) with
// filters, and walks them in pages: no duplicate, none missing, in order.
func TestListThousandInstancesFiltersAndPagination(t *testing.T) {
	const n = 1000
	env := testenv.New(t)
	ctx := testCtx(t, 3*time.Minute)
	env.StartWorker(t, "default", func(w *worker.Worker) { w.RegisterWorkflow(Tagged) })
	c := env.Client(t)
	began := time.Now()

	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				_, err := c.Start(ctx, client.StartOptions{ID: fmt.Sprintf("tag-%04d", i), SearchAttributes: []history.SearchAttribute{
					workflow.Keyword("Customer", fmt.Sprintf("c%d", i%10)),
					workflow.Text("Note", fmt.Sprintf("order %d is Late", i)),
				}}, Tagged, i)
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// A listing reads every summary: follow the bucket until each one
	// shows its run completed, rather than listing all of them again and
	// again while the runs complete.
	kv, err := env.JetStream().KeyValue(ctx, env.Names().InstancesBucket())
	if err != nil {
		t.Fatal(err)
	}
	w, err := kv.WatchAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	completed := map[string]bool{}
	for len(completed) < n {
		select {
		case <-ctx.Done():
			t.Fatalf("%d of %d summaries show their run completed: %v", len(completed), n, ctx.Err())
		case e := <-w.Updates():
			var s history.Summary
			if e != nil && json.Unmarshal(e.Value(), &s) == nil && s.Status == history.StatusCompleted {
				completed[e.Key()] = true
			}
		}
	}
	_ = w.Stop()
	waitFor(t, ctx, func() bool {
		sums, err := c.List(ctx, client.ListOptions{Status: history.StatusCompleted, Attributes: attrFilters(t, "N>=0")})
		return err == nil && len(sums) == n
	})

	counts := []struct {
		opts client.ListOptions
		want int
	}{
		{client.ListOptions{}, n},
		{client.ListOptions{Attributes: attrFilters(t, "Customer=c3")}, 100},
		{client.ListOptions{Attributes: attrFilters(t, "N>=900")}, 100},
		{client.ListOptions{Attributes: attrFilters(t, "Parity=even", "N<100")}, 50},
		{client.ListOptions{Attributes: attrFilters(t, "Tags=t5")}, 143}, // i%7 == 5 for 0..999
		{client.ListOptions{Attributes: attrFilters(t, "Note~LATE", "Customer!=c0")}, 900},
		{client.ListOptions{Attributes: attrFilters(t, "Note~order 99")}, 11}, // 99, 990..999
		{client.ListOptions{WorkflowType: "Tagged", ClosedAfter: began}, n},
		{client.ListOptions{ClosedBefore: began}, 0},
		{client.ListOptions{StartedAfter: began, StartedBefore: time.Now()}, n},
		{client.ListOptions{Status: history.StatusRunning}, 0},
		{client.ListOptions{Attributes: attrFilters(t, "N>=abc")}, 0},
	}
	for _, tc := range counts {
		sums, err := c.List(ctx, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(sums) != tc.want {
			t.Errorf("list %+v: %d summaries, want %d", tc.opts.Attributes, len(sums), tc.want)
		}
	}

	// Pages of 37 over a filtered set: every instance once, in order.
	opts := client.ListOptions{Attributes: attrFilters(t, "Customer!=c0"), PageSize: 37}
	seen := map[string]bool{}
	var all []history.Summary
	pages := 0
	for {
		p, err := c.ListPage(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(p.Summaries) > 37 || (p.NextPageToken != "" && len(p.Summaries) != 37) {
			t.Fatalf("page %d has %d summaries (next %q)", pages, len(p.Summaries), p.NextPageToken)
		}
		for _, s := range p.Summaries {
			if seen[s.WorkflowID] {
				t.Fatalf("%s listed twice (page %d)", s.WorkflowID, pages)
			}
			seen[s.WorkflowID] = true
		}
		all = append(all, p.Summaries...)
		if p.NextPageToken == "" {
			break
		}
		opts.PageToken = p.NextPageToken
	}
	if len(seen) != 900 || pages != 25 {
		t.Fatalf("pagination saw %d instances in %d pages, want 900 in 25", len(seen), pages)
	}
	for i := 0; i < n; i++ {
		if id := fmt.Sprintf("tag-%04d", i); seen[id] == (i%10 == 0) {
			t.Fatalf("%s: listed %v", id, seen[id])
		}
	}
	if !slices.IsSortedFunc(all, func(a, b history.Summary) int {
		if c := b.StartTime.Compare(a.StartTime); c != 0 {
			return c
		}
		return strings.Compare(a.WorkflowID, b.WorkflowID)
	}) {
		t.Fatal("pages are not in listing order")
	}
	// A token only goes with the filters that made it.
	first, err := c.ListPage(ctx, client.ListOptions{PageSize: 10})
	if err != nil || first.NextPageToken == "" {
		t.Fatalf("first page: %v", err)
	}
	if _, err := c.ListPage(ctx, client.ListOptions{PageSize: 10, PageToken: first.NextPageToken, Status: history.StatusRunning}); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("token with other filters: %v", err)
	}
	if _, err := c.ListPage(ctx, client.ListOptions{PageToken: "%%%"}); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("garbage token: %v", err)
	}
}

// TestListWhileSummariesAreRewritten walks the listing while summaries are
// written again (a late summary write, a catch-up from history): every
// instance is listed once, although all started in the same instant.
func TestListWhileSummariesAreRewritten(t *testing.T) {
	const n = 300
	env := testenv.New(t)
	c := env.Client(t)
	ctx := testCtx(t, time.Minute)
	kv, err := env.JetStream().KeyValue(ctx, env.Names().InstancesBucket())
	if err != nil {
		t.Fatal(err)
	}
	sum := func(i int) []byte {
		return fmt.Appendf(nil, `{"workflowId":"r-%03d","workflowType":"T","taskQueue":"default","run":"r","status":"completed","startTime":"2025-01-01T00:00:00Z","historySeq":%d}`, i, i+1)
	}
	for i := range n {
		if _, err := kv.Put(ctx, fmt.Sprintf("r-%03d", i), sum(i)); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i = (i + 7) % n {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := kv.Put(ctx, fmt.Sprintf("r-%03d", i), sum(i)); err != nil {
				return
			}
		}
	}()
	defer func() { close(stop); <-done }()
	for round := range 20 {
		seen := map[string]bool{}
		opts := client.ListOptions{PageSize: 37}
		for {
			p, err := c.ListPage(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range p.Summaries {
				if seen[s.WorkflowID] {
					t.Fatalf("round %d: %s listed twice", round, s.WorkflowID)
				}
				seen[s.WorkflowID] = true
			}
			if p.NextPageToken == "" {
				break
			}
			opts.PageToken = p.NextPageToken
		}
		if len(seen) != n {
			t.Fatalf("round %d: the pages listed %d instances, want %d", round, len(seen), n)
		}
	}
}

// BenchmarkList1000 measures one filtered listing over 1,000 summaries.
func BenchmarkList1000(b *testing.B) {
	env := testenv.New(b)
	c := env.Client(b)
	ctx := context.Background()
	kv, err := env.JetStream().KeyValue(ctx, env.Names().InstancesBucket())
	if err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		sum := fmt.Sprintf(`{"workflowId":"b-%d","workflowType":"T","taskQueue":"default","run":"r","status":"completed","startTime":"2025-01-01T00:00:%02dZ","searchAttributes":{"N":{"type":"int","value":%d}},"historySeq":%d}`, i, i%60, i, i+1)
		if _, err := kv.Put(ctx, fmt.Sprintf("b-%d", i), []byte(sum)); err != nil {
			b.Fatal(err)
		}
	}
	f, _ := client.ParseAttributeFilter("N>=500")
	b.ResetTimer()
	for b.Loop() {
		p, err := c.ListPage(ctx, client.ListOptions{Attributes: []client.AttributeFilter{f}, PageSize: 100})
		if err != nil || len(p.Summaries) != 100 {
			b.Fatalf("%v %d", err, len(p.Summaries))
		}
	}
}

// Renewing sets an attribute, then continues as new once; the next run
// reads the attribute back.
func Renewing(ctx workflow.Context, round int) (string, error) {
	if round == 0 {
		if err := workflow.UpsertSearchAttributes(ctx, workflow.Keyword("Plan", "gold")); err != nil {
			return "", err
		}
		return "", workflow.NewContinueAsNewError(ctx, 1)
	}
	v, ok := workflow.GetSearchAttributes(ctx)["Plan"]
	if !ok {
		return "", errors.New("the attribute did not carry over")
	}
	s, err := v.AsString()
	return s, err
}

func TestSearchAttributesCarryOverContinueAsNew(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", func(w *worker.Worker) { w.RegisterWorkflow(Renewing) })
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "renew", Memo: map[string]string{"owner": "ops"}}, Renewing, 0); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := c.Result(ctx, "renew", "", &got); err != nil || got != "gold" {
		t.Fatalf("result %q %v", got, err)
	}
	// The summary follows the close's commit shortly after (list is an
	// index of history); the carried attribute must reach it.
	waitFor(t, ctx, func() bool {
		return slices.Equal(listIDs(t, ctx, c, client.ListOptions{Attributes: attrFilters(t, "Plan=gold")}), []string{"renew"})
	})
	evs := checkHistory(t, c, "renew")
	ws := evs[0].Attributes.(*history.WorkflowStarted)
	if ws.SearchAttributes["Plan"].Type != history.SearchKeyword || !strings.Contains(string(ws.Memo), "ops") {
		t.Fatalf("the next run's start lacks the attribute or memo: %+v %s", ws.SearchAttributes, ws.Memo)
	}
}
