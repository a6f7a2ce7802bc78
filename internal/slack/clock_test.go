package slack

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
)

// TestClockOffset reads Slack's clock from the Date header of its answers,
// to about a second; a reading older than asked for is made afresh. The
// caller's HTTP client is left as it was.
func TestClockOffset(t *testing.T) {
	ctx := context.Background()
	fake := fakeslack.New()
	defer fake.Close()
	shared := &http.Client{Timeout: 5 * time.Second}
	c := New(Config{BotToken: fakeslack.BotToken, AppToken: fakeslack.AppToken, APIURL: fake.APIURL(), HTTPClient: shared})
	if shared.Transport != nil {
		t.Fatal("the caller's HTTP client was changed")
	}
	fake.SetClockOffset(-2 * time.Hour)
	if err := c.Open(ctx); err != nil {
		t.Fatal(err)
	}
	near := func(got, want time.Duration) bool { return (got - want).Abs() <= 2*time.Second }
	calls := len(fake.Calls("auth.test"))
	off, err := c.ClockOffset(ctx, time.Minute)
	if err != nil || !near(off, -2*time.Hour) {
		t.Fatalf("offset %v, %v; want about -2h", off, err)
	}
	if n := len(fake.Calls("auth.test")); n != calls {
		t.Fatalf("a recent reading asked Slack again (%d calls)", n-calls)
	}
	fake.SetClockOffset(3 * time.Minute)
	if off, err := c.ClockOffset(ctx, 0); err != nil || !near(off, 3*time.Minute) {
		t.Fatalf("fresh offset %v, %v; want about +3m", off, err)
	}
	if n := len(fake.Calls("auth.test")); n != calls+1 {
		t.Fatalf("a fresh reading made %d auth.test calls, want 1", n-calls)
	}
}
