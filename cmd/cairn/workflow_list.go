package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
)

const listQueryUsage = `Usage:
  cairn workflow list [--status STATUS] [--type TYPE] [--queue QUEUE]
                      [--attr 'NAME OP VALUE' ...]
                      [--started-after T] [--started-before T] [--closed-after T] [--closed-before T]
                      [--limit N | --page-size N [--next TOKEN]] [--json]

Lists the workflows of the namespace (the current run of each id), newest
first. STATUS is running, completed, failed, canceled, terminated or
timed_out.

--attr filters on search attributes; repeat it to AND several:
  --attr Customer=acme        keyword, bool: = and !=
  --attr 'Amount>=100'        int, double, datetime: = != < <= > >=
  --attr 'Note~late'          text: substring (ignoring case)
  --attr Tags=vip             keywords: the list contains the value
A workflow without the attribute never matches a filter on it.

Times (T) are RFC 3339 (2025-01-31T12:00:00Z), a date (2025-01-31, midnight
UTC) or a duration meaning that long ago (90m, 24h). After is inclusive,
before exclusive; --closed-* list closed runs only.

With --page-size the listing is paginated: the last line gives the token of
the next page, to pass with --next and the same filters (with --json, the
output is {"summaries": [...], "nextPageToken": "..."}).
`

// attrFlags collects repeated --attr flags.
type attrFlags []client.AttributeFilter

func (a *attrFlags) String() string { return "" }

func (a *attrFlags) Set(s string) error {
	f, err := client.ParseAttributeFilter(s)
	if err != nil {
		return fmt.Errorf("want NAME OP VALUE with OP one of = != < <= > >= ~")
	}
	*a = append(*a, f)
	return nil
}

// timeFlag is a --started-after style bound: RFC 3339, a date, or a
// duration ago.
type timeFlag struct {
	t   time.Time
	now time.Time
}

func (f *timeFlag) String() string {
	if f == nil || f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(s string) error {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		f.t = t
		return nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		f.t = t
		return nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		f.t = f.now.Add(-d)
		return nil
	}
	return fmt.Errorf("want an RFC 3339 time, a date (2006-01-02) or a duration ago (24h)")
}

func wfListQuery(ctx context.Context, g globalFlags, args []string, stdout io.Writer) error {
	c := newCommand("cairn workflow list", listQueryUsage, stdout)
	g.register(c.fs)
	now := time.Now()
	status := c.fs.String("status", "", "only runs with this `status`")
	typ := c.fs.String("type", "", "only this workflow `type`")
	queue := c.fs.String("queue", "", "only this task `queue`")
	limit := c.fs.Int("limit", defaultListLimit, "show at most `N` workflows (0 = all); ignored with --page-size")
	pageSize := c.fs.Int("page-size", 0, "paginate, `N` workflows per page (at most 1000)")
	next := c.fs.String("next", "", "continue a paginated listing at the page of `TOKEN`")
	asJSON := c.fs.Bool("json", false, "print JSON (an array of summaries; a page object with --page-size)")
	var attrs attrFlags
	c.fs.Var(&attrs, "attr", "search attribute filter `'NAME OP VALUE'` (repeatable)")
	startedAfter, startedBefore := &timeFlag{now: now}, &timeFlag{now: now}
	closedAfter, closedBefore := &timeFlag{now: now}, &timeFlag{now: now}
	c.fs.Var(startedAfter, "started-after", "only runs started at or after `T`")
	c.fs.Var(startedBefore, "started-before", "only runs started before `T`")
	c.fs.Var(closedAfter, "closed-after", "only runs closed at or after `T`")
	c.fs.Var(closedBefore, "closed-before", "only runs closed before `T`")
	if err := c.parse(args); err != nil {
		return err
	}
	if err := g.check(c.name); err != nil {
		return err
	}
	st, ok := parseStatus(*status)
	if !ok {
		return usageErrorf(c.name, "--status %q: want running, completed, failed, canceled, terminated or timed_out", *status)
	}
	if *limit < 0 {
		return usageErrorf(c.name, "--limit must not be negative")
	}
	if *pageSize < 0 || *pageSize > client.MaxPageSize {
		return usageErrorf(c.name, "--page-size must be 1..%d", client.MaxPageSize)
	}
	paged := *pageSize > 0 || *next != ""
	opts := client.ListOptions{Status: st, WorkflowType: *typ, TaskQueue: *queue, Attributes: attrs,
		StartedAfter: startedAfter.t, StartedBefore: startedBefore.t, ClosedAfter: closedAfter.t, ClosedBefore: closedBefore.t,
		Limit: *limit, PageSize: *pageSize, PageToken: *next}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	cl, closeConn, err := g.dial(ctx)
	if err != nil {
		return err
	}
	defer closeConn()
	var sums []history.Summary
	var page *client.Page
	if paged {
		if page, err = cl.ListPage(ctx, opts); err != nil {
			return listError(c.name, err)
		}
		sums = page.Summaries
	} else if sums, err = cl.List(ctx, opts); err != nil {
		return err
	}
	if *asJSON {
		if sums == nil {
			sums = []history.Summary{}
		}
		if paged {
			page.Summaries = sums
			return writeJSON(stdout, page)
		}
		return writeJSON(stdout, sums)
	}
	if len(sums) == 0 {
		fmt.Fprintln(stdout, "No workflows.")
		return nil
	}
	withAttrs := slices.ContainsFunc(sums, func(s history.Summary) bool { return len(s.SearchAttributes) > 0 })
	tw := newTable(stdout)
	header := "WORKFLOW ID\tTYPE\tQUEUE\tSTATUS\tSTARTED\tCLOSED\tRUN"
	if withAttrs {
		header += "\tATTRIBUTES"
	}
	fmt.Fprintln(tw, header)
	for _, s := range sums {
		status := string(s.Status)
		if s.Parked != nil && s.Status == history.StatusRunning {
			status += " (PARKED)"
		}
		if s.Paused && s.Status == history.StatusRunning {
			status += " (PAUSED)"
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s", cell(s.WorkflowID), cell(s.WorkflowType), s.TaskQueue, status,
			shortTime(s.StartTime, now), shortTime(s.CloseTime, now), s.Run)
		if withAttrs {
			line += "\t" + cell(formatAttributes(s.SearchAttributes))
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if page != nil && page.NextPageToken != "" {
		fmt.Fprintf(stdout, "Next page: --next %s\n", page.NextPageToken)
	}
	return nil
}

// listError makes a rejected page token a usage error.
func listError(cmd string, err error) error {
	if errors.Is(err, client.ErrInvalidArgument) {
		return usageErrorf(cmd, "--next: the token is malformed or was made with other filters")
	}
	return err
}

// formatAttributes renders search attributes as NAME=VALUE pairs, sorted by
// name.
func formatAttributes(attrs map[string]history.SearchValue) string {
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, n+"="+string(attrs[n].Value))
	}
	return strings.Join(parts, " ")
}

var _ flag.Value = (*timeFlag)(nil)
