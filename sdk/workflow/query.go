package workflow

import (
	"encoding/json"

	"github.com/cairnhq/cairn/internal/wf"
)

// SetQueryHandler registers fn to answer the query name (client.Query,
// `cairn workflow query`) from the workflow's current state. A live worker
// runs it between workflow tasks; it must only read workflow variables: it
// cannot block or call workflow functions, and it never writes history.
// Register handlers early (before the first blocking call) so every replay
// registers them too.
//
//	stage := "charging"
//	workflow.SetQueryHandler(ctx, "stage", func(struct{}) (string, error) { return stage, nil })
func SetQueryHandler[A, R any](ctx Context, name string, fn func(args A) (R, error)) {
	dc := wf.Converter(ctx)
	wf.Exec(ctx).SetQueryHandler(name, func(raw json.RawMessage) (json.RawMessage, error) {
		var a A
		if len(raw) > 0 {
			if err := dc.FromPayload(raw, &a); err != nil {
				return nil, err
			}
		}
		r, err := fn(a)
		if err != nil {
			return nil, err
		}
		return dc.ToPayload(r)
	})
}
