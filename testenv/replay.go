package testenv

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/internal/wf"
	"github.com/cairnhq/cairn/sdk/converter"
)

// NonDeterminismError reports that the workflow code no longer makes the
// decisions a recorded history holds: the first command that differs, with
// the recorded event's sequence, the recorded and the issued command, and
// the code line that issued it. Its message is the one workers park such a
// run with (describe shows it).
type NonDeterminismError struct {
	// WorkflowID and Run identify the replayed run.
	WorkflowID string
	Run        string
	// EventSeq is the sequence of the recorded event that did not match (0
	// when the code issued a command beyond the end of the recorded ones).
	EventSeq int64
	// Expected is the recorded command, Actual what the code issued now,
	// e.g. "ActivityScheduled(ChargeMonth)".
	Expected string
	Actual   string
	// Location is the file:line of the workflow code that issued Actual.
	Location string
}

// Error describes the mismatch: the run, the event, both commands and the
// code line.
func (e *NonDeterminismError) Error() string {
	return (*executor.NonDeterminismError)(e).Error()
}

// ReplayOption configures ReplayHistory and ReplayBatches.
type ReplayOption func(*replayConfig)

type replayConfig struct {
	dc     converter.DataConverter
	logger *slog.Logger
}

// ReplayWithDataConverter decodes the workflow's input with dc (default
// JSON), as the workers that recorded the history did.
func ReplayWithDataConverter(dc converter.DataConverter) ReplayOption {
	return func(c *replayConfig) { c.dc = dc }
}

// ReplayHistory replays an exported history (the output of `cairn
// workflow history --json`, WorkflowEnv.HistoryJSON, or anything
// history.ParseExport reads) against fn, the workflow function of the
// current code, exactly as a worker replays a run it loads. It returns nil
// when the code reproduces every recorded decision, a *NonDeterminismError
// naming the first one it does not, and another error when the code
// panicked or the history cannot be read. Activities are not run: their
// recorded results are fed back. It needs no server and no testing.T, so
// it also suits a CI check over a directory of saved histories.
func ReplayHistory(fn any, historyJSON []byte, opts ...ReplayOption) error {
	batches, err := history.ParseExport(historyJSON)
	if err != nil {
		return err
	}
	return ReplayBatches(fn, batches, opts...)
}

// ReplayBatches is ReplayHistory for batches already in memory
// (WorkflowEnv.History, client.HistoryBatches).
func ReplayBatches(fn any, batches []history.Batch, opts ...ReplayOption) error {
	cfg := replayConfig{dc: converter.JSON(), logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&cfg)
	}
	w, err := wf.Adapt(fn, cfg.dc)
	if err != nil {
		return fmt.Errorf("testenv: replay: %w", err)
	}
	return replayFunc(w, batches, cfg.logger)
}

// Replay is ReplayHistory for tests: it fails t with the first
// non-deterministic command (event seq, recorded vs issued command, code
// line) or any other replay error.
func Replay(t testing.TB, fn any, historyJSON []byte, opts ...ReplayOption) {
	t.Helper()
	if err := ReplayHistory(fn, historyJSON, opts...); err != nil {
		t.Fatalf("testenv: replay: %v", err)
	}
}

func replayFunc(fn executor.WorkflowFunc, batches []history.Batch, logger *slog.Logger) error {
	inst := executor.New(fn, executor.Options{Logger: logger})
	defer inst.Close()
	err := inst.Replay(batches)
	var nde *executor.NonDeterminismError
	if errors.As(err, &nde) {
		return (*NonDeterminismError)(nde)
	}
	if err != nil {
		id := ""
		if len(batches) > 0 && len(batches[0]) > 0 {
			if ws, ok := batches[0][0].Attributes.(*history.WorkflowStarted); ok {
				id = ws.WorkflowID
			}
		}
		return fmt.Errorf("testenv: replay of workflow %q: %w", id, err)
	}
	return nil
}
