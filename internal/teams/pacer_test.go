package teams

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// memorySlots keeps shared send slots on a test clock, as the database
// does for several processes.
type memorySlots struct {
	mu      sync.Mutex
	now     func() time.Time
	next    map[string]time.Time
	blocked map[string]time.Time
	fail    bool
}

func newMemorySlots(now func() time.Time) *memorySlots {
	return &memorySlots{now: now, next: map[string]time.Time{}, blocked: map[string]time.Time{}}
}

func (m *memorySlots) TakeSendSlot(_ context.Context, key string, interval time.Duration) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return 0, errors.New("database gone")
	}
	now := m.now()
	slot := now
	if m.next[key].After(slot) {
		slot = m.next[key]
	}
	if m.blocked[key].After(slot) {
		slot = m.blocked[key]
	}
	m.next[key] = slot.Add(interval)
	return slot.Sub(now), nil
}

func (m *memorySlots) BlockSends(_ context.Context, key string, d time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if until := m.now().Add(d); until.After(m.blocked[key]) {
		m.blocked[key] = until
	}
	return nil
}

func (m *memorySlots) SendsBlocked(_ context.Context, key string) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return max(m.blocked[key].Sub(m.now()), 0), nil
}

// sharingPacers returns two pacers, as two processes would have, on one
// clock and the same shared slots.
func sharingPacers(slots *memorySlots, c *clock) [2]*pacer {
	var ps [2]*pacer
	for i := range ps {
		ps[i] = newPacer(slots, slog.New(slog.DiscardHandler))
		ps[i].now = c.Now
		ps[i].sleep = func(ctx context.Context, d time.Duration) error { c.Advance(d); return nil }
	}
	return ps
}

// TestPacerSharesTheTenantRate: two processes sending into one tenant
// keep its rate together (40 a second), where each alone would allow
// 50 in a second; with the database gone, each keeps the tenant's
// limits alone.
func TestPacerSharesTheTenantRate(t *testing.T) {
	for _, fail := range []bool{false, true} {
		c := newClock()
		slots := newMemorySlots(c.Now)
		slots.fail = fail
		ps := sharingPacers(slots, c)
		var times []time.Time
		for i := range 400 {
			conv := "a:1user" + string(rune('A'+i%50)) + string(rune('A'+i/50))
			if err := ps[i%2].wait(context.Background(), "tenant", conv); err != nil {
				t.Fatal(err)
			}
			times = append(times, c.Now())
		}
		limit := 41 // a slot every 25 ms, no burst
		if fail {
			limit = 100 // each process alone: 50 in a second
		}
		if got := maxInWindow(times, time.Second); got > limit {
			t.Errorf("slots failing %v: %d sends within a second in one tenant from two processes, want at most %d", fail, got, limit)
		}
		if !fail && maxInWindow(times, time.Second) < 35 {
			t.Errorf("the shared rate is not used: %d sends in a second", maxInWindow(times, time.Second))
		}
	}
}

// TestPacerSharesAPause: a 429 met by one process pauses the
// conversation in the other one too, and that one alone.
func TestPacerSharesAPause(t *testing.T) {
	c := newClock()
	ps := sharingPacers(newMemorySlots(c.Now), c)
	ps[0].hold(context.Background(), "a:1conv;messageid=5", 7*time.Second)
	start := c.Now()
	if err := ps[1].wait(context.Background(), "tenant", "a:1other"); err != nil || c.Now().Sub(start) > time.Second {
		t.Fatalf("another conversation waited %v (%v)", c.Now().Sub(start), err)
	}
	start = c.Now()
	if err := ps[1].wait(context.Background(), "tenant", "a:1conv"); err != nil {
		t.Fatal(err)
	}
	if waited := c.Now().Sub(start); waited < 6*time.Second {
		t.Errorf("the other process waited %v of another's 7 s pause", waited)
	}
}

func (m *memorySlots) TrySendSlot(_ context.Context, key string, interval time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if now.Before(m.next[key]) || now.Before(m.blocked[key]) {
		return false, nil
	}
	m.next[key] = now.Add(interval)
	return true, nil
}
