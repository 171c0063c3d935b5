package activity_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cairnhq/cairn/sdk/activity"
)

func TestOutsideActivity(t *testing.T) {
	ctx := context.Background()
	if activity.IsActivity(ctx) {
		t.Fatal("IsActivity(Background) = true")
	}
	if info := activity.GetInfo(ctx); info != (activity.Info{}) {
		t.Fatalf("GetInfo(Background) = %+v", info)
	}
	if err := activity.RecordHeartbeat(ctx); !errors.Is(err, activity.ErrNotActivity) {
		t.Fatalf("RecordHeartbeat(Background) = %v", err)
	}
}
