package schedule_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestSenderWhoseLeaseEndedSendsNothing: a sender is held back before it
// reaches Slack while its replica's lease ends (as when the process is
// stopped past it, or cut off from the database). When it goes on, it
// finds the attempt no longer under a running lease of its own, sends
// nothing and records nothing; the delivery waits, sending under the old
// attempt, for another replica to settle it.
func TestSenderWhoseLeaseEndedSendsNothing(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1000)
	us := users("UPAUSED", 1)
	at := now()
	r.seed(t, us, at, "UTC")
	met := newFaultCount()
	slow := newSlowMessenger(r.sl)
	// A lease of seconds: a busy machine may stall the renewal for one,
	// and only the test may end it here.
	r.disp.Messenger, r.disp.Metrics, r.disp.LeaseTTL = slow, met, 3*time.Second
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.disp.Pass(context.Background(), at, false)
	}()
	select {
	case <-slow.waiting:
	case <-time.After(45 * time.Second):
		t.Fatal("the send never started")
	}
	held := r.onlyDelivery(t, us[0])
	first := r.disp.ReplicaID()
	// The lease ends under the sender: the next renewal finds it ended,
	// and the dispatcher registers anew.
	if err := r.store.EndReplicas(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case f := <-met.seen:
		if f != trustbot.FaultLeaseLost {
			t.Fatalf("fault %q, want %q", f, trustbot.FaultLeaseLost)
		}
	case <-time.After(45 * time.Second):
		t.Fatal("the ended lease was never noticed")
	}
	if r.disp.ReplicaID() == first {
		t.Fatal("the dispatcher kept its replica ID after its lease ended")
	}
	close(slow.release)
	<-done
	if n := len(r.fake.Calls("chat.postMessage")); n != 0 {
		t.Fatalf("%d messages sent under an ended lease", n)
	}
	if got := r.onlyDelivery(t, us[0]); got.State != trustbot.Sending || got.Attempt != held.Attempt {
		t.Fatalf("the delivery after the abandoned send: %s under %q, want sending under %q", got.State, got.Attempt, held.Attempt)
	}
	if !strings.Contains(r.logs.String(), "no longer this replica's") {
		t.Error("the abandoned send is not logged")
	}
}
