package metrics_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trustbot/trustbot/internal/metrics"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// series returns the lines of the exposition that start with name{.
func series(t *testing.T, p *metrics.Prometheus, name string) []string {
	t.Helper()
	rec := httptest.NewRecorder()
	p.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	var out []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(line, name+"{") {
			out = append(out, line)
		}
	}
	return out
}

// TestUnknownLabelsAreOther: names from outside (action IDs, kinds,
// methods, Slack errors) never create a series of their own.
func TestUnknownLabelsAreOther(t *testing.T) {
	p := metrics.New(metrics.Names{
		Commands: []string{"help", "tip.another"},
		Kinds:    []string{"checkin"},
		States:   []string{"sent"},
		Methods:  []string{"chat.postMessage"},
		Errors:   []string{"unreachable:user_not_found"},
		Refused:  []string{"stale"},
	})
	p.Command("help")
	p.Command("tip.another")
	p.Command("unknown")
	for i := range 3000 {
		id := fmt.Sprintf("forged.%d", i)
		p.Command(id)
		p.Delivered(trustbot.Platform("forged"+id), "kind"+id, "state"+id)
		p.Missed("kind"+id, 1)
		p.APIError(trustbot.Slack, "method"+id, "error"+id)
		p.RateLimited(trustbot.Platform("forged"+id), "method"+id)
		p.Refused(trustbot.Slack, "reason"+id)
	}
	p.Refused(trustbot.Slack, "stale")
	p.Delivered(trustbot.Slack, "checkin", "sent")
	p.Delivered(trustbot.Teams, "checkin", "sent")
	p.APIError(trustbot.Slack, "chat.postMessage", "unreachable:user_not_found")

	for name, want := range map[string][]string{
		"trustbot_commands_total": {`command="help"`, `command="tip.another"`, `command="unknown"`, `command="other"} 3000`},
		"trustbot_deliveries_total": {`kind="checkin",platform="slack",state="sent"`, `kind="checkin",platform="msteams",state="sent"`,
			`kind="other",platform="other",state="other"} 3000`},
		"trustbot_missed_occurrences_total": {`kind="other"} 3000`},
		"trustbot_platform_api_errors_total": {`error="unreachable:user_not_found",method="chat.postMessage",platform="slack"`,
			`error="other",method="other",platform="slack"} 3000`},
		"trustbot_platform_rate_limited_total": {`method="other",platform="other"} 3000`},
		"trustbot_requests_refused_total":      {`platform="slack",reason="stale"} 1`, `platform="slack",reason="other"} 3000`},
	} {
		got := series(t, p, name)
		if len(got) != len(want) {
			t.Errorf("%s: %d series, want %d:\n%s", name, len(got), len(want), strings.Join(got, "\n"))
			continue
		}
		for _, w := range want {
			if !strings.Contains(strings.Join(got, "\n"), w) {
				t.Errorf("%s lacks %s:\n%s", name, w, strings.Join(got, "\n"))
			}
		}
	}
}
