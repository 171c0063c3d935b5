package executor

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"

	"github.com/cairnhq/cairn/history"
)

// identity is what must stay equal between a recorded command and the one
// the code issues at the same position. Inputs and durations may change
// between versions; the kind of decision and its target may not.
func identity(ev *history.Event) string {
	if ev == nil {
		return ""
	}
	switch a := ev.Attributes.(type) {
	case *history.ActivityScheduled:
		return "activity:" + a.ActivityType
	case *history.ActivityCancelRequested:
		return fmt.Sprintf("cancel-activity:%d", a.ID)
	case *history.TimerStarted:
		return "timer"
	case *history.TimerCanceled:
		return fmt.Sprintf("cancel-timer:%d", a.ID)
	case *history.StepCompleted:
		return "step:" + a.Name
	case *history.VersionMarker:
		return "version:" + a.ChangeID
	case *history.ChildWorkflowScheduled:
		return "child:" + a.WorkflowType
	case *history.ChildCancelRequested:
		return fmt.Sprintf("cancel-child:%d", a.ID)
	case *history.CallbackStarted:
		return "callback:" + a.Name
	case *history.CallbackTimedOut:
		return fmt.Sprintf("callback-timeout:%d", a.ID)
	}
	return string(ev.Type)
}

// describe renders a command for error messages.
func describe(ev *history.Event) string {
	if ev == nil {
		return "nothing"
	}
	switch a := ev.Attributes.(type) {
	case *history.ActivityScheduled:
		return fmt.Sprintf("ActivityScheduled(%s)", a.ActivityType)
	case *history.ActivityCancelRequested:
		return fmt.Sprintf("ActivityCancelRequested(id %d)", a.ID)
	case *history.TimerStarted:
		return "TimerStarted"
	case *history.TimerCanceled:
		return fmt.Sprintf("TimerCanceled(id %d)", a.ID)
	case *history.StepCompleted:
		return fmt.Sprintf("Step(%s)", a.Name)
	case *history.VersionMarker:
		return fmt.Sprintf("VersionMarker(%s)", a.ChangeID)
	case *history.ChildWorkflowScheduled:
		return fmt.Sprintf("ChildWorkflowScheduled(%s)", a.WorkflowType)
	}
	return string(ev.Type)
}

// callerOutsideEngine finds the first stack frame in workflow code, so a
// non-determinism report points at the line that changed.
func callerOutsideEngine() string {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if !engineFrame(f.Function) || strings.HasSuffix(f.File, "_test.go") {
			return fmt.Sprintf("%s:%d", f.File, f.Line)
		}
		if !more {
			return ""
		}
	}
}

// engineFrame reports whether a function belongs to the machinery between
// workflow code and the executor (the SDK, the executor, reflection).
func engineFrame(fn string) bool {
	for _, p := range []string{
		"github.com/cairnhq/cairn/internal/executor.",
		"github.com/cairnhq/cairn/internal/coro.",
		"github.com/cairnhq/cairn/sdk/workflow.",
		"github.com/cairnhq/cairn/internal/wf.",
		"reflect.",
		"runtime.",
		"iter.",
	} {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}

// replayHandler drops log records while the instance replays, so workflow
// logs appear once per real execution.
type replayHandler struct {
	inner slog.Handler
	in    *Instance
}

func (h *replayHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return !h.in.replaying && h.inner.Enabled(ctx, l)
}

func (h *replayHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.in.replaying {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

func (h *replayHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &replayHandler{inner: h.inner.WithAttrs(attrs), in: h.in}
}

func (h *replayHandler) WithGroup(name string) slog.Handler {
	return &replayHandler{inner: h.inner.WithGroup(name), in: h.in}
}
