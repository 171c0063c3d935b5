package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/internal/testutil"
	"github.com/cairnhq/cairn/streams"
)

// TestDeadLetters: a task that can never run (no headers) and an inbox
// message that is not one (unknown kind) are taken off their work queues
// and kept as dead letters with the reason; list shows them, purge
// deletes them.
func TestDeadLetters(t *testing.T) {
	e := newEnv(t)
	names := streams.NewNames("default")
	for _, m := range []*nats.Msg{
		{Subject: names.TaskSubject("default", "Charge"), Data: []byte("no headers at all")},
		{Subject: names.InboxSubject("default", "order-x"), Header: nats.Header{"Cairn-Kind": []string{"bogus"}}, Data: []byte("{}")},
	} {
		if err := e.nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	var letters []deadLetter
	testutil.Eventually(t, 30*time.Second, func() error {
		r := cli(t, "deadletter", "list", "--json", "--server", e.url)
		if r.code != 0 {
			return errors.New(r.String())
		}
		letters = nil
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			if line == "" {
				continue
			}
			var d deadLetter
			if err := json.Unmarshal([]byte(line), &d); err != nil {
				return err
			}
			letters = append(letters, d)
		}
		if len(letters) < 2 {
			return fmt.Errorf("%d dead letters", len(letters))
		}
		return nil
	})
	bySubject := map[string]deadLetter{}
	for _, d := range letters {
		bySubject[d.Subject] = d
	}
	task, inbox := bySubject[names.TaskSubject("default", "Charge")], bySubject[names.InboxSubject("default", "order-x")]
	if !strings.Contains(task.Reason, "malformed task") || task.Body != "no headers at all" {
		t.Errorf("the task's dead letter: %+v", task)
	}
	if !strings.Contains(inbox.Reason, "malformed") {
		t.Errorf("the inbox message's dead letter: %+v", inbox)
	}
	// Off the work queue.
	js, err := jetstream.New(e.nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(t.Context(), names.TasksStream())
	if err != nil {
		t.Fatal(err)
	}
	if info, err := s.Info(t.Context()); err != nil || info.State.Msgs != 0 {
		t.Errorf("the tasks stream: %+v, %v; want it empty", info.State, err)
	}
	if r := mustCLI(t, "deadletter", "list", "--server", e.url); !strings.Contains(r.stdout, "malformed task") {
		t.Errorf("list: %s", r.stdout)
	}
	if r := mustCLI(t, "deadletter", "purge", "--server", e.url); !strings.Contains(r.stdout, "Purged 2 dead letters") {
		t.Errorf("purge: %s", r.stdout)
	}
	if r := mustCLI(t, "deadletter", "list", "--server", e.url); !strings.Contains(r.stdout, "No dead letters.") {
		t.Errorf("list after purge: %s", r.stdout)
	}
}
