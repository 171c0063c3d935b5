// Package negative holds code the analyzer must not report.
package negative

import (
	"context"
	"crypto/rand"
	"maps"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/cairnhq/cairn/sdk/workflow"
)

// NotWorkflow is ordinary Go code: it may do anything.
func NotWorkflow(m map[string]int) {
	for range m {
	}
	_ = time.Now()
	time.Sleep(0)
	go func() {}()
	ch := make(chan int, 1)
	ch <- 1
	<-ch
	close(ch)
	select {
	default:
	}
	_, _ = rand.Read(nil)
	_ = os.Getenv("HOME")
	var mu sync.Mutex
	mu.Lock()
	mu.Unlock()
}

// Activity takes a context.Context: activities may do I/O and read the clock.
func Activity(ctx context.Context, url string) (string, error) {
	deadline := time.Now().Add(time.Minute)
	_ = deadline
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	<-ctx.Done()
	return resp.Status, nil
}

// Workflow uses the workflow package's replacements only.
func Workflow(ctx workflow.Context, items []string, m map[string]int) (string, error) {
	for _, it := range items { // ranging over a slice is ordered
		_ = it
	}
	for i := range 3 {
		_ = i
	}
	for _, k := range slices.Sorted(maps.Keys(m)) { // sorted keys
		_ = m[k]
	}
	_ = workflow.Now(ctx).Add(time.Hour)
	if err := workflow.Sleep(ctx, time.Minute); err != nil {
		return "", err
	}
	timer := workflow.NewTimer(ctx, time.Minute)
	ch := workflow.NewChannel[int](ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch.Send(ctx, 1)
		ch.Close()
	})
	v, _ := ch.Receive(ctx)
	sel := workflow.NewSelector(ctx)
	workflow.AddFuture(sel, timer, func(f workflow.Future[struct{}]) {})
	sel.Select(ctx)
	_ = workflow.Await(ctx, func() bool { return v > 0 })
	_ = workflow.Random(ctx)
	_ = workflow.UUID(ctx)
	workflow.SetQueryHandler(ctx, "v", func(struct{}) (int, error) { return v, nil })
	return workflow.ExecuteActivity(ctx, Activity, "http://example.com").Get(ctx)
}
