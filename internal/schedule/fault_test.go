package schedule_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/schedule"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestLeftSendingIsFoundFromItsAttempt: Slack took a message but its answer
// was lost, so the delivery stays sending. The pass after it looks for the
// message from when the attempt began (by the real clock, less a margin for
// skew), not from the due time: a pass run as of a later instant
// (trustbot dispatch --now ahead) or a host clock running ahead of Slack's
// must still find it, and send nothing twice.
func TestLeftSendingIsFoundFromItsAttempt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		ahead       time.Duration // the pass runs as of this much after the real time
		slackBehind time.Duration // Slack's clock runs this much behind the host's
	}{
		{"dispatch six hours ahead", 6 * time.Hour, 0},
		{"dispatch twenty hours ahead", 20 * time.Hour, 0},
		{"host clock twenty minutes fast", 0, 20 * time.Minute},
		// More than the margin: the search moves by the offset read
		// from Slack (a pass run with dispatch --force).
		{"host clock two hours fast", 0, 2 * time.Hour},
		{"host clock two hours fast, dispatch six hours ahead", 6 * time.Hour, 2 * time.Hour},
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
			if stale, _ := r.store.StaleSending(context.Background(), at.Add(time.Hour), time.Now(), 10); len(stale) != 0 {
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
	t.Parallel()
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
			// The tip posted is recorded, found or sent, so that it does
			// not come again before the others.
			tips, err := r.store.ChannelTips(context.Background(), fakeslack.TeamID, channel)
			if err != nil || len(tips) != 1 {
				t.Fatalf("tips recorded for %s: %v %v, want the one posted", channel, tips, err)
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

// faultCount records the faults a dispatcher counts.
type faultCount struct {
	trustbot.NopMetrics
	mu     sync.Mutex
	faults map[string]int
	seen   chan string
}

func newFaultCount() *faultCount {
	return &faultCount{faults: map[string]int{}, seen: make(chan string, 100)}
}

func (f *faultCount) Fault(name string) {
	f.mu.Lock()
	f.faults[name]++
	f.mu.Unlock()
	f.seen <- name
}

func (f *faultCount) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.faults[name]
}

// panicky is the real coach with panics injected: in Advance (inside the
// claim's transaction) while advancePanics is set, and in Message for one
// user.
type panicky struct {
	*coach.Coach
	advancePanics atomic.Bool
	messagePanics string
}

func (p *panicky) Advance(s trustbot.Schedule, pr trustbot.Prefs, now time.Time) (trustbot.Schedule, int) {
	if p.advancePanics.Load() {
		panic("injected: advance")
	}
	return p.Coach.Advance(s, pr, now)
}

func (p *panicky) Message(ctx context.Context, d trustbot.Delivery) (trustbot.Reply, error) {
	if d.User == p.messagePanics {
		panic("injected: message")
	}
	return p.Coach.Message(ctx, d)
}

// TestPanicInASendIsRecovered: building one user's message panics. The
// panic is logged and counted, that delivery fails (building it again would
// panic again), and everyone else gets their check-in.
func TestPanicInASendIsRecovered(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1000)
	us := users("UPANICSEND", 4)
	at := now()
	r.seed(t, us, at, "UTC")
	met := newFaultCount()
	co := &panicky{Coach: r.co, messagePanics: us[2]}
	r.disp.Coach, r.disp.Metrics = co, met

	rep, err := r.disp.Pass(context.Background(), at, false)
	if err != nil {
		t.Fatalf("pass: %v", err)
	}
	if rep.Sent != 3 || rep.Failed != 1 {
		t.Fatalf("report %+v, want 3 sent and 1 failed", rep)
	}
	if n := met.count(trustbot.FaultPanic); n != 1 {
		t.Fatalf("%d panics counted, want 1", n)
	}
	if !strings.Contains(r.logs.String(), "panic recovered") {
		t.Fatalf("no log of the panic")
	}
	for i, u := range us {
		want := 1
		if i == 2 {
			want = 0
		}
		if n := len(r.fake.Messages(u)); n != want {
			t.Errorf("%s has %d DMs, want %d", u, n, want)
		}
	}
	d := r.delivery(t, rep, us[2])
	if d.State != trustbot.Failed {
		t.Fatalf("the delivery whose message panicked is %s, want failed", d.State)
	}
}

// TestPanicInAnyPassIsRecovered: a panic inside the claim's transaction
// of the start-up pass, then of a kicked pass, never takes the process
// down: each is logged and counted, Run goes on, and once the cause is gone
// the next pass sends what is due.
func TestPanicInAnyPassIsRecovered(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1000)
	us := users("UPANICPASS", 2)
	r.seed(t, us, time.Now().Add(-time.Minute), "UTC")
	met := newFaultCount()
	co := &panicky{Coach: r.co}
	co.advancePanics.Store(true)
	r.disp.Coach, r.disp.Metrics = co, met

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.disp.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	waitFault := func(what string) {
		t.Helper()
		select {
		case <-met.seen:
		case err := <-done:
			t.Fatalf("%s: Run ended: %v", what, err)
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: no panic counted", what)
		}
	}
	waitFault("start-up pass")
	r.disp.Kick()
	waitFault("kicked pass")
	if n := met.count(trustbot.FaultPanic); n != 2 {
		t.Fatalf("%d panics counted, want 2", n)
	}
	// Nothing was claimed by the passes that panicked: the transaction
	// was rolled back and the database is usable.
	if ds, err := r.store.Deliverable(context.Background(), time.Now(), 10); err != nil || len(ds) != 0 {
		t.Fatalf("deliverable after the panics: %v %v", ds, err)
	}
	co.advancePanics.Store(false)
	r.disp.Kick()
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	for _, u := range us {
		if _, err := r.fake.WaitMessages(wctx, u, 1); err != nil {
			t.Fatalf("%s: no check-in after the cause was gone: %v", u, err)
		}
	}
}

// testClock is a wall clock and a monotonic clock the test moves.
type testClock struct {
	mu   sync.Mutex
	wall time.Time
	mono time.Duration
}

func (c *testClock) Wall() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wall
}

func (c *testClock) Elapsed() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mono
}

// move advances the monotonic clock by mono and the wall clock by wall.
func (c *testClock) move(wall, mono time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wall, c.mono = c.wall.Add(wall), c.mono+mono
}

// TestClockJumpsAreFaultsNotTime: serve's passes never run as of a wall
// clock that jumped a year ahead (which would move every schedule a year on
// and count the real occurrences as missed) or back: each jump is logged and
// counted, and the pass as of it does not run. Once the clock holds steady
// again, passes run as of it.
func TestClockJumpsAreFaultsNotTime(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1000)
	us := users("UJUMP", 2)
	w0 := now()
	r.seed(t, us, w0.Add(10*time.Minute), "UTC")
	clock := &testClock{wall: w0}
	met := newFaultCount()
	r.disp.Clock, r.disp.Elapsed, r.disp.Metrics = clock.Wall, clock.Elapsed, met
	r.disp.JumpCheck = time.Hour // only passes read the clock here

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.disp.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	jumped := func(what string) {
		t.Helper()
		r.disp.Kick()
		select {
		case f := <-met.seen:
			if f != trustbot.FaultClockJump {
				t.Fatalf("%s: fault %s", what, f)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: no clock jump counted", what)
		}
		s, err := r.store.Schedule(context.Background(), key(us[0]))
		if err != nil {
			t.Fatal(err)
		}
		if !s.NextDueAt.Equal(w0.Add(10 * time.Minute)) {
			t.Fatalf("%s: the schedule moved to %s", what, s.NextDueAt)
		}
		if n := len(r.fake.AllMessages()); n != 0 {
			t.Fatalf("%s: %d messages sent", what, n)
		}
	}
	r.waitLog(t, "cron: start")               // the start-up pass has read the clock
	clock.move(365*24*time.Hour, time.Minute) // a year ahead in one minute
	jumped("a year ahead")
	clock.move(-365*24*time.Hour+time.Minute, time.Minute) // and back
	jumped("back again")
	if !strings.Contains(r.logs.String(), "the wall clock jumped") {
		t.Fatalf("no log of the jump")
	}

	clock.move(10*time.Minute, 10*time.Minute) // steady: the check-ins fall due
	r.disp.Kick()
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	for _, u := range us {
		if _, err := r.fake.WaitMessages(wctx, u, 1); err != nil {
			t.Fatalf("%s: no check-in once the clock held steady: %v", u, err)
		}
	}
	s, err := r.store.Schedule(context.Background(), key(us[0]))
	if err != nil {
		t.Fatal(err)
	}
	if want := w0.Add(10*time.Minute).AddDate(0, 0, 7); !s.NextDueAt.Equal(want) {
		t.Fatalf("schedule moved to %s, want next week's %s", s.NextDueAt, want)
	}
	if n := met.count(trustbot.FaultClockJump); n != 2 {
		t.Fatalf("%d jumps counted, want 2", n)
	}
}

// TestClockWatchSeesAJumpWithoutAPass: with no pass running (cron's tick
// may wait for the wrong time after a jump back), the watch on the
// monotonic clock still sees the jump.
func TestClockWatchSeesAJumpWithoutAPass(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1000)
	clock := &testClock{wall: now()}
	met := newFaultCount()
	r.disp.Clock, r.disp.Elapsed, r.disp.Metrics = clock.Wall, clock.Elapsed, met
	r.disp.JumpCheck = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.disp.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	r.waitLog(t, "cron: start")
	clock.move(-3*time.Hour, 0)
	select {
	case f := <-met.seen:
		if f != trustbot.FaultClockJump {
			t.Fatalf("fault %s", f)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the watch saw no jump")
	}
}

// waitLog waits until the program has logged msg.
func (r *rig) waitLog(t *testing.T, msg string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(r.logs.String(), msg); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no log %q", msg)
		}
	}
}

// TestNoPassWhileClocksDisagree: with this host's clock two hours ahead of
// Slack's, Run sends nothing (at start or when kicked): it logs and counts
// the fault once. Once the clocks agree, the next pass sends what is due.
func TestNoPassWhileClocksDisagree(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1000)
	us := users("USKEW", 2)
	r.seed(t, us, time.Now().Add(-time.Minute), "UTC")
	r.fake.SetClockOffset(-2 * time.Hour)
	met := newFaultCount()
	r.disp.Metrics = met
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.disp.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	select {
	case f := <-met.seen:
		if f != trustbot.FaultClockSkew {
			t.Fatalf("fault %s", f)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no clock skew counted at start")
	}
	r.waitLog(t, "cron: start") // the start-up pass has been skipped
	if n := len(r.fake.AllMessages()); n != 0 {
		t.Fatalf("%d messages sent while the clocks disagree", n)
	}
	if !strings.Contains(r.logs.String(), "this host's clock and the platform's disagree") {
		t.Fatal("no log of the disagreement")
	}
	r.fake.SetClockOffset(0)
	r.disp.Kick()
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	for _, u := range us {
		if _, err := r.fake.WaitMessages(wctx, u, 1); err != nil {
			t.Fatalf("%s: no check-in once the clocks agree: %v", u, err)
		}
	}
	if n := met.count(trustbot.FaultClockSkew); n != 1 {
		t.Fatalf("%d clock skews counted, want 1", n)
	}
	r.waitLog(t, "agree again")
}

// TestLeftSendingIsFoundAfterTheClockWasSetRight: the host's clock ran two
// hours fast when a send was attempted (so the attempt is recorded two
// hours late) and was set right before the restart. The search starts from
// now, not from that recorded time, and finds the message Slack took.
func TestLeftSendingIsFoundAfterTheClockWasSetRight(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1000)
	us := users("USETRIGHT", 2)
	at := now()
	r.seed(t, us, at, "UTC")
	r.fake.LoseAnswers(postMessage, 1)
	r.disp.Clock = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if rep := pass(t, r, at, false); rep.Sent != 1 || rep.Uncertain != 1 {
		t.Fatalf("first pass: %+v, want 1 sent and 1 uncertain", rep)
	}
	// The restart, with the clock right: a new dispatcher, as a new
	// process, which knows the old one gone (it holds SQLite's lock).
	if err := r.store.EndReplicas(context.Background()); err != nil {
		t.Fatal(err)
	}
	d := &schedule.Dispatcher{Store: r.store, Messenger: r.sl, Coach: r.co, Logger: r.disp.Logger, Clocks: r.disp.Clocks}
	rep, err := d.Pass(context.Background(), at, true)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Reconciled != 1 || rep.Requeued != 0 || rep.Sent != 0 {
		t.Fatalf("start-up pass: %+v, want the message found (1 reconciled, nothing sent)", rep)
	}
	r.checkOneDMEach(t, us)
}
