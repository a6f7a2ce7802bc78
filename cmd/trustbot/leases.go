package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/trustbot/trustbot/internal/schedule"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// leasedPurge is the retention purge run by one replica at a time, under
// the retention lease: while another replica purges, this one skips its
// turn, and a purge whose lease another took over deletes nothing.
type leasedPurge struct {
	disp  *schedule.Dispatcher
	store trustbot.ReplicaStore
}

func (p leasedPurge) Purge(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	_, err := p.disp.Singleton(ctx, schedule.LeaseRetention, func(ctx context.Context, l trustbot.Lease) error {
		var err error
		n, err = p.store.PurgeUnder(ctx, l, time.Now(), before)
		return err
	})
	return n, err
}

// handledFor is how long the key of a handled request is kept: past
// Slack's last retry (about 6 minutes after the first delivery) by far.
const handledFor = 24 * time.Hour

// handledSeen is the record of requests already handled, shared by every
// replica on the database: a request Slack hands to two connections, or
// retries at another replica, is handled once.
type handledSeen struct {
	store trustbot.ReplicaStore
	log   *slog.Logger
}

// handledWait bounds the record of a handled request: it runs before the
// request is acknowledged, which a busy database must not hold up.
const handledWait = 300 * time.Millisecond

// First reports whether the request is new. A database that does not
// answer in time lets the request through: handling it twice is better
// than never, or late.
func (s handledSeen) First(ctx context.Context, id string) bool {
	ctx, cancel := context.WithTimeout(ctx, handledWait)
	defer cancel()
	ok, err := s.store.Handled(ctx, "slack:"+id, time.Now())
	if err != nil {
		s.log.Warn("could not record a handled request; handling it", "request", id, "err", err)
		return true
	}
	return ok
}

// forgetHandled forgets, every hour and on one replica at a time, the
// requests handled more than a day ago and the replicas gone as long.
func forgetHandled(ctx context.Context, disp *schedule.Dispatcher, store trustbot.ReplicaStore, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		_, err := disp.Singleton(ctx, schedule.LeaseHandled, func(ctx context.Context, _ trustbot.Lease) error {
			_, err := store.PurgeHandled(ctx, time.Now().Add(-handledFor))
			return err
		})
		if err != nil && ctx.Err() == nil {
			log.Warn("could not forget old handled requests", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
