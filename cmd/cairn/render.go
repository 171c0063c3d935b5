package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
)

// Human output of the workflow commands. Everything here is presentation;
// --json output uses the client's and history package's own JSON forms.

const (
	timeLayout     = "2006-01-02 15:04:05"
	maxPayloadCell = 80
	maxStackLines  = 20
)

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

// shortTime is a local timestamp, or "-" for the zero time.
func shortTime(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(now.Location()).Format(timeLayout)
}

// relTime is a local timestamp with its distance from now.
func relTime(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := t.Sub(now).Round(time.Second)
	switch {
	case d > 0:
		return fmt.Sprintf("%s (in %s)", shortTime(t, now), d)
	case d < 0:
		return fmt.Sprintf("%s (%s ago)", shortTime(t, now), -d)
	}
	return shortTime(t, now) + " (now)"
}

// failureLine renders a failure and its causes on one line.
func failureLine(f *history.Failure) string {
	if f == nil {
		return "-"
	}
	return oneLine(f.Error())
}

func printDescription(w io.Writer, d *client.Description, now time.Time) error {
	tw := newTable(w)
	status := string(d.Status)
	if d.Parked != nil {
		status += " (PARKED)"
	}
	fmt.Fprintf(tw, "Workflow ID:\t%s\n", d.WorkflowID)
	fmt.Fprintf(tw, "Type:\t%s\n", d.WorkflowType)
	fmt.Fprintf(tw, "Task queue:\t%s\n", d.TaskQueue)
	fmt.Fprintf(tw, "Run:\t%s\n", d.Run)
	fmt.Fprintf(tw, "Status:\t%s\n", status)
	if len(d.CustomStatus) > 0 {
		fmt.Fprintf(tw, "Custom status:\t%s\n", compactJSON(d.CustomStatus, 200))
	}
	if len(d.SearchAttributes) > 0 {
		fmt.Fprintf(tw, "Search attributes:\t%s\n", formatAttributes(d.SearchAttributes))
	}
	fmt.Fprintf(tw, "Started:\t%s\n", relTime(d.StartTime, now))
	if !d.CloseTime.IsZero() {
		closed := relTime(d.CloseTime, now)
		if !d.StartTime.IsZero() {
			closed += fmt.Sprintf(", ran %s", d.CloseTime.Sub(d.StartTime).Round(time.Millisecond))
		}
		fmt.Fprintf(tw, "Closed:\t%s\n", closed)
	}
	fmt.Fprintf(tw, "History:\t%s\n", plural(d.HistoryLength, "event"))
	if d.Status == history.StatusCompleted {
		fmt.Fprintf(tw, "Result:\t%s\n", compactJSON(d.Result, 200))
	}
	if d.Failure != nil {
		fmt.Fprintf(tw, "Failure:\t%s\n", failureLine(d.Failure))
	}
	if d.Waiting != "" {
		fmt.Fprintf(tw, "Waiting:\t%s\n", d.Waiting)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := printOperations(w, d, now); err != nil {
		return err
	}

	if p := d.Parked; p != nil {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "PARKED: this run makes no progress until its workflow code is fixed.")
		fmt.Fprintf(w, "  %s\n", failureLine(p))
		if p.Stack != "" {
			lines := panicSite(strings.Split(strings.TrimRight(p.Stack, "\n"), "\n"))
			for i, l := range lines {
				if i == maxStackLines {
					fmt.Fprintf(w, "    ... %d more lines (see --json)\n", len(lines)-i)
					break
				}
				fmt.Fprintf(w, "    %s\n", l)
			}
		}
		fmt.Fprintln(w, "  History is untouched; workers retry the run periodically, and it resumes")
		fmt.Fprintln(w, "  where it stopped once code that replays its history is deployed.")
	}

	if len(d.PendingActivities) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Pending activities:")
		tw := newTable(w)
		fmt.Fprintln(tw, "  ID\tTYPE\tATTEMPT\tSCHEDULED\tNEXT ATTEMPT\tLAST FAILURE")
		for _, a := range d.PendingActivities {
			next := "-"
			if !a.NextAttemptAt.IsZero() {
				next = relTime(a.NextAttemptAt, now)
			}
			last := "-"
			if a.LastFailure != nil {
				last = truncate(failureLine(a.LastFailure), 100)
			}
			fmt.Fprintf(tw, "  %d\t%s\t%d\t%s\t%s\t%s\n", a.ID, cell(a.ActivityType), a.Attempt,
				shortTime(a.Scheduled, now), next, last)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(d.PendingTimers) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Pending timers:")
		tw := newTable(w)
		fmt.Fprintln(tw, "  ID\tNAME\tFIRES AT")
		for _, t := range d.PendingTimers {
			fmt.Fprintf(tw, "  %d\t%s\t%s\n", t.ID, cell(t.Name), relTime(t.FireAt, now))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(d.PendingChildren) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Pending child workflows:")
		tw := newTable(w)
		fmt.Fprintln(tw, "  ID\tTYPE\tWORKFLOW ID\tRUN")
		for _, ch := range d.PendingChildren {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\n", ch.ID, cell(ch.WorkflowType), cell(ch.WorkflowID), ch.Run)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(d.PendingCallbacks) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Pending callbacks:")
		tw := newTable(w)
		fmt.Fprintln(tw, "  ID\tNAME\tWAITING SINCE")
		for _, cb := range d.PendingCallbacks {
			fmt.Fprintf(tw, "  %d\t%s\t%s\n", cb.ID, cell(cb.Name), relTime(cb.Started, now))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if d.SignalsReceived > 0 {
		fmt.Fprintf(w, "\nSignals received: %d\n", d.SignalsReceived)
	}
	if d.HistoryWarning != "" {
		fmt.Fprintf(w, "\nWARNING: %s\n", d.HistoryWarning)
	}
	return nil
}

// panicSite drops the frames of a goroutine stack above the panic call (the
// stack capture and recovery machinery), so the workflow's own frame comes
// first.
func panicSite(lines []string) []string {
	for i, l := range lines {
		if strings.HasPrefix(l, "panic(") && i+2 <= len(lines) {
			return lines[i+2:]
		}
	}
	return lines
}

func plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func printHistory(w io.Writer, events []*history.Event) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "SEQ\tTIME\tTYPE\tDETAILS")
	for _, ev := range events {
		t := "-"
		if !ev.Time.IsZero() {
			t = ev.Time.Local().Format("2006-01-02 15:04:05.000")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", ev.Seq, t, ev.Type, eventDetails(ev))
	}
	return tw.Flush()
}

// eventDetails summarises an event's attributes on one line.
func eventDetails(ev *history.Event) string {
	p := func(raw []byte) string { return compactJSON(raw, maxPayloadCell) }
	switch a := ev.Attributes.(type) {
	case *history.WorkflowStarted:
		return fmt.Sprintf("type=%s queue=%s run=%s input=%s", a.WorkflowType, a.TaskQueue, a.Run, p(a.Input))
	case *history.WorkflowCompleted:
		return "result=" + p(a.Result)
	case *history.WorkflowFailed:
		return "failure=" + truncate(failureLine(a.Failure), 120)
	case *history.WorkflowCanceled:
		if a.Failure == nil {
			return ""
		}
		return "failure=" + truncate(failureLine(a.Failure), 120)
	case *history.WorkflowTerminated:
		return fmt.Sprintf("reason=%q", a.Reason)
	case *history.WorkflowTimedOut:
		return "timeout=" + a.Timeout.D().String()
	case *history.WorkflowCancelRequested:
		return fmt.Sprintf("reason=%q", a.Reason)
	case *history.ActivityScheduled:
		s := fmt.Sprintf("id=%d activity=%s input=%s", a.ID, a.ActivityType, p(a.Input))
		if a.Options.TaskQueue != "" {
			s += " queue=" + a.Options.TaskQueue
		}
		return s
	case *history.ActivityCompleted:
		return fmt.Sprintf("id=%d attempt=%d result=%s", a.ID, a.Attempt, p(a.Result))
	case *history.ActivityFailed:
		return fmt.Sprintf("id=%d attempt=%d failure=%s", a.ID, a.Attempt, truncate(failureLine(a.Failure), 120))
	case *history.ActivityRetrying:
		return fmt.Sprintf("id=%d attempt=%d next=%s failure=%s", a.ID, a.Attempt,
			a.NextAttemptAt.Local().Format(timeLayout), truncate(failureLine(a.Failure), 100))
	case *history.ActivityCancelRequested:
		return fmt.Sprintf("id=%d", a.ID)
	case *history.TimerStarted:
		s := fmt.Sprintf("id=%d fireAt=%s", a.ID, a.FireAt.Local().Format(timeLayout))
		if a.Name != "" {
			s += fmt.Sprintf(" name=%q", a.Name)
		}
		return s
	case *history.TimerFired:
		return fmt.Sprintf("id=%d", a.ID)
	case *history.TimerCanceled:
		return fmt.Sprintf("id=%d", a.ID)
	case *history.StepCompleted:
		if a.Failure != nil {
			return fmt.Sprintf("id=%d name=%q failure=%s", a.ID, a.Name, truncate(failureLine(a.Failure), 100))
		}
		return fmt.Sprintf("id=%d name=%q result=%s", a.ID, a.Name, p(a.Result))
	case *history.VersionMarker:
		return fmt.Sprintf("id=%d change=%q version=%d", a.ID, a.ChangeID, a.Version)
	}
	return ""
}

// showProgress prints, on w, the events run records after event after as
// they come, one line each, until the returned function is called (it
// waits for the printing to stop).
func showProgress(ctx context.Context, cl *client.Client, g *globalFlags, id, run string, after int64, w io.Writer) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = cl.WatchHistory(ctx, id, run, after, func(x history.ExportedEvent) error {
			ev := &history.Event{Seq: x.Seq, Time: x.Time, Type: x.Type, Attributes: x.Attributes}
			g.codec.revealEvents([]*history.Event{ev})
			fmt.Fprintf(w, "  %4d  %s  %s  %s\n", ev.Seq, ev.Time.Local().Format("15:04:05.000"), ev.Type, eventDetails(ev))
			return nil
		})
	}()
	return func() {
		// The run has closed when this is called: let the close event
		// show, briefly.
		select {
		case <-done:
		case <-time.After(time.Second):
		}
		cancel()
		<-done
	}
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
