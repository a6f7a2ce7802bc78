package schedule_test

import (
	"context"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestLeftSendingIsFoundFromItsAttempt: Slack took a message but its answer
// was lost, so the delivery stays sending. The pass after it looks for the
// message from when the attempt began (by the real clock, less a margin for
// skew), not from the due time: a pass run as of a later instant
// (trustbot dispatch --now ahead) or a host clock running ahead of Slack's
// must still find it, and send nothing twice.
func TestLeftSendingIsFoundFromItsAttempt(t *testing.T) {
	for _, tc := range []struct {
		name        string
		ahead       time.Duration // the pass runs as of this much after the real time
		slackBehind time.Duration // Slack's clock runs this much behind the host's
	}{
		{"dispatch six hours ahead", 6 * time.Hour, 0},
		{"dispatch twenty hours ahead", 20 * time.Hour, 0},
		{"host clock twenty minutes fast", 0, 20 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, 1000)
			r.fake.SetClockOffset(-tc.slackBehind)
			us := users("UAHEAD", 3)
			at := time.Now().Add(tc.ahead).UTC().Truncate(time.Minute)
			r.seed(t, us, at, "Asia/Tokyo")
			r.fake.LoseAnswers(postMessage, 1)

			rep := pass(t, r, at, false)
			if rep.Sent != 2 || rep.Uncertain != 1 {
				t.Fatalf("first pass: %+v, want 2 sent and 1 uncertain", rep)
			}
			// The restart after a crash: a start-up pass as of the same instant.
			rep = pass(t, r, at, true)
			if rep.Reconciled != 1 || rep.Requeued != 0 || rep.Sent != 0 {
				t.Fatalf("start-up pass: %+v, want the lost answer's message found (1 reconciled, nothing sent)", rep)
			}
			r.checkOneDMEach(t, us)
			if stale, _ := r.store.StaleSending(context.Background(), at.Add(time.Hour), 10); len(stale) != 0 {
				t.Fatalf("still sending: %+v", stale)
			}
		})
	}
}

// subscribe gives a channel a tip of the week due at due.
func (r *rig) subscribe(t *testing.T, channel string, due time.Time) {
	t.Helper()
	local := due.In(time.UTC)
	s := trustbot.Subscription{
		Team: fakeslack.TeamID, Channel: channel, Weekday: local.Weekday(), Minute: local.Hour()*60 + local.Minute(),
		Lang: "en", TZ: "UTC", Active: true, Subscriber: "USUBSCRIBER", Occurrence: trustbot.DateOf(local), NextDueAt: due,
	}
	if err := r.store.SaveSubscription(context.Background(), s, "USUBSCRIBER", "on"); err != nil {
		t.Fatal(err)
	}
}

// TestChannelPostLeftSendingIsLookedForInItsChannel: a weekly post whose
// answer was lost is looked for in its channel (a channel is not a user:
// conversations.open would answer user_not_found), recorded as sent, posted
// once, and the subscription keeps going. One whose post never reached
// Slack is posted again, once.
func TestChannelPostLeftSendingIsLookedForInItsChannel(t *testing.T) {
	for _, tc := range []struct {
		name     string
		accepted bool // Slack took the post before the answer was lost
	}{{"accepted", true}, {"never reached Slack", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, 1000)
			const channel = "C0WEEKLY"
			at := now()
			r.subscribe(t, channel, at)
			if tc.accepted {
				r.fake.LoseAnswers(postMessage, 1)
			} else {
				r.fake.FailHTTP(postMessage, 503, 1)
			}
			if rep := pass(t, r, at, false); rep.Uncertain != 1 || rep.Claimed != 1 {
				t.Fatalf("first pass: %+v, want 1 claimed and uncertain", rep)
			}
			rep := pass(t, r, at, true)
			want := 1
			if tc.accepted && (rep.Reconciled != 1 || rep.Sent != 0) || !tc.accepted && (rep.Requeued != 1 || rep.Sent != 1) {
				t.Fatalf("start-up pass: %+v", rep)
			}
			if n := len(r.fake.Messages(channel)); n != want {
				t.Fatalf("%d posts in %s, want %d", n, channel, want)
			}
			for _, c := range r.fake.Calls("conversations.open") {
				t.Errorf("conversations.open called with %v", c.Params)
			}
			hist := r.fake.Calls("conversations.history")
			if len(hist) != 1 || hist[0].Params["channel"] != channel {
				t.Fatalf("history lookups %+v, want one in %s", hist, channel)
			}
			s, err := r.store.Subscription(context.Background(), fakeslack.TeamID, channel)
			if err != nil {
				t.Fatal(err)
			}
			if !s.Active || s.Stopped != "" {
				t.Fatalf("the reconciliation stopped the subscription: %+v", s)
			}
			ds, err := r.store.Deliverable(context.Background(), at.Add(time.Hour), 10)
			if err != nil || len(ds) != 0 {
				t.Fatalf("left deliverable: %+v %v (a notice to the subscriber?)", ds, err)
			}
			for _, c := range r.fake.Calls(postMessage) {
				if ch := c.Params["channel"]; ch != channel {
					t.Errorf("posted to %s too", ch)
				}
			}
		})
	}
}
