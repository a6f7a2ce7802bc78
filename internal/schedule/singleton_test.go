package schedule_test

import (
	"context"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/schedule"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestSingletonRunsOnOneReplica: work under a named lease runs on one
// replica at a time; the other does not run it while the first holds it,
// and runs it once it is released. A holder whose lease another took over
// has its work's context ended.
func TestSingletonRunsOnOneReplica(t *testing.T) {
	r := newRig(t, 10)
	ctx := context.Background()
	a := &schedule.Dispatcher{Store: r.store, Messenger: r.sl, Coach: r.co, Logger: r.disp.Logger, LeaseTTL: 300 * time.Millisecond}
	b := &schedule.Dispatcher{Store: r.store, Messenger: r.sl, Coach: r.co, Logger: r.disp.Logger}
	inside, leave := make(chan trustbot.Lease), make(chan struct{})
	ranA := make(chan error, 1)
	go func() {
		_, err := a.Singleton(ctx, "job", func(ctx context.Context, l trustbot.Lease) error {
			inside <- l
			select {
			case <-leave:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		ranA <- err
	}()
	l := <-inside
	if ran, err := b.Singleton(ctx, "job", func(context.Context, trustbot.Lease) error {
		t.Error("ran while another replica held the lease")
		return nil
	}); ran || err != nil {
		t.Fatalf("second replica: ran %v, %v", ran, err)
	}
	close(leave)
	if err := <-ranA; err != nil {
		t.Fatal(err)
	}
	ran, err := b.Singleton(ctx, "job", func(_ context.Context, l2 trustbot.Lease) error {
		if l2.Token <= l.Token {
			t.Errorf("token %d after %d", l2.Token, l.Token)
		}
		return nil
	})
	if !ran || err != nil {
		t.Fatalf("after the release: ran %v, %v", ran, err)
	}

	// The holder's lease is taken over (as if it had ended while the
	// holder was paused): its work is told to stop.
	go func() {
		_, err := a.Singleton(ctx, "job2", func(ctx context.Context, l trustbot.Lease) error {
			inside <- l
			<-ctx.Done()
			return ctx.Err()
		})
		ranA <- err
	}()
	held := <-inside
	later := held.Expires.Add(time.Second)
	if _, ok, err := r.store.AcquireLease(ctx, "job2", "rother", later, later.Add(time.Hour)); !ok || err != nil {
		t.Fatalf("take over: %v %v", ok, err)
	}
	select {
	case err := <-ranA:
		if err == nil {
			t.Fatal("the work went on after its lease was taken")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the work under a lost lease was never told to stop")
	}
}
