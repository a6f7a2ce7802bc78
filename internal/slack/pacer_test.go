package slack

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
	keys    map[string]int
	fail    bool
}

func (m *memorySlots) TakeSendSlot(_ context.Context, key string, interval time.Duration) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return 0, errors.New("database gone")
	}
	m.keys[key]++
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

// stepClock moves only when a pacer sleeps.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stepClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.t = c.t.Add(d)
	}
	return ctx.Err()
}

// sharing returns two pacers at rate 20, as two processes would have,
// on one clock and the same shared slots.
func sharing(fail bool) ([2]*pacer, *memorySlots, *stepClock) {
	c := &stepClock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	slots := &memorySlots{now: c.now, next: map[string]time.Time{}, blocked: map[string]time.Time{}, keys: map[string]int{}, fail: fail}
	var ps [2]*pacer
	for i := range ps {
		ps[i] = newPacer(20, slots, slog.New(slog.DiscardHandler))
		ps[i].now, ps[i].sleep = c.now, c.sleep
	}
	return ps, slots, c
}

// inASecond is the most sends within any one second.
func inASecond(times []time.Time) int {
	most := 0
	for i := range times {
		n := 0
		for j := i; j < len(times) && times[j].Sub(times[i]) < time.Second; j++ {
			n++
		}
		most = max(most, n)
	}
	return most
}

// TestPacerSharesTheWorkspaceRate: two processes sending into one
// workspace keep its rate together (20 a second, no burst), where each
// alone would allow 20 and a burst of 8; with the database gone, each
// keeps the rate alone. Another workspace has its own slots.
func TestPacerSharesTheWorkspaceRate(t *testing.T) {
	for _, fail := range []bool{false, true} {
		ps, slots, c := sharing(fail)
		var times []time.Time
		for i := range 200 {
			if err := ps[i%2].wait(context.Background(), "T1", "U"+string(rune('A'+i%26))+string(rune('A'+i/26))); err != nil {
				t.Fatal(err)
			}
			times = append(times, c.now())
		}
		got := inASecond(times)
		switch {
		case !fail && (got > 20 || slots.keys["slack:T1:chat.postMessage"] != 200):
			t.Errorf("%d sends within a second from two processes at rate 20 (%v slots taken)", got, slots.keys)
		case fail && got > 2*(20+sendBurst):
			t.Errorf("the database gone: %d sends within a second from two processes", got)
		}
	}
}

// TestPacerSharesAPause: a 429 met by one process pauses the workspace
// in the other one too, and no other workspace.
func TestPacerSharesAPause(t *testing.T) {
	ps, _, c := sharing(false)
	ps[0].hold(context.Background(), "T1", 30*time.Second)
	start := c.now()
	if err := ps[1].wait(context.Background(), "T2", "UA"); err != nil || c.now().Sub(start) > time.Second {
		t.Fatalf("another workspace waited %v (%v)", c.now().Sub(start), err)
	}
	start = c.now()
	if err := ps[1].wait(context.Background(), "T1", "UA"); err != nil {
		t.Fatal(err)
	}
	if waited := c.now().Sub(start); waited < 29*time.Second {
		t.Errorf("the other process waited %v of another's 30 s pause", waited)
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
