package main

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/metrics"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestMetricLabelsBounded: 3,000 presses on forged action IDs and 3,000
// unknown commands, handled by the coach as serve wires it, add one
// series ("other") to the commands counter, not thousands.
func TestMetricLabelsBounded(t *testing.T) {
	ctx := context.Background()
	store := testdb.Open(t)
	met := metrics.New(metricNames())
	co := coach.New(mustLibrary(t), store, nil, trustbot.English, nil)
	co.Metrics = met
	k := trustbot.UserKey{Team: "T1", User: "U1"}
	co.Handle(ctx, trustbot.Request{Kind: trustbot.Command, UserKey: k, Text: "help"})
	co.Handle(ctx, trustbot.Request{Kind: trustbot.Action, UserKey: k, ActionID: coach.ActTip})
	for i := range 300 { // any unbounded label would make hundreds of series
		co.Handle(ctx, trustbot.Request{Kind: trustbot.Action, UserKey: k, ActionID: fmt.Sprintf("forged.action.%d", i)})
		co.Handle(ctx, trustbot.Request{Kind: trustbot.Command, UserKey: k, Text: fmt.Sprintf("nosuch%d", i)})
	}
	rec := httptest.NewRecorder()
	met.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	var got []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(line, "trustbot_commands_total{") {
			got = append(got, line)
		}
	}
	want := []string{`{command="help"} 1`, `{command="other"} 300`, `{command="tip.another"} 1`, `{command="unknown"} 300`}
	if len(got) != len(want) {
		t.Fatalf("%d series of trustbot_commands_total, want %d:\n%s", len(got), len(want), strings.Join(got[:min(len(got), 10)], "\n"))
	}
	for i, w := range want {
		if !strings.HasSuffix(got[i], w) {
			t.Errorf("series %d: %s, want …%s", i, got[i], w)
		}
	}
}
