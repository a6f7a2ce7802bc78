package schedule_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/schedule"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// slowMessenger is the real Slack adapter whose first PostDM waits, before
// it reaches Slack, until the test lets it go (or its pass is stopped): a
// sender that hangs long enough for another pass to take its delivery.
type slowMessenger struct {
	trustbot.Messenger
	waiting chan struct{} // closed when the first PostDM waits
	release chan struct{} // closed by the test to let it go on
	first   chan struct{} // holds one token: the first call takes it
}

func newSlowMessenger(m trustbot.Messenger) *slowMessenger {
	s := &slowMessenger{Messenger: m, waiting: make(chan struct{}), release: make(chan struct{}), first: make(chan struct{}, 1)}
	s.first <- struct{}{}
	return s
}

func (s *slowMessenger) PostDM(ctx context.Context, to trustbot.UserKey, r trustbot.Reply, id string) (trustbot.Posted, error) {
	select {
	case <-s.first:
		close(s.waiting)
		select {
		case <-s.release:
		case <-ctx.Done():
		}
	default:
	}
	return s.Messenger.PostDM(ctx, to, r, id)
}

// TestLateSenderCannotOverwrite: a send hangs before it reaches Slack; a
// later pass finds the delivery stale, does not find it on Slack, queues it
// again and sends it under a new attempt. When the hung sender finally
// ends (refused by Slack, the user unreachable, or stopped before sending),
// what it records must not overwrite the other attempt's: the delivery
// stays sent, the user's check-ins go on, and the user gets exactly one
// message, however many passes follow.
func TestLateSenderCannotOverwrite(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault string // what Slack answers the late sender; "" stops its pass instead
	}{
		{"refused by Slack", "invalid_blocks"},
		{"user unreachable", "account_inactive"},
		{"stopped before sending", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, 1000)
			us := users("ULATE", 1)
			u := us[0]
			at := now()
			r.seed(t, us, at, "UTC")
			slow := newSlowMessenger(r.sl)
			r.disp.Messenger = slow

			ctx1, stop1 := context.WithCancel(context.Background())
			defer stop1()
			late := make(chan schedule.Report, 1)
			go func() {
				rep, _ := r.disp.Pass(ctx1, at, false)
				late <- rep
			}()
			select {
			case <-slow.waiting:
			case <-time.After(45 * time.Second):
				t.Fatal("the first send never started")
			}
			held := r.onlyDelivery(t, u)
			if held.State != trustbot.Sending {
				t.Fatalf("the held delivery is %s, want sending", held.State)
			}

			// Another pass, as of later: the delivery is stale.
			other := &schedule.Dispatcher{Store: r.store, Messenger: r.sl, Coach: r.co, Logger: r.disp.Logger, StaleAfter: time.Millisecond, Clocks: r.disp.Clocks}
			rep := pass2(t, other, time.Now().Add(time.Second))
			if rep.Requeued != 1 || rep.Sent != 1 {
				t.Fatalf("the other pass: %+v, want the delivery requeued and sent", rep)
			}
			sent := r.onlyDelivery(t, u)
			if sent.State != trustbot.Sent || sent.Attempt == held.Attempt {
				t.Fatalf("after the other pass: %s under %q (the held attempt was %q)", sent.State, sent.Attempt, held.Attempt)
			}

			// The late sender ends.
			if tc.fault != "" {
				r.fake.FailNext(postMessage, tc.fault, 1)
				close(slow.release)
			} else {
				stop1()
			}
			select {
			case rep := <-late:
				if rep.Sent != 0 {
					t.Fatalf("the late sender reports %+v", rep)
				}
			case <-time.After(45 * time.Second):
				t.Fatal("the late sender never ended")
			}
			// It finds the delivery taken before it hands anything to
			// Slack (the check before the call), or at the latest when it
			// records the outcome.
			if logs := r.logs.String(); !strings.Contains(logs, "another attempt had taken the delivery") && !strings.Contains(logs, "no longer this replica's") {
				t.Error("the late sender did not log that the delivery was no longer its own")
			}
			if got := r.onlyDelivery(t, u); got.State != trustbot.Sent || got.Attempt != sent.Attempt || got.TS != sent.TS {
				t.Fatalf("the late sender overwrote the delivery: %s under %q ts %q error %q; was %s under %q ts %q",
					got.State, got.Attempt, got.TS, got.Error, sent.State, sent.Attempt, sent.TS)
			}
			if s, err := r.store.Schedule(context.Background(), key(u)); err != nil || !s.Active {
				t.Fatalf("the user's check-ins stopped: %+v %v", s, err)
			}
			// Passes after it send nothing again.
			pass2(t, other, time.Now().Add(time.Minute))
			r.checkOneDMEach(t, us)
		})
	}
}

// onlyDelivery returns the user's one delivery as stored.
func (r *rig) onlyDelivery(t *testing.T, user string) trustbot.Delivery {
	t.Helper()
	u, err := r.store.Export(context.Background(), key(user))
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Deliveries) != 1 {
		t.Fatalf("%s has %d deliveries, want 1", user, len(u.Deliveries))
	}
	return u.Deliveries[0]
}

func pass2(t *testing.T, d *schedule.Dispatcher, at time.Time) schedule.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	rep, err := d.Pass(ctx, at, false)
	if err != nil {
		t.Fatalf("pass: %v", err)
	}
	return rep
}

// TestLateAnswerCannotOverwrite: the sender's call has reached Slack,
// which is slow to answer. Meanwhile another pass finds the delivery
// stale, does not find the message on Slack (it has not taken it), queues
// it again and sends it under a new attempt. Slack then refuses the first
// call: the user cannot be reached. The late sender's record is fenced by
// its attempt, which is no longer the delivery's: the delivery ends sent
// under the new attempt, and the user's check-ins go on.
func TestLateAnswerCannotOverwrite(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1000)
	us := users("ULATEANSWER", 1)
	u := us[0]
	at := now()
	r.seed(t, us, at, "UTC")
	// The first call to finish its wait is refused: the late one, since
	// the calls after it wait longer.
	r.fake.SetDelay(postMessage, time.Second)
	r.fake.FailNext(postMessage, "account_inactive", 1)
	late := make(chan schedule.Report, 1)
	go func() {
		rep, _ := r.disp.Pass(context.Background(), at, false)
		late <- rep
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	if _, err := r.fake.WaitCalls(ctx, postMessage, 1); err != nil {
		t.Fatalf("the first send never reached Slack: %v", err)
	}
	r.fake.SetDelay(postMessage, 3*time.Second)
	held := r.onlyDelivery(t, u)

	other := &schedule.Dispatcher{Store: r.store, Messenger: r.sl, Coach: r.co, Logger: r.disp.Logger, StaleAfter: time.Millisecond, Clocks: r.disp.Clocks}
	if rep := pass2(t, other, time.Now().Add(time.Second)); rep.Requeued != 1 || rep.Sent != 1 {
		t.Fatalf("the other pass: %+v, want the delivery requeued and sent", rep)
	}
	var rep schedule.Report
	select {
	case rep = <-late:
	case <-ctx.Done():
		t.Fatal("the late sender never ended")
	}
	if rep.Sent != 0 {
		t.Errorf("the late sender reports %+v", rep)
	}
	if !strings.Contains(r.logs.String(), "failed, but another attempt had taken the delivery; its record stands") {
		t.Error("the late sender's refused record is not logged")
	}
	got := r.onlyDelivery(t, u)
	if got.State != trustbot.Sent || got.Attempt == held.Attempt {
		t.Errorf("the late answer overwrote the delivery: %s under %q (the late attempt %q) error %q", got.State, got.Attempt, held.Attempt, got.Error)
	}
	if s, err := r.store.Schedule(context.Background(), key(u)); err != nil || !s.Active {
		t.Errorf("the user's check-ins stopped: %+v %v", s, err)
	}
	r.checkOneDMEach(t, us)
}
