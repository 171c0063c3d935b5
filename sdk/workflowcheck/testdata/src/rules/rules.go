// Package rules has one workflow function per rule of the analyzer.
package rules

import (
	crand "crypto/rand"
	"io/ioutil"
	"maps"
	"math/rand"
	randv2 "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/cairnhq/cairn/sdk/workflow"
)

func MapRange(ctx workflow.Context, m map[string]int) int {
	n := 0
	for _, v := range m { // want `range over a map in workflow MapRange: its iteration order is random and differs on replay; use sorted keys \(for _, k := range slices\.Sorted\(maps\.Keys\(m\)\)\) instead`
		n += v
	}
	for k := range maps.Keys(m) { // want `range over maps\.Keys in workflow MapRange: its iteration order is random`
		n += len(k)
	}
	type byName map[string]bool
	for range byName(nil) { // want `range over a map in workflow MapRange`
	}
	// Copying or deleting under the range key gives the same map in any
	// order: not reported.
	dst := map[string]int64{}
	for k, v := range m {
		dst[k] = int64(v)
	}
	for k := range m {
		delete(dst, k)
	}
	// But not when the body does anything else.
	var last string
	for k := range m { // want `range over a map in workflow MapRange`
		dst[k] = 1
		last = k
	}
	for k, v := range m { // want `range over a map in workflow MapRange`
		dst[k] = int64(n + v + len(last))
		dst[k] = next()
	}
	return n
}

func next() int64 { return 0 }

func Clock(ctx workflow.Context, t time.Time) {
	_ = time.Now()                 // want `time\.Now in workflow Clock: the clock differs on replay; use workflow\.Now\(ctx\) instead`
	_ = time.Since(t)              // want `time\.Since in workflow Clock: .*use workflow\.Now\(ctx\)\.Sub\(t\) instead`
	_ = time.Until(t)              // want `time\.Until in workflow Clock: .*use t\.Sub\(workflow\.Now\(ctx\)\) instead`
	time.Sleep(time.Second)        // want `time\.Sleep in workflow Clock: .*use workflow\.Sleep\(ctx, d\) instead`
	_ = time.After(time.Second)    // want `time\.After in workflow Clock: .*use workflow\.NewTimer\(ctx, d\) instead`
	_ = time.Tick(time.Second)     // want `time\.Tick in workflow Clock: .*workflow\.Sleep\(ctx, d\) or workflow\.NewTimer\(ctx, d\) in a loop`
	_ = time.NewTimer(time.Second) // want `time\.NewTimer in workflow Clock: .*use workflow\.NewTimer\(ctx, d\) instead`
	_ = time.NewTicker(time.Hour)  // want `time\.NewTicker in workflow Clock`
	time.AfterFunc(0, func() {})   // want `time\.AfterFunc in workflow Clock: .*workflow\.Go\(ctx, fn\)`
	now := time.Now                // want `time\.Now in workflow Clock`
	_ = now
	_ = time.Unix(0, 0).Add(time.Minute) // pure time arithmetic is fine
}

func Goroutines(ctx workflow.Context) {
	go func() {}() // want `go statement in workflow Goroutines: a goroutine runs outside the workflow's deterministic scheduler; use workflow\.Go\(ctx, func\(ctx workflow\.Context\) \{ \.\.\. \}\) instead`
}

func Channels(ctx workflow.Context, in <-chan int) int {
	ch := make(chan int, 1) // want `make\(chan\) in workflow Channels: .*workflow\.NewChannel\[T\]\(ctx\) or workflow\.NewBufferedChannel`
	ch <- 1                 // want `channel send in workflow Channels: .*Send\(ctx, v\)`
	v := <-ch               // want `channel receive in workflow Channels: .*Receive\(ctx\) on a workflow\.Channel`
	close(ch)               // want `close of a channel in workflow Channels: .*Close\(\) on a workflow\.Channel`
	for x := range in {     // want `range over a channel in workflow Channels: .*a loop around Receive\(ctx\)`
		v += x
	}
	select { // want `select statement in workflow Channels: .*workflow\.NewSelector\(ctx\)`
	case x := <-in:
		v += x
	case ch <- v:
	default:
		time.Sleep(0) // want `time\.Sleep in workflow Channels`
	}
	return v
}

func Random(ctx workflow.Context) {
	_ = rand.Intn(10)                                          // want `math/rand\.Intn in workflow Random: the numbers differ on replay; use workflow\.Random\(ctx\) or workflow\.UUID\(ctx\), or draw the value inside workflow\.SideEffect instead`
	_ = randv2.IntN(10)                                        // want `math/rand/v2\.IntN in workflow Random`
	_, _ = crand.Read(make([]byte, 8))                         // want `crypto/rand\.Read in workflow Random`
	_ = crand.Reader                                           // want `crypto/rand\.Reader in workflow Random`
	r := rand.New(rand.NewSource(int64(workflow.Random(ctx)))) // a generator seeded by the workflow is deterministic
	_ = r.Intn(10)
}

func IO(ctx workflow.Context) {
	_ = os.Getenv("HOME")                 // want `os\.Getenv in workflow IO: I/O runs again on every replay and may return something else; use an activity \(workflow\.ExecuteActivity\) or a recorded workflow\.Step instead`
	f, _ := os.Open("x")                  // want `os\.Open in workflow IO`
	_ = f.Close()                         // want `\(\*os\.File\)\.Close in workflow IO`
	_ = os.Args                           // want `os\.Args in workflow IO`
	_, _ = http.Get("http://example.com") // want `net/http\.Get in workflow IO`
	var c http.Client
	_, _ = c.Do(nil)              // want `\(\*net/http\.Client\)\.Do in workflow IO`
	_, _ = net.Dial("tcp", "x:1") // want `net\.Dial in workflow IO`
	_ = exec.Command("ls").Run()  // want `os/exec\.Command in workflow IO` `\(\*os/exec\.Cmd\)\.Run in workflow IO`
	_, _ = ioutil.ReadFile("x")   // want `io/ioutil\.ReadFile in workflow IO`
	_ = ioutil.Discard            // not a file function
	_ = http.StatusOK             // a constant
	var err error
	_ = err == os.ErrNotExist // a sentinel error
}

type guarded struct {
	sync.Mutex
	rw sync.RWMutex
}

func Sync(ctx workflow.Context, g *guarded) {
	var mu sync.Mutex
	mu.Lock() // want `\(\*sync\.Mutex\)\.Lock in workflow Sync: blocking on a lock stalls the workflow's scheduler.*workflow\.Await\(ctx, cond\)`
	mu.Unlock()
	g.Lock()     // want `\(\*sync\.Mutex\)\.Lock in workflow Sync`
	g.rw.RLock() // want `\(\*sync\.RWMutex\)\.RLock in workflow Sync`
	g.rw.RUnlock()
	var l sync.Locker = &mu
	l.Lock() // want `\(sync\.Locker\)\.Lock in workflow Sync`
	var wg sync.WaitGroup
	wg.Go(func() {})         // want `\(\*sync\.WaitGroup\)\.Go in workflow Sync: it starts a goroutine outside the workflow's scheduler; use workflow\.Go\(ctx, fn\) instead`
	wg.Wait()                // want `\(\*sync\.WaitGroup\)\.Wait in workflow Sync: .*workflow\.All\(ctx, futures\.\.\.\)`
	sync.NewCond(&mu).Wait() // want `\(\*sync\.Cond\)\.Wait in workflow Sync`
	var once sync.Once
	once.Do(func() {}) // does not block the scheduler
}

// Method is a workflow method: the receiver does not count.
func (g *guarded) Method(ctx workflow.Context) {
	_ = time.Now() // want `time\.Now in workflow guarded\.Method`
}
