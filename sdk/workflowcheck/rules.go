package workflowcheck

import (
	"go/types"
)

// A rule says why a construct breaks replay and what workflow code uses
// instead; what names the construct in the diagnostic.
type rule struct {
	what, why, instead string
}

// Rules on syntax: statements and built-ins.
var (
	ruleRangeMap = rule{"range over a map", "its iteration order is random and differs on replay",
		"sorted keys (for _, k := range slices.Sorted(maps.Keys(m)))"}
	ruleGo = rule{"go statement", "a goroutine runs outside the workflow's deterministic scheduler",
		"workflow.Go(ctx, func(ctx workflow.Context) { ... })"}
	ruleSend = rule{"channel send", "a native channel blocks outside the workflow's scheduler",
		"a workflow.Channel (workflow.NewChannel) and its Send(ctx, v)"}
	ruleReceive = rule{"channel receive", "a native channel blocks outside the workflow's scheduler",
		"Receive(ctx) on a workflow.Channel, or Get(ctx) on a workflow.Future"}
	ruleRangeChan = rule{"range over a channel", "a native channel blocks outside the workflow's scheduler",
		"a loop around Receive(ctx) on a workflow.Channel"}
	ruleMakeChan = rule{"make(chan)", "a native channel blocks outside the workflow's scheduler",
		"workflow.NewChannel[T](ctx) or workflow.NewBufferedChannel[T](ctx, n)"}
	ruleClose = rule{"close of a channel", "native channels are not part of the workflow's scheduler",
		"Close() on a workflow.Channel"}
	ruleSelect = rule{"select statement", "it picks among ready cases at random and blocks outside the workflow's scheduler",
		"workflow.NewSelector(ctx) with workflow.AddReceive or workflow.AddFuture, then Select(ctx)"}
)

// mapIterators are the functions of package maps whose sequences follow
// the map's random order: ranging over them directly is ranging over a
// map. (Sorting them first, slices.Sorted(maps.Keys(m)), is the remedy.)
var mapIterators = map[string]bool{"All": true, "Keys": true, "Values": true}

// timeRules are the functions of package time that read or wait on the
// real clock.
var timeRules = map[string]rule{
	"Now":       {why: "the clock differs on replay", instead: "workflow.Now(ctx)"},
	"Since":     {why: "the clock differs on replay", instead: "workflow.Now(ctx).Sub(t)"},
	"Until":     {why: "the clock differs on replay", instead: "t.Sub(workflow.Now(ctx))"},
	"Sleep":     {why: "a sleep outside history blocks the worker and is not durable", instead: "workflow.Sleep(ctx, d)"},
	"After":     {why: "a timer outside history is not durable and fires differently on replay", instead: "workflow.NewTimer(ctx, d)"},
	"NewTimer":  {why: "a timer outside history is not durable and fires differently on replay", instead: "workflow.NewTimer(ctx, d)"},
	"Tick":      {why: "a ticker outside history is not durable and fires differently on replay", instead: "workflow.Sleep(ctx, d) or workflow.NewTimer(ctx, d) in a loop"},
	"NewTicker": {why: "a ticker outside history is not durable and fires differently on replay", instead: "workflow.Sleep(ctx, d) or workflow.NewTimer(ctx, d) in a loop"},
	"AfterFunc": {why: "it runs a goroutine on a timer outside history", instead: "workflow.Go(ctx, fn) with workflow.Sleep(ctx, d) first"},
}

var ruleRandom = rule{why: "the numbers differ on replay",
	instead: "workflow.Random(ctx) or workflow.UUID(ctx), or draw the value inside workflow.SideEffect"}

// randomPkgs are the random packages; of math/rand and math/rand/v2 the
// constructors are allowed, since a generator seeded with
// workflow.Random(ctx) is deterministic.
var randomPkgs = map[string]map[string]bool{
	"math/rand":    {"New": true, "NewSource": true, "NewZipf": true},
	"math/rand/v2": {"New": true, "NewPCG": true, "NewChaCha8": true, "NewZipf": true},
	"crypto/rand":  {},
}

var ruleIO = rule{why: "I/O runs again on every replay and may return something else",
	instead: "an activity (workflow.ExecuteActivity) or a recorded workflow.Step"}

// ioPkgs are the packages whose functions and variables all do or lead
// to I/O.
var ioPkgs = map[string]bool{"os": true, "os/exec": true, "net": true, "net/http": true}

// ioutilFuncs are the file and reader functions of io/ioutil.
var ioutilFuncs = map[string]bool{
	"ReadAll": true, "ReadFile": true, "WriteFile": true, "ReadDir": true, "TempDir": true, "TempFile": true,
}

// ioTypes are the types, by package path and name, whose methods all do
// I/O, wherever the value came from.
var ioTypes = map[string]bool{
	"os.File": true, "os/exec.Cmd": true, "os.Process": true,
	"net/http.Client": true, "net/http.Server": true, "net/http.Transport": true,
	"net.Conn": true, "net.Listener": true, "net.PacketConn": true, "net.Dialer": true, "net.Resolver": true,
	"net.TCPConn": true, "net.UDPConn": true, "net.UnixConn": true, "net.TCPListener": true, "net.UnixListener": true,
}

var (
	ruleLock = rule{why: "blocking on a lock stalls the workflow's scheduler, which runs one coroutine at a time",
		instead: "plain variables (workflow coroutines never run in parallel) and workflow.Await(ctx, cond) to wait"}
	ruleCondWait = rule{why: "it blocks outside the workflow's scheduler",
		instead: "workflow.Await(ctx, cond)"}
	ruleWaitGroupWait = rule{why: "it blocks outside the workflow's scheduler",
		instead: "workflow.All(ctx, futures...), or workflow.Await(ctx, cond) on a counter"}
	ruleWaitGroupGo = rule{why: "it starts a goroutine outside the workflow's scheduler",
		instead: "workflow.Go(ctx, fn)"}
)

// syncMethods are the blocking methods of package sync, by receiver type
// and method name.
var syncMethods = map[string]rule{
	"Mutex.Lock":     ruleLock,
	"RWMutex.Lock":   ruleLock,
	"RWMutex.RLock":  ruleLock,
	"Locker.Lock":    ruleLock,
	"Cond.Wait":      ruleCondWait,
	"WaitGroup.Wait": ruleWaitGroupWait,
	"WaitGroup.Go":   ruleWaitGroupGo,
}

var errorType = types.Universe.Lookup("error").Type()

// objectRule returns the rule that forbids using obj, a function, method
// or package-level variable of another package, in workflow code.
func objectRule(obj types.Object) (rule, bool) {
	if obj == nil || obj.Pkg() == nil {
		return rule{}, false
	}
	path := obj.Pkg().Path()
	switch obj := obj.(type) {
	case *types.Func:
		sig, _ := obj.Type().(*types.Signature)
		if sig != nil && sig.Recv() != nil {
			return methodRule(obj, sig.Recv().Type())
		}
		var r rule
		var ok bool
		switch {
		case path == "time":
			r, ok = timeRules[obj.Name()]
		case randomPkgs[path] != nil:
			r, ok = ruleRandom, !randomPkgs[path][obj.Name()]
		case ioPkgs[path]:
			r, ok = ruleIO, true
		case path == "io/ioutil":
			r, ok = ruleIO, ioutilFuncs[obj.Name()]
		}
		r.what = obj.FullName()
		return r, ok
	case *types.Var:
		if obj.Parent() != obj.Pkg().Scope() || types.Identical(obj.Type(), errorType) {
			return rule{}, false // a field, a local, or a sentinel error such as os.ErrNotExist
		}
		r := rule{what: path + "." + obj.Name()}
		switch {
		case path == "crypto/rand":
			r.why, r.instead = ruleRandom.why, ruleRandom.instead
		case ioPkgs[path]:
			r.why, r.instead = ruleIO.why, ruleIO.instead
		default:
			return rule{}, false
		}
		return r, true
	}
	return rule{}, false
}

// methodRule returns the rule that forbids calling the method fn, whose
// receiver has type recv.
func methodRule(fn *types.Func, recv types.Type) (rule, bool) {
	if p, ok := types.Unalias(recv).(*types.Pointer); ok {
		recv = p.Elem()
	}
	n, ok := types.Unalias(recv).(*types.Named)
	if !ok || n.Obj().Pkg() == nil {
		return rule{}, false
	}
	path, typ := n.Obj().Pkg().Path(), n.Obj().Name()
	var r rule
	switch {
	case path == "sync":
		r, ok = syncMethods[typ+"."+fn.Name()]
	case ioTypes[path+"."+typ]:
		r, ok = ruleIO, true
	default:
		ok = false
	}
	r.what = fn.FullName()
	return r, ok
}
