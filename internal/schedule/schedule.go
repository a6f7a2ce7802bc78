// Package schedule sends what is due: once a minute (robfig/cron) it asks
// the store which check-ins are due, claims them, and hands each to the
// chat platform, recording it as sending before the call and sent after.
// Rows left sending by a crash are looked for on the platform before
// anything is sent again. Per-user times are never cron entries: the
// database holds them. Every pass recovers from panics, and a jump of the
// wall clock, or a clock far from the platform's, is a fault, never a time
// to send as of.
package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Coach is what the dispatcher needs of the coaching logic.
type Coach interface {
	// Advance moves a claimed schedule to its next occurrence and says how
	// many occurrences passed unsent.
	Advance(s trustbot.Schedule, p trustbot.Prefs, now time.Time) (trustbot.Schedule, int)
	// AdvanceJourney moves a journey whose next follow-up was just claimed
	// and returns that follow-up's key.
	AdvanceJourney(j trustbot.Journey, p trustbot.Prefs, now time.Time) (trustbot.Journey, string)
	// Message builds the direct message of a delivery, in the user's
	// language.
	Message(ctx context.Context, d trustbot.Delivery) (trustbot.Reply, error)
	// AdvanceSubscription moves a channel's tip of the week to its next post.
	AdvanceSubscription(s trustbot.Subscription, now time.Time) (trustbot.Subscription, int)
	// Delivered is told that a delivery went out (to refresh the user's
	// time zone now and then, for instance).
	Delivered(ctx context.Context, d trustbot.Delivery, now time.Time)
	// Unreachable is told that a delivery's target cannot receive messages
	// for good (a user left, the bot was removed from a channel): what
	// sends to it stops.
	Unreachable(ctx context.Context, d trustbot.Delivery, reason string, now time.Time)
}

// Dispatcher sends due deliveries.
type Dispatcher struct {
	Store     trustbot.Store
	Messenger trustbot.Messenger
	Coach     Coach
	Logger    *slog.Logger
	Metrics   trustbot.Metrics // optional

	Batch      int           // deliveries claimed or sent per round; default 500
	Senders    int           // messages in flight at once; default 4
	StaleAfter time.Duration // a delivery sending for this long is looked for on the platform; default 2m
	// Skew is the margin for clock skew in the search for a delivery left
	// sending: it is looked for from the time its attempt began, moved to
	// the platform's clock, minus Skew; default SkewMargin.
	Skew time.Duration
	// MaxSkew is how far this host's clock and a platform's may disagree
	// for Run to pass; default MaxSkew.
	MaxSkew time.Duration
	// Clocks read each platform's clock (optional: a platform without one
	// is taken to agree with this host).
	Clocks map[trustbot.Platform]PlatformClock
	// Clock is the real clock (default time.Now). The instant a pass runs
	// as of may be another (trustbot dispatch --now); an attempt to send is
	// recorded at the real time.
	Clock func() time.Time
	// Elapsed reads the monotonic clock (default: the time since the
	// dispatcher started). Run compares it with Clock to see the wall
	// clock jump.
	Elapsed func() time.Duration
	// JumpLimit is how far the wall clock may move apart from the
	// monotonic clock between two readings before Run treats it as a
	// jump; default 5m. JumpCheck is how often Run reads both when no
	// pass does; default 1m.
	JumpLimit, JumpCheck time.Duration
	// Host and PID name this process in its replica row (default: the host
	// name and os.Getpid()).
	Host string
	PID  int
	// LeaseTTL is how long this replica's lease lasts unless renewed;
	// it is renewed every third of it while Run or a pass runs; default
	// 15s. A delivery left sending by a replica whose lease ended is
	// settled at once by another; one that a live replica sends is left
	// to it until StaleAfter.
	LeaseTTL time.Duration

	rep    replica
	once   sync.Once
	kick   chan struct{}
	passMu sync.Mutex // one pass at a time in this process

	clockMu  sync.Mutex
	lastWall time.Time     // the previous reading of Clock by Run
	lastMono time.Duration // and of Elapsed
	skewed   bool          // Run found the clocks apart at its last reading
}

// SkewMargin is the default Skew: an hour, far more than a host kept in
// time by NTP drifts, and few messages to page through in a DM or a channel.
const SkewMargin = time.Hour

// MaxSkew is the default of Dispatcher.MaxSkew: how far this host's clock
// and the platform's may disagree for passes to run. A host kept in time
// by NTP is within a second; at most this far apart, the time an attempt
// is recorded at is well within SkewMargin of the platform's.
const MaxSkew = 5 * time.Minute

// PlatformClock reads a platform's clock.
type PlatformClock interface {
	// ClockOffset returns how far the platform's clock runs ahead of this
	// host's (negative: this host's is fast), read at most maxAge ago.
	ClockOffset(ctx context.Context, maxAge time.Duration) (time.Duration, error)
}

// Report counts what one pass did.
type Report struct {
	Reconciled  int // found on the platform after a crash: recorded as sent
	Requeued    int // not found after a crash: queued again
	Claimed     int // new deliveries from due schedules
	Missed      int // occurrences that passed unsent during downtime
	Sent        int
	Unreachable int // users who cannot receive messages: their schedule stops
	Uncertain   int // the platform may have taken them: looked for on a later pass
	Waiting     int // left sending, not looked for yet: the platform's budget for it is spent for now
	Failed      int
	Sends       []Send // one per message handed to the platform, in order
}

// Send describes one message handed to the platform.
type Send struct {
	Delivery trustbot.Delivery
	Posted   trustbot.Posted
	Err      error
}

func (d *Dispatcher) init() {
	d.once.Do(func() {
		if d.Batch <= 0 {
			d.Batch = 500
		}
		if d.Senders <= 0 {
			d.Senders = 4
		}
		if d.StaleAfter <= 0 {
			d.StaleAfter = 2 * time.Minute
		}
		if d.Skew <= 0 {
			d.Skew = SkewMargin
		}
		if d.MaxSkew <= 0 {
			d.MaxSkew = MaxSkew
		}
		if d.Clock == nil {
			d.Clock = time.Now
		}
		if d.Elapsed == nil {
			start := time.Now()
			d.Elapsed = func() time.Duration { return time.Since(start) }
		}
		if d.JumpLimit <= 0 {
			d.JumpLimit = 5 * time.Minute
		}
		if d.JumpCheck <= 0 {
			d.JumpCheck = time.Minute
		}
		if d.Logger == nil {
			d.Logger = slog.New(slog.DiscardHandler)
		}
		if d.Metrics == nil {
			d.Metrics = trustbot.NopMetrics{}
		}
		if d.PID == 0 {
			d.PID = os.Getpid()
		}
		if d.Host == "" {
			d.Host, _ = os.Hostname()
		}
		if d.LeaseTTL <= 0 {
			d.LeaseTTL = DefaultLeaseTTL
		}
		d.kick = make(chan struct{}, 1)
		d.rep.start = time.Now()
	})
}

// Kick asks Run for a pass now (a check-in asked for "now"), without
// waiting for the next minute. It never blocks.
func (d *Dispatcher) Kick() {
	d.init()
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Pass runs one dispatch as of now: reconcile, claim, send. With stale set,
// every delivery left sending (by any earlier process) is reconciled, not
// only those older than StaleAfter: use it at start and from the command
// line.
//
// A panic anywhere in the pass is recovered, logged and counted, and
// returned as an error: a start-up, kicked or scheduled pass never takes
// the process down, and the next pass runs as usual.
func (d *Dispatcher) Pass(ctx context.Context, now time.Time, stale bool) (r Report, err error) {
	d.init()
	d.passMu.Lock()
	defer d.passMu.Unlock()
	defer func() {
		if v := recover(); v != nil {
			d.recovered(v)
			err = fmt.Errorf("dispatch pass: panic: %v", v)
		}
	}()
	release, err := d.hold(ctx)
	if err != nil {
		return r, fmt.Errorf("replica lease: %w", err)
	}
	defer release()
	before := now.Add(-d.StaleAfter)
	reconciled := false
	if stale {
		// Every attempt so far, whichever instant this pass runs as of,
		// even one recorded by a clock that ran fast and was set back; by
		// one replica at a time: another that starts meanwhile settles
		// only what is stale as in any pass.
		reconciled, err = d.Singleton(ctx, LeaseReconcile, func(ctx context.Context, _ trustbot.Lease) error {
			return d.reconcile(ctx, endOfTime, now, true, &r)
		})
		if err != nil {
			return r, err
		}
	}
	if !reconciled {
		if err := d.reconcile(ctx, before, now, false, &r); err != nil {
			return r, err
		}
	}
	for range 1000 {
		ds, err := d.Store.ClaimDue(ctx, now, d.Batch, func(s trustbot.Schedule, p trustbot.Prefs) (trustbot.Schedule, int) {
			return d.Coach.Advance(s, p, now)
		})
		if err != nil {
			return r, fmt.Errorf("claim: %w", err)
		}
		for _, del := range ds {
			r.Claimed++
			if del.Missed > 0 {
				r.Missed += del.Missed
				d.Metrics.Missed(del.Kind, del.Missed)
				d.Logger.Warn("occurrences missed while nothing was sending; sending one catch-up",
					"team", del.Team, "user", del.User, "kind", del.Kind, "missed", del.Missed, "occurrence", del.Occurrence)
			}
		}
		if len(ds) < d.Batch {
			break
		}
	}
	for range 1000 {
		ds, err := d.Store.ClaimDueJourneys(ctx, now, d.Batch, func(j trustbot.Journey, p trustbot.Prefs) (trustbot.Journey, string) {
			return d.Coach.AdvanceJourney(j, p, now)
		})
		if err != nil {
			return r, fmt.Errorf("claim journeys: %w", err)
		}
		r.Claimed += len(ds)
		if len(ds) < d.Batch {
			break
		}
	}
	for range 1000 {
		ds, err := d.Store.ClaimDueSubscriptions(ctx, now, d.Batch, func(s trustbot.Subscription) (trustbot.Subscription, int) {
			return d.Coach.AdvanceSubscription(s, now)
		})
		if err != nil {
			return r, fmt.Errorf("claim subscriptions: %w", err)
		}
		r.Claimed += len(ds)
		if len(ds) < d.Batch {
			break
		}
	}
	if ds, err := d.Store.Deliverable(ctx, now, d.Batch); err == nil {
		d.Metrics.Backlog(len(ds))
	}
	// Send until nothing deliverable is left: sending can make more (a
	// notice to the subscriber of a channel the bot was removed from).
	// Each sender claims one delivery at a time: replicas side by side
	// share what is due.
	if err := d.sendAll(ctx, now, &r); err != nil {
		return r, err
	}
	return r, ctx.Err()
}

// reconcile settles deliveries left sending: a message that reached the
// platform is recorded as sent; one that did not is queued again; one whose
// user can no longer be reached fails. Nothing is resent before it has been
// looked for. What a replica whose lease ended left sending is settled at
// once; what a live replica sends is left to it until StaleAfter (then
// that sender hung), and a start-up pass (all) takes every row but those
// of a live replica.
func (d *Dispatcher) reconcile(ctx context.Context, before, now time.Time, all bool, r *Report) error {
	real := time.Now() // leases are kept by the real clock
	stale, err := d.Store.StaleSending(ctx, before, real, d.Batch)
	if err != nil {
		return fmt.Errorf("stale deliveries: %w", err)
	}
	if len(stale) == 0 {
		d.Metrics.ReconcileWaiting(0, 0)
		return nil
	}
	rs, err := d.Store.Replicas(ctx, real)
	if err != nil {
		return fmt.Errorf("replicas: %w", err)
	}
	live := map[string]bool{}
	for _, rep := range rs {
		live[rep.ID] = true
	}
	self := d.ReplicaID()
	// One read of a conversation covers every delivery left sending
	// there: they are looked for together, from the earliest search
	// start among them.
	type group struct {
		key   trustbot.UserKey
		dels  []trustbot.Delivery
		since time.Time
	}
	var groups []*group
	byKey := map[trustbot.UserKey]*group{}
	for _, del := range stale {
		rep := trustbot.AttemptReplica(del.Attempt)
		if all && live[rep] && rep != self {
			d.Logger.Debug("delivery being sent by another replica", "delivery", del.ID, "attempt", del.Attempt)
			continue
		}
		if rep != "" && !live[rep] {
			d.Metrics.LeaseExpired(1)
			d.Logger.Info("delivery left sending by a replica whose lease ended", "delivery", del.ID, "attempt", del.Attempt)
		}
		from := d.searchFrom(ctx, del)
		g := byKey[del.UserKey]
		if g == nil {
			g = &group{key: del.UserKey, since: from}
			byKey[del.UserKey] = g
			groups = append(groups, g)
		}
		g.dels = append(g.dels, del)
		if from.Before(g.since) {
			g.since = from
		}
	}
	waiting, oldest := 0, time.Duration(0)
	for _, g := range groups {
		ids := make([]string, len(g.dels))
		for i, del := range g.dels {
			ids[i] = del.ID
		}
		found, complete, err := d.Messenger.FindDMs(ctx, g.key, ids, g.since)
		for _, del := range g.dels {
			posted, ok := found[del.ID]
			switch {
			case ok:
				ok, err := d.Store.MarkSent(ctx, del.ID, del.Attempt, posted, now)
				if err != nil {
					return err
				}
				if !ok {
					d.Logger.Info("delivery left sending was settled meanwhile", "delivery", del.ID, "attempt", del.Attempt)
					continue
				}
				r.Reconciled++
				d.Metrics.Reconciled("found")
				d.Logger.Info("delivery left sending was found on the platform", "delivery", del.ID, "ts", posted.TS)
				d.Coach.Delivered(ctx, del, now) // as after any send: a channel's tip is recorded as posted
			case trustbot.ErrorCode(err) == trustbot.ENOTINSTALLED:
				// Nothing can be looked for, nor sent, where the app was
				// removed: it stops, as a waiting delivery there does.
				if d.markFailed(ctx, del, "uninstalled: "+errMessage(err)) {
					d.Metrics.Reconciled("uninstalled")
					d.Logger.Info("delivery left sending where the app is no longer installed: it stops", "delivery", del.ID, "team", del.Team)
				}
			case trustbot.ErrorCode(err) == trustbot.EUNREACHABLE:
				if !d.markFailed(ctx, del, err.Error()) {
					continue
				}
				d.Metrics.Reconciled("unreachable")
				d.Coach.Unreachable(ctx, del, errMessage(err), now)
				d.Logger.Warn("delivery left sending: its target cannot be reached; it stops", "delivery", del.ID, "err", err)
			case err != nil:
				d.Logger.Warn("could not look for a delivery left sending; will try again", "delivery", del.ID, "err", err)
			case !complete:
				// The platform's budget for reading the conversation is
				// spent for now: looked for at a later pass, never resent
				// meanwhile.
				waiting++
				if from := del.SendingAt; !from.IsZero() {
					oldest = max(oldest, time.Since(from))
				}
			default:
				requeued, err := d.Store.Requeue(ctx, del.ID, del.Attempt, now, "not found after attempt "+del.Attempt)
				if err != nil {
					return err
				}
				if !requeued {
					d.Logger.Info("delivery left sending was settled meanwhile", "delivery", del.ID, "attempt", del.Attempt)
					continue
				}
				r.Requeued++
				d.Metrics.Reconciled("requeued")
				d.Logger.Info("delivery left sending was not found; sending again", "delivery", del.ID)
			}
		}
	}
	r.Waiting = waiting
	d.Metrics.ReconcileWaiting(waiting, oldest)
	if waiting > 0 {
		d.Logger.Warn("reconciliation behind: deliveries left sending wait for the platform's budget for reading conversations",
			"waiting", waiting, "oldest", oldest.Round(time.Second))
	}
	return nil
}

// searchFrom is where the search on the platform for a delivery left
// sending starts: when its attempt began by this host's clock (or now, if
// that is earlier: a clock that ran fast at the attempt and was set right
// since), moved back by how far this host's clock runs ahead of the
// platform's now, less the margin for what that reading misses. A row
// without that time falls back to its due time.
func (d *Dispatcher) searchFrom(ctx context.Context, del trustbot.Delivery) time.Time {
	from := del.SendingAt
	if from.IsZero() {
		from = del.DueAt
	}
	if now := d.Clock(); now.Before(from) {
		from = now
	}
	if pc := d.Clocks[del.Platform()]; pc != nil {
		if off, err := pc.ClockOffset(ctx, time.Minute); err == nil && off < 0 {
			from = from.Add(off)
		}
	}
	return from.Add(-d.Skew)
}

// ClockSkewed reports whether this host's clock and a platform's disagree
// by more than MaxSkew, confirmed by a fresh reading, and that platform's
// offset. A platform whose clock cannot be read is taken to agree.
func (d *Dispatcher) ClockSkewed(ctx context.Context) (bool, time.Duration) {
	d.init()
	for p, pc := range d.Clocks {
		off, err := pc.ClockOffset(ctx, time.Minute)
		if err == nil && off.Abs() > d.MaxSkew {
			off, err = pc.ClockOffset(ctx, 0)
		}
		if err != nil {
			d.Logger.Debug("a platform's clock could not be read", "platform", p, "err", err)
			continue
		}
		if off.Abs() > d.MaxSkew {
			return true, off
		}
	}
	return false, 0
}

// clockApart reports whether this host's clock and the platform's are too
// far apart for a pass; the first reading that finds them so is logged and
// counted, and the first that finds them agreeing again is logged.
func (d *Dispatcher) clockApart(ctx context.Context) bool {
	apart, off := d.ClockSkewed(ctx)
	d.clockMu.Lock()
	was := d.skewed
	d.skewed = apart
	d.clockMu.Unlock()
	switch {
	case apart && !was:
		d.Metrics.Fault(trustbot.FaultClockSkew)
		d.Logger.Error("this host's clock and the platform's disagree: no pass runs until they agree again (set the clock right, e.g. NTP)",
			"platform_ahead_by", off.Round(time.Second).String(), "limit", d.MaxSkew.String())
	case !apart && was:
		d.Logger.Info("this host's clock and the platform's agree again: passes run", "platform_ahead_by", off.Round(time.Second).String())
	}
	return apart
}

// Names of the leases of work one replica does at a time.
const (
	LeaseReconcile = "reconcile" // the reconciliation of everything left sending, at start
	LeaseRetention = "retention" // the retention purge
	LeaseHandled   = "handled"   // forgetting handled requests and ended replicas
)

// endOfTime is after every instant an attempt can be recorded at.
var endOfTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// claimTimeout bounds one claim of a delivery to send.
const claimTimeout = 10 * time.Second

func (d *Dispatcher) sendAll(ctx context.Context, now time.Time, r *Report) error {
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		claimErr error
	)
	for range d.Senders {
		wg.Go(func() {
			for ctx.Err() == nil {
				// A claim runs to its end even when stopping starts: a
				// claim cut off by the stop may still have been committed
				// (PostgreSQL answers a commit the client no longer waits
				// for), and its delivery would be left sending. Claimed,
				// send hands it back to pending when stopping.
				claimCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), claimTimeout)
				ds, err := d.Store.ClaimSending(claimCtx, now, d.Clock(), d.ReplicaID(), 1)
				cancel()
				if err != nil {
					mu.Lock()
					claimErr = err
					mu.Unlock()
					return
				}
				if len(ds) == 0 {
					return
				}
				d.Metrics.Claimed(len(ds))
				for _, del := range ds {
					s := d.send(ctx, now, del)
					if s.Delivery.ID == "" {
						continue
					}
					mu.Lock()
					r.Sends = append(r.Sends, s)
					state := trustbot.ErrorCode(s.Err)
					if state == "" {
						state = "sent"
					}
					d.Metrics.Delivered(del.Platform(), del.Kind, state)
					switch trustbot.ErrorCode(s.Err) {
					case trustbot.ECANCELED:
					case "":
						r.Sent++
					case trustbot.EUNREACHABLE:
						r.Unreachable++
					case trustbot.EUNCERTAIN:
						r.Uncertain++
					default:
						r.Failed++
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if claimErr != nil && ctx.Err() == nil {
		return fmt.Errorf("claim to send: %w", claimErr)
	}
	return nil
}

// recovered logs and counts a recovered panic.
func (d *Dispatcher) recovered(v any, args ...any) {
	d.Metrics.Fault(trustbot.FaultPanic)
	d.Logger.Error("panic recovered", append(args, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))...)
}

// send delivers one message claimed for this replica (sending under
// its attempt). It returns an empty Send when nothing was tried: the
// delivery went back to pending (stopping, or its message could not be
// built for now), or was no longer this replica's. A panic while sending is recovered: a message that was never
// handed to the platform fails (building it would panic again), one that
// may have been is left sending, to be looked for.
func (d *Dispatcher) send(ctx context.Context, now time.Time, del trustbot.Delivery) (s Send) {
	var handed bool
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		d.recovered(v, "delivery", del.ID, "kind", del.Kind)
		s = Send{Delivery: del, Err: &trustbot.Error{Code: trustbot.EINTERNAL, Message: "panic while sending"}}
		if !handed {
			d.markFailed(context.WithoutCancel(ctx), del, "internal error while building the message")
		}
	}()
	if ctx.Err() != nil {
		// Stopping: back to pending for the next pass, as if not tried.
		d.requeue(ctx, del, now, "stopped before sending")
		return Send{}
	}
	attempt := del.Attempt
	s = Send{Delivery: del}
	reply, err := d.Coach.Message(ctx, del)
	if trustbot.ErrorCode(err) == trustbot.EUNAVAILABLE {
		// The database did not answer while the message was built: it is
		// built again at a later pass, never given up for that.
		d.Logger.Warn("could not build a message for now; it goes at a later pass", "delivery", del.ID, "kind", del.Kind, "err", err)
		d.requeue(ctx, del, now, "message: "+errMessage(err))
		return Send{}
	}
	if err != nil {
		s.Err = err
		d.Logger.Error("could not build a message", "delivery", del.ID, "kind", del.Kind, "err", err)
		d.markFailed(context.WithoutCancel(ctx), del, "message: "+err.Error())
		return s
	}
	// The last word before the platform is the check: the messenger runs
	// it again right before the call, after any wait for its turn.
	check := d.sendCheck(del)
	if s.Err = check(ctx); s.Err == nil {
		handed = true
		s.Posted, s.Err = d.Messenger.PostDM(trustbot.WithSendCheck(ctx, check), del.UserKey, reply, del.ID)
	}
	switch trustbot.ErrorCode(s.Err) {
	case "":
		ok, err := d.Store.MarkSent(context.WithoutCancel(ctx), del.ID, attempt, s.Posted, now)
		if err != nil {
			// The message went out: a later pass finds it on the platform.
			d.Logger.Error("sent but not recorded; it will be reconciled", "delivery", del.ID, "err", err)
			return s
		}
		if !ok {
			// Another attempt took the delivery while this one waited on
			// the platform: the state is theirs to record.
			d.Logger.Warn("sent, but another attempt had taken the delivery; its record stands", "delivery", del.ID, "attempt", attempt, "ts", s.Posted.TS)
			return s
		}
		d.Logger.Info("sent", "delivery", del.ID, "team", del.Team, "user", del.User, "kind", del.Kind, "occurrence", del.Occurrence)
		d.Coach.Delivered(ctx, del, now)
	case trustbot.EUNREACHABLE:
		d.Logger.Warn("target cannot receive messages; what sends to it stops", "delivery", del.ID, "team", del.Team, "target", del.User, "kind", del.Kind, "err", s.Err)
		if d.markFailed(context.WithoutCancel(ctx), del, s.Err.Error()) {
			d.Coach.Unreachable(ctx, del, errMessage(s.Err), now)
		}
	case trustbot.ENOTINSTALLED:
		// The app is not installed where it goes (the workspace removed
		// it): nothing was asked of the platform, and nothing could be
		// sent until it is installed again, when the next occurrence goes.
		d.Logger.Info("not sent: the app is not installed in the workspace", "delivery", del.ID, "team", del.Team, "user", del.User, "kind", del.Kind)
		d.markFailed(context.WithoutCancel(ctx), del, "uninstalled: "+errMessage(s.Err))
	case trustbot.ECANCELED:
		// Never handed to the platform: back to pending, as if not tried.
		d.requeue(ctx, del, now, "not handed to the platform: "+errMessage(s.Err))
	case trustbot.ECONFLICT:
		// Another replica took the delivery over (this one was paused, or
		// cut off, past its lease): nothing was sent, and its record is
		// theirs.
		d.Metrics.Fault(trustbot.FaultLeaseLost)
		d.Logger.Warn("not sent: the delivery is no longer this replica's", "delivery", del.ID, "attempt", attempt, "err", s.Err)
		return Send{}
	case trustbot.EUNCERTAIN:
		// Slack may have the message: leave it sending, to be looked for,
		// never blindly posted again.
		d.Logger.Warn("outcome unknown; will look for it before any resend", "delivery", del.ID, "err", s.Err)
	default:
		if ctx.Err() != nil {
			d.Logger.Warn("stopped while sending; will look for it before any resend", "delivery", del.ID)
			return s
		}
		d.Logger.Error("platform refused the message", "delivery", del.ID, "err", s.Err)
		d.markFailed(context.WithoutCancel(ctx), del, s.Err.Error())
	}
	return s
}

// requeue hands a delivery that was never handed to the platform back to
// pending. It is due again just after the pass's instant, so that this
// pass does not claim it again; the next one does.
func (d *Dispatcher) requeue(ctx context.Context, del trustbot.Delivery, now time.Time, reason string) {
	due := del.DueAt
	if !due.After(now) {
		due = now.Add(time.Second)
	}
	switch ok, err := d.Store.Requeue(context.WithoutCancel(ctx), del.ID, del.Attempt, due, reason); {
	case err != nil:
		d.Logger.Error("could not hand a delivery back; it will be reconciled", "delivery", del.ID, "err", err)
	case !ok:
		d.Logger.Warn("not handed to the platform, but another attempt had taken the delivery", "delivery", del.ID, "attempt", del.Attempt)
	default:
		d.Logger.Info("not handed to the platform; back to pending", "delivery", del.ID, "reason", reason)
	}
}

// markFailed records that a delivery sending under del.Attempt will not be
// sent. It reports whether that took effect; when it did not (another
// attempt owns the delivery, or the store failed), it says so in the log.
func (d *Dispatcher) markFailed(ctx context.Context, del trustbot.Delivery, reason string) bool {
	ok, err := d.Store.MarkFailed(ctx, del.ID, del.Attempt, reason)
	switch {
	case err != nil:
		d.Logger.Error("could not record a failed delivery; it will be reconciled", "delivery", del.ID, "err", err)
	case !ok:
		d.Logger.Warn("failed, but another attempt had taken the delivery; its record stands", "delivery", del.ID, "attempt", del.Attempt)
	}
	return ok
}

func errMessage(err error) string {
	if e, ok := err.(*trustbot.Error); ok {
		return e.Message
	}
	return err.Error()
}

// Run passes once at start (catching up after downtime, reconciling what
// a previous process left sending), then every minute until ctx ends.
//
// No pass runs while this host's clock and the platform's disagree by more
// than MaxSkew: it would send at the wrong times, and record attempts at
// times the search after a crash could miss. The first such reading is
// logged and counted.
//
// The wall clock is watched against the monotonic clock. When it jumps
// (forwards or backwards, by more than JumpLimit between two readings: a
// manual change, an NTP step, a host resumed from suspend), the jump is
// logged and counted, no pass runs as of the jumped reading, and the
// minute tick is set again from the new wall clock (robfig/cron plans its
// ticks by the wall clock: after a jump backwards it would not tick again
// until the clock caught up). The next reading that agrees with the
// monotonic clock runs passes again: a clock that keeps its new time is
// taken to be right, one that jumps back is never used.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.init()
	logger := cronLogger{d.Logger}
	c := cron.New(cron.WithLogger(logger), cron.WithChain(cron.SkipIfStillRunning(logger), cron.Recover(logger)))
	var (
		mu   sync.Mutex
		tick cron.EntryID
	)
	var pass func(stale bool)
	rebase := func() error {
		mu.Lock()
		defer mu.Unlock()
		c.Remove(tick)
		id, err := c.AddFunc("@every 1m", func() { pass(false) })
		tick = id
		return err
	}
	pass = func(stale bool) {
		now := d.Clock()
		if d.clockJumped(now) {
			rebase()
			return
		}
		if d.clockApart(ctx) {
			return
		}
		r, err := d.Pass(ctx, now, stale)
		if err != nil && ctx.Err() == nil {
			d.Logger.Error("dispatch pass failed", "err", err)
		}
		if r.Claimed+r.Sent+r.Reconciled+r.Requeued+r.Unreachable+r.Uncertain+r.Failed > 0 {
			d.Logger.Info("dispatch pass", "claimed", r.Claimed, "sent", r.Sent, "missed", r.Missed, "reconciled", r.Reconciled,
				"requeued", r.Requeued, "unreachable", r.Unreachable, "uncertain", r.Uncertain, "failed", r.Failed)
		}
	}
	if err := rebase(); err != nil {
		return err
	}
	// The lease is held while Run runs, and ended when it returns: what
	// is left sending then is settled by the next pass of any replica.
	release, err := d.hold(ctx)
	if err != nil {
		return fmt.Errorf("replica lease: %w", err)
	}
	defer d.Release(context.WithoutCancel(ctx))
	defer release()
	pass(true)
	c.Start()
	// The watch ticks by the monotonic clock, so it goes on when the
	// wall clock has jumped and cron's tick waits for the wrong time.
	watch := time.NewTicker(d.JumpCheck)
	defer watch.Stop()
	for {
		select {
		case <-ctx.Done():
			<-c.Stop().Done()
			return nil
		case <-d.kick:
			pass(false)
		case <-watch.C:
			if d.clockJumped(d.Clock()) {
				rebase()
			}
		}
	}
}

// clockJumped reports whether the wall clock moved apart from the
// monotonic clock by more than JumpLimit since the previous reading, and
// logs and counts it when it did. Every call is a new reading.
func (d *Dispatcher) clockJumped(wall time.Time) bool {
	mono := d.Elapsed()
	d.clockMu.Lock()
	prevWall, prevMono, first := d.lastWall, d.lastMono, d.lastWall.IsZero()
	d.lastWall, d.lastMono = wall, mono
	d.clockMu.Unlock()
	if first {
		return false
	}
	jump := wall.Round(0).Sub(prevWall.Round(0)) - (mono - prevMono)
	if jump.Abs() <= d.JumpLimit {
		return false
	}
	d.Metrics.Fault(trustbot.FaultClockJump)
	d.Logger.Error("the wall clock jumped: no pass as of this reading; passes run again once the clock holds steady",
		"jump", jump.Round(time.Second).String(), "from", prevWall.UTC().Format(time.RFC3339), "to", wall.UTC().Format(time.RFC3339))
	return true
}

// DryRun lists what a pass at now would claim and send, changing nothing.
func (d *Dispatcher) DryRun(ctx context.Context, now time.Time) ([]trustbot.Schedule, []trustbot.Delivery, error) {
	d.init()
	due, err := d.Store.DueSchedules(ctx, now, d.Batch)
	if err != nil {
		return nil, nil, err
	}
	pending, err := d.Store.Deliverable(ctx, now, d.Batch)
	return due, pending, err
}

// cronLogger lets robfig/cron log through slog.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}
