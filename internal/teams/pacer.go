package teams

import (
	"context"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Teams' limits on a bot's sends (learn.microsoft.com, msteams-docs
// bots/how-to/rate-limit.md): per conversation 7 in 1 s, 8 in 2 s, 60 in
// 30 s and 1,800 in an hour; per app and tenant 50 a second. A token
// bucket of rate r and burst b lets at most b + r·T through in any window
// of length T, so each bucket below keeps its windows whatever the
// pattern of sends:
//
//   - 1 a second, burst 6: at most 7 in 1 s, 8 in 2 s and 36 in 30 s;
//   - 0.49 a second, burst 30: at most 1,794 in an hour;
//   - per tenant, 40 a second, burst 10: at most 50 in 1 s.
//
// A send goes when every bucket it draws on has a token, and takes one
// from each at that same instant.
var (
	conversationBuckets = []bucket{{rate: 1, burst: 6}, {rate: 0.49, burst: 30}}
	tenantBucket        = bucket{rate: 40, burst: 10}
)

type bucket struct {
	rate  rate.Limit
	burst int
}

// maxIdleConversations bounds the pacer's memory: past it, the limiters
// of conversations whose buckets are full again (idle long enough that
// forgetting them changes nothing) are dropped.
const maxIdleConversations = 4096

// pacer spaces out the sends of one bot. With shared slots (several
// processes on one database) the tenant's budget and a 429's pause are
// kept there for every process, the tenant's as a slot every
// 1/tenantBucket.rate with no burst; a conversation's own buckets stay
// in memory. Its clock and sleep can be replaced in tests.
type pacer struct {
	shared  trustbot.SendSlots
	log     *slog.Logger
	mu      sync.Mutex
	convs   map[string]*convLimits
	tenants map[string]*rate.Limiter
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error
}

type convLimits struct {
	buckets []*rate.Limiter
	pause   time.Time // after a 429: no send before
}

func newPacer(shared trustbot.SendSlots, log *slog.Logger) *pacer {
	return &pacer{shared: shared, log: log, convs: map[string]*convLimits{}, tenants: map[string]*rate.Limiter{}, now: time.Now, sleep: sleep}
}

// tenantSlot and pauseKey name a tenant's budget and a conversation's
// pause among the shared slots.
func tenantSlot(tenant string) string { return "msteams:" + tenant }
func pauseKey(thread string) string   { return "msteams:conversation:" + thread }

// threadKey is the thread Teams counts a send against: a channel's reply
// chain counts with its channel.
func threadKey(conversationID string) string {
	if i := strings.Index(conversationID, ";messageid="); i >= 0 {
		return conversationID[:i]
	}
	return conversationID
}

// wait blocks until a send into the conversation is allowed, and counts
// it. It never gives up for pacing; only ctx ends the wait.
func (p *pacer) wait(ctx context.Context, tenant, conversationID string) error {
	key := threadKey(conversationID)
	if err := p.local(ctx, tenant, key, p.shared == nil); err != nil {
		return err
	}
	if p.shared == nil {
		return nil
	}
	for {
		w, err := p.shared.TakeSendSlot(ctx, tenantSlot(tenant), time.Duration(float64(time.Second)/float64(tenantBucket.rate)))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// The database does not answer for a moment: this process
			// alone keeps the tenant's rate.
			p.log.Warn("teams: shared send rate unavailable: pacing in this process alone", "tenant", tenant, "err", err)
			return p.local(ctx, tenant, key, true)
		}
		if err := p.sleep(ctx, w); err != nil {
			return err
		}
		// Another process may have met a 429 in this conversation.
		left, err := p.shared.SendsBlocked(ctx, pauseKey(key))
		if err != nil || left <= 0 {
			return ctx.Err()
		}
		if err := p.sleep(ctx, left); err != nil {
			return err
		}
	}
}

// local waits for the conversation's buckets and pause kept in memory,
// and for the tenant's bucket too when withTenant, and takes a token of
// each at the same instant.
func (p *pacer) local(ctx context.Context, tenant, key string, withTenant bool) error {
	for {
		p.mu.Lock()
		now := p.now()
		c := p.conversation(key, now)
		t := p.tenant(tenant)
		d := c.pause.Sub(now)
		if withTenant {
			d = max(d, untilToken(t, now))
		}
		for _, l := range c.buckets {
			d = max(d, untilToken(l, now))
		}
		if d <= 0 {
			for _, l := range c.buckets {
				l.AllowN(now, 1)
			}
			if withTenant {
				t.AllowN(now, 1)
			}
			p.mu.Unlock()
			return nil
		}
		p.mu.Unlock()
		if err := p.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// untilToken is how long until l has a whole token.
func untilToken(l *rate.Limiter, now time.Time) time.Duration {
	missing := 1 - l.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	// Rounded up to the microsecond, so that the bucket surely has its
	// token after the sleep.
	return time.Duration(math.Ceil(missing/float64(l.Limit())*1e6)+1) * time.Microsecond
}

// hold pauses the conversation's sends for d (a 429's Retry-After): in
// every process sharing the slots.
func (p *pacer) hold(ctx context.Context, conversationID string, d time.Duration) {
	key := threadKey(conversationID)
	if p.shared != nil {
		if err := p.shared.BlockSends(ctx, pauseKey(key), d); err != nil {
			p.log.Warn("teams: a 429's pause not shared with the other processes", "err", err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	c := p.conversation(key, now)
	if until := now.Add(d); until.After(c.pause) {
		c.pause = until
	}
}

func (p *pacer) conversation(key string, now time.Time) *convLimits {
	c, ok := p.convs[key]
	if ok {
		return c
	}
	if len(p.convs) >= maxIdleConversations {
		for k, old := range p.convs {
			if idle(old, now) {
				delete(p.convs, k)
			}
		}
	}
	c = &convLimits{}
	for _, b := range conversationBuckets {
		c.buckets = append(c.buckets, rate.NewLimiter(b.rate, b.burst))
	}
	p.convs[key] = c
	return c
}

// idle reports whether forgetting c would change nothing: every bucket is
// full and no pause is pending.
func idle(c *convLimits, now time.Time) bool {
	if c.pause.After(now) {
		return false
	}
	for _, l := range c.buckets {
		if l.TokensAt(now) < float64(l.Burst()) {
			return false
		}
	}
	return true
}

func (p *pacer) tenant(id string) *rate.Limiter {
	l, ok := p.tenants[id]
	if !ok {
		l = rate.NewLimiter(tenantBucket.rate, tenantBucket.burst)
		p.tenants[id] = l
	}
	return l
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
