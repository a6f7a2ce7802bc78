package schedule_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// stopDuringClaim is the real store whose first claim is under way when
// the dispatcher is told to stop. Like PostgreSQL's driver, it commits a
// claim whose context ends meanwhile and still reports the context's
// error: the client stopped waiting for an answer the server gave.
type stopDuringClaim struct {
	trustbot.Store
	stop context.CancelFunc
	once atomic.Bool
}

func (s *stopDuringClaim) ClaimSending(ctx context.Context, due, now time.Time, replica string, limit int) ([]trustbot.Delivery, error) {
	if s.once.CompareAndSwap(false, true) {
		s.stop()
	}
	ds, err := s.Store.ClaimSending(context.WithoutCancel(ctx), due, now, replica, limit)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return ds, err
}

// TestStopDuringAClaimLeavesNothingSending: a stop that comes while a
// delivery is being claimed leaves it pending, for the next pass, not
// sending under an attempt nobody follows.
func TestStopDuringAClaimLeavesNothingSending(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1000)
	us := users("USTOPCLAIM", 3)
	at := now()
	r.seed(t, us, at, "UTC")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.disp.Store = &stopDuringClaim{Store: r.store, stop: cancel}

	if _, err := r.disp.Pass(ctx, at, false); err != nil {
		t.Logf("pass: %v", err)
	}
	if stale, _ := r.store.StaleSending(context.Background(), at.Add(time.Hour), time.Now(), 10); len(stale) != 0 {
		t.Fatalf("%d deliveries left sending after a stop during a claim: %v", len(stale), stale)
	}
	rep, err := r.disp.Pass(context.Background(), at.Add(time.Minute), false)
	if err != nil || rep.Sent != len(us) {
		t.Fatalf("the next pass: %+v %v, want %d sent", rep, err, len(us))
	}
	for _, u := range us {
		if n := len(r.fake.Messages(u)); n != 1 {
			t.Errorf("%s has %d DMs, want 1", u, n)
		}
	}
}
