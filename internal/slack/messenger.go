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

// FindDMs looks for the messages tagged with the delivery IDs posted
// since t: in the user's direct messages with the app, or in the channel
// when the target is a channel (a channel ID is never a user:
// conversations.open would answer user_not_found). One read of the
// conversation, page after page, covers them all. Each page takes a turn
// of the workspace's history budget (HistoryInterval) without waiting
// for it: with none left, or on a 429, it stops there and says the search
// is not complete; the next call for the same deliveries goes on from
// the page it stopped at.
func (c *Client) FindDMs(ctx context.Context, to trustbot.UserKey, deliveryIDs []string, since time.Time) (map[string]trustbot.Posted, bool, error) {
	api, err := c.web(ctx, to.Team)
	if err != nil {
		return nil, false, err
	}
	ch := to.User
	if isUserID(to.User) {
		im, _, _, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{to.User}, ReturnIM: true})
		if err != nil {
			return nil, false, fmt.Errorf("conversations.open: %w", classify(err))
		}
		ch = im.ID
	}
	want := map[string]bool{}
	for _, id := range deliveryIDs {
		want[id] = true
	}
	found := map[string]trustbot.Posted{}
	params := &slack.GetConversationHistoryParameters{
		ChannelID: ch, Oldest: strconv.FormatInt(since.Unix(), 10), Limit: 200, IncludeAllMetadata: true,
	}
	readKey := to.Team + "/" + ch
	if p, ok := c.history.resume(readKey, want); ok && p.oldest <= since.Unix() {
		params.Cursor, params.Oldest = p.cursor, strconv.FormatInt(p.oldest, 10)
	}
	oldest, _ := strconv.ParseInt(params.Oldest, 10, 64)
	for range 20 {
		if !c.history.take(ctx, to.Team) {
			c.history.pause(readKey, want, params.Cursor, oldest)
			return found, false, nil
		}
		res, err := api.GetConversationHistoryContext(ctx, params)
		if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok {
			c.cfg.Metrics.RateLimited(trustbot.Slack, "conversations.history")
			c.history.block(ctx, to.Team, rl.RetryAfter)
			c.history.pause(readKey, want, params.Cursor, oldest)
			return found, false, nil
		}
		if err != nil {
			return found, false, fmt.Errorf("conversations.history: %w", classify(err))
		}
		for _, m := range res.Messages {
			if m.Metadata.EventType != metadataEvent {
				continue
			}
			if id, _ := m.Metadata.EventPayload["delivery_id"].(string); want[id] {
				found[id] = trustbot.Posted{Channel: ch, TS: m.Timestamp}
			}
		}
		if len(found) == len(want) || !res.HasMore || res.ResponseMetaData.NextCursor == "" {
			return found, true, nil
		}
		params.Cursor = res.ResponseMetaData.NextCursor
	}
	return found, true, nil
}

// historyBudget keeps conversations.history within what Slack allows
// each workspace (1 request a minute for apps distributed outside the
// Marketplace): a turn per interval, shared with every process on the
// database when slots are, and where a read was cut short.
type historyBudget struct {
	interval time.Duration // 0: no budget of trustbot's own
	slots    trustbot.SendSlots
	log      *slog.Logger

	mu     sync.Mutex
	next   map[string]time.Time // per workspace, in this process
	paused map[string]historyPause
}

// historyPause is where a read of a conversation stopped: the page to go
// on from, for the deliveries it was looking for.
type historyPause struct {
	ids    map[string]bool
	cursor string
	oldest int64
	at     time.Time
}

func newHistoryBudget(interval time.Duration, slots trustbot.SendSlots, log *slog.Logger) *historyBudget {
	return &historyBudget{interval: interval, slots: slots, log: log, next: map[string]time.Time{}, paused: map[string]historyPause{}}
}

func historyKey(team string) string { return "slack:" + team + ":conversations.history" }

// take takes the workspace's next turn if it is free now.
func (b *historyBudget) take(ctx context.Context, team string) bool {
	if b.slots != nil && b.interval > 0 {
		ok, err := b.slots.TrySendSlot(ctx, historyKey(team), b.interval)
		if err != nil {
			b.log.Warn("history budget not read; no read for now", "team", team, "err", err)
		}
		return ok
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if now.Before(b.next[team]) {
		return false
	}
	b.next[team] = now.Add(b.interval)
	return true
}

// block pauses the workspace's reads for d (a 429's Retry-After).
func (b *historyBudget) block(ctx context.Context, team string, d time.Duration) {
	d = max(d, b.interval, time.Second)
	if b.slots != nil {
		if err := b.slots.BlockSends(ctx, historyKey(team), d); err != nil {
			b.log.Warn("history pause not shared", "team", team, "err", err)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if until := time.Now().Add(d); until.After(b.next[team]) {
		b.next[team] = until
	}
}

// pause remembers where a read stopped.
func (b *historyBudget) pause(key string, ids map[string]bool, cursor string, oldest int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if cursor == "" {
		delete(b.paused, key)
		return
	}
	now := time.Now()
	for k, p := range b.paused {
		if now.Sub(p.at) > time.Hour {
			delete(b.paused, k) // a cursor that old may no longer work
		}
	}
	b.paused[key] = historyPause{ids: ids, cursor: cursor, oldest: oldest, at: now}
}

// resume returns where a read of the conversation stopped, when it was
// looking for every one of ids: the pages it read cover them. Anything
// else starts from the newest message again.
func (b *historyBudget) resume(key string, ids map[string]bool) (historyPause, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.paused[key]
	delete(b.paused, key)
	if !ok || time.Since(p.at) > time.Hour {
		return historyPause{}, false
	}
	for id := range ids {
		if !p.ids[id] {
			return historyPause{}, false
		}
	}
	return p, true
}

// isUserID reports whether a Slack ID names a user (U…, or W… on Enterprise
// Grid) rather than a conversation (C…, G…, D…).
func isUserID(id string) bool {
	return strings.HasPrefix(id, "U") || strings.HasPrefix(id, "W")
}
