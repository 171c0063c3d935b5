package executor

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrUnknownQuery: the run has no query handler of that name.
var ErrUnknownQuery = errors.New("unknown query")

// QueryFunc answers a query from the workflow's current state. It runs
// outside the workflow's coroutines and must only read: it may not block,
// and workflow calls that would change the run (commands) fail it.
type QueryFunc func(args json.RawMessage) (json.RawMessage, error)

// SetQueryHandler registers (or replaces) the handler of query name. It
// records nothing: the code registers it again on every replay.
func (c *Ctx) SetQueryHandler(name string, fn QueryFunc) {
	c.inst.queries[name] = fn
}

// Query runs the handler of name against the run's current state.
func (in *Instance) Query(name string, args json.RawMessage) (result json.RawMessage, err error) {
	fn, ok := in.queries[name]
	if !ok {
		names := make([]string, 0, len(in.queries))
		for n := range in.queries {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil, fmt.Errorf("%w %q on workflow %q (handlers: %s)", ErrUnknownQuery, name, in.workflowID(), strings.Join(names, ", "))
	}
	in.inQuery = true
	defer func() {
		in.inQuery = false
		if r := recover(); r != nil {
			err = fmt.Errorf("query %q on workflow %q panicked: %v", name, in.workflowID(), r)
		}
	}()
	return fn(args)
}
