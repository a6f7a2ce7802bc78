package schedule

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// DefaultLeaseTTL is how long a replica's lease lasts unless renewed, as
// River's leader lease does: renewed every 5 s, it survives two missed
// renewals.
const DefaultLeaseTTL = 15 * time.Second

// leaseMargin is taken off this replica's own view of its lease (at most
// a fifth of it): clocks on two hosts run at slightly different rates,
// and the last renewal's time is read before the database took it.
func (d *Dispatcher) leaseMargin() time.Duration { return min(2*time.Second, d.LeaseTTL/5) }

// replica is this process's lease on the database: registered when a pass
// or Run first needs it, renewed while any of them runs, released when
// Run ends (or by Release).
type replica struct {
	regMu   sync.Mutex    // held while holders change
	mu      sync.Mutex    // guards id and until
	id      string        // "" until registered
	until   time.Duration // by Elapsed: when the lease ends for this process
	holders int
	start   time.Time // read at init, for its monotonic clock
	stop    chan struct{}
	done    chan struct{}
}

func newReplicaID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "r" + hex.EncodeToString(b)
}

// ReplicaID returns this dispatcher's replica ID ("" before it registered).
func (d *Dispatcher) ReplicaID() string {
	d.rep.mu.Lock()
	defer d.rep.mu.Unlock()
	return d.rep.id
}

// register records a new replica ID for this process.
func (d *Dispatcher) register(ctx context.Context) error {
	id := newReplicaID()
	mono, now := d.leaseElapsed(), time.Now()
	err := d.Store.RegisterReplica(ctx, trustbot.Replica{ID: id, Host: d.Host, PID: d.PID, Started: now, Expires: now.Add(d.LeaseTTL)})
	if err != nil {
		return err
	}
	d.rep.mu.Lock()
	d.rep.id, d.rep.until = id, mono+d.LeaseTTL-d.leaseMargin()
	d.rep.mu.Unlock()
	d.Logger.Info("replica registered", "replica", id, "host", d.Host, "pid", d.PID)
	return nil
}

// renew moves the lease on. A lease that ended meanwhile (this process
// was paused or cut off from the database longer than the lease) is not
// renewed: others may have taken over what it was sending, so this
// process registers as a new replica, and its earlier attempts are no
// longer its own.
func (d *Dispatcher) renew(ctx context.Context) {
	id := d.ReplicaID()
	mono, now := d.leaseElapsed(), time.Now()
	ok, err := d.Store.RenewReplica(ctx, id, now, now.Add(d.LeaseTTL))
	switch {
	case err != nil:
		d.Logger.Warn("could not renew this replica's lease; sending stops when it ends", "replica", id, "err", err)
	case ok:
		d.rep.mu.Lock()
		if d.rep.id == id {
			d.rep.until = mono + d.LeaseTTL - d.leaseMargin()
		}
		d.rep.mu.Unlock()
	default:
		d.Logger.Warn("this replica's lease had ended: what it was sending may be another's now; registering anew", "replica", id)
		if err := d.register(ctx); err != nil {
			d.Logger.Warn("could not register this replica anew", "err", err)
		}
		d.Metrics.Fault(trustbot.FaultLeaseLost)
	}
}

// hold keeps the lease while the returned function is not called:
// registered if it is not, renewed every third of LeaseTTL.
func (d *Dispatcher) hold(ctx context.Context) (func(), error) {
	r := &d.rep
	r.regMu.Lock()
	defer r.regMu.Unlock()
	if d.ReplicaID() == "" {
		if err := d.register(ctx); err != nil {
			return nil, err
		}
	}
	r.holders++
	if r.holders == 1 {
		r.stop, r.done = make(chan struct{}), make(chan struct{})
		go d.renewing(context.WithoutCancel(ctx), r.stop, r.done)
	}
	return func() {
		r.regMu.Lock()
		r.holders--
		var stop, done chan struct{}
		if r.holders == 0 {
			stop, done = r.stop, r.done
		}
		r.regMu.Unlock()
		if stop != nil {
			close(stop)
			<-done
		}
	}, nil
}

func (d *Dispatcher) renewing(ctx context.Context, stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(d.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			d.renew(ctx)
		}
	}
}

// Release ends this replica's lease: what it left sending is settled by
// the next pass of any replica. Run releases it when it returns.
func (d *Dispatcher) Release(ctx context.Context) {
	d.init()
	d.rep.mu.Lock()
	id := d.rep.id
	d.rep.id, d.rep.until = "", 0
	d.rep.mu.Unlock()
	if id == "" {
		return
	}
	if err := d.Store.ReleaseReplica(ctx, id); err != nil {
		d.Logger.Warn("could not release this replica's lease; it ends by itself", "replica", id, "err", err)
	}
}

// leaseElapsed reads the monotonic clock for the lease. Leases are kept
// by the real clocks, whatever Clock and Elapsed say: they are shared with
// other processes, and a pause of this one must be seen.
func (d *Dispatcher) leaseElapsed() time.Duration { return time.Since(d.rep.start) }

// ours reports whether attempt is this replica's and its lease still runs
// by this process's monotonic clock: a process stopped (SIGSTOP, a frozen
// VM) past its lease finds it ended when it resumes, though its wall
// clock and the database say nothing yet.
func (d *Dispatcher) ours(attempt string) bool {
	d.rep.mu.Lock()
	id, until := d.rep.id, d.rep.until
	d.rep.mu.Unlock()
	return id != "" && trustbot.AttemptReplica(attempt) == id && d.leaseElapsed() < until
}

// sendCheck is run immediately before a message is handed to the
// platform: the store must still record the delivery as sending under
// its attempt, and the attempt must still be this replica's, under a
// running lease. Anything else abandons the send and records nothing.
// The lease is read last, by this process's monotonic clock, after the
// database has answered: a process stopped while it waited for that
// answer finds its lease ended when it resumes, whatever the answer
// said before the stop.
func (d *Dispatcher) sendCheck(del trustbot.Delivery) func(context.Context) error {
	return func(ctx context.Context) error {
		ok, err := d.Store.Sending(ctx, del.ID, del.Attempt)
		if err != nil {
			return &trustbot.Error{Code: trustbot.ECANCELED, Message: "not sent: " + err.Error()}
		}
		if !ok {
			return &trustbot.Error{Code: trustbot.ECONFLICT, Message: "not sent: another attempt took the delivery"}
		}
		if !d.ours(del.Attempt) {
			return &trustbot.Error{Code: trustbot.ECONFLICT, Message: "not sent: this replica's lease ended"}
		}
		return nil
	}
}

// Singleton runs fn under the named lease, when no other replica holds
// it: work one replica does at a time (the reconciliation at start, the
// retention purge). The lease is renewed while fn runs, and fn's context
// ends if it cannot be: fn's writes name the lease (the store refuses
// them once another holds it) or are fenced otherwise. The lease is
// released when fn returns. Singleton reports whether fn ran.
func (d *Dispatcher) Singleton(ctx context.Context, name string, fn func(context.Context, trustbot.Lease) error) (bool, error) {
	d.init()
	release, err := d.hold(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	now := time.Now()
	l, ok, err := d.Store.AcquireLease(ctx, name, d.ReplicaID(), now, now.Add(d.LeaseTTL))
	if err != nil || !ok {
		return false, err
	}
	work, cancel := context.WithCancel(ctx)
	defer cancel()
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(d.LeaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-work.Done():
				return
			case <-t.C:
				now := time.Now()
				if ok, err := d.Store.RenewLease(work, l, now, now.Add(d.LeaseTTL)); err == nil && !ok {
					d.Logger.Warn("lost a lease while working under it; the work stops", "lease", name, "replica", l.Holder)
					cancel()
					return
				}
			}
		}
	}()
	err = fn(work, l)
	cancel()
	<-renewed
	if rerr := d.Store.ReleaseLease(context.WithoutCancel(ctx), l); rerr != nil {
		d.Logger.Warn("could not release a lease; it ends by itself", "lease", name, "err", rerr)
	}
	return true, err
}
