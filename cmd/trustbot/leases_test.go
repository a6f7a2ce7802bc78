package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestHandledSeenIsShared: a request handled by one replica is a
// duplicate for another on the same database, as Slack may hand an
// envelope or retry an event at any of an app's connections.
func TestHandledSeenIsShared(t *testing.T) {
	ctx := context.Background()
	path := testdb.EmptyDSN(t)
	var seens []*handledSeen
	for range 2 {
		db := testdb.OpenAt(t, path)
		t.Cleanup(func() { db.Close() })
		seens = append(seens, newHandledSeen(db, slog.New(slog.DiscardHandler), trustbot.Slack))
	}
	if !seens[0].First(ctx, "envelope:E1") {
		t.Fatal("a new envelope is a duplicate")
	}
	if seens[1].First(ctx, "envelope:E1") || seens[0].First(ctx, "envelope:E1") {
		t.Fatal("an envelope handled by one replica is handled again")
	}
	if !seens[1].First(ctx, "event:E1") {
		t.Fatal("an event with the envelope's ID is taken for it")
	}
	if !newHandledSeen(seens[1].store, seens[1].log, trustbot.Teams).First(ctx, "envelope:E1") {
		t.Fatal("a Teams activity is taken for a Slack envelope with its ID")
	}
}

// countingStore counts the transactions that record handled requests.
type countingStore struct {
	*testdb.DB
	batches atomic.Int32
}

func (c *countingStore) HandledAll(ctx context.Context, keys []string, t time.Time) ([]bool, error) {
	c.batches.Add(1)
	return c.DB.HandledAll(ctx, keys, t)
}

// TestHandledSeenBatches: requests asked about at once, from many
// goroutines as the workers ask, are each answered once and correctly,
// in fewer transactions than requests; a database that fails lets them
// through.
func TestHandledSeenBatches(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t)
	cs := &countingStore{DB: db}
	seen := newHandledSeen(cs, slog.New(slog.DiscardHandler), trustbot.Slack)
	// The batches are under test, not the time they may take: a loaded
	// machine must not let requests through for being slow.
	seen.wait = time.Minute
	const n = 400
	var wg sync.WaitGroup
	var firsts atomic.Int32
	for i := range n {
		wg.Go(func() {
			// Every request twice: one of the two is a duplicate.
			if seen.First(ctx, fmt.Sprintf("envelope:E%d", i%(n/2))) {
				firsts.Add(1)
			}
		})
	}
	wg.Wait()
	if got := firsts.Load(); got != n/2 {
		t.Fatalf("%d requests new, want %d", got, n/2)
	}
	if b := cs.batches.Load(); b >= n {
		t.Errorf("%d transactions for %d requests: not batched", b, n)
	}
	t.Logf("%d requests in %d transactions", n, cs.batches.Load())
	db.Close()
	if !seen.First(ctx, "envelope:E1") {
		t.Error("with the database gone, a request is not let through")
	}
}
