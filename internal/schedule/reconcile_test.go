package schedule_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/schedule"
	"github.com/trustbot/trustbot/internal/slack"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestStartUpPassLeavesAnotherSendersDeliveries: a second replica starting
// up (another trustbot serve on the same PostgreSQL database, or one
// overlapping at a rolling restart) must not requeue what a live replica
// is still sending.
func TestStartUpPassLeavesAnotherSendersDeliveries(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1000)
	r.fake.SetDelay("chat.postMessage", 2*time.Second)
	us := users("UTWOPROC", 4)
	at := time.Now().Truncate(time.Second)
	r.seed(t, us, at, "Asia/Tokyo")
	// Both dispatchers are in this test process, each a replica of its own.
	second := &schedule.Dispatcher{Store: r.store, Messenger: r.sl, Coach: r.co, Senders: 4}
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := r.disp.Pass(context.Background(), at, false); err != nil {
			t.Error(err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := r.fake.WaitCalls(ctx, "chat.postMessage", len(us)); err != nil {
		t.Fatal(err)
	}
	rep, err := second.Pass(context.Background(), at, true)
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if rep.Requeued+rep.Reconciled+rep.Sent != 0 {
		t.Fatalf("the second process touched deliveries the first was sending: %+v", rep)
	}
	r.checkOneDMEach(t, us)
}

// TestLeftSendingForAGoneUserSettles: a delivery left sending whose user
// can no longer be reached fails and stops their schedule, instead of
// being looked up on every pass for ever.
func TestLeftSendingForAGoneUserSettles(t *testing.T) {
	r := newRig(t, 1000)
	us := users("UGONELATER", 1)
	at := time.Now().Truncate(time.Second)
	r.seed(t, us, at, "Asia/Tokyo")
	r.fake.FailHTTP("chat.postMessage", 500, 1)
	if rep := pass(t, r, at, false); rep.Uncertain != 1 {
		t.Fatalf("first pass: %+v", rep)
	}
	r.fake.SetChannelError(us[0], "account_inactive")
	pass(t, r, at.Add(10*time.Minute), false)
	k := trustbot.UserKey{Team: "T0FAKE", User: us[0]}
	if stale, _ := r.store.StaleSending(context.Background(), at.Add(time.Hour), time.Now(), 10); len(stale) != 0 {
		t.Fatalf("still sending: %+v", stale)
	}
	if s, _ := r.store.Schedule(context.Background(), k); s.Active || s.Stopped == "" {
		t.Fatalf("schedule of a gone user still active: %+v", s)
	}
	lookups := len(r.fake.Calls("conversations.open"))
	pass(t, r, at.Add(20*time.Minute), false)
	if n := len(r.fake.Calls("conversations.open")); n != lookups {
		t.Fatalf("looked up again: %d more conversations.open", n-lookups)
	}
}

// notInstalled is a messenger of a workspace that removed the app.
type notInstalled struct{ trustbot.Messenger }

func (notInstalled) FindDMs(context.Context, trustbot.UserKey, []string, time.Time) (map[string]trustbot.Posted, bool, error) {
	return nil, false, &trustbot.Error{Code: trustbot.ENOTINSTALLED, Message: "not sent: not installed"}
}

// TestLeftSendingWhereUninstalledStops: a delivery left sending in a
// workspace that removed the app since stops, instead of being looked for
// on every pass.
func TestLeftSendingWhereUninstalledStops(t *testing.T) {
	r := newRig(t, 1000)
	us := users("UUNINSTALLED", 1)
	at := time.Now().Truncate(time.Second)
	r.seed(t, us, at, "Asia/Tokyo")
	r.fake.FailHTTP("chat.postMessage", 500, 1)
	if rep := pass(t, r, at, false); rep.Uncertain != 1 {
		t.Fatalf("first pass: %+v", rep)
	}
	gone := &schedule.Dispatcher{Store: r.store, Messenger: notInstalled{r.sl}, Coach: r.co, Senders: 1}
	if _, err := gone.Pass(context.Background(), at.Add(10*time.Minute), false); err != nil {
		t.Fatal(err)
	}
	if stale, _ := r.store.StaleSending(context.Background(), at.Add(time.Hour), time.Now(), 10); len(stale) != 0 {
		t.Fatalf("still sending: %+v", stale)
	}
}

// TestReconcileWithinHistoryBudget: where Slack allows one
// conversations.history a minute per workspace (apps outside the
// Marketplace), one read of a DM settles every delivery left sending
// there, another DM's deliveries wait for a later pass without a call
// beyond the budget, new deliveries go out meanwhile, and the waiting is
// reported; nothing is lost or sent twice.
func TestReconcileWithinHistoryBudget(t *testing.T) {
	t.Parallel()
	const history = "conversations.history"
	r := newRig(t, 1000)
	r.disp.StaleAfter = 60 * 24 * time.Hour // the seeding passes look for nothing
	us := users("UBUDGET", 3)
	a, b, c := us[0], us[1], us[2]
	at := time.Now().Truncate(time.Second)
	week := at.Add(7 * 24 * time.Hour)
	r.seed(t, []string{a, b}, at, "Asia/Tokyo")
	// A's and B's first check-ins reach Slack, their answers lost; their
	// second ones fail before Slack takes them. All four are left sending.
	r.fake.LoseAnswers(postMessage, 2)
	if rep := pass(t, r, at, false); rep.Uncertain != 2 {
		t.Fatalf("first week: %+v", rep)
	}
	r.fake.FailHTTP(postMessage, 500, 2)
	if rep := pass(t, r, week, false); rep.Uncertain != 2 {
		t.Fatalf("second week: %+v", rep)
	}
	r.seed(t, []string{c}, week, "Asia/Tokyo")
	r.fake.SetTier(history, 1, time.Minute)

	budgeted := func() *schedule.Dispatcher {
		sl := slack.New(slack.Config{BotToken: fakeslack.BotToken, APIURL: r.fake.APIURL(), SendRate: 1000, HistoryInterval: time.Minute,
			Logger: slog.New(slog.NewTextHandler(r.logs, nil)).With("component", "slack")})
		return &schedule.Dispatcher{Store: r.store, Messenger: sl, Coach: r.co, Senders: 2,
			Logger: slog.New(slog.NewTextHandler(r.logs, nil)).With("component", "schedule")}
	}
	d := budgeted()
	run := func(d *schedule.Dispatcher) schedule.Report {
		t.Helper()
		rep, err := d.Pass(context.Background(), week, false)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	rep := run(d)
	if n := len(r.fake.Calls(history)); n != 1 {
		t.Fatalf("%d reads of history, want 1 (one DM, both its deliveries)", n)
	}
	if rep.Reconciled != 1 || rep.Requeued != 1 || rep.Waiting != 2 {
		t.Fatalf("first budgeted pass: %+v", rep)
	}
	if len(r.fake.Messages(c)) != 1 {
		t.Fatalf("C's new check-in not sent while the reconciliation waits")
	}
	if !strings.Contains(r.logs.String(), "reconciliation behind") {
		t.Fatalf("no log line says the reconciliation is behind:\n%s", r.logs)
	}
	// At once again: nothing read beyond the budget, still waiting.
	if rep := run(d); rep.Waiting != 2 || len(r.fake.Calls(history)) != 1 {
		t.Fatalf("second budgeted pass: %+v, %d reads", rep, len(r.fake.Calls(history)))
	}
	if n := r.fake.TierLimited(history); n != 0 {
		t.Fatalf("%d reads refused by Slack's limit", n)
	}
	// A restarted process, its own budget fresh, meets Slack's 429: it
	// waits as told, and sends nothing.
	if rep := run(budgeted()); rep.Waiting != 2 || rep.Requeued != 0 || r.fake.TierLimited(history) != 1 {
		t.Fatalf("after a 429: %+v, %d refused", rep, r.fake.TierLimited(history))
	}
	// The next minute's turn: the other DM is settled.
	r.fake.SetTier(history, 0, 0)
	if rep := run(budgeted()); rep.Waiting != 0 || rep.Reconciled != 1 || rep.Requeued != 1 {
		t.Fatalf("once the budget allows: %+v", rep)
	}
	for _, u := range []string{a, b} {
		if n := len(r.fake.Messages(u)); n != 2 {
			t.Errorf("%s has %d DMs, want 2 (one a week)", u, n)
		}
	}
}
