package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// flakyPurger panics on its first pass, fails on its second and deletes
// on the others; each pass is reported on calls.
type flakyPurger struct {
	calls chan int
	n     int
}

func (p *flakyPurger) Purge(ctx context.Context, before time.Time) (int64, error) {
	p.n++
	p.calls <- p.n
	switch p.n {
	case 1:
		panic("injected: purge")
	case 2:
		return 0, errors.New("injected: purge failed")
	}
	return 3, nil
}

// faultMetrics counts the faults reported to it.
type faultMetrics struct {
	trustbot.NopMetrics
	mu     sync.Mutex
	faults map[string]int
}

func (m *faultMetrics) Fault(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.faults == nil {
		m.faults = map[string]int{}
	}
	m.faults[name]++
}

func (m *faultMetrics) count(name string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.faults[name]
}

// TestRetentionRecoversPanics: a panic in a retention pass is recovered,
// logged and counted; the goroutine goes on, and the passes after it run
// (a failing one is logged, the next one purges).
func TestRetentionRecoversPanics(t *testing.T) {
	p := &flakyPurger{calls: make(chan int, 10)}
	met := &faultMetrics{}
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		retain(ctx, p, 24*time.Hour, time.Millisecond, met, slog.New(slog.NewTextHandler(logs, nil)))
	}()
	for want := 1; want <= 4; want++ {
		select {
		case n := <-p.calls:
			if n != want {
				t.Fatalf("pass %d, want %d", n, want)
			}
		case <-done:
			t.Fatalf("retention ended after pass %d", want-1)
		case <-time.After(patience):
			t.Fatalf("no retention pass %d", want)
		}
	}
	cancel()
	<-done
	if n := met.count(trustbot.FaultPanic); n != 1 {
		t.Errorf("%d panics counted, want 1", n)
	}
	for _, want := range []string{"panic recovered in the retention purge", "injected: purge", "retention purge failed", `msg="retention purge" rows=3`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
}
