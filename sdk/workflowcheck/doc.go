// Package workflowcheck is a static checker, in the style of go vet, for
// the determinism rules of cairn workflow code (see the package
// documentation of sdk/workflow).
//
// A workflow function is a function or method whose first parameter is a
// workflow.Context, and so is a function literal with that first
// parameter. Analyzer checks every workflow function of a package, the
// function literals defined inside it and, transitively, the functions of
// the same package it calls or passes on as values. It reports what would
// make a replay take different decisions than the original run:
//
//   - ranging over a map, or over maps.Keys, Values or All (the order is
//     random), unless the loop only copies or deletes entries under the
//     range key, which gives the same map in any order;
//   - reading the clock or waiting on it with package time (time.Now,
//     time.Sleep, time.After, timers and tickers...);
//   - go statements, native channels (make(chan), send, receive, close,
//     range over a channel) and select statements;
//   - math/rand, math/rand/v2 and crypto/rand;
//   - I/O with os, os/exec, net, net/http and io/ioutil;
//   - blocking on package sync (Mutex.Lock, RWMutex.Lock and RLock,
//     WaitGroup.Wait and Go, Cond.Wait).
//
// Each diagnostic names the offending construct, the workflow function it
// was reached from (and the chain of calls when it is not in that
// function itself) and the workflow replacement to use.
//
// Code whose outcome is recorded is not workflow code and is not checked:
// the function passed to workflow.Step, workflow.SideEffect or as the
// submit function of workflow.WaitForCallback, and activity functions
// (whose first parameter is a context.Context) passed as values. A call to
// an activity function made directly from workflow code is followed,
// since it runs inline. A line comment //workflowcheck:ignore on the
// offending line, or on the line above it, suppresses a diagnostic.
//
// The package owns these rules and nothing else: it knows the workflow
// package by its import path and never imports the SDK, so it checks code
// without linking it. It imports the standard library and
// golang.org/x/tools/go/analysis (with go/types/typeutil) only; the
// command cmd/workflowcheck runs it.
package workflowcheck
