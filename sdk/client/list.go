package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/history"
)

// ListOptions filter List and ListPage. Zero fields match everything; a
// summary must match every filter given.
type ListOptions struct {
	// Status, WorkflowType and TaskQueue match exactly when set.
	Status       history.Status
	WorkflowType string
	TaskQueue    string
	// StartedAfter and StartedBefore bound the start time: after is
	// inclusive, before exclusive.
	StartedAfter  time.Time
	StartedBefore time.Time
	// ClosedAfter and ClosedBefore bound the close time the same way;
	// setting either lists closed runs only.
	ClosedAfter  time.Time
	ClosedBefore time.Time
	// Attributes filter on search attributes (see AttributeFilter).
	Attributes []AttributeFilter
	// Limit caps the number of results of List (0 = no cap). ListPage
	// ignores it.
	Limit int
	// PageSize is the number of summaries per ListPage page (default
	// DefaultPageSize, at most MaxPageSize).
	PageSize int
	// PageToken continues a listing: pass the NextPageToken of the previous
	// page, with the same filters.
	PageToken string
}

// Page sizes of ListPage.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// FilterOp compares a search attribute with a filter's value.
type FilterOp string

// The filter operators. What each means depends on the attribute's type:
//
//   - keyword: = and != compare exactly, < <= > >= in byte order, ~ is a
//     substring test;
//   - text: = and ~ test for a substring, ignoring case; != is its negation;
//   - int, double, datetime: numeric (or chronological) comparisons; ~
//     never matches;
//   - bool: = and != only;
//   - keywords: = and ~ test that the list contains the value; != that it
//     does not.
//
// An instance without the attribute, or whose attribute's value the filter
// value cannot be compared with (Amount>=abc), does not match.
const (
	OpEqual          FilterOp = "="
	OpNotEqual       FilterOp = "!="
	OpLess           FilterOp = "<"
	OpLessOrEqual    FilterOp = "<="
	OpGreater        FilterOp = ">"
	OpGreaterOrEqual FilterOp = ">="
	OpContains       FilterOp = "~"
)

// AttributeFilter is one condition on a search attribute. Value is text,
// read according to the type of the attribute it is compared with: an
// integer or decimal number for int and double, true/false for bool, an
// RFC 3339 time (or a date, 2006-01-02, taken as midnight UTC) for
// datetime.
type AttributeFilter struct {
	// Name is the attribute's name.
	Name string
	// Op compares the attribute with Value.
	Op FilterOp
	// Value is the filter's value, as text.
	Value string
}

// ParseAttributeFilter parses NAME OP VALUE, e.g. "Customer=acme",
// "Amount>=100", "Note~late". Errors wrap ErrInvalidArgument.
func ParseAttributeFilter(s string) (AttributeFilter, error) {
	i := strings.IndexAny(s, "=!<>~")
	if i <= 0 {
		return AttributeFilter{}, fmt.Errorf("%w: attribute filter %q: want NAME OP VALUE with OP one of = != < <= > >= ~", ErrInvalidArgument, s)
	}
	name, rest := strings.TrimSpace(s[:i]), s[i:]
	var op FilterOp
	for _, o := range []FilterOp{OpNotEqual, OpLessOrEqual, OpGreaterOrEqual, OpEqual, OpLess, OpGreater, OpContains} {
		if strings.HasPrefix(rest, string(o)) {
			op = o
			break
		}
	}
	if op == "" || name == "" {
		return AttributeFilter{}, fmt.Errorf("%w: attribute filter %q: want NAME OP VALUE with OP one of = != < <= > >= ~", ErrInvalidArgument, s)
	}
	return AttributeFilter{Name: name, Op: op, Value: strings.TrimSpace(rest[len(op):])}, nil
}

// Page is one page of a listing.
type Page struct {
	// Summaries are the page's instances, newest first.
	Summaries []history.Summary `json:"summaries"`
	// NextPageToken continues the listing; empty on the last page.
	NextPageToken string `json:"nextPageToken,omitempty"`
}

// List returns the summaries of the namespace's instances (the latest run
// of each id) that match, newest first, up to opts.Limit. The listing is
// read from the instances index, which follows history closely but may lag
// it by a moment.
func (c *Client) List(ctx context.Context, opts ListOptions) ([]history.Summary, error) {
	out, err := c.scan(ctx, opts, nil)
	if err != nil {
		return nil, err
	}
	if opts.Limit > 0 && len(out) > opts.Limit {
		out = out[:opts.Limit]
	}
	return out, nil
}

// Count returns how many instances match opts (its Limit, PageSize and
// PageToken are ignored): one read of the instances index, like List.
func (c *Client) Count(ctx context.Context, opts ListOptions) (int, error) {
	opts.Limit, opts.PageSize, opts.PageToken = 0, 0, ""
	out, err := c.scan(ctx, opts, nil)
	return len(out), err
}

// ListPage returns one page of the matching summaries, newest first (ties
// by workflow id). The order is stable: walking the pages with
// NextPageToken visits every instance that existed throughout, once. An
// instance restarted during the walk moves to the front of the order and
// may be missed or seen twice. A token is only valid with the filters that
// produced it (ErrInvalidArgument otherwise).
func (c *Client) ListPage(ctx context.Context, opts ListOptions) (*Page, error) {
	size := opts.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	if size > MaxPageSize {
		return nil, fmt.Errorf("%w: page size %d is over %d", ErrInvalidArgument, size, MaxPageSize)
	}
	fp := fingerprint(opts)
	var after *cursor
	if opts.PageToken != "" {
		cur, err := decodeCursor(opts.PageToken)
		if err != nil || cur.Filter != fp {
			return nil, fmt.Errorf("%w: page token is malformed or belongs to other filters", ErrInvalidArgument)
		}
		after = cur
	}
	out, err := c.scan(ctx, opts, after)
	if err != nil {
		return nil, err
	}
	p := &Page{Summaries: out}
	if len(out) > size {
		p.Summaries = out[:size]
		last := p.Summaries[size-1]
		p.NextPageToken = (&cursor{Start: last.StartTime, ID: last.WorkflowID, Filter: fp}).encode()
	}
	return p, nil
}

// scan reads every summary of the bucket (one watch: the bucket delivers
// its current values and ends with a marker) and returns the matching ones
// that sort after the cursor, sorted.
func (c *Client) scan(ctx context.Context, opts ListOptions, after *cursor) ([]history.Summary, error) {
	w, err := c.summaries.KV().WatchAll(ctx)
	if err != nil {
		return nil, err
	}
	defer w.Stop()
	latest := map[string]history.Summary{}
	seen := map[string]bool{}
	var last uint64 // the newest revision delivered
	for {
		var e jetstream.KeyValueEntry
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case e = <-w.Updates():
		}
		if e == nil {
			break // initial values delivered
		}
		seen[e.Key()] = true
		last = max(last, e.Revision())
		var s history.Summary
		if e.Operation() == jetstream.KeyValuePut && json.Unmarshal(e.Value(), &s) == nil {
			latest[e.Key()] = s
		} else {
			delete(latest, e.Key())
		}
	}
	if err := c.readMissed(ctx, last, seen, latest); err != nil {
		return nil, err
	}
	var out []history.Summary
	for _, s := range latest {
		if matches(&s, &opts) && (after == nil || after.before(&s)) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b history.Summary) int {
		if c := b.StartTime.Compare(a.StartTime); c != 0 {
			return c
		}
		return strings.Compare(a.WorkflowID, b.WorkflowID)
	})
	return out, nil
}

// readMissed adds to latest the summaries the watch did not deliver. Its
// end marker does not prove that every key came: a summary written again
// during the watch drops the value the watch was about to deliver, and the
// new value may come after the marker. Unless the watch delivered the
// bucket's newest write (last), the keys the bucket holds tell which are
// missing, and those are read one by one.
func (c *Client) readMissed(ctx context.Context, last uint64, seen map[string]bool, latest map[string]history.Summary) error {
	kv := c.summaries.KV()
	prefix := "$KV." + kv.Bucket() + "."
	st, err := c.js.Stream(ctx, "KV_"+kv.Bucket())
	if err != nil {
		return err
	}
	if last >= st.CachedInfo().State.LastSeq {
		return nil
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(prefix+">"))
	if err != nil {
		return err
	}
	for subject := range info.State.Subjects {
		key := strings.TrimPrefix(subject, prefix)
		if seen[key] {
			continue
		}
		e, err := kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // deleted since
		}
		if err != nil {
			return err
		}
		var s history.Summary
		if json.Unmarshal(e.Value(), &s) == nil {
			latest[key] = s
		}
	}
	return nil
}

func matches(s *history.Summary, o *ListOptions) bool {
	if (o.Status != "" && s.Status != o.Status) ||
		(o.WorkflowType != "" && s.WorkflowType != o.WorkflowType) ||
		(o.TaskQueue != "" && s.TaskQueue != o.TaskQueue) ||
		(!o.StartedAfter.IsZero() && s.StartTime.Before(o.StartedAfter)) ||
		(!o.StartedBefore.IsZero() && !s.StartTime.Before(o.StartedBefore)) {
		return false
	}
	if !o.ClosedAfter.IsZero() || !o.ClosedBefore.IsZero() {
		if s.CloseTime.IsZero() || s.Status == history.StatusRunning ||
			(!o.ClosedAfter.IsZero() && s.CloseTime.Before(o.ClosedAfter)) ||
			(!o.ClosedBefore.IsZero() && !s.CloseTime.Before(o.ClosedBefore)) {
			return false
		}
	}
	for _, f := range o.Attributes {
		v, ok := s.SearchAttributes[f.Name]
		if !ok || !f.match(v) {
			return false
		}
	}
	return true
}

// match compares one stored value with the filter.
func (f AttributeFilter) match(v history.SearchValue) bool {
	switch v.Type {
	case history.SearchKeyword:
		s, err := v.AsString()
		if err != nil {
			return false
		}
		if f.Op == OpContains {
			return strings.Contains(s, f.Value)
		}
		return compare(f.Op, strings.Compare(s, f.Value))
	case history.SearchText:
		s, err := v.AsString()
		if err != nil {
			return false
		}
		has := strings.Contains(strings.ToLower(s), strings.ToLower(f.Value))
		switch f.Op {
		case OpEqual, OpContains:
			return has
		case OpNotEqual:
			return !has
		}
	case history.SearchInt:
		n, err := v.AsInt()
		if err != nil {
			return false
		}
		if want, err := strconv.ParseInt(f.Value, 10, 64); err == nil {
			return compare(f.Op, cmpOrdered(n, want))
		}
		if want, err := strconv.ParseFloat(f.Value, 64); err == nil && !math.IsNaN(want) {
			return compare(f.Op, cmpOrdered(float64(n), want))
		}
	case history.SearchDouble:
		d, err := v.AsDouble()
		want, err2 := strconv.ParseFloat(f.Value, 64)
		if err == nil && err2 == nil && !math.IsNaN(want) {
			return compare(f.Op, cmpOrdered(d, want))
		}
	case history.SearchBool:
		b, err := v.AsBool()
		want, err2 := strconv.ParseBool(f.Value)
		if err == nil && err2 == nil && (f.Op == OpEqual || f.Op == OpNotEqual) {
			return (b == want) == (f.Op == OpEqual)
		}
	case history.SearchDatetime:
		t, err := v.AsDatetime()
		want, err2 := parseFilterTime(f.Value)
		if err == nil && err2 == nil {
			return compare(f.Op, t.Compare(want))
		}
	case history.SearchKeywords:
		l, err := v.AsKeywords()
		if err != nil {
			return false
		}
		has := slices.Contains(l, f.Value)
		switch f.Op {
		case OpEqual, OpContains:
			return has
		case OpNotEqual:
			return !has
		}
	}
	return false
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compare turns a three-way comparison of stored value and filter value
// into the operator's verdict (~ is handled by the caller).
func compare(op FilterOp, c int) bool {
	switch op {
	case OpEqual:
		return c == 0
	case OpNotEqual:
		return c != 0
	case OpLess:
		return c < 0
	case OpLessOrEqual:
		return c <= 0
	case OpGreater:
		return c > 0
	case OpGreaterOrEqual:
		return c >= 0
	}
	return false
}

// parseFilterTime reads an RFC 3339 time, or a date as midnight UTC.
func parseFilterTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, s)
}

// cursor is the position a page ended at, in the listing order, plus a
// fingerprint of the filters it was made with.
type cursor struct {
	Start  time.Time `json:"t"`
	ID     string    `json:"id"`
	Filter uint64    `json:"f"`
}

// before reports whether the cursor sorts before s (s belongs to a later
// page).
func (c *cursor) before(s *history.Summary) bool {
	if !s.StartTime.Equal(c.Start) {
		return s.StartTime.Before(c.Start)
	}
	return s.WorkflowID > c.ID
}

func (c *cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(tok string) (*cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, err
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// fingerprint identifies the filters of a listing, so a token is not
// reused with others (its position would mean something else).
func fingerprint(o ListOptions) uint64 {
	o.Limit, o.PageSize, o.PageToken = 0, 0, ""
	b, _ := json.Marshal(o)
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}
