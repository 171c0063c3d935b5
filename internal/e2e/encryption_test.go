package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/testutil"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/converter"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

// Each value the story handles carries its own marker, so a leak names the
// payload that leaked.
const (
	secretInput      = "SECRET-WF-INPUT-4111"
	secretActInput   = "SECRET-ACT-INPUT-7a1"
	secretActResult  = "SECRET-ACT-RESULT-9c2"
	secretWFResult   = "SECRET-WF-RESULT-e55"
	secretSignal     = "SECRET-SIGNAL-31b"
	secretStepResult = "SECRET-STEP-RESULT-0d4"
	secretChildIn    = "SECRET-CHILD-INPUT-5f0"
	secretChildOut   = "SECRET-CHILD-RESULT-a17"
	secretStatus     = "SECRET-STATUS-c3d"
	secretMemo       = "SECRET-MEMO-88e"
	secretNextInput  = "SECRET-NEXT-RUN-INPUT-b90"
)

var secrets = []string{secretInput, secretActInput, secretActResult, secretWFResult, secretSignal, secretStepResult,
	secretChildIn, secretChildOut, secretStatus, secretMemo, secretNextInput}

func SealedCharge(_ context.Context, card string) (string, error) {
	if card != secretActInput {
		return "", fmt.Errorf("activity input %q, want %q", card, secretActInput)
	}
	return secretActResult, nil
}

func SealedFlow(ctx workflow.Context, in string) (string, error) {
	if in != secretInput {
		return "", fmt.Errorf("workflow input %q", in)
	}
	r, err := workflow.ExecuteActivity(ctx, SealedCharge, secretActInput).Get(ctx)
	if err != nil {
		return "", err
	}
	s, err := workflow.Step(ctx, "stamp", func() (string, error) { return secretStepResult, nil })
	if err != nil {
		return "", err
	}
	sig, err := workflow.ReceiveSignal[string](ctx, "go")
	if err != nil {
		return "", err
	}
	if r != secretActResult || s != secretStepResult || sig != secretSignal {
		return "", fmt.Errorf("activity %q, step %q, signal %q", r, s, sig)
	}
	return secretWFResult, nil
}

// writeKeyFile writes a key file with one fresh key, kid.
func writeKeyFile(t *testing.T, kid string) string {
	t.Helper()
	key := make([]byte, converter.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(p, []byte(kid+" "+base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// wireTap records every message published on the server while it runs:
// tasks, results, inbox items, history commits and the replies that read
// them back.
type wireTap struct {
	mu   sync.Mutex
	msgs [][]byte
}

func tapWire(t *testing.T, env *testenv.Env) *wireTap {
	t.Helper()
	nc := env.NewConn(t)
	tap := &wireTap{}
	sub, err := nc.Subscribe(">", func(m *nats.Msg) {
		tap.mu.Lock()
		tap.msgs = append(tap.msgs, append([]byte(m.Subject+" "), m.Data...))
		tap.mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return tap
}

// storedMessages returns every message kept in every stream of the server
// (history, inbox, tasks, the KV buckets of summaries and search).
func storedMessages(t *testing.T, ctx context.Context, js jetstream.JetStream) [][]byte {
	t.Helper()
	var out [][]byte
	names := js.StreamNames(ctx)
	for name := range names.Name() {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
			m, err := s.GetMsg(ctx, seq)
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				continue
			}
			if err != nil {
				t.Fatalf("%s seq %d: %v", name, seq, err)
			}
			out = append(out, append([]byte(name+" "), m.Data...))
		}
	}
	if err := names.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func assertNoSecret(t *testing.T, where string, msgs [][]byte) {
	t.Helper()
	for _, m := range msgs {
		for _, s := range secrets {
			if bytes.Contains(m, []byte(s)) {
				t.Errorf("%s: %s in clear in %.300s", where, s, m)
			}
		}
	}
}

func TestEncryptedPayloadsNeverInClear(t *testing.T) {
	env := testenv.New(t)
	keyFile := writeKeyFile(t, "k1")
	keys, err := converter.LoadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := converter.NewEncryptingDataConverter(keys)
	if err != nil {
		t.Fatal(err)
	}
	tap := tapWire(t, env)
	register := func(w *worker.Worker) {
		w.RegisterWorkflow(SealedFlow)
		w.RegisterActivity(SealedCharge)
	}
	// Two workers, so tasks and results cross processes' boundaries as in
	// production.
	env.StartWorker(t, "sealed", register, worker.WithDataConverter(dc))
	env.StartWorker(t, "sealed", register, worker.WithDataConverter(dc))
	ctx := testCtx(t, 60*time.Second)
	c, err := client.New(ctx, env.Conn(), client.WithNamespace(env.Namespace()), client.WithDataConverter(dc))
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Start(ctx, client.StartOptions{ID: "sealed-1", TaskQueue: "sealed"}, SealedFlow, secretInput)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Signal(ctx, run.ID, "", "go", secretSignal); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if got != secretWFResult {
		t.Fatalf("result %q, want %q", got, secretWFResult)
	}

	// Every payload in history is an envelope under k1.
	events := checkHistory(t, c, run.ID)
	sealed := 0
	for _, ev := range events {
		for _, p := range payloadsOf(ev) {
			if kid, ok := converter.EnvelopeKeyID(p); !ok || kid != "k1" {
				t.Errorf("event %d %s: payload %.120s is not an envelope under k1", ev.Seq, ev.Type, p)
			}
			sealed++
		}
	}
	if sealed < 5 { // input, activity input and result, step result, signal, result
		t.Fatalf("found %d payloads in history, want at least 5", sealed)
	}

	// The stored history replays with the same converter, as a worker
	// replays it; without the key it cannot.
	batches, err := c.HistoryBatches(ctx, run.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := testenv.ReplayBatches(SealedFlow, batches, testenv.ReplayWithDataConverter(dc)); err != nil {
		t.Fatalf("replay with the key: %v", err)
	}
	if err := testenv.ReplayBatches(SealedFlow, batches); err == nil {
		t.Fatal("the encrypted history replayed without the key")
	}

	// Nothing in clear, neither stored nor on the wire.
	assertNoSecret(t, "stored", storedMessages(t, ctx, env.JetStream()))
	tap.mu.Lock()
	wire := tap.msgs
	tap.mu.Unlock()
	if len(wire) == 0 {
		t.Fatal("the wire tap saw nothing")
	}
	assertNoSecret(t, "wire", wire)

	// A client without the key gets the envelope, not the value.
	plain := env.Client(t)
	var raw json.RawMessage
	if err := plain.GetRun(run.ID, "").Get(ctx, &raw); err != nil {
		t.Fatal(err)
	}
	if kid, ok := converter.EnvelopeKeyID(raw); !ok || kid != "k1" || bytes.Contains(raw, []byte(secretWFResult)) {
		t.Fatalf("result read without the key: %s", raw)
	}
}

// A client without the key writes its input in clear; the worker refuses it
// instead of running on data that bypassed encryption.
func TestEncryptedWorkerRefusesClearInput(t *testing.T) {
	env := testenv.New(t)
	keys, err := converter.LoadKeyFile(writeKeyFile(t, "k1"))
	if err != nil {
		t.Fatal(err)
	}
	dc, err := converter.NewEncryptingDataConverter(keys)
	if err != nil {
		t.Fatal(err)
	}
	env.StartWorker(t, "sealed", func(w *worker.Worker) { w.RegisterWorkflow(SealedFlow) }, worker.WithDataConverter(dc))
	ctx := testCtx(t, 60*time.Second)
	run, err := env.Client(t).Start(ctx, client.StartOptions{ID: "clear-1", TaskQueue: "sealed"}, SealedFlow, secretInput)
	if err != nil {
		t.Fatal(err)
	}
	err = run.Get(ctx, nil)
	var wfErr *failure.WorkflowError
	if !errors.As(err, &wfErr) || !strings.Contains(err.Error(), "not encrypted") {
		t.Fatalf("run with a clear input: %v; want a failure saying it is not encrypted", err)
	}
}

// payloadsOf returns the user payloads an event carries.
func payloadsOf(ev *history.Event) [][]byte {
	switch a := ev.Attributes.(type) {
	case *history.WorkflowStarted:
		return [][]byte{a.Input}
	case *history.WorkflowCompleted:
		return [][]byte{a.Result}
	case *history.ActivityScheduled:
		return [][]byte{a.Input}
	case *history.ActivityCompleted:
		return [][]byte{a.Result}
	case *history.StepCompleted:
		return [][]byte{a.Result}
	case *history.SignalReceived:
		return [][]byte{a.Payload}
	}
	return nil
}

// A callback completion encrypts anew on every call; a repeat with the
// same value (a retry after a crash) must still count as the same decision,
// and another value must still lose.
func TestEncryptedCallbackRepeatIsTheSameDecision(t *testing.T) {
	env := testenv.New(t)
	keys, err := converter.LoadKeyFile(writeKeyFile(t, "k1"))
	if err != nil {
		t.Fatal(err)
	}
	dc, err := converter.NewEncryptingDataConverter(keys)
	if err != nil {
		t.Fatal(err)
	}
	b := &inbox{tokens: map[string]string{}, sent: map[string][]string{}}
	reg := func(w *worker.Worker) { w.RegisterWorkflow(b.approval, worker.WithName("Approval")) }
	ctx := testCtx(t, 60*time.Second)
	c, err := client.New(ctx, env.Conn(), client.WithNamespace(env.Namespace()), client.WithDataConverter(dc))
	if err != nil {
		t.Fatal(err)
	}
	w := env.StartWorker(t, "default", reg, worker.WithDataConverter(dc))
	if _, err := c.Start(ctx, client.StartOptions{ID: "sealed-approval"}, "Approval", ApprovalIn{Timeout: time.Hour}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 30*time.Second, func() error {
		if b.token("sealed-approval") == "" {
			return errors.New("no token yet")
		}
		events, err := c.History(ctx, "sealed-approval", "")
		if err != nil {
			return err
		}
		if count(events, history.TypeCallbackStarted) != 1 {
			return errors.New("callback not started yet")
		}
		return nil
	})
	token := b.token("sealed-approval")
	// With the worker stopped the decision is recorded but not applied, so
	// the repeats meet the recorded decision, as a retry after a crash does.
	w.Stop()
	if err := c.CompleteCallback(ctx, token, "approved-"+secretSignal); err != nil {
		t.Fatal(err)
	}
	if err := c.CompleteCallback(ctx, token, "approved-"+secretSignal); err != nil {
		t.Fatalf("repeated completion with the same value: %v", err)
	}
	if err := c.CompleteCallback(ctx, token, "rejected"); !errors.Is(err, client.ErrCallbackNotPending) {
		t.Fatalf("completion with another value: %v, want ErrCallbackNotPending", err)
	}
	env.StartWorker(t, "default", reg, worker.WithDataConverter(dc))
	var got string
	if err := c.Result(ctx, "sealed-approval", "", &got); err != nil || got != "approved-"+secretSignal {
		t.Fatalf("result %q, %v", got, err)
	}
	if n := count(checkHistory(t, c, "sealed-approval"), history.TypeCallbackCompleted); n != 1 {
		t.Fatalf("%d completions in history, want 1", n)
	}
	// The recorded decision tells nothing of the value.
	assertNoSecret(t, "stored", storedMessages(t, ctx, env.JetStream()))
}

func SealedChild(_ workflow.Context, in string) (string, error) {
	if in != secretChildIn {
		return "", fmt.Errorf("child input %q", in)
	}
	return secretChildOut, nil
}

// SealedLoop runs a child, publishes a status and continues as new once.
func SealedLoop(ctx workflow.Context, next string) (string, error) {
	if next == secretNextInput {
		return secretWFResult, nil
	}
	if next != secretInput {
		return "", fmt.Errorf("input %q", next)
	}
	if err := workflow.SetStatus(ctx, secretStatus); err != nil {
		return "", err
	}
	r, err := workflow.ExecuteChildWorkflow(ctx, SealedChild, secretChildIn).Get(ctx)
	if err != nil {
		return "", err
	}
	if r != secretChildOut {
		return "", fmt.Errorf("child result %q", r)
	}
	return "", workflow.NewContinueAsNewError(ctx, secretNextInput)
}

// Child inputs and results, continue-as-new inputs, the custom status and
// the memo go through the converter too.
func TestEncryptedChildContinueAsNewStatusMemo(t *testing.T) {
	env := testenv.New(t)
	keys, err := converter.LoadKeyFile(writeKeyFile(t, "k1"))
	if err != nil {
		t.Fatal(err)
	}
	dc, err := converter.NewEncryptingDataConverter(keys)
	if err != nil {
		t.Fatal(err)
	}
	tap := tapWire(t, env)
	env.StartWorker(t, "default", func(w *worker.Worker) {
		w.RegisterWorkflow(SealedLoop)
		w.RegisterWorkflow(SealedChild)
	}, worker.WithDataConverter(dc))
	ctx := testCtx(t, 60*time.Second)
	c, err := client.New(ctx, env.Conn(), client.WithNamespace(env.Namespace()), client.WithDataConverter(dc))
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Start(ctx, client.StartOptions{ID: "sealed-loop", Memo: secretMemo}, SealedLoop, secretInput)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil || got != secretWFResult {
		t.Fatalf("result %q, %v", got, err)
	}
	first, err := c.Describe(ctx, "sealed-loop", run.Run)
	if err != nil || first.Status != history.StatusContinuedAsNew {
		t.Fatalf("first run: %+v, %v", first, err)
	}
	if _, sealed := converter.EnvelopeKeyID(first.CustomStatus); !sealed {
		t.Fatalf("custom status %s is not encrypted", first.CustomStatus)
	}
	assertNoSecret(t, "stored", storedMessages(t, ctx, env.JetStream()))
	tap.mu.Lock()
	wire := tap.msgs
	tap.mu.Unlock()
	assertNoSecret(t, "wire", wire)
}
