package schedule_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// busyOnce is the real coach whose store does not answer once, for one
// user, while that user's message is built.
type busyOnce struct {
	*coach.Coach
	user string
	done atomic.Bool
}

func (b *busyOnce) Message(ctx context.Context, d trustbot.Delivery) (trustbot.Reply, error) {
	if d.User == b.user && b.done.CompareAndSwap(false, true) {
		return trustbot.Reply{}, &trustbot.Error{Code: trustbot.EUNAVAILABLE, Message: "database busy"}
	}
	return b.Coach.Message(ctx, d)
}

// TestBusyDatabaseWhileBuildingAMessage: the database does not answer
// while one user's message is built (a lost connection, a lock timeout).
// That delivery is neither sent nor given up: it waits, pending, and the
// next pass sends it. Everyone else's goes at once; nobody gets two.
func TestBusyDatabaseWhileBuildingAMessage(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1000)
	us := users("UBUSYMSG", 3)
	at := now()
	r.seed(t, us, at, "UTC")
	r.disp.Coach = &busyOnce{Coach: r.co, user: us[1]}

	rep, err := r.disp.Pass(context.Background(), at, false)
	if err != nil {
		t.Fatalf("pass: %v", err)
	}
	if rep.Sent != 2 || rep.Failed != 0 {
		t.Fatalf("report %+v, want 2 sent and none failed", rep)
	}
	if d := r.onlyDelivery(t, us[1]); d.State != trustbot.Pending {
		t.Fatalf("the delivery whose message could not be built is %s, want pending", d.State)
	}
	rep, err = r.disp.Pass(context.Background(), at.Add(time.Minute), false)
	if err != nil || rep.Sent != 1 {
		t.Fatalf("the next pass: %+v %v, want 1 sent", rep, err)
	}
	for _, u := range us {
		if n := len(r.fake.Messages(u)); n != 1 {
			t.Errorf("%s has %d DMs, want 1", u, n)
		}
	}
}
