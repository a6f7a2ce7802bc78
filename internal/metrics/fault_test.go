package metrics

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestFaults: every fault shows from the start at zero, counts up when it
// happens, and a name that is not a fault counts as other.
func TestFaults(t *testing.T) {
	p := New(Names{})
	scrape := func() string {
		rec := httptest.NewRecorder()
		p.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		return rec.Body.String()
	}
	out := scrape()
	for _, f := range trustbot.Faults {
		if !strings.Contains(out, `trustbot_faults_total{fault="`+f+`"} 0`) {
			t.Errorf("fault %s not shown at zero:\n%s", f, out)
		}
	}
	p.Fault(trustbot.FaultPanic)
	p.Fault(trustbot.FaultClockJump)
	p.Fault(trustbot.FaultClockJump)
	p.Fault("made-up")
	out = scrape()
	for _, want := range []string{`trustbot_faults_total{fault="panic"} 1`, `trustbot_faults_total{fault="clock_jump"} 2`, `trustbot_faults_total{fault="other"} 1`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in:\n%s", want, out)
		}
	}
}
