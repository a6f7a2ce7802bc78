package main

import (
	"context"
	"log/slog"
	"sync"
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
// an event or activity Slack or Teams retries at another replica, is
// handled once. Each platform's keys have its name before them. The keys
// asked for while one transaction records others wait and go together in
// the next: in a burst, a few transactions record many requests.
type handledSeen struct {
	store    trustbot.ReplicaStore
	log      *slog.Logger
	platform trustbot.Platform
	wait     time.Duration // handledWait, longer in tests about batching

	mu       sync.Mutex
	waiting  []handledAsk
	flushing bool // a goroutine is recording; it takes what waits next
}

type handledAsk struct {
	key   string
	first chan bool
}

func newHandledSeen(store trustbot.ReplicaStore, log *slog.Logger, platform trustbot.Platform) *handledSeen {
	return &handledSeen{store: store, log: log, platform: platform, wait: handledWait}
}

// handledWait bounds the record of a handled request: it runs before the
// request is answered, which a busy database must not hold up.
const handledWait = 300 * time.Millisecond

// First reports whether the request is new. A database that does not
// answer in time lets the request through: handling it twice is better
// than never, or late.
func (s *handledSeen) First(_ context.Context, id string) bool {
	ask := handledAsk{key: string(s.platform) + ":" + id, first: make(chan bool, 1)}
	s.mu.Lock()
	s.waiting = append(s.waiting, ask)
	lead := !s.flushing
	s.flushing = true
	s.mu.Unlock()
	if lead {
		s.flush()
	}
	return <-ask.first
}

// flush records the keys waiting in one transaction and answers their
// askers. Keys that came meanwhile are recorded next, by another
// goroutine: the caller goes on with its own request.
func (s *handledSeen) flush() {
	s.mu.Lock()
	batch := s.waiting
	s.waiting = nil
	s.mu.Unlock()
	keys := make([]string, len(batch))
	for i, a := range batch {
		keys[i] = a.key
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.wait)
	first, err := s.store.HandledAll(ctx, keys, time.Now())
	cancel()
	if err != nil {
		s.log.Warn("could not record handled requests; handling them", "platform", s.platform, "requests", len(keys), "err", err)
	}
	for i, a := range batch {
		a.first <- err != nil || first[i]
	}
	s.mu.Lock()
	if len(s.waiting) == 0 {
		s.flushing = false
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	go s.flush()
}

// forgetHandled forgets, every hour and on one replica at a time, the
// requests handled more than a day ago and the replicas gone as long, and
// the files whose links expired unused.
func forgetHandled(ctx context.Context, disp *schedule.Dispatcher, store trustbot.Store, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		_, err := disp.Singleton(ctx, schedule.LeaseHandled, func(ctx context.Context, _ trustbot.Lease) error {
			now := time.Now()
			_, err := store.PurgeHandled(ctx, now.Add(-handledFor))
			if err == nil {
				_, err = store.PurgeFiles(ctx, now)
			}
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
