package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// slackClock reads Slack's clock from the Date header of every Web API
// answer: it wraps the HTTP client's transport.
type slackClock struct {
	base   http.RoundTripper
	prefix string // only answers from the Web API count

	mu     sync.Mutex
	offset time.Duration // Slack's clock minus this host's
	at     time.Time     // when it was read; zero: never
}

func (c *slackClock) RoundTrip(r *http.Request) (*http.Response, error) {
	sent := time.Now()
	resp, err := c.base.RoundTrip(r)
	if err != nil || !strings.HasPrefix(r.URL.String(), c.prefix) {
		return resp, err
	}
	date, perr := http.ParseTime(resp.Header.Get("Date"))
	if perr != nil {
		return resp, err
	}
	got := time.Now()
	// The header holds whole seconds: Slack's time was within a second
	// after it, while this host's was between sending and receiving.
	mid := sent.Add(got.Sub(sent) / 2)
	c.mu.Lock()
	c.offset, c.at = date.Add(500*time.Millisecond).Sub(mid.Round(0)), got
	c.mu.Unlock()
	return resp, err
}

func (c *slackClock) read(maxAge time.Duration) (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || time.Since(c.at) > maxAge {
		return 0, false
	}
	return c.offset, true
}

// ClockOffset returns how far Slack's clock runs ahead of this host's
// (negative: this host's clock is fast), to about a second, as read from
// the Date header of a Web API answer at most maxAge old; with none as
// recent, it asks Slack (auth.test). It fails when Slack cannot be asked or
// gives no date.
func (c *Client) ClockOffset(ctx context.Context, maxAge time.Duration) (time.Duration, error) {
	if off, ok := c.clock.read(maxAge); ok {
		return off, nil
	}
	// Without a token of its own (installed through OAuth), auth.test is
	// refused, with Slack's date all the same.
	_, err := c.api.AuthTestContext(ctx)
	if off, ok := c.clock.read(time.Minute); ok {
		return off, nil
	}
	if err != nil {
		return 0, fmt.Errorf("slack clock: auth.test: %w", err)
	}
	return 0, errors.New("slack clock: the answer carries no Date header")
}
