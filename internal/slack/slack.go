// Package slack connects trustbot to Slack, over Socket Mode (a socket
// read by one goroutine, which writes the acks that go at once) or over
// HTTP (requests Slack signs, checked before they are read): it hands
// every request to a bounded pool, translates payloads into
// domain requests, renders replies as Block Kit and answers in the ack of a
// slash command when the answer is ready within a few milliseconds, else
// acknowledges at once and answers through the request's response_url. It
// also looks users up (users.info) for the coach.
package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Config configures a Client. With an app token it takes Slack's requests
// over Socket Mode; without one, over HTTP (HTTPHandler), checked with the
// signing secret.
type Config struct {
	BotToken string // xoxb-…
	AppToken string // xapp-…, with connections:write; empty: HTTP mode
	APIURL   string // Web API base ending in "/"; default Slack's
	// SigningSecret checks the signature of every request Slack sends
	// over HTTP.
	SigningSecret string
	// Seen remembers which requests were handled; default in memory.
	Seen Seen
	// Tokens returns the bot token of a workspace; default BotToken for
	// every workspace.
	Tokens TokenFunc
	// Uninstalled, when set, hears of app_uninstalled and tokens_revoked
	// (of the bot's token): the workspace (or, with team empty, the
	// organisation) removed the app.
	Uninstalled func(ctx context.Context, enterprise, team string)
	// Workspace, when set, hears that a workspace of an Enterprise Grid
	// organisation uses the organisation's install: before a request
	// that says so is handled, and when Slack adds the app to workspaces
	// (team_access_granted); with granted false, Slack took it from one
	// (team_access_revoked).
	Workspace func(ctx context.Context, enterprise, team string, granted bool)

	Workers   int           // concurrent handlers; default 8
	Queue     int           // envelopes waiting for a worker; default 4096
	JobTime   time.Duration // how long one request may take; default 30s
	BusyText  string        // answered in the ack when the queue is full
	PingLimit time.Duration // reconnect when Slack has not pinged for this long; default DefaultPingLimit
	SendRate  float64       // scheduled messages per second across the workspace; default DefaultSendRate
	// SendSlots, when set, keeps SendRate and the pauses a 429 asks for
	// with every other process that shares them (several replicas on one
	// database); unset, this process paces alone, in memory.
	SendSlots trustbot.SendSlots
	// HistoryInterval is how often conversations.history may be called
	// for a workspace, to look for messages left uncertain by a crash:
	// once a minute for an app distributed outside Slack's Marketplace;
	// 0: as often as needed (Slack's 429s are still heeded). Shared with
	// SendSlots when set.
	HistoryInterval time.Duration
	// SendTimeout bounds one chat.postMessage call once it is sent (not
	// the wait for its turn under the rate limits); default 30s.
	SendTimeout time.Duration
	// AnswerBudget is how long a slash command's ack may wait to carry
	// the answer; default DefaultAnswerBudget, negative: never wait.
	AnswerBudget time.Duration
	// AckTrace, when set, hears how each request's ack went, once it is
	// written (for a benchmark's diagnosis; it must not block).
	AckTrace func(AckTrace)

	HTTPClient *http.Client
	Logger     *slog.Logger
	Metrics    trustbot.Metrics
}

// DefaultAPIURL is Slack's Web API base.
const DefaultAPIURL = "https://slack.com/api/"

// Client is a Socket Mode connection to one Slack app.
type Client struct {
	cfg Config
	api *slack.Client
	// sock is the open Socket Mode connection, where acks go; nil
	// between sockets and in HTTP mode.
	sock    atomic.Pointer[socketConn]
	log     *slog.Logger
	handler trustbot.Handler

	botUser string // the bot's own user ID (auth.test), set by Open

	clock *slackClock // Slack's clock, as its answers tell it

	connected atomic.Bool
	connects  atomic.Int64
	busy      atomic.Int64 // workers handling a job
	jobTime   atomic.Int64 // recent time per answered slash command, ns (see timed); 0: none since idle
	pacer     *pacer
	history   *historyBudget
	messages  *messageCache
	// hooks posts to response_urls: the HTTP client without its
	// timeout, which each post takes from its context instead (net/http
	// watches a client's timeout with two goroutines per request).
	hooks       *http.Client
	hookTimeout time.Duration
	jobs        chan job
	seen        Seen
	wg          sync.WaitGroup
	// afterFunc runs f after d unless stopped first (time.AfterFunc);
	// tests replace it to end an answer budget at a chosen moment.
	afterFunc func(d time.Duration, f func()) (stop func() bool)
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
	if cfg.AnswerBudget == 0 {
		cfg.AnswerBudget = DefaultAnswerBudget
	}
	if cfg.JobTime <= 0 {
		cfg.JobTime = 30 * time.Second
	}
	if cfg.PingLimit <= 0 {
		cfg.PingLimit = DefaultPingLimit
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = 30 * time.Second
	}
	if cfg.HTTPClient == nil {
		// Keep a connection per worker: the default keeps two per host,
		// and a burst of answers to response_url would open (and close)
		// a TLS connection for most of them.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = max(cfg.Workers, 2)
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second, Transport: tr}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = trustbot.NopMetrics{}
	}
	if cfg.Seen == nil {
		cfg.Seen = newMemorySeen(15 * time.Minute)
	}
	// A copy of the HTTP client whose transport reads Slack's clock.
	hc := *cfg.HTTPClient
	clock := &slackClock{base: hc.Transport, prefix: cfg.APIURL}
	if clock.base == nil {
		clock.base = http.DefaultTransport
	}
	hc.Transport = clock
	cfg.HTTPClient = &hc
	api := slack.New(cfg.BotToken,
		slack.OptionAppLevelToken(cfg.AppToken),
		slack.OptionAPIURL(cfg.APIURL),
		slack.OptionHTTPClient(cfg.HTTPClient),
	)
	hooks := *cfg.HTTPClient
	hooks.Timeout = 0
	return &Client{
		hooks:       &hooks,
		hookTimeout: cfg.HTTPClient.Timeout,
		cfg:         cfg,
		api:         api,
		log:         cfg.Logger.With("component", "slack"),
		jobs:        make(chan job, cfg.Queue),
		pacer:       newPacer(cfg.SendRate, cfg.SendSlots, cfg.Logger.With("component", "slack")),
		history:     newHistoryBudget(cfg.HistoryInterval, cfg.SendSlots, cfg.Logger.With("component", "slack")),
		seen:        cfg.Seen,
		messages:    newMessageCache(),
		clock:       clock,
		afterFunc:   func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop },
	}
}

// SetHandler sets who answers requests; call it before Run.
func (c *Client) SetHandler(h trustbot.Handler) { c.handler = h }

// KeepMessages renders the shared replies of rs (Reply.Shared) and keeps
// them ready to send, as a shared reply is kept the first time it is
// sent, and returns how many renderings are kept: given the tips at
// start (coach.Coach.TipMessages), the first tips of a burst cost no more
// than the later ones. It stops when ctx is done (the bot stopping). Safe
// to call while the client runs.
func (c *Client) KeepMessages(ctx context.Context, rs []trustbot.Reply) int {
	return c.messages.keep(ctx, rs)
}

// Connected reports whether requests can be taken: in Socket Mode, the
// socket is open and Slack said hello; over HTTP, the workers run (Run
// has started and not ended).
func (c *Client) Connected() bool { return c.connected.Load() }

// Open checks the bot token with auth.test, so that a wrong token fails at
// start with Slack's own error instead of in a retry loop.
func (c *Client) Open(ctx context.Context) error {
	if c.cfg.BotToken == "" && c.cfg.Tokens != nil {
		// Installed through OAuth: each workspace has its own token,
		// checked when it is used.
		c.log.Info("tokens come from the installations")
		return nil
	}
	res, err := c.api.AuthTestContext(ctx)
	if err != nil {
		return fmt.Errorf("slack auth.test: %w", err)
	}
	c.botUser = res.UserID
	c.log.Info("authenticated", "team", res.TeamID, "bot_user", res.UserID)
	return nil
}

// Run connects and serves until ctx is done or Slack refuses the app token;
// in HTTP mode it runs the workers for HTTPHandler until ctx is done.
// It opens a new socket after a drop, a disconnect request or a missed
// ping; Run returns only a fatal error, or nil on ctx's end after the
// in-flight requests are answered.
func (c *Client) Run(ctx context.Context) error {
	if c.handler == nil {
		return errors.New("slack: no handler")
	}
	// The workers stop with Run, also when it ends on a fatal error
	// with ctx still live.
	defer c.wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range c.cfg.Workers {
		c.wg.Go(func() { c.worker(ctx) })
	}
	if c.cfg.AppToken == "" {
		// HTTP mode: requests come through HTTPHandler.
		c.connected.Store(true)
		<-ctx.Done()
		c.connected.Store(false)
		return nil
	}
	if err := c.runSocket(ctx); err != nil {
		return fmt.Errorf("slack socket mode: %w", err)
	}
	return nil
}

// accept queues a request's work and acknowledges it: at once, or for a
// slash command whose ack may carry a message, when the answer is ready
// (to carry it) or the answer budget has run out, whichever comes first.
// When the queue is full the ack itself carries a "busy" answer. A menu's
// request for its choices (block_suggestion) has its ack wait for them,
// within SuggestBudget, as only the ack can carry them. Both
// transports come through here: what happens after it does not depend on
// how the request came.
func (c *Client) accept(in inbound, start time.Time) {
	// An ack sent here is measured before it is sent, as a pending one is
	// (ackEmpty, answerInAck): whatever the ack sets going is seen after
	// the metric, never before it.
	acked := func() { c.cfg.Metrics.Acked(trustbot.Slack, time.Since(start)) }
	state := c.queueState() // nil without Config.AckTrace
	if in.suggest {
		// Only the ack carries a menu's choices: it waits for them,
		// within SuggestBudget.
		p := newPendingAck(in, start)
		p.state0 = state
		select {
		case c.jobs <- job{in: in, ack: p}:
			p.setStop(c.afterFunc(SuggestBudget, func() { c.ackEmpty(p, AckBudget) }))
		default:
			c.log.Warn("queue full, no choices for a menu", "request", in.id)
			acked()
			c.ack(in, noOptions)
			c.traceAck(in, AckBusy, start, state)
		}
		return
	}
	// The ack waits for the answer only when the answer can be ready
	// within the budget: a worker is free to take the job, and the jobs
	// waiting will be done by then at the pace they have been done lately.
	// Otherwise the budget would run out anyway and the ack would only be
	// later.
	if in.kind == kindSlash && in.accepts && c.cfg.AnswerBudget > 0 && c.readyWithin(c.cfg.AnswerBudget) {
		p := newPendingAck(in, start)
		p.state0 = state
		select {
		case c.jobs <- job{in: in, ack: p}:
			p.setStop(c.afterFunc(c.cfg.AnswerBudget, func() { c.ackEmpty(p, AckBudget) }))
			return
		default:
		}
	}
	acked() // before the job is queued: its answer may come before the ack
	select {
	case c.jobs <- job{in: in}:
		c.ack(in, nil)
		c.traceAck(in, AckAtOnce, start, state)
	default:
		c.log.Warn("queue full, answering busy", "request", in.id, "type", in.kind)
		var payload any
		if in.kind == kindSlash && c.cfg.BusyText != "" {
			payload = map[string]string{"response_type": "ephemeral", "text": c.cfg.BusyText}
		}
		c.ack(in, payload)
		c.traceAck(in, AckBusy, start, state)
	}
}

// readyWithin reports whether a job queued now would likely be answered
// within d: not every worker is busy, and the queue ahead of it, worked
// off by all the workers at the recent time per job, takes less than d.
// That time is measured while the workers share the cores, so it already
// counts them. With every worker busy the job waits for one of them to
// finish something of unknown length (a post to a response_url, a read of
// the database, an ack that waits for the socket), and the budget mostly
// runs out first: the ack then goes at once instead of 3 ms later.
//
// No time per job is known until a job finishes after the workers were
// last idle (see work): the first commands of a burst are then held while
// a worker is free, rather than judged by the pace of the last burst or of
// the lookups of a quiet spell, until the burst's own jobs give a pace.
func (c *Client) readyWithin(d time.Duration) bool {
	if c.busy.Load() >= int64(c.cfg.Workers) {
		return false
	}
	waiting := len(c.jobs)
	if waiting < c.cfg.Workers {
		return true
	}
	per := time.Duration(c.jobTime.Load())
	return per == 0 || time.Duration(waiting/c.cfg.Workers+1)*per < d
}

// timed adds one job's time to the recent time per job (a moving average
// over about the last eight, from none since the workers were last idle).
func (c *Client) timed(d time.Duration) {
	for {
		old := c.jobTime.Load()
		next := int64(d)
		if old > 0 {
			next = old + (int64(d)-old)/8
		}
		if c.jobTime.CompareAndSwap(old, next) {
			return
		}
	}
}

// sendAckOf sends a request's acknowledgement: through in.ack, or for a
// Socket Mode envelope (which sets none, sparing a closure per frame) on
// the socket, under its envelope ID.
func (c *Client) sendAckOf(in inbound, payload any) error {
	if in.ack != nil {
		return in.ack(payload)
	}
	return c.sendAck(in.id, payload)
}

// ack acknowledges a request, with a message in the ack or without.
func (c *Client) ack(in inbound, payload any) {
	if err := c.sendAckOf(in, payload); err != nil {
		c.log.Warn("ack failed", "request", in.id, "type", in.kind, "err", err)
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
				case j := <-c.jobs:
					c.work(ctx, j)
				case <-deadline:
					return
				default:
					return
				}
			}
		case j := <-c.jobs:
			c.work(ctx, j)
		}
	}
}

// work answers one envelope; a panic in it is logged, never fatal. A
// pending ack is sent before work returns, with the answer or without.
func (c *Client) work(parent context.Context, j job) {
	c.busy.Add(1)
	defer func() {
		// The last worker out of an empty queue forgets the time per job:
		// the pace of a burst that is over (or of a quiet spell's lookups)
		// says little about the next one.
		if c.busy.Load() == 1 && len(c.jobs) == 0 {
			c.jobTime.Store(0)
		}
		c.busy.Add(-1)
	}()
	in := j.in
	defer c.ackEmpty(j.ack, AckByWorker)
	defer func() {
		if p := recover(); p != nil {
			c.cfg.Metrics.Fault(trustbot.FaultPanic)
			c.log.Error("panic while handling request", "request", in.id, "type", in.kind, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	// In-flight work finishes its answer even when shutdown starts.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), c.cfg.JobTime)
	defer cancel()
	if in.dedupe != "" && !c.seen.First(ctx, in.dedupe) {
		c.log.Info("duplicate envelope", "envelope", in.id, "type", in.kind)
		return
	}
	if in.kind == kindEvent && c.cfg.Uninstalled != nil {
		if enterprise, team, eventID, ok := uninstallEvent(in.payload); ok {
			if c.seen.First(ctx, "event:"+eventID) {
				c.cfg.Uninstalled(ctx, enterprise, team)
			}
			return
		}
	}
	if c.cfg.Workspace != nil {
		if in.kind == kindEvent {
			if enterprise, teams, granted, eventID, ok := teamAccessEvent(in.payload); ok {
				if c.seen.First(ctx, "event:"+eventID) {
					for _, team := range teams {
						c.cfg.Workspace(ctx, enterprise, team, granted)
					}
				}
				return
			}
		}
		if enterprise, team, ok := orgInstall(in); ok {
			c.cfg.Workspace(ctx, enterprise, team, true)
		}
	}
	req, to, eventID, err := translate(in, c.botUser)
	if err == nil && eventID != "" && !c.seen.First(ctx, "event:"+eventID) {
		c.log.Info("duplicate event", "event", eventID)
		return
	}
	if errors.Is(err, errIgnore) {
		c.log.Debug("nothing to answer", "request", in.id, "type", in.kind, "reason", err)
		return
	}
	if err != nil {
		c.log.Warn("unusable payload", "request", in.id, "type", in.kind, "err", err)
		return
	}
	start := time.Now()
	reply := c.handler.Handle(ctx, req)
	if in.kind == kindSlash {
		// The time per job: to the answer in the ack, or to the answer
		// ready (not its trip to the response_url, spent waiting).
		handled := time.Since(start)
		defer func() {
			if j.ack != nil && j.ack.state.Load() == ackAnswered {
				handled = time.Since(start)
			}
			c.timed(handled)
		}()
	}
	if to.Suggest {
		if j.ack == nil || !c.answerInAck(j.ack, to, reply) {
			c.log.Warn("choices of a menu too late for the ack", "request", in.id, "team", req.Team, "user", req.User, "took", time.Since(start))
		}
		return
	}
	if j.ack != nil && c.answerInAck(j.ack, to, reply) {
		if reply.RefreshHome {
			c.publishHome(ctx, req.UserKey)
		}
		c.log.Debug("answered in the ack", "request", in.id, "team", req.Team, "user", req.User, "took", time.Since(start))
		return
	}
	if err := c.respond(ctx, to, reply, req); err != nil {
		c.log.Error("reply not delivered", "request", in.id, "team", req.Team, "user", req.User, "err", err)
		return
	}
	c.log.Debug("answered", "request", in.id, "team", req.Team, "user", req.User, "action", req.ActionID, "took", time.Since(start))
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
	api, err := c.web(ctx, req.Team)
	if err != nil {
		return err
	}
	if r.File != nil {
		// The file goes to the DM, the summary as its comment; where they
		// asked, the answer says where it went, or that it could not go.
		f := r.File
		if err := c.sendFile(ctx, api, req.User, r); err != nil {
			c.log.Error("file not sent", "team", req.Team, "user", req.User, "err", err)
			r = trustbot.Reply{Text: f.Failed, Blocks: []trustbot.Block{{Kind: trustbot.Section, Text: f.Failed}}}
		} else if to.DM {
			return nil
		} else {
			r.File = nil
			r.Add(trustbot.Block{Kind: trustbot.Context, Text: f.Sent})
		}
	}
	switch {
	case r.Modal != nil && to.Form:
		// A refused form: its modal has closed with the ack. What to
		// correct goes to the DM, and the form opens again with what was
		// typed, where the submission's trigger still allows it.
		if _, _, err := api.PostMessageContext(ctx, req.User, slack.MsgOptionText(fallback(r), false), slack.MsgOptionBlocks(Render(r)...)); err != nil {
			return err
		}
		if to.TriggerID != "" {
			if _, err := api.OpenViewContext(ctx, to.TriggerID, renderModal(r.Modal)); err != nil {
				c.log.Info("refused form not opened again", "team", req.Team, "user", req.User, "err", err)
			}
		}
		return nil
	case r.Modal != nil:
		if to.TriggerID == "" {
			return errors.New("a form without a trigger to open it")
		}
		_, err = api.OpenViewContext(ctx, to.TriggerID, renderModal(r.Modal))
		return err
	case to.DM:
		opts := []slack.MsgOption{slack.MsgOptionText(fallback(r), false), slack.MsgOptionBlocks(Render(r)...)}
		if to.ThreadTS != "" {
			opts = append(opts, slack.MsgOptionTS(to.ThreadTS))
		}
		_, _, err := api.PostMessageContext(ctx, to.Channel, opts...)
		return err
	case r.Update != nil:
		_, _, _, err := api.UpdateMessageContext(ctx, r.Update.Channel, r.Update.TS,
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
		_, _, err := api.PostMessageContext(ctx, req.User, slack.MsgOptionText(fallback(r), false), slack.MsgOptionBlocks(Render(r)...))
		return err
	}
	var urlErr error
	if to.ResponseURL != "" {
		if !trustedResponseURL(to.ResponseURL, c.cfg.APIURL) {
			urlErr = errors.New("response_url not on Slack")
		} else if urlErr = c.postWebhook(ctx, to.ResponseURL, r); urlErr == nil {
			return nil
		}
	}
	if to.Channel == "" || to.User == "" {
		return fmt.Errorf("no way to answer: %w", urlErr)
	}
	_, err = api.PostEphemeralContext(ctx, to.Channel, to.User,
		slack.MsgOptionText(fallback(r), false), slack.MsgOptionBlocks(Render(r)...))
	if err != nil {
		return errors.Join(urlErr, err)
	}
	return nil
}

// postWebhook posts a reply to a response_url, as slack-go's
// PostWebhookCustomHTTPContext does, with the message rendered as plain
// values (kept for a shared reply).
func (c *Client) postWebhook(ctx context.Context, url string, r trustbot.Reply) error {
	body, err := c.messages.encode(r)
	if err != nil {
		return fmt.Errorf("marshal failed: %w", err)
	}
	if c.hookTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.hookTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("failed new request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hooks.Do(req)
	if err != nil {
		return fmt.Errorf("failed to post webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode == http.StatusTooManyRequests {
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
			return &slack.RateLimitedError{RetryAfter: time.Duration(s) * time.Second}
		}
	}
	if resp.StatusCode != http.StatusOK {
		return slack.StatusCodeError{Code: resp.StatusCode, Status: resp.Status}
	}
	return nil
}

// sendFile shares a file in the user's DM with the app, the reply's text
// as its comment.
func (c *Client) sendFile(ctx context.Context, api *slack.Client, user string, r trustbot.Reply) error {
	ch, _, _, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}, ReturnIM: true})
	if err != nil {
		return fmt.Errorf("conversations.open: %w", err)
	}
	_, err = api.UploadFileContext(ctx, slack.UploadFileParameters{
		Reader: bytes.NewReader(r.File.Data), FileSize: len(r.File.Data), Filename: plain(r.File.Name), Title: plain(r.File.Title),
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
	api, err := c.web(ctx, k.Team)
	if err != nil {
		return err
	}
	_, err = api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: k.User, View: renderHome(r)})
	if err != nil {
		return fmt.Errorf("views.publish: %w", err)
	}
	return nil
}

// IsMember reports whether the bot is a member of a channel
// (conversations.info). A channel Slack does not show the bot counts as not
// joined.
func (c *Client) IsMember(ctx context.Context, team string, channel string) (bool, error) {
	api, err := c.web(ctx, team)
	if err != nil {
		return false, err
	}
	ch, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: channel})
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
	api, err := c.web(ctx, k.Team)
	if err != nil {
		return trustbot.Profile{}, err
	}
	u, err := api.GetUserInfoContext(ctx, k.User)
	if err != nil {
		return trustbot.Profile{}, fmt.Errorf("slack users.info: %w", err)
	}
	return trustbot.Profile{UserKey: k, TZ: u.TZ, Locale: u.Locale}, nil
}

// TokenFunc returns the bot token of a workspace (its team ID), for every
// Web API call made for that workspace: answers, DMs, posts, lookups. One
// workspace has one token whatever the team; many have one each, from
// their installations.
type TokenFunc func(ctx context.Context, team string) (string, error)

// web returns a Web API client that calls with the bot token of team.
func (c *Client) web(ctx context.Context, team string) (*slack.Client, error) {
	if c.cfg.Tokens == nil {
		return c.api, nil
	}
	tok, err := c.cfg.Tokens(ctx, team)
	if trustbot.ErrorCode(err) == trustbot.ENOTFOUND {
		// Not installed there (never, or removed since): nothing for it
		// can be sent until it is installed again, so it is not retried.
		return nil, &trustbot.Error{Code: trustbot.ENOTINSTALLED, Message: "not sent: " + err.Error()}
	}
	if err != nil {
		// The token could not be read or renewed for now: tried again.
		return nil, &trustbot.Error{Code: trustbot.ECANCELED, Message: "not sent: no token for the workspace: " + err.Error()}
	}
	if tok == c.cfg.BotToken {
		return c.api, nil
	}
	return slack.New(tok, slack.OptionAPIURL(c.cfg.APIURL), slack.OptionHTTPClient(c.cfg.HTTPClient)), nil
}

// Seen remembers which requests were handled, so that a redelivery (an
// envelope again after a dropped socket, an event retried over HTTP) is
// acknowledged and not handled twice. The default, memorySeen, keeps IDs
// in this process for 15 minutes, past Slack's last retry (about 6
// minutes after the first delivery). Replicas behind one HTTP endpoint
// need a Seen they share, such as a database table keyed by the ID with
// an insert that fails on a duplicate: Slack may retry at another replica.
type Seen interface {
	// First reports whether id is new, and remembers it.
	First(ctx context.Context, id string) bool
}

// memorySeen is a Seen in memory, for one process.
type memorySeen struct {
	mu    sync.Mutex
	ttl   time.Duration
	seen  map[string]time.Time
	prune time.Time
}

func newMemorySeen(ttl time.Duration) *memorySeen {
	return &memorySeen{ttl: ttl, seen: map[string]time.Time{}}
}

func (d *memorySeen) First(_ context.Context, id string) bool {
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
