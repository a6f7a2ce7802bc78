package schedule_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/schedule"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestStartUpPassLeavesAnotherSendersDeliveries: a second replica starting
// up (another trustbot serve on the same PostgreSQL database, or one
// overlapping at a rolling restart) must not requeue what a live replica
// is still sending.
func TestStartUpPassLeavesAnotherSendersDeliveries(t *testing.T) {
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

func (notInstalled) FindDM(context.Context, trustbot.UserKey, string, time.Time) (trustbot.Posted, bool, error) {
	return trustbot.Posted{}, false, &trustbot.Error{Code: trustbot.ENOTINSTALLED, Message: "not sent: not installed"}
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
