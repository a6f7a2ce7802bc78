package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"golang.org/x/time/rate"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Pacing, from Slack's rate limits page (docs.slack.dev/apis/web-api/rate-limits):
// chat.postMessage allows about one message per second per channel, and a
// workspace-wide budget of "several hundred messages per minute".
const (
	DefaultSendRate = 4.0 // messages per second across the workspace (240 a minute)
	sendBurst       = 8
	perChannelRate  = 1.0 // messages per second into one channel
	maxNoHeaderWait = time.Minute
)

// metadataEvent tags trustbot's scheduled messages: its payload carries the
// delivery ID, so that after a crash the bot can tell whether a message it
// was sending reached Slack.
const metadataEvent = "trustbot_delivery"

// unreachable lists Slack errors meaning the user cannot receive the
// message: retrying would never help.
var unreachable = []string{
	"user_not_found", "account_inactive", "cannot_dm_bot", "user_disabled", "channel_not_found",
	"not_in_channel", "is_archived", "user_is_restricted", "team_access_not_granted", "restricted_action",
}

// pacer spaces out messages: a budget for the workspace, one message a
// second per channel, and a pause for everyone after a 429. With shared
// slots (several processes on one database) the workspace's budget and
// the pause are kept there, for every process at once; the per-channel
// spacing stays in memory, since one process sends a delivery. Its clock
// and its sleep can be replaced in tests.
type pacer struct {
	all      *rate.Limiter
	shared   trustbot.SendSlots
	interval time.Duration
	log      *slog.Logger
	mu       sync.Mutex
	chans    map[string]*rate.Limiter
	pause    time.Time
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error
}

func newPacer(perSecond float64, shared trustbot.SendSlots, log *slog.Logger) *pacer {
	if perSecond <= 0 {
		perSecond = DefaultSendRate
	}
	return &pacer{all: rate.NewLimiter(rate.Limit(perSecond), sendBurst), shared: shared, interval: time.Duration(float64(time.Second) / perSecond),
		log: log, chans: map[string]*rate.Limiter{}, now: time.Now, sleep: sleep}
}

// slotKey names a workspace's chat.postMessage budget among the shared
// slots.
func slotKey(team string) string { return "slack:" + team + ":chat.postMessage" }

func (p *pacer) wait(ctx context.Context, team, channel string) error {
	p.mu.Lock()
	lim, ok := p.chans[channel]
	if !ok {
		if len(p.chans) > 10_000 {
			clear(p.chans)
		}
		lim = rate.NewLimiter(perChannelRate, 1)
		p.chans[channel] = lim
	}
	p.mu.Unlock()
	for {
		if err := p.waitPause(ctx); err != nil {
			return err
		}
		if err := p.take(ctx, lim); err != nil {
			return err
		}
		if err := p.workspace(ctx, team); err != nil {
			return err
		}
		// A 429 may have come while this sender waited for its turn:
		// look again before going.
		if p.paused() <= 0 {
			return nil
		}
	}
}

// workspace waits for the workspace's next slot: the shared one when
// there are shared slots, else the one kept in memory. A database that
// does not answer for a moment falls back on the memory's: this process
// alone then keeps the rate.
func (p *pacer) workspace(ctx context.Context, team string) error {
	if p.shared == nil {
		return p.take(ctx, p.all)
	}
	key := slotKey(team)
	for {
		w, err := p.shared.TakeSendSlot(ctx, key, p.interval)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			p.log.Warn("shared send rate unavailable: pacing in this process alone", "team", team, "err", err)
			return p.take(ctx, p.all)
		}
		if err := p.sleep(ctx, w); err != nil {
			return err
		}
		// Another process may have met a 429 while this one waited for
		// its slot: that pause holds here too.
		left, err := p.shared.SendsBlocked(ctx, key)
		if err != nil || left <= 0 {
			return ctx.Err()
		}
		if err := p.sleep(ctx, left); err != nil {
			return err
		}
	}
}

// take waits for one token of lim.
func (p *pacer) take(ctx context.Context, lim *rate.Limiter) error {
	r := lim.ReserveN(p.now(), 1)
	if !r.OK() {
		return errors.New("rate limiter cannot grant a message")
	}
	if err := p.sleep(ctx, r.DelayFrom(p.now())); err != nil {
		r.CancelAt(p.now())
		return err
	}
	return nil
}

func (p *pacer) paused() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pause.Sub(p.now())
}

func (p *pacer) waitPause(ctx context.Context) error {
	if d := p.paused(); d > 0 {
		return p.sleep(ctx, d)
	}
	return nil
}

// hold stops every sender until d has passed: in every process sharing
// the slots, for the workspace.
func (p *pacer) hold(ctx context.Context, team string, d time.Duration) {
	if p.shared != nil {
		if err := p.shared.BlockSends(ctx, slotKey(team), d); err != nil {
			p.log.Warn("a 429's pause not shared with the other processes", "team", team, "err", err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if until := p.now().Add(d); until.After(p.pause) {
		p.pause = until
	}
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

// PostDM sends a reply to the user's direct messages with the app (the
// user ID as channel: no conversations.open per user), tagged with the
// delivery ID. A 429 is waited out and retried, since Slack did not take the
// message; anything that leaves the outcome unknown is returned as
// EUNCERTAIN and never retried here.
func (c *Client) PostDM(ctx context.Context, to trustbot.UserKey, r trustbot.Reply, deliveryID string) (trustbot.Posted, error) {
	meta := slack.SlackMetadata{EventType: metadataEvent, EventPayload: map[string]any{"delivery_id": deliveryID}}
	noHeader := time.Second
	for {
		if err := c.pacer.wait(ctx, to.Team, to.User); err != nil {
			return trustbot.Posted{}, &trustbot.Error{Code: trustbot.ECANCELED, Message: "not sent: " + err.Error()}
		}
		// The wait for a turn may have been long: the sender says whether
		// the message is still its to send.
		if err := trustbot.CheckSend(ctx); err != nil {
			return trustbot.Posted{}, err
		}
		ch, ts, err := c.post(ctx, to.Team, to.User, r, meta)
		if err == nil {
			return trustbot.Posted{Channel: ch, TS: ts}, nil
		}
		if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok {
			c.cfg.Metrics.RateLimited(trustbot.Slack, "chat.postMessage")
			c.log.Warn("rate limited", "method", "chat.postMessage", "retry_after", rl.RetryAfter)
			c.pacer.hold(ctx, to.Team, rl.RetryAfter)
			continue
		}
		if sc, ok := errors.AsType[slack.StatusCodeError](err); ok && sc.Code == 429 {
			// No Retry-After: back off, doubling up to a minute.
			c.cfg.Metrics.RateLimited(trustbot.Slack, "chat.postMessage")
			c.log.Warn("rate limited without Retry-After", "method", "chat.postMessage", "wait", noHeader)
			c.pacer.hold(ctx, to.Team, noHeader)
			noHeader = min(2*noHeader, maxNoHeaderWait)
			continue
		}
		err = classify(err)
		c.cfg.Metrics.APIError(trustbot.Slack, "chat.postMessage", errorLabel(err))
		return trustbot.Posted{}, err
	}
}

// post makes one chat.postMessage call. The timeout bounds the call alone,
// never the wait for a turn before it: only a request that went out can
// leave its outcome unknown. Once started, the call runs to its end even if
// ctx is canceled (shutdown): an aborted call would leave its outcome
// unknown too.
func (c *Client) post(ctx context.Context, team, channel string, r trustbot.Reply, meta slack.SlackMetadata) (string, string, error) {
	api, err := c.web(ctx, team)
	if err != nil {
		return "", "", err
	}
	call, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.SendTimeout)
	defer cancel()
	return api.PostMessageContext(call, channel,
		slack.MsgOptionText(fallback(r), false),
		slack.MsgOptionBlocks(Render(r)...),
		slack.MsgOptionMetadata(meta))
}

// Methods are the Slack Web API methods trustbot calls: the only method
// names its metrics carry.
var Methods = []string{
	"auth.test", "chat.postMessage", "chat.postEphemeral", "chat.update", "conversations.open",
	"conversations.history", "conversations.info", "users.info", "views.open", "views.publish", "files.upload",
}

// knownErrors are the Slack error strings named in metrics; any other is
// counted as "other", so that an answer from outside never creates a series.
var knownErrors = append([]string{
	"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited",
	"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "missing_scope",
	"invalid_blocks", "invalid_arguments", "msg_too_long", "no_text", "too_many_attachments", "invalid_metadata_format",
	"HTTP 400", "HTTP 403", "HTTP 404", "HTTP 413",
}, unreachable...)

// errorLabel is a failed call's label for metrics: its domain code and
// Slack's error when it is a known one.
func errorLabel(err error) string {
	code := trustbot.ErrorCode(err)
	if e, ok := errors.AsType[*trustbot.Error](err); ok && slices.Contains(knownErrors, e.Message) {
		return code + ":" + e.Message
	}
	return code + ":other"
}

// ErrorLabels are every label errorLabel may return.
func ErrorLabels() []string {
	var out []string
	for _, code := range []string{trustbot.EUNREACHABLE, trustbot.EUNCERTAIN, trustbot.EINVALID, trustbot.EINTERNAL} {
		out = append(out, code+":other")
		for _, e := range knownErrors {
			out = append(out, code+":"+e)
		}
	}
	return out
}

// classify turns a failed chat.postMessage into a domain error.
func classify(err error) error {
	if te, ok := errors.AsType[*trustbot.Error](err); ok {
		return te // classified already (no token for the workspace: nothing sent)
	}
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		if slices.Contains(unreachable, se.Err) {
			return &trustbot.Error{Code: trustbot.EUNREACHABLE, Message: se.Err}
		}
		if se.Err == "internal_error" || se.Err == "fatal_error" || se.Err == "service_unavailable" || se.Err == "request_timeout" {
			return &trustbot.Error{Code: trustbot.EUNCERTAIN, Message: se.Err}
		}
		return &trustbot.Error{Code: trustbot.EINVALID, Message: se.Err}
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok && sc.Code < 500 {
		return &trustbot.Error{Code: trustbot.EINVALID, Message: "HTTP " + strconv.Itoa(sc.Code)}
	}
	if oe, ok := errors.AsType[*net.OpError](err); ok && oe.Op == "dial" {
		// No connection was made (refused, no route, no such host):
		// nothing reached Slack, so it can be sent later as if never tried.
		return &trustbot.Error{Code: trustbot.ECANCELED, Message: "not sent: " + err.Error()}
	}
	// 5xx, timeouts, broken connections, cancelled contexts: Slack may
	// have taken the message.
	return &trustbot.Error{Code: trustbot.EUNCERTAIN, Message: err.Error()}
}

// FindDM looks for a message tagged with deliveryID posted since t: in the
// user's direct messages with the app, or in the channel when the target is
// a channel (a channel ID is never a user: conversations.open would answer
// user_not_found).
func (c *Client) FindDM(ctx context.Context, to trustbot.UserKey, deliveryID string, since time.Time) (trustbot.Posted, bool, error) {
	api, err := c.web(ctx, to.Team)
	if err != nil {
		return trustbot.Posted{}, false, err
	}
	ch := to.User
	if isUserID(to.User) {
		im, _, _, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{to.User}, ReturnIM: true})
		if err != nil {
			return trustbot.Posted{}, false, fmt.Errorf("conversations.open: %w", classify(err))
		}
		ch = im.ID
	}
	params := &slack.GetConversationHistoryParameters{
		ChannelID: ch, Oldest: strconv.FormatInt(since.Unix(), 10), Limit: 200, IncludeAllMetadata: true,
	}
	for range 20 {
		res, err := api.GetConversationHistoryContext(ctx, params)
		if err != nil {
			return trustbot.Posted{}, false, fmt.Errorf("conversations.history: %w", classify(err))
		}
		for _, m := range res.Messages {
			if m.Metadata.EventType != metadataEvent {
				continue
			}
			if id, _ := m.Metadata.EventPayload["delivery_id"].(string); id == deliveryID {
				return trustbot.Posted{Channel: ch, TS: m.Timestamp}, true, nil
			}
		}
		if !res.HasMore || res.ResponseMetaData.NextCursor == "" {
			return trustbot.Posted{}, false, nil
		}
		params.Cursor = res.ResponseMetaData.NextCursor
	}
	return trustbot.Posted{}, false, nil
}

// isUserID reports whether a Slack ID names a user (U…, or W… on Enterprise
// Grid) rather than a conversation (C…, G…, D…).
func isUserID(id string) bool {
	return strings.HasPrefix(id, "U") || strings.HasPrefix(id, "W")
}
