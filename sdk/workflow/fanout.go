package workflow

import (
	"errors"
	"fmt"
	"math"

	"github.com/cairnhq/cairn/sdk/failure"
)

// All waits for every future and returns their values in order. If any
// failed, the error joins all the failures (each wrapped with its index);
// the values of the others are still returned.
func All[T any](ctx Context, fs ...Future[T]) ([]T, error) {
	out := make([]T, len(fs))
	var errs []error
	for i, f := range fs {
		v, err := f.Get(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("future %d: %w", i, err))
			continue
		}
		out[i] = v
	}
	return out, errors.Join(errs...)
}

// Any waits for the first future to become ready and returns its index,
// value and error. Ties go to the earliest future in fs.
func Any[T any](ctx Context, fs ...Future[T]) (int, T, error) {
	if len(fs) == 0 {
		var zero T
		return -1, zero, errors.New("workflow.Any: no futures")
	}
	sel := NewSelector(ctx)
	first := -1
	for i, f := range fs {
		AddFuture(sel, f, func(Future[T]) {
			if first < 0 {
				first = i
			}
		})
	}
	sel.Select(ctx)
	v, err := fs[first].Get(ctx)
	return first, v, err
}

// BatchOptions control Map and Parallel. A negative MaxConcurrency or
// MinSuccessful, or a ToleratedFailurePercent outside 0-100, is invalid
// (ErrInvalidOption).
type BatchOptions struct {
	// MaxConcurrency bounds how many items run at once (0 = all).
	MaxConcurrency int
	// MinSuccessful ends the batch as soon as this many items succeeded;
	// items still running are canceled and items not started are skipped
	// (0 = all must finish).
	MinSuccessful int
	// ToleratedFailures is how many failed items the batch accepts; one
	// more fails it (items still running are canceled). Negative means
	// any number. The default 0 fails the batch at its first failure.
	ToleratedFailures int
	// ToleratedFailurePercent, if > 0, tolerates failures up to this share
	// of all items (0-100) instead of ToleratedFailures.
	ToleratedFailurePercent float64
}

// ItemStatus is the outcome of one item of a batch.
type ItemStatus string

// The item outcomes.
const (
	ItemSucceeded  ItemStatus = "succeeded"
	ItemFailed     ItemStatus = "failed"
	ItemCanceled   ItemStatus = "canceled"
	ItemNotStarted ItemStatus = "not_started"
)

// ItemResult is one item's outcome.
type ItemResult[R any] struct {
	// Index is the item's position in the input.
	Index int
	// Status is how the item ended.
	Status ItemStatus
	// Value is the item's result when it succeeded.
	Value R
	// Err is the item's error when it failed or was canceled.
	Err error
}

// BatchResult holds every item's outcome, in input order, and why the
// batch ended.
type BatchResult[R any] struct {
	// Items holds every item's outcome, in input order.
	Items []ItemResult[R]
	// Succeeded and Failed count the items that succeeded and failed
	// (canceled and not started items are in neither). They are what
	// history says: when the batch ends (MinSuccessful reached, or the
	// failure tolerance exceeded), the items still running are canceled
	// and awaited, and one that finished before it saw the cancellation
	// keeps its outcome, so Succeeded may exceed MinSuccessful. An item
	// whose branch was canceled before it ran did nothing and is
	// ItemNotStarted; one canceled while running is ItemCanceled.
	Succeeded int
	Failed    int
	// Reason is "all-completed", "min-successful" or "failure-tolerance-exceeded".
	Reason string
}

// Values returns the values of the succeeded items, in input order.
func (b BatchResult[R]) Values() []R {
	var out []R
	for _, it := range b.Items {
		if it.Status == ItemSucceeded {
			out = append(out, it.Value)
		}
	}
	return out
}

// ErrFailureToleranceExceeded is returned (wrapped) by Map and Parallel
// when more items failed than the options tolerate.
var ErrFailureToleranceExceeded = errors.New("failure tolerance exceeded")

// Map runs fn for every item, each in its own workflow coroutine and
// cancellation scope, honouring opts, and returns every item's outcome
// (the counterpart of the map operation of AWS Lambda durable functions).
// The error is non-nil only when the failure tolerance was exceeded; item
// errors are in the result. Invalid opts return an error wrapping
// ErrInvalidOption and run nothing.
func Map[I, R any](ctx Context, items []I, fn func(ctx Context, item I) (R, error), opts BatchOptions) (BatchResult[R], error) {
	fns := make([]func(Context) (R, error), len(items))
	for i, it := range items {
		fns[i] = func(ctx Context) (R, error) { return fn(ctx, it) }
	}
	return Parallel(ctx, fns, opts)
}

// Parallel runs the branches concurrently under opts; see Map.
func Parallel[R any](ctx Context, branches []func(ctx Context) (R, error), opts BatchOptions) (BatchResult[R], error) {
	if err := opts.validate(); err != nil {
		return BatchResult[R]{}, err
	}
	n := len(branches)
	res := BatchResult[R]{Items: make([]ItemResult[R], n)}
	for i := range res.Items {
		res.Items[i] = ItemResult[R]{Index: i, Status: ItemNotStarted}
	}
	if n == 0 {
		res.Reason = "all-completed"
		return res, nil
	}
	limit := opts.MaxConcurrency
	if limit <= 0 || limit > n {
		limit = n
	}
	tolerated := opts.ToleratedFailures
	if opts.ToleratedFailurePercent > 0 {
		tolerated = int(math.Floor(float64(n) * opts.ToleratedFailurePercent / 100))
	}
	results := NewBufferedChannel[branchDone[R]](ctx, n)
	cancels := make([]CancelFunc, n)
	next, running, finished := 0, 0, 0
	start := func() {
		i := next
		next++
		running++
		res.Items[i].Status = ItemCanceled // until it reports
		bctx, cancel := WithCancel(ctx)
		cancels[i] = cancel
		Go(bctx, func(bctx Context) {
			if bctx.Err() != nil && GetVersion(bctx, batchSkipsCanceledBranch, DefaultVersion, 1) == 1 {
				// Canceled before it ran: it did nothing, so it is
				// reported as not started.
				results.Send(bctx, branchDone[R]{i: i, skipped: true})
				return
			}
			v, err := branches[i](bctx)
			results.Send(bctx, branchDone[R]{i: i, v: v, err: err})
		})
	}
	stop := func() {
		for i := 0; i < next; i++ {
			if res.Items[i].Status == ItemCanceled && cancels[i] != nil {
				cancels[i]()
			}
		}
	}
	for next < limit {
		start()
	}
	for running > 0 {
		d, _ := results.Receive(ctx)
		running--
		finished++
		it := &res.Items[d.i]
		if d.skipped {
			it.Status = ItemNotStarted
		} else if d.err != nil {
			it.Status, it.Err = ItemFailed, d.err
			res.Failed++
		} else {
			it.Status, it.Value = ItemSucceeded, d.v
			res.Succeeded++
		}
		switch {
		case tolerated >= 0 && res.Failed > tolerated:
			res.Reason = "failure-tolerance-exceeded"
			stop()
			drain(ctx, results, running, &res)
			return res, fmt.Errorf("%w: %d of %d items failed (tolerated %d)", ErrFailureToleranceExceeded, res.Failed, n, tolerated)
		case opts.MinSuccessful > 0 && res.Succeeded >= opts.MinSuccessful:
			res.Reason = "min-successful"
			stop()
			drain(ctx, results, running, &res)
			return res, nil
		}
		if next < n && ctx.Err() == nil {
			start()
		}
	}
	res.Reason = "all-completed"
	return res, nil
}

// branchDone is what a branch of Parallel reports when it returns;
// skipped: it was canceled before it ran, and did nothing.
type branchDone[R any] struct {
	i       int
	v       R
	err     error
	skipped bool
}

// batchSkipsCanceledBranch is the internal change after which a branch
// canceled before it ran is not run (and reported not started): runs from
// before it ran such branches, which may have recorded commands.
const batchSkipsCanceledBranch = "cairn.batch-skips-canceled-branch"

// drain waits for canceled branches to return, recording what they report:
// a branch that finished before it saw the cancellation keeps its outcome.
func drain[R any](ctx Context, results Channel[branchDone[R]], running int, res *BatchResult[R]) {
	for ; running > 0; running-- {
		d, _ := results.Receive(ctx)
		it := &res.Items[d.i]
		var canceled *failure.CanceledError
		switch {
		case d.skipped:
			it.Status = ItemNotStarted
		case d.err == nil:
			it.Status, it.Value = ItemSucceeded, d.v
			res.Succeeded++
		case errors.As(d.err, &canceled):
			it.Status, it.Err = ItemCanceled, d.err
		default:
			it.Status, it.Err = ItemFailed, d.err
			res.Failed++
		}
	}
}
