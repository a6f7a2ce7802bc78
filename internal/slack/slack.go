// Package slack connects trustbot to Slack over Socket Mode with slack-go:
// it acknowledges every envelope at once, hands the work to a bounded pool,
// translates payloads into domain requests, renders replies as Block Kit
// and answers through the request's response_url. It also looks users up
// (users.info) for the coach.
package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Handler answers requests: the coach.
type Handler interface {
	Handle(ctx context.Context, req trustbot.Request) trustbot.Reply
}

// Config configures a Client.
type Config struct {
	BotToken string // xoxb-…
	AppToken string // xapp-…, with connections:write
	APIURL   string // Web API base ending in "/"; default Slack's

	Workers   int           // concurrent handlers; default 8
	Queue     int           // envelopes waiting for a worker; default 4096
	JobTime   time.Duration // how long one request may take; default 30s
	BusyText  string        // answered in the ack when the queue is full
	PingLimit time.Duration // reconnect when Slack has not pinged for this long; default slack-go's 30s
	SendRate  float64       // scheduled messages per second across the workspace; default DefaultSendRate
	// SendTimeout bounds one chat.postMessage call once it is sent (not
	// the wait for its turn under the rate limits); default 30s.
	SendTimeout time.Duration

	HTTPClient *http.Client
	Logger     *slog.Logger
	Metrics    trustbot.Metrics
}

// DefaultAPIURL is Slack's Web API base.
const DefaultAPIURL = "https://slack.com/api/"

// Client is a Socket Mode connection to one Slack app.
type Client struct {
	cfg     Config
	api     *slack.Client
	sm      *socketmode.Client
	log     *slog.Logger
	handler Handler

	connected atomic.Bool
	connects  atomic.Int64
	pacer     *pacer
	jobs      chan socketmode.Event
	seen      *dedupe
	wg        sync.WaitGroup
}

var (
	_ trustbot.Directory = (*Client)(nil)
	_ trustbot.Messenger = (*Client)(nil)
)

// New returns a client; it does not connect until Open and Run.
func New(cfg Config) *Client {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Queue <= 0 {
		// A queued envelope is a few hundred bytes: a deep queue costs
		// little and turns a burst into a delay instead of "busy" answers.
		cfg.Queue = 4096
	}
	if cfg.JobTime <= 0 {
		cfg.JobTime = 30 * time.Second
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = 30 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = trustbot.NopMetrics{}
	}
	api := slack.New(cfg.BotToken,
		slack.OptionAppLevelToken(cfg.AppToken),
		slack.OptionAPIURL(cfg.APIURL),
		slack.OptionHTTPClient(cfg.HTTPClient),
	)
	var opts []socketmode.Option
	if cfg.PingLimit > 0 {
		opts = append(opts, socketmode.OptionPingInterval(cfg.PingLimit))
	}
	return &Client{
		cfg:   cfg,
		api:   api,
		sm:    socketmode.New(api, opts...),
		log:   cfg.Logger.With("component", "slack"),
		jobs:  make(chan socketmode.Event, cfg.Queue),
		pacer: newPacer(cfg.SendRate),
		seen:  newDedupe(15 * time.Minute),
	}
}

// SetHandler sets who answers requests; call it before Run.
func (c *Client) SetHandler(h Handler) { c.handler = h }

// Connected reports whether the socket is open and Slack said hello.
func (c *Client) Connected() bool { return c.connected.Load() }

// Open checks the bot token with auth.test, so that a wrong token fails at
// start with Slack's own error instead of in a retry loop.
func (c *Client) Open(ctx context.Context) error {
	res, err := c.api.AuthTestContext(ctx)
	if err != nil {
		return fmt.Errorf("slack auth.test: %w", err)
	}
	c.log.Info("authenticated", "team", res.TeamID, "bot_user", res.UserID)
	return nil
}

// Run connects and serves until ctx is done or Slack refuses the app token.
// Reconnection after drops, disconnect requests and rate limits is
// slack-go's; Run returns only a fatal error, or nil on ctx's end after the
// in-flight requests are answered.
func (c *Client) Run(ctx context.Context) error {
	if c.handler == nil {
		return errors.New("slack: no handler")
	}
	for range c.cfg.Workers {
		c.wg.Go(func() { c.worker(ctx) })
	}
	runErr := make(chan error, 1)
	go func() { runErr <- c.sm.RunContext(ctx) }()
	defer c.wg.Wait()
	for {
		select {
		case <-ctx.Done():
			c.connected.Store(false)
			return nil
		case err := <-runErr:
			c.connected.Store(false)
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("slack socket mode: %w", err)
		case evt := <-c.sm.Events:
			c.dispatch(evt)
		}
	}
}

// dispatch handles one event from slack-go. It must never block: a stalled
// reader of Events wedges the client (no pongs, no acks).
func (c *Client) dispatch(evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		c.connected.Store(false)
		c.log.Info("connecting")
	case socketmode.EventTypeConnected:
		c.log.Info("connected")
		if c.connects.Add(1) > 1 {
			c.cfg.Metrics.Reconnected()
		}
	case socketmode.EventTypeHello:
		c.connected.Store(true)
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError:
		c.connected.Store(false)
		c.log.Warn("socket error, reconnecting", "event", string(evt.Type), "err", eventErr(evt))
	case socketmode.EventTypeInvalidAuth:
		c.connected.Store(false)
		c.log.Error("Slack refused the app token")
	case socketmode.EventTypeErrorWriteFailed:
		c.log.Warn("socket write failed", "err", eventErr(evt))
	case socketmode.EventTypeErrorBadMessage:
		bad, _ := evt.Data.(*socketmode.ErrorBadMessage)
		id := ""
		if bad != nil {
			id = envelopeID(bad.Message)
		}
		c.log.Warn("malformed envelope", "envelope", id)
		if id != "" {
			c.ack(id, nil)
		}
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
		c.accept(evt)
	}
}

func eventErr(evt socketmode.Event) any {
	if err, ok := evt.Data.(error); ok {
		return err
	}
	return evt.Data
}

// accept acknowledges an envelope and queues its work. A duplicate (Slack
// redelivers after a dropped socket) is acknowledged and not handled again.
// When the queue is full the ack itself carries a "busy" answer.
func (c *Client) accept(evt socketmode.Event) {
	req := evt.Request
	if req == nil || req.EnvelopeID == "" {
		c.log.Warn("envelope without ID", "type", string(evt.Type))
		return
	}
	start := time.Now()
	defer func() { c.cfg.Metrics.Acked(time.Since(start)) }()
	if !c.seen.first(req.EnvelopeID) {
		c.log.Info("duplicate envelope", "envelope", req.EnvelopeID)
		c.ack(req.EnvelopeID, nil)
		return
	}
	select {
	case c.jobs <- evt:
		c.ack(req.EnvelopeID, nil)
	default:
		c.log.Warn("queue full, answering busy", "envelope", req.EnvelopeID, "type", string(evt.Type))
		var payload any
		if evt.Type == socketmode.EventTypeSlashCommand && c.cfg.BusyText != "" {
			payload = map[string]string{"response_type": "ephemeral", "text": c.cfg.BusyText}
		}
		c.ack(req.EnvelopeID, payload)
	}
}

func (c *Client) ack(envelopeID string, payload any) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := c.sm.AckCtx(ctx, envelopeID, payload); err != nil {
		c.log.Warn("ack failed", "envelope", envelopeID, "err", err)
	}
}

// drainTime bounds how long workers keep answering envelopes already
// acknowledged once shutdown starts.
const drainTime = 10 * time.Second

func (c *Client) worker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			// Stopping: answer what was already acknowledged, within bounds.
			deadline := time.After(drainTime)
			for {
				select {
				case evt := <-c.jobs:
					c.work(ctx, evt)
				case <-deadline:
					return
				default:
					return
				}
			}
		case evt := <-c.jobs:
			c.work(ctx, evt)
		}
	}
}

// work answers one envelope; a panic in it is logged, never fatal.
func (c *Client) work(parent context.Context, evt socketmode.Event) {
	envelope := evt.Request.EnvelopeID
	defer func() {
		if p := recover(); p != nil {
			c.cfg.Metrics.Fault(trustbot.FaultPanic)
			c.log.Error("panic while handling envelope", "envelope", envelope, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	// In-flight work finishes its answer even when shutdown starts.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), c.cfg.JobTime)
	defer cancel()
	var (
		req trustbot.Request
		to  target
		err error
	)
	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		req, to, err = translateSlash(evt.Request.Payload)
	case socketmode.EventTypeInteractive:
		req, to, err = translateInteraction(evt.Request.Payload)
	case socketmode.EventTypeEventsAPI:
		var eventID string
		req, eventID, err = translateEvent(evt.Request.Payload)
		if err == nil && !c.seen.first("event:"+eventID) {
			c.log.Info("duplicate event", "event", eventID)
			return
		}
		to = target{User: req.User, Home: true}
	}
	if errors.Is(err, errIgnore) {
		return
	}
	if err != nil {
		c.log.Warn("unusable payload", "envelope", envelope, "type", string(evt.Type), "err", err)
		return
	}
	start := time.Now()
	reply := c.handler.Handle(ctx, req)
	if err := c.respond(ctx, to, reply, req); err != nil {
		c.log.Error("reply not delivered", "envelope", envelope, "team", req.Team, "user", req.User, "err", err)
		return
	}
	c.log.Debug("answered", "envelope", envelope, "team", req.Team, "user", req.User, "action", req.ActionID, "took", time.Since(start))
}

// respond delivers a reply: a modal opens with the request's trigger; an
// update replaces an earlier message; a request from the Home tab
// republishes it; anything else goes through the response_url when there
// is one, else (or when it fails) as an ephemeral message in the channel.
// A reply that changed the user's overview also republishes the Home tab.
func (c *Client) respond(ctx context.Context, to target, r trustbot.Reply, req trustbot.Request) error {
	err := c.deliverReply(ctx, to, r, req)
	if (r.RefreshHome && !to.Home) || to.Form {
		c.publishHome(ctx, req.UserKey)
	}
	return err
}

func (c *Client) deliverReply(ctx context.Context, to target, r trustbot.Reply, req trustbot.Request) error {
	if r.File != nil {
		// The file goes to the DM; the summary also answers where they asked.
		if err := c.sendFile(ctx, req.User, r); err != nil {
			return err
		}
	}
	switch {
	case r.Modal != nil:
		if to.TriggerID == "" {
			return errors.New("a form without a trigger to open it")
		}
		_, err := c.api.OpenViewContext(ctx, to.TriggerID, renderModal(r.Modal))
		return err
	case r.Update != nil:
		_, _, _, err := c.api.UpdateMessageContext(ctx, r.Update.Channel, r.Update.TS,
			slack.MsgOptionText(fallback(r), false), slack.MsgOptionBlocks(Render(r)...))
		return err
	case to.Home:
		if req.Kind == trustbot.Home {
			return c.publish(ctx, req.UserKey, r)
		}
		return c.publishHome(ctx, req.UserKey)
	case to.Form:
		// The modal closed with the ack: anything more goes to the user's DM.
		if len(r.Blocks) == 0 {
			return nil
		}
		_, _, err := c.api.PostMessageContext(ctx, req.User, slack.MsgOptionText(fallback(r), false), slack.MsgOptionBlocks(Render(r)...))
		return err
	}
	var urlErr error
	if to.ResponseURL != "" {
		if !trustedResponseURL(to.ResponseURL, c.cfg.APIURL) {
			urlErr = errors.New("response_url not on Slack")
		} else if urlErr = slack.PostWebhookCustomHTTPContext(ctx, to.ResponseURL, c.cfg.HTTPClient, webhookMessage(r)); urlErr == nil {
			return nil
		}
	}
	if to.Channel == "" || to.User == "" {
		return fmt.Errorf("no way to answer: %w", urlErr)
	}
	_, err := c.api.PostEphemeralContext(ctx, to.Channel, to.User,
		slack.MsgOptionText(fallback(r), false), slack.MsgOptionBlocks(Render(r)...))
	if err != nil {
		return errors.Join(urlErr, err)
	}
	return nil
}

// sendFile shares a file in the user's DM with the app, the reply's text
// as its comment.
func (c *Client) sendFile(ctx context.Context, user string, r trustbot.Reply) error {
	ch, _, _, err := c.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}, ReturnIM: true})
	if err != nil {
		return fmt.Errorf("conversations.open: %w", err)
	}
	_, err = c.api.UploadFileContext(ctx, slack.UploadFileParameters{
		Reader: bytes.NewReader(r.File.Data), FileSize: len(r.File.Data), Filename: r.File.Name, Title: r.File.Title,
		Channel: ch.ID, InitialComment: fallback(r),
	})
	if err != nil {
		return fmt.Errorf("file upload: %w", err)
	}
	return nil
}

// publishHome builds the user's overview and publishes it as their App
// Home tab.
func (c *Client) publishHome(ctx context.Context, k trustbot.UserKey) error {
	return c.publish(ctx, k, c.handler.Handle(ctx, trustbot.Request{Kind: trustbot.Home, UserKey: k}))
}

func (c *Client) publish(ctx context.Context, k trustbot.UserKey, r trustbot.Reply) error {
	_, err := c.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: k.User, View: renderHome(r)})
	if err != nil {
		return fmt.Errorf("views.publish: %w", err)
	}
	return nil
}

// IsMember reports whether the bot is a member of a channel
// (conversations.info). A channel Slack does not show the bot counts as not
// joined.
func (c *Client) IsMember(ctx context.Context, _ string, channel string) (bool, error) {
	ch, err := c.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: channel})
	if err != nil {
		if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok && (se.Err == "channel_not_found" || se.Err == "not_in_channel") {
			return false, nil
		}
		return false, fmt.Errorf("conversations.info: %w", err)
	}
	return ch.IsMember, nil
}

// Profile looks a user up with users.info, locale included.
func (c *Client) Profile(ctx context.Context, k trustbot.UserKey) (trustbot.Profile, error) {
	u, err := c.api.GetUserInfoContext(ctx, k.User)
	if err != nil {
		return trustbot.Profile{}, fmt.Errorf("slack users.info: %w", err)
	}
	return trustbot.Profile{UserKey: k, TZ: u.TZ, Locale: u.Locale}, nil
}

// dedupe remembers IDs for a while, to handle each envelope once.
type dedupe struct {
	mu    sync.Mutex
	ttl   time.Duration
	seen  map[string]time.Time
	prune time.Time
}

func newDedupe(ttl time.Duration) *dedupe {
	return &dedupe{ttl: ttl, seen: map[string]time.Time{}}
}

// first reports whether id is new, and remembers it.
func (d *dedupe) first(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	if now.After(d.prune) {
		for k, t := range d.seen {
			if now.Sub(t) > d.ttl {
				delete(d.seen, k)
			}
		}
		d.prune = now.Add(d.ttl / 4)
	}
	if _, ok := d.seen[id]; ok {
		return false
	}
	d.seen[id] = now
	return true
}
