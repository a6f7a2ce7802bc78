package schedule_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/schedule"
	"github.com/trustbot/trustbot/internal/slack"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
	"github.com/trustbot/trustbot/playbooks"
)

const postMessage = "chat.postMessage"

// senders is the dispatcher's default number of messages in flight; the
// tests set it explicitly so that the bounds they check follow from it.
const senders = 4

// logBuffer collects the program's logs; they are printed when a test fails.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// limitLog passes records on to a handler and notes when the Slack adapter
// logged a 429: it does so just before it pauses every sender.
type limitLog struct {
	slog.Handler
	mu    *sync.Mutex
	times *[]time.Time
}

func (h limitLog) Handle(ctx context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "rate limited") {
		h.mu.Lock()
		*h.times = append(*h.times, r.Time)
		h.mu.Unlock()
	}
	return h.Handler.Handle(ctx, r)
}

func (h limitLog) WithAttrs(as []slog.Attr) slog.Handler {
	h.Handler = h.Handler.WithAttrs(as)
	return h
}

func (h limitLog) WithGroup(name string) slog.Handler {
	h.Handler = h.Handler.WithGroup(name)
	return h
}

var (
	libOnce sync.Once
	lib     *playbook.Library
	libErr  error
)

func library(tb testing.TB) *playbook.Library {
	tb.Helper()
	libOnce.Do(func() { lib, libErr = playbook.Load(playbooks.FS) })
	if libErr != nil {
		tb.Fatal(libErr)
	}
	return lib
}

// rig is a dispatcher wired like the program's: the real store (SQLite,
// or PostgreSQL as the suite runs: internal/testdb), the
// real Slack adapter (slack-go) against the fake Slack, and the real coach.
type rig struct {
	fake  *fakeslack.Server
	store *testdb.DB
	sl    *slack.Client
	co    *coach.Coach
	disp  *schedule.Dispatcher
	logs  *logBuffer

	limitMu sync.Mutex
	limits  []time.Time // when the adapter logged each 429
}

func newRig(tb testing.TB, sendRate float64) *rig {
	tb.Helper()
	fake := fakeslack.New()
	tb.Cleanup(fake.Close)
	store := testdb.Open(tb)
	logs := &logBuffer{}
	r := &rig{fake: fake, store: store, logs: logs}
	log := slog.New(limitLog{slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}), &r.limitMu, &r.limits})
	sl := slack.New(slack.Config{
		BotToken: fakeslack.BotToken, AppToken: fakeslack.AppToken, APIURL: fake.APIURL(),
		SendRate: sendRate, Logger: log.With("component", "slack"),
	})
	co := coach.New(library(tb), store, sl, trustbot.English, log.With("component", "coach"))
	r.sl, r.co = sl, co
	r.disp = &schedule.Dispatcher{Store: store, Messenger: sl, Coach: co, Logger: log.With("component", "schedule"), Senders: senders,
		Clocks: map[trustbot.Platform]schedule.PlatformClock{trustbot.Slack: sl}}
	if t, ok := tb.(*testing.T); ok {
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("program logs:\n%s", logs)
			}
		})
	}
	return r
}

// users returns n user IDs with a prefix (Slack user IDs start with U).
func users(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("U%s%04d", prefix, i)
	}
	return out
}

func key(user string) trustbot.UserKey { return trustbot.UserKey{Team: fakeslack.TeamID, User: user} }

// seed gives each user a weekly check-in whose occurrence is due at due
// (in zone tz), a fresh cached profile (so that no users.info is needed)
// and settings that allow every day of the week.
func (r *rig) seed(tb testing.TB, us []string, due time.Time, tz string) {
	tb.Helper()
	ctx := context.Background()
	loc, err := time.LoadLocation(tz)
	if err != nil {
		tb.Fatal(err)
	}
	local := due.In(loc)
	for _, u := range us {
		k := key(u)
		if err := r.store.SaveProfile(ctx, trustbot.Profile{UserKey: k, TZ: tz, Locale: "en-US", FetchedAt: time.Now()}); err != nil {
			tb.Fatal(err)
		}
		prefs := trustbot.DefaultPrefs()
		prefs.Workdays = 0x7f
		if err := r.store.SaveSettings(ctx, trustbot.Settings{UserKey: k, Lang: "en", Prefs: prefs}); err != nil {
			tb.Fatal(err)
		}
		s := trustbot.Schedule{
			UserKey: k, Cadence: trustbot.Weekly, Weekday: local.Weekday(), Minute: local.Hour()*60 + local.Minute(),
			Active: true, Occurrence: trustbot.DateOf(local), NextDueAt: due.UTC(),
		}
		if err := r.store.SaveSchedule(ctx, s); err != nil {
			tb.Fatal(err)
		}
	}
}

// postCalls returns the chat.postMessage calls per channel (user ID).
func (r *rig) postCalls() map[string][]fakeslack.Call {
	out := map[string][]fakeslack.Call{}
	for _, c := range r.fake.Calls(postMessage) {
		out[c.Params["channel"]] = append(out[c.Params["channel"]], c)
	}
	return out
}

// checkOneDMEach checks that every user has exactly one DM, carrying the
// delivery metadata.
func (r *rig) checkOneDMEach(t *testing.T, us []string) {
	t.Helper()
	for _, u := range us {
		msgs := r.fake.Messages(u)
		if len(msgs) != 1 {
			t.Errorf("%s has %d DMs, want exactly 1", u, len(msgs))
			continue
		}
		if !strings.Contains(string(msgs[0].Metadata), `"trustbot_delivery"`) {
			t.Errorf("%s: DM without delivery metadata: %s", u, msgs[0].Metadata)
		}
	}
}

// delivery returns the state of the user's delivery as the store has it.
func (r *rig) delivery(t *testing.T, rep schedule.Report, user string) trustbot.Delivery {
	t.Helper()
	for _, s := range rep.Sends {
		if s.Delivery.User == user {
			d, err := r.store.Delivery(context.Background(), key(user), s.Delivery.ID)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
	}
	t.Fatalf("no send for %s in the report", user)
	return trustbot.Delivery{}
}

// now returns the current minute: the fake Slack stamps messages with the
// real clock, and FindDM looks for them from the delivery's due time on, so
// passes that may reconcile run at the real time.
func now() time.Time { return time.Now().UTC().Truncate(time.Minute) }

func pass(t *testing.T, r *rig, at time.Time, stale bool) schedule.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	rep, err := r.disp.Pass(ctx, at, stale)
	if err != nil {
		t.Fatalf("pass: %v", err)
	}
	return rep
}

// TestRateLimitedPostsAreWaitedOut answers chat.postMessage with HTTP 429
// (with Retry-After 0, 1 and 5 seconds, and without the header): every due
// user still gets exactly one DM, nothing is dropped or marked failed, and
// no call goes out while the Retry-After runs, except the ones other
// senders already had on their way.
func TestRateLimitedPostsAreWaitedOut(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		retryAfter string
		times      int
		wait       time.Duration // the least gap before the limited message is tried again
	}{
		{"retry-after-0", "0", 3, 0},
		{"retry-after-1", "1", 1, time.Second},
		{"retry-after-5", "5", 1, 5 * time.Second},
		{"no-header", "", 3, time.Second}, // the adapter backs off from one second
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, 1000)
			us := users("RL", 12)
			at := now()
			r.seed(t, us, at, "UTC")
			r.fake.RateLimit(postMessage, tc.times, tc.retryAfter)

			rep := pass(t, r, at, false)
			if rep.Claimed != len(us) || rep.Sent != len(us) || rep.Failed+rep.Uncertain+rep.Unreachable != 0 {
				t.Fatalf("report %+v, want %d claimed and sent, none failed", rep, len(us))
			}
			r.checkOneDMEach(t, us)
			calls := r.fake.Calls(postMessage)
			if len(calls) != len(us)+tc.times {
				t.Errorf("%d chat.postMessage calls, want %d (one per user and one per 429)", len(calls), len(us)+tc.times)
			}
			// Nothing is left to send: a second pass sends nothing more.
			if rep := pass(t, r, at, true); rep.Sent+rep.Claimed+rep.Requeued+rep.Reconciled != 0 {
				t.Errorf("second pass did something: %+v", rep)
			}
			if tc.wait == 0 {
				return
			}
			// Each retry comes after the Retry-After (or the backoff without
			// one), counted from the rejected call.
			var limited []fakeslack.Call
			for u, cs := range r.postCalls() {
				for i := 1; i < len(cs); i++ {
					if gap := cs[i].At.Sub(cs[i-1].At); gap < tc.wait {
						t.Errorf("%s retried %v after a 429, before its wait of %v", u, gap, tc.wait)
					}
				}
				if len(cs) > 1 {
					limited = cs
				}
			}
			if limited == nil {
				t.Fatal("no user was retried after the 429")
			}
			if tc.times != 1 {
				return
			}
			// From the moment the adapter knew of the 429, nobody posts
			// until the Retry-After has passed, except the other senders'
			// messages already past the pacer: at most one each.
			r.limitMu.Lock()
			limits := append([]time.Time(nil), r.limits...)
			r.limitMu.Unlock()
			if len(limits) != 1 {
				t.Fatalf("%d rate-limit records, want 1", len(limits))
			}
			known := limits[0]
			inWindow := 0
			for _, c := range calls {
				if c.Params["channel"] != limited[0].Params["channel"] && c.At.After(known) && c.At.Sub(known) < tc.wait {
					inWindow++
				}
			}
			if inWindow > senders-1 {
				t.Errorf("%d calls by other senders during the Retry-After window, at most %d may have been on their way", inWindow, senders-1)
			}
		})
	}
}

// TestRetryAfterHoldsSendersWaitingForTheirTurn paces at one message a
// second, so that when a 429 arrives after the burst the other senders are
// waiting for their turn, not posting: none of them may post before the
// Retry-After has passed (the pause is looked at again after the wait).
func TestRetryAfterHoldsSendersWaitingForTheirTurn(t *testing.T) {
	t.Parallel()
	const retryAfter = 3 * time.Second
	r := newRig(t, 1)
	us := users("TURN", 11)
	at := now()
	r.seed(t, us, at, "UTC")
	burst := make(chan error, 1)
	go func() {
		// The burst (8) goes at once; the next message waits a second for
		// its turn: it gets the 429.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := r.fake.WaitCalls(ctx, postMessage, 8)
		r.fake.RateLimit(postMessage, 1, strconv.Itoa(int(retryAfter/time.Second)))
		burst <- err
	}()
	rep := pass(t, r, at, false)
	if err := <-burst; err != nil {
		t.Fatal(err)
	}
	if rep.Sent != len(us) || rep.Failed+rep.Uncertain != 0 {
		t.Fatalf("report %+v, want %d sent", rep, len(us))
	}
	r.checkOneDMEach(t, us)
	r.limitMu.Lock()
	limits := append([]time.Time(nil), r.limits...)
	r.limitMu.Unlock()
	if len(limits) != 1 {
		t.Fatalf("%d rate-limit records, want 1", len(limits))
	}
	calls := r.fake.Calls(postMessage)
	var limited string
	for u, cs := range r.postCalls() {
		if len(cs) == 2 {
			limited = u
		}
	}
	for _, c := range calls {
		if d := c.At.Sub(limits[0]); c.Params["channel"] != limited && d > 0 && d < retryAfter {
			t.Errorf("%s posted %v after the 429, within its Retry-After of %v", c.Params["channel"], d.Round(time.Millisecond), retryAfter)
		}
	}
}

// TestUnreachableUsersStop makes Slack refuse DMs to some users for good:
// their delivery fails, their schedule stops with the reason, and later
// passes never write to them again; the other users still get theirs.
func TestUnreachableUsersStop(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1000)
	codes := map[string]string{"UGONE0001": "account_inactive", "UGONE0002": "user_not_found", "UGONE0003": "cannot_dm_bot"}
	var gone []string
	for u, code := range codes {
		gone = append(gone, u)
		r.fake.SetChannelError(u, code)
	}
	ok := users("OK", 5)
	at := now()
	r.seed(t, append(append([]string(nil), ok...), gone...), at, "UTC")

	rep := pass(t, r, at, false)
	if rep.Claimed != len(ok)+len(gone) || rep.Sent != len(ok) || rep.Unreachable != len(gone) || rep.Failed+rep.Uncertain != 0 {
		t.Fatalf("report %+v, want %d sent and %d unreachable", rep, len(ok), len(gone))
	}
	r.checkOneDMEach(t, ok)
	calls := r.postCalls()
	ctx := context.Background()
	for u, code := range codes {
		if n := len(calls[u]); n != 1 {
			t.Errorf("%s: %d chat.postMessage calls, want 1 (never retried)", u, n)
		}
		if n := len(r.fake.Messages(u)); n != 0 {
			t.Errorf("%s: %d DMs", u, n)
		}
		d := r.delivery(t, rep, u)
		if d.State != trustbot.Failed || !strings.Contains(d.Error, code) {
			t.Errorf("%s: delivery %s %q, want failed with %s", u, d.State, d.Error, code)
		}
		s, err := r.store.Schedule(ctx, key(u))
		if err != nil {
			t.Fatal(err)
		}
		if s.Active || !strings.Contains(s.Stopped, code) {
			t.Errorf("%s: schedule active=%v stopped=%q, want stopped with %s", u, s.Active, s.Stopped, code)
		}
	}

	// A week later the reachable users get their next check-in; the
	// unreachable ones are not even claimed.
	later := at.Add(7 * 24 * time.Hour)
	rep = pass(t, r, later, false)
	if rep.Claimed != len(ok) || rep.Sent != len(ok) || rep.Unreachable != 0 {
		t.Errorf("week later: report %+v, want %d claimed and sent", rep, len(ok))
	}
	calls = r.postCalls()
	for u := range codes {
		if n := len(calls[u]); n != 1 {
			t.Errorf("%s: %d chat.postMessage calls after a second pass, want still 1", u, n)
		}
	}
	for _, u := range ok {
		if n := len(r.fake.Messages(u)); n != 2 {
			t.Errorf("%s: %d DMs after two weeks, want 2", u, n)
		}
	}
}

// TestUncertainOutcomeIsLookedForBeforeResend answers one chat.postMessage
// with a server error: Slack may have taken it. The delivery stays sending
// (no blind resend, in this pass or in a pass before it is stale); a stale
// pass looks for it in the DM history, does not find it, and sends it once.
func TestUncertainOutcomeIsLookedForBeforeResend(t *testing.T) {
	t.Parallel()
	for _, status := range []int{500, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			r := newRig(t, 1000)
			us := users(fmt.Sprint("X", status), 3)
			at := now()
			r.seed(t, us, at, "UTC")
			r.fake.FailHTTP(postMessage, status, 1)

			rep := pass(t, r, at, false)
			if rep.Sent != len(us)-1 || rep.Uncertain != 1 || rep.Failed != 0 {
				t.Fatalf("report %+v, want %d sent and 1 uncertain", rep, len(us)-1)
			}
			var unsure string
			for _, s := range rep.Sends {
				if trustbot.ErrorCode(s.Err) == trustbot.EUNCERTAIN {
					unsure = s.Delivery.User
				}
			}
			if d := r.delivery(t, rep, unsure); d.State != trustbot.Sending {
				t.Fatalf("uncertain delivery is %s, want sending", d.State)
			}
			// A pass before the delivery is stale leaves it alone.
			if rep := pass(t, r, at.Add(time.Minute), false); rep.Sent+rep.Requeued+rep.Reconciled != 0 {
				t.Fatalf("a pass before StaleAfter touched it: %+v", rep)
			}
			if n := len(r.postCalls()[unsure]); n != 1 {
				t.Fatalf("%s: %d chat.postMessage calls before reconciliation, want 1", unsure, n)
			}
			if n := len(r.fake.Calls("conversations.history")); n != 0 {
				t.Fatalf("%d history lookups before the delivery was stale", n)
			}

			rep = pass(t, r, at.Add(time.Minute), true)
			if rep.Requeued != 1 || rep.Reconciled != 0 || rep.Sent != 1 {
				t.Fatalf("stale pass: report %+v, want 1 requeued and sent", rep)
			}
			hist := r.fake.Calls("conversations.history")
			posts := r.postCalls()[unsure]
			if len(hist) != 1 || len(posts) != 2 {
				t.Fatalf("%d history lookups and %d posts for %s, want 1 and 2", len(hist), len(posts), unsure)
			}
			if !hist[0].At.Before(posts[1].At) {
				t.Errorf("resent before looking in the DM history")
			}
			if ch := hist[0].Params["channel"]; ch != "D"+unsure {
				t.Errorf("looked in %s, want D%s", ch, unsure)
			}
			r.checkOneDMEach(t, us)
			if d := r.delivery(t, rep, unsure); d.State != trustbot.Sent || d.TS == "" {
				t.Errorf("after the resend: %s ts=%q, want sent", d.State, d.TS)
			}
		})
	}
}

// sendingDelivery creates a delivery for user and marks it sending under
// another process's attempt, as a crash leaves it.
func (r *rig) sendingDelivery(t *testing.T, user string, at time.Time) trustbot.Delivery {
	t.Helper()
	ctx := context.Background()
	k := key(user)
	if err := r.store.SaveProfile(ctx, trustbot.Profile{UserKey: k, TZ: "UTC", Locale: "en-US", FetchedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	ok, err := r.store.InsertDelivery(ctx, trustbot.Delivery{UserKey: k, Kind: coach.KindCheckin, Occurrence: trustbot.DateOf(at).String(), DueAt: at})
	if err != nil || !ok {
		t.Fatalf("insert delivery: %v %v", ok, err)
	}
	ds, err := r.store.Deliverable(ctx, at, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.User == user {
			// A replica with its lease running (until the test ends it)
			// was sending it.
			if err := r.store.RegisterReplica(ctx, trustbot.Replica{ID: "rcrashed", Host: "elsewhere", PID: 1, Started: time.Now(), Expires: time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if ok, err := r.store.MarkSending(ctx, d.ID, "rcrashed.1", at); err != nil || !ok {
				t.Fatalf("mark sending: %v %v", ok, err)
			}
			d.State = trustbot.Sending
			return d
		}
	}
	t.Fatalf("no pending delivery for %s", user)
	return trustbot.Delivery{}
}

// postTagged posts a DM to user the way the adapter does, tagged with a
// delivery ID, straight through slack-go: Slack has the message, trustbot
// never heard back.
func postTagged(t *testing.T, fake *fakeslack.Server, user, deliveryID string) string {
	t.Helper()
	api := slackgo.New(fakeslack.BotToken, slackgo.OptionAPIURL(fake.APIURL()))
	_, ts, err := api.PostMessage(user, slackgo.MsgOptionText("check-in", false),
		slackgo.MsgOptionMetadata(slackgo.SlackMetadata{EventType: "trustbot_delivery", EventPayload: map[string]any{"delivery_id": deliveryID}}))
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// TestPostedButNotRecordedIsReconciled leaves deliveries sending as a crash
// between Slack's answer and the commit does. One was posted (its DM carries
// its delivery ID): a stale pass records it as sent and posts nothing. The
// other's DM history holds only an older check-in with another ID: it is
// requeued and sent once.
func TestPostedButNotRecordedIsReconciled(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1000)
	at := now()
	const posted, lost = "UPOSTED01", "ULOST0001"
	dp := r.sendingDelivery(t, posted, at)
	dl := r.sendingDelivery(t, lost, at)
	ts := postTagged(t, r.fake, posted, dp.ID)
	postTagged(t, r.fake, lost, "d-an-older-checkin")

	// Their replica's lease runs: neither a regular pass nor a start-up
	// one touches them.
	for _, stale := range []bool{false, true} {
		if rep := pass(t, r, at, stale); rep.Reconciled+rep.Requeued+rep.Sent != 0 {
			t.Fatalf("a pass (start-up %v) touched what a live replica sends: %+v", stale, rep)
		}
	}
	// Its lease ends (the process is gone): the next regular pass settles them.
	if err := r.store.ReleaseReplica(context.Background(), "rcrashed"); err != nil {
		t.Fatal(err)
	}
	met := &replicaCount{reconciled: map[string]int{}}
	r.disp.Metrics = met
	rep := pass(t, r, at, false)
	if met.expired != 2 || met.reconciled["found"] != 1 || met.reconciled["requeued"] != 1 || met.claimed != 1 {
		t.Errorf("metrics: %d lease expiries, reconciled %v, %d claimed; want 2, found 1 and requeued 1, 1", met.expired, met.reconciled, met.claimed)
	}
	if rep.Reconciled != 1 || rep.Requeued != 1 || rep.Sent != 1 || rep.Claimed != 0 {
		t.Fatalf("report %+v, want 1 reconciled, 1 requeued and sent", rep)
	}
	ctx := context.Background()
	d, err := r.store.Delivery(ctx, key(posted), dp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != trustbot.Sent || d.TS != ts || d.Channel != "D"+posted {
		t.Errorf("reconciled delivery: %s %s/%s, want sent as %s/%s", d.State, d.Channel, d.TS, "D"+posted, ts)
	}
	if n := len(r.fake.Messages(posted)); n != 1 {
		t.Errorf("%s has %d DMs, want the one already posted", posted, n)
	}
	if n := len(r.postCalls()[posted]); n != 1 {
		t.Errorf("%s: %d chat.postMessage calls, want only the one before the crash", posted, n)
	}
	msgs := r.fake.Messages(lost)
	if len(msgs) != 2 || !strings.Contains(string(msgs[1].Metadata), dl.ID) {
		t.Errorf("%s: %d DMs, want the old one and the requeued one tagged %s", lost, len(msgs), dl.ID)
	}
	if d, err := r.store.Delivery(ctx, key(lost), dl.ID); err != nil || d.State != trustbot.Sent || d.Attempts != 2 {
		t.Errorf("requeued delivery: %+v %v, want sent on its second attempt", d, err)
	}
	// Settled: another stale pass finds nothing to do.
	if rep := pass(t, r, at, true); rep.Reconciled+rep.Requeued+rep.Sent != 0 {
		t.Errorf("third pass: %+v", rep)
	}
}

// TestCatchUpAfterDowntime passes long after a schedule's occurrence: one
// catch-up DM for the oldest occurrence, the others counted as missed, and
// the schedule moved to its first occurrence still ahead, at the same
// local time (also across a change of daylight-saving time).
func TestCatchUpAfterDowntime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		tz         string
		occurrence trustbot.Date
		minute     int
		now        time.Time
		missed     int
		next       time.Time
	}{
		{"three weeks", "UTC", trustbot.Date{Year: 2026, Month: 11, Day: 4}, 9 * 60,
			time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC), 2, time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)},
		{"three weeks and the fourth passed", "UTC", trustbot.Date{Year: 2026, Month: 11, Day: 4}, 9 * 60,
			time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), 3, time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)},
		{"one occurrence late", "UTC", trustbot.Date{Year: 2026, Month: 11, Day: 18}, 9 * 60,
			time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC), 0, time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)},
		// 09:00 in New York is 13:00 UTC before 1 November 2026, 14:00 after.
		{"across the end of DST", "America/New_York", trustbot.Date{Year: 2026, Month: 10, Day: 21}, 9 * 60,
			time.Date(2026, 11, 10, 13, 0, 0, 0, time.UTC), 2, time.Date(2026, 11, 11, 14, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, 1000)
			ctx := context.Background()
			const u = "UDOWNTIME"
			loc, _ := time.LoadLocation(tc.tz)
			if err := r.store.SaveProfile(ctx, trustbot.Profile{UserKey: key(u), TZ: tc.tz, Locale: "en-US", FetchedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			due := coach.Resolve(tc.occurrence, tc.minute, loc).UTC()
			if err := r.store.SaveSchedule(ctx, trustbot.Schedule{UserKey: key(u), Cadence: trustbot.Weekly,
				Weekday: tc.occurrence.Weekday(), Minute: tc.minute, Active: true, Occurrence: tc.occurrence, NextDueAt: due}); err != nil {
				t.Fatal(err)
			}
			rep := pass(t, r, tc.now, false)
			if rep.Claimed != 1 || rep.Sent != 1 || rep.Missed != tc.missed {
				t.Fatalf("report %+v, want 1 claimed and sent, %d missed", rep, tc.missed)
			}
			if n := len(r.fake.Messages(u)); n != 1 {
				t.Fatalf("%d DMs, want one catch-up", n)
			}
			d := r.delivery(t, rep, u)
			if d.Occurrence != tc.occurrence.String() || d.Missed != tc.missed || d.State != trustbot.Sent {
				t.Errorf("delivery %s missed=%d %s, want occurrence %s missed=%d sent", d.Occurrence, d.Missed, d.State, tc.occurrence, tc.missed)
			}
			s, err := r.store.Schedule(ctx, key(u))
			if err != nil {
				t.Fatal(err)
			}
			if !s.NextDueAt.After(tc.now) || !s.NextDueAt.Equal(tc.next) || !s.Active {
				t.Errorf("next due %s (active %v), want %s, after %s", s.NextDueAt, s.Active, tc.next, tc.now)
			}
			if got := s.NextDueAt.In(loc).Format("Mon 15:04"); got != tc.occurrence.Weekday().String()[:3]+" 09:00" {
				t.Errorf("next due local %s, want the same weekday at 09:00", got)
			}
			// The same instant again: nothing more.
			if rep := pass(t, r, tc.now, false); rep.Claimed+rep.Sent != 0 {
				t.Errorf("second pass: %+v", rep)
			}
		})
	}
}

// TestSocketDropDuringFanOut resets the Socket Mode connection while a
// fan-out is under way: DMs go through the Web API, so every user still
// gets exactly one, and the socket comes back.
func TestSocketDropDuringFanOut(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1000)
	r.fake.SetPingInterval(200 * time.Millisecond)
	r.sl.SetHandler(r.co)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.sl.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("socket mode: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("socket mode client did not stop")
		}
	}()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := r.fake.WaitConnected(wctx); err != nil {
		t.Fatal(err)
	}

	us := users("DROP", 40)
	at := now()
	r.seed(t, us, at, "UTC")
	r.fake.SetDelay(postMessage, 5*time.Millisecond)
	dropped := make(chan int, 1)
	go func() {
		calls, err := r.fake.WaitCalls(wctx, postMessage, 10)
		r.fake.Drop()
		if err != nil {
			dropped <- -1
			return
		}
		dropped <- len(calls)
	}()
	rep := pass(t, r, at, false)
	if n := <-dropped; n < 0 || n >= len(us) {
		t.Fatalf("the socket was not dropped during the fan-out (after %d calls)", n)
	}
	if rep.Sent != len(us) || rep.Failed+rep.Uncertain+rep.Unreachable != 0 {
		t.Fatalf("report %+v, want %d sent", rep, len(us))
	}
	r.checkOneDMEach(t, us)
	if err := r.fake.WaitConnections(wctx, 2); err != nil {
		t.Errorf("socket did not come back after the drop: %v", err)
	}
}

// replicaCount counts what a replica's metrics hear of claims and
// reconciliations.
type replicaCount struct {
	trustbot.NopMetrics
	mu         sync.Mutex
	claimed    int
	expired    int
	reconciled map[string]int
}

func (m *replicaCount) Claimed(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.claimed += n
}

func (m *replicaCount) LeaseExpired(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expired += n
}

func (m *replicaCount) Reconciled(outcome string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reconciled[outcome]++
}
