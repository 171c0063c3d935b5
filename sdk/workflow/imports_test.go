package workflow_test

import (
	"os/exec"
	"strings"
	"testing"
)

// Workflow code is linked into every service that defines workflows, often
// far from the worker; the package must not drag in a NATS server or an
// OpenTelemetry exporter (they belong to cmd/ and streams/embedded,
// telemetry/otelsetup).
func TestWorkflowPackageLinksNoServerOrExporter(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not on PATH")
	}
	out, err := exec.Command(gobin, "list", "-deps", "github.com/cairnhq/cairn/sdk/workflow", "github.com/cairnhq/cairn/sdk/activity").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/nats-io/nats-server", "go.opentelemetry.io/otel/exporters", "google.golang.org/grpc"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("sdk/workflow or sdk/activity links %s", dep)
			}
		}
	}
}
