package cloudevents

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
)

// When the engine fails an event of a batch after its retries, the rest
// is not attempted: each would wait as long, and a 100-event batch would
// outlast the server's write timeout and get no answer at all.
func TestBatchStopsAtTheFirstEngineFailure(t *testing.T) {
	_, in := stalledIngress(t)
	srv := httptest.NewServer(in.Handler())
	defer srv.Close()
	var evs []string
	for i := range 5 {
		evs = append(evs, fmt.Sprintf(`{"specversion":"1.0","id":"out-%d","source":"urn:outage","type":"com.example.flood","data":{}}`, i))
	}
	resp, err := http.Post(srv.URL+EventsPath, event.ApplicationCloudEventsBatchJSON, strings.NewReader("["+strings.Join(evs, ",")+"]"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p Problem
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || len(p.Events) != 5 {
		t.Fatalf("%d %+v", resp.StatusCode, p)
	}
	if e := p.Events[0].Error; e == nil || e.Code != CodeInternal || strings.HasPrefix(e.Detail, "not attempted") {
		t.Fatalf("event 0: %+v", e)
	}
	for _, it := range p.Events[1:] {
		if it.Error == nil || !strings.HasPrefix(it.Error.Detail, "not attempted: the engine failed on event 0") {
			t.Fatalf("event %d: %+v", it.Index, it.Error)
		}
	}
}
