package teams

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Defaults of a Bot.
const (
	// DefaultWorkers answer messages at once; more wait in the queue.
	DefaultWorkers = 8
	// DefaultQueue is how many messages may wait for a worker before the
	// bot answers "busy" instead.
	DefaultQueue = 1024
	// DefaultJobTime bounds the handling of one message, its answer sent.
	DefaultJobTime = 30 * time.Second
	// InvokeTime bounds the answer to an invoke (a dialog): Teams gives a
	// bot 15 s, and shows an error after that.
	InvokeTime = 10 * time.Second
)

// DevAppID is the bot's app ID in the development mode when none is
// configured: the Agents Playground takes any.
const DevAppID = "00000000-0000-4000-8000-000000000dev"

// Config configures a Bot.
type Config struct {
	// AppID is the bot's Microsoft App ID ("28:" + AppID is its ID in
	// conversations). Empty only in the development mode.
	AppID string
	// Verifier checks inbound tokens. Nil only in the development mode.
	Verifier *Verifier
	// Connector sends; required.
	Connector *Connector
	// Conversations keeps the conversation references; required.
	Conversations trustbot.ConversationStore
	// Dev is the development mode: activities without a token are taken
	// from loopback clients only.
	Dev bool
	// Links serves exports as single-use links; optional (export is then
	// refused with the reply's Failed text).
	Links *Links
	// PublicURL is where users' browsers reach the public address (links
	// to files); when empty, the address Teams posts to is taken, as the
	// Host of its requests says.
	PublicURL string
	// T looks up an interface text in the user's language.
	T func(ctx context.Context, k trustbot.UserKey, key string, args ...string) string
	// Seen remembers the activities handled; optional (without it each
	// delivery of an activity is handled as it comes).
	Seen Seen

	Workers int
	Queue   int
	JobTime time.Duration
	Logger  *slog.Logger
	Metrics trustbot.Metrics
	Now     func() time.Time
}

// Seen remembers which activities were handled, so that one the Bot
// Framework delivers again (it retries an activity a bot was slow to
// acknowledge, and behind a load balancer the retry may reach another
// replica) is acknowledged and not handled twice. Replicas need one they
// share, such as a database table keyed by the ID.
type Seen interface {
	// First reports whether id is new, and remembers it.
	First(ctx context.Context, id string) bool
}

// handledID is the key an activity is remembered by: its ID is unique
// only within its conversation, which is in its tenant. Hashed, the key
// names neither.
func handledID(tenant, conversation, activity string) string {
	h := sha256.New()
	for _, s := range []string{tenant, conversation, activity} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// redelivered reports whether the activity was handled already (by this
// replica or another). A dialog's opening is not an action: it is
// answered again.
func (b *Bot) redelivered(ctx context.Context, a *Activity) bool {
	if b.cfg.Seen == nil || a.ID == "" || a.Type == TypeInvoke && a.Name == InvokeTaskFetch {
		return false
	}
	return !b.cfg.Seen.First(ctx, handledID(a.TenantID(), a.Conversation.ID, a.ID))
}

// Bot is trustbot's Teams adapter: the messaging endpoint
// (POST /api/messages) and the Messenger of Teams deliveries.
type Bot struct {
	cfg     Config
	handler trustbot.Handler
	forms   []string
	jobs    chan job
	start   sync.Once
	wg      sync.WaitGroup
	base    atomic.Pointer[string] // the public URL as the last request named it
}

// publicURL is where links point.
func (b *Bot) publicURL() string {
	if b.cfg.PublicURL != "" {
		return b.cfg.PublicURL
	}
	if p := b.base.Load(); p != nil {
		return *p
	}
	return ""
}

// job is one message to answer.
type job struct {
	a   *Activity
	req trustbot.Request
}

// New returns a Bot; SetHandler, then Start, before it serves.
func New(cfg Config) (*Bot, error) {
	switch {
	case cfg.Connector == nil || cfg.Conversations == nil || cfg.T == nil:
		return nil, errors.New("teams: a bot needs a connector, a conversation store and texts")
	case cfg.Verifier == nil && !cfg.Dev:
		return nil, errors.New("teams: a bot needs a token verifier outside the development mode")
	case cfg.AppID == "" && !cfg.Dev:
		return nil, errors.New("teams: a bot needs its app ID")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.JobTime <= 0 {
		cfg.JobTime = DefaultJobTime
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = trustbot.NopMetrics{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Bot{cfg: cfg, jobs: make(chan job, cfg.Queue)}, nil
}

// SetHandler sets who answers requests, and forms the controls whose
// press opens a form (their buttons open a dialog).
func (b *Bot) SetHandler(h trustbot.Handler, forms []string) { b.handler, b.forms = h, forms }

// Start runs the workers until ctx ends; Wait waits for them.
func (b *Bot) Start(ctx context.Context) {
	b.start.Do(func() {
		for range b.cfg.Workers {
			b.wg.Go(func() { b.work(ctx) })
		}
	})
}

// Wait waits until the workers have answered what they took.
func (b *Bot) Wait() { b.wg.Wait() }

func (b *Bot) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-b.jobs:
			b.answer(ctx, j)
		}
	}
}

// answer handles one message and sends its reply, whatever happens: a
// panic is logged and counted, never taken down with the process.
func (b *Bot) answer(ctx context.Context, j job) {
	defer func() {
		if p := recover(); p != nil {
			b.cfg.Metrics.Fault(trustbot.FaultPanic)
			b.cfg.Logger.Error("panic answering a Teams message", "team", j.req.Team, "user", j.req.User, "panic", p)
		}
	}()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.JobTime)
	defer cancel()
	r := b.handler.Handle(ctx, j.req)
	if err := b.reply(ctx, j.a, j.req, r); err != nil {
		b.cfg.Logger.Warn("Teams reply not sent", "team", j.req.Team, "user", j.req.User, "conversation", j.a.Conversation.ID, "err", err)
	}
}

// ServeHTTP is the messaging endpoint. It believes nothing in an activity
// before its token is verified, acknowledges messages at once (answering
// them through the connector) and answers invokes in the response.
func (b *Bot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := b.cfg.Now()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxActivityBytes+1))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	a, err := ParseActivity(body)
	if err != nil {
		b.cfg.Logger.Info("Teams activity refused", "reason", "malformed", "err", err)
		http.Error(w, "not an activity", http.StatusBadRequest)
		return
	}
	if status, reason := b.authenticate(r, a); status != 0 {
		b.cfg.Logger.Warn("Teams activity refused", "reason", reason, "status", status, "remote", r.RemoteAddr)
		http.Error(w, http.StatusText(status), status)
		return
	}
	// From here on the activity is the platform's own.
	if b.cfg.PublicURL == "" && r.Host != "" && !strings.ContainsAny(r.Host, "/@ ") {
		scheme := "https://"
		if b.cfg.Dev {
			scheme = "http://"
		}
		u := scheme + r.Host
		b.base.Store(&u)
	}
	if err := b.cfg.Connector.TrustServiceURL(a.ServiceURL); err != nil {
		b.cfg.Logger.Warn("Teams activity refused", "reason", "service_url", "err", err)
		http.Error(w, "service URL refused", http.StatusForbidden)
		return
	}
	in, ok := b.inbound(a)
	if !ok {
		w.WriteHeader(http.StatusOK) // nothing trustbot answers: acknowledged, ignored
		return
	}
	if b.redelivered(r.Context(), a) {
		b.cfg.Logger.Info("Teams activity handled already: acknowledged again", "type", a.Type, "activity", a.ID, "team", in.base.Team, "user", in.base.User)
		w.WriteHeader(http.StatusOK)
		return
	}
	switch {
	case a.Type == TypeInvoke:
		b.remember(r.Context(), a, in)
		b.invoke(w, r.Context(), a, in)
	case a.Type == TypeMessage:
		b.remember(r.Context(), a, in)
		b.message(w, a, in)
	case a.Type == TypeConversationUpdate && addsBot(a) && a.UserLocale() == "":
		// Teams tells of a personal install twice: this notice does not
		// say the user's language, the installationUpdate beside it does.
		// The greeting waits for that one (or, where none comes, for the
		// user's first message, which keeps the reference).
		w.WriteHeader(http.StatusOK)
	default:
		// Whether this notice created the conversation's reference
		// decides the greeting: the store says so for one save only, so
		// that two notices of the same installation, at this replica or
		// at two, greet once. When the store cannot say, the
		// installationUpdate greets: Teams sends one for every
		// installation, and the user is greeted rather than not at all.
		fresh, err := b.remember(r.Context(), a, in)
		if err != nil && a.Type == TypeInstallationUpdate {
			fresh = true
		}
		b.lifecycle(w, r.Context(), a, in, fresh)
	}
	b.cfg.Metrics.Acked(trustbot.Teams, b.cfg.Now().Sub(start))
}

// authenticate checks the token, or in the development mode that the
// client is on this machine. It returns 0 when the activity may be
// believed, else the status to answer and the reason to log.
func (b *Bot) authenticate(r *http.Request, a *Activity) (int, string) {
	if b.cfg.Dev {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return http.StatusForbidden, "dev_mode_remote_client"
		}
		return 0, ""
	}
	if _, err := b.cfg.Verifier.Verify(r.Context(), r.Header.Get("Authorization"), a.ServiceURL, a.ChannelID); err != nil {
		if ae, ok := errors.AsType[*AuthError](err); ok {
			return ae.Status, ae.Reason
		}
		return http.StatusUnauthorized, "unverified"
	}
	return 0, ""
}

// inbound is what trustbot makes of an activity: who, where, and the
// request's common part.
type inbound struct {
	base trustbot.Request
	// where answers go: the conversation the activity came from.
	ref ConversationReference
	// channel is the team channel's ID when the activity came from one.
	channel string
}

// inbound reads who sent the activity and where. It reports false for an
// activity trustbot has nothing to do with (another bot, no tenant, a
// group chat).
func (b *Bot) inbound(a *Activity) (inbound, bool) {
	tenant := a.TenantID()
	if a.From == nil || a.From.ID == "" || tenant == "" || a.Conversation == nil {
		return inbound{}, false
	}
	if a.Recipient != nil && a.From.ID == a.Recipient.ID {
		return inbound{}, false // the bot's own activity
	}
	k := trustbot.UserKey{Team: trustbot.TeamsWorkspace(tenant), User: a.From.ID}
	if !k.Valid() {
		b.cfg.Logger.Info("Teams activity ignored", "reason", "invalid_ids")
		return inbound{}, false
	}
	in := inbound{ref: a.Reference()}
	in.base = trustbot.Request{UserKey: k, Direct: a.IsPersonal(), Channel: a.Conversation.ID}
	switch a.Conversation.ConversationType {
	case ConversationPersonal:
	case ConversationChannel:
		if a.ChannelData == nil || a.ChannelData.Channel == nil || a.ChannelData.Channel.ID == "" {
			return inbound{}, false
		}
		in.channel = a.ChannelData.Channel.ID
		in.base.Channel = in.channel
		if !(trustbot.UserKey{Team: k.Team, User: in.channel}).Valid() {
			return inbound{}, false
		}
	default:
		// Group chats: trustbot's replies are private, and a group chat
		// has no place for them. The app is not offered there.
		return inbound{}, false
	}
	if tz, loc := a.Timezone(), a.UserLocale(); tz != "" || loc != "" {
		in.base.Profile = &trustbot.Profile{TZ: tz, Locale: loc}
	}
	return in, true
}

// key is where the activity's conversation reference is kept: the user
// for a personal chat, the channel for a team channel.
func (in inbound) key() trustbot.UserKey {
	if in.channel != "" {
		return trustbot.UserKey{Team: in.base.Team, User: in.channel}
	}
	return in.base.UserKey
}

// remember keeps the conversation references an activity shows: the
// user's personal chat, or the team channel (for its tip of the week).
// A later activity refreshes them (the service URL may move). It reports
// whether this activity created the reference, none being kept: of
// activities handled at once, at one replica or several, one does. It
// returns the store's error when the reference could not be saved.
func (b *Bot) remember(ctx context.Context, a *Activity, in inbound) (bool, error) {
	if a.Type == TypeInstallationUpdate && a.Action == ActionRemove ||
		a.Type == TypeConversationUpdate && removesBot(a) {
		return false, nil
	}
	now := b.cfg.Now()
	bot := ""
	if a.Recipient != nil {
		bot = a.Recipient.ID
	}
	c := trustbot.Conversation{Key: in.key(), ID: a.Conversation.ID, ServiceURL: a.ServiceURL, BotID: bot, Name: accountName(a.From), UpdatedAt: now}
	if in.channel != "" {
		c.ID, c.Channel, c.Name = in.channel, true, a.ChannelData.Channel.Name
	}
	old, err := b.cfg.Conversations.Conversation(ctx, c.Key)
	if err == nil && old.ID == c.ID && old.ServiceURL == c.ServiceURL && old.BotID == c.BotID && old.Name == c.Name && now.Sub(old.UpdatedAt) < time.Hour {
		return false, nil // unchanged and fresh: no write on every message
	}
	created, err := b.cfg.Conversations.SaveConversation(ctx, c)
	if err != nil {
		b.cfg.Logger.Warn("Teams conversation reference not saved", "team", c.Key.Team, "user", c.Key.User, "err", err)
	}
	return created, err
}

// message acknowledges a message at once and queues it for a worker: a
// typed command, or a press on a card's button.
func (b *Bot) message(w http.ResponseWriter, a *Activity, in inbound) {
	req := in.base
	if len(a.Value) > 0 && string(a.Value) != "null" {
		p, err := ParsePress(a.Value)
		if err != nil {
			b.cfg.Logger.Info("Teams card action refused", "team", req.Team, "user", req.User, "err", err)
			req = trustbot.Request{Kind: trustbot.Action, UserKey: req.UserKey, Direct: req.Direct, Channel: req.Channel, ActionID: invalidAction}
		} else {
			req = p.Request(req)
		}
	} else {
		req.Kind, req.Typed = trustbot.Command, true
		req.Text = trustbot.Unmarked(commandText(a.TextWithoutMention()))
	}
	select {
	case b.jobs <- job{a: a, req: req}:
		w.WriteHeader(http.StatusOK)
	default:
		// Every worker busy and the queue full: say so rather than keep
		// the user waiting for an answer that may never come.
		w.WriteHeader(http.StatusOK)
		go b.busy(a, req)
	}
}

// invalidAction is an action ID the coach never gives: it answers it with
// its "that action couldn't be used" message.
const invalidAction = "teams.invalid"

// commandText is the command in a message: a leading "/trust" (as typed
// by someone used to Slack) is dropped.
func commandText(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= len("/trust") && strings.EqualFold(s[:len("/trust")], "/trust") {
		rest := s[len("/trust"):]
		if r, _ := utf8.DecodeRuneInString(rest); rest == "" || unicode.IsSpace(r) {
			return strings.TrimSpace(rest)
		}
	}
	return s
}

func (b *Bot) busy(a *Activity, req trustbot.Request) {
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.JobTime)
	defer cancel()
	text := b.cfg.T(ctx, req.UserKey, "error.busy")
	if err := b.reply(ctx, a, req, notice(text)); err != nil {
		b.cfg.Logger.Warn("Teams busy answer not sent", "team", req.Team, "user", req.User, "err", err)
	}
}

// invoke answers a dialog's opening (task/fetch) or its submission
// (task/submit) in the response, within Teams' time limit.
func (b *Bot) invoke(w http.ResponseWriter, ctx context.Context, a *Activity, in inbound) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), InvokeTime)
	defer cancel()
	o := b.options(ctx, in.base.UserKey, trustbot.Reply{}, a.From)
	required := b.cfg.T(ctx, in.base.UserKey, "teams.required")
	var resp TaskResponse
	switch a.Name {
	case InvokeTaskFetch:
		p, err := ParseTaskFetch(a.Value)
		if err != nil {
			b.cfg.Logger.Info("Teams dialog refused", "team", in.base.Team, "user", in.base.User, "err", err)
			resp = TaskMessage(b.cfg.T(ctx, in.base.UserKey, "error.invalid"), o)
			break
		}
		r := b.handler.Handle(ctx, p.Request(in.base))
		if d, ok := DialogFor(r, nil, required, o); ok {
			resp = d
		} else {
			resp = TaskMessage(r.Text, o)
		}
	case InvokeTaskSubmit:
		s, err := ParseTaskSubmit(a.Value)
		if err != nil {
			b.cfg.Logger.Info("Teams form refused", "team", in.base.Team, "user", in.base.User, "err", err)
			resp = TaskMessage(b.cfg.T(ctx, in.base.UserKey, "error.invalid"), o)
			break
		}
		r := b.handler.Handle(ctx, s.Request(in.base))
		if d, ok := DialogFor(r, s.Inputs, required, o); ok {
			resp = d // refused: the form again, what was typed kept
			break
		}
		// Taken: the dialog closes and the answer goes to the chat.
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), b.cfg.JobTime)
			defer cancel()
			if err := b.reply(ctx, a, in.base, r); err != nil {
				b.cfg.Logger.Warn("Teams reply to a form not sent", "team", in.base.Team, "user", in.base.User, "err", err)
			}
		}()
		w.WriteHeader(http.StatusOK)
		return
	default:
		w.WriteHeader(http.StatusOK) // an invoke trustbot does not use
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

// lifecycle handles the app being added or removed: a greeting once, or
// every delivery there stopped.
//
// A removal is handled before it is acknowledged: the app removed and
// added again at once is told of in that order, and the addition must
// find the removal done (the reference gone, so that it greets and keeps
// a new one), not undone after it by a removal still on its way.
func (b *Bot) lifecycle(w http.ResponseWriter, ctx context.Context, a *Activity, in inbound, fresh bool) {
	var kind trustbot.RequestKind
	switch {
	case a.Type == TypeInstallationUpdate && a.Action == ActionAdd, a.Type == TypeConversationUpdate && addsBot(a):
		kind = trustbot.Install
	case a.Type == TypeInstallationUpdate && a.Action == ActionRemove, a.Type == TypeConversationUpdate && removesBot(a):
		kind = trustbot.Uninstall
	default:
		w.WriteHeader(http.StatusOK)
		return
	}
	req := in.base
	req.Kind = kind
	if kind == trustbot.Uninstall {
		// Within the time Teams waits for an answer, as for an invoke.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), InvokeTime)
		defer cancel()
		k := in.key()
		if err := b.cfg.Conversations.DeleteConversation(ctx, k); err != nil {
			b.cfg.Logger.Warn("Teams conversation reference not deleted", "team", k.Team, "user", k.User, "err", err)
		}
		b.handler.Handle(ctx, req)
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(http.StatusOK)
	if !fresh {
		return // greeted already: Teams may tell of one installation twice
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.JobTime)
		defer cancel()
		if err := b.reply(ctx, a, req, b.handler.Handle(ctx, req)); err != nil {
			b.cfg.Logger.Warn("Teams greeting not sent", "team", req.Team, "user", req.User, "err", err)
		}
	}()
}

// addsBot reports whether a conversationUpdate adds the bot itself.
func addsBot(a *Activity) bool { return hasBot(a, a.MembersAdded) }

// removesBot reports whether a conversationUpdate removes the bot itself.
func removesBot(a *Activity) bool { return hasBot(a, a.MembersRemoved) }

func hasBot(a *Activity, members []ChannelAccount) bool {
	if a.Recipient == nil {
		return false
	}
	for _, m := range members {
		if m.ID == a.Recipient.ID {
			return true
		}
	}
	return false
}
