// Package coach is trustbot's behaviour: it reads what a user asked (a
// "/trust" command or a press on a button), decides what to answer from the
// playbooks, and returns a platform-neutral Reply. It knows no chat
// platform and no database, only the domain's interfaces.
package coach

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// ProfileTTL is how long a cached platform profile (locale, time zone) is
// trusted before the platform is asked again.
const ProfileTTL = 24 * time.Hour

// ZoneRetry is how long a profile without a time zone (the platform gave
// none, so DefaultTZ is assumed) is trusted before the platform is asked
// again.
const ZoneRetry = time.Hour

// DefaultZone is the zone assumed, when DefaultTZ is not set, for a user
// whose platform gives none.
const DefaultZone = "Asia/Tokyo"

// RequestTimeout bounds one request: a user waiting on a locked database
// hears "busy, try again" within it, whatever else is waiting to write.
const RequestTimeout = 6 * time.Second

// Coach answers requests. Its fields are set once, before use.
type Coach struct {
	Library     *playbook.Library
	Store       trustbot.Store
	Directory   trustbot.Directory // optional: platform profiles
	DefaultLang trustbot.Lang
	// DefaultTZ is the installation's IANA zone, assumed for a user whose
	// platform gives none (or cannot be asked); "" means DefaultZone.
	DefaultTZ string
	Holidays  Holidays // optional: public holidays, for users who skip them
	Channels  Channels // optional: whether the bot is in a channel
	// Admins, when set, are the only users who may change a channel's
	// tip of the week.
	Admins  []string
	Logger  *slog.Logger
	Metrics trustbot.Metrics
	Now     func() time.Time
	// Kick, when set, asks the dispatcher to send what is due now instead
	// of at its next minute.
	Kick func()

	mu   sync.Mutex
	rand *rand.Rand

	tipReplies tipReplies
}

// tipReplyKey is what a tip's message depends on.
type tipReplyKey struct {
	tip      *playbook.Tip
	lang     trustbot.Lang
	platform trustbot.Platform
	topic    string
}

// tipRepliesMax bounds the tip messages kept: every tip in both languages
// on each platform, with and without its topic's button, fits; a full
// store starts again empty.
const tipRepliesMax = 4096

// tipReplies keeps the messages of tips, made once each: building one
// (its texts looked up and filled, its topic menu listed) was most of the
// work of answering "/trust tip" from memory. Every caller gets a kept
// message's blocks themselves, shared (Reply.Shared): the list is full to
// its capacity, so a caller that adds a block appends to a copy of its
// own, and callers never write to a shared reply's blocks in place. In a
// test binary each message is also kept as a deep copy, and get panics
// when a caller has changed the shared one: any test through any
// platform then catches a caller that breaks the rule.
type tipReplies struct {
	mu sync.Mutex
	m  map[tipReplyKey]keptReply
}

// keptReply is a kept tip message and, in a test binary, its deep copy.
type keptReply struct {
	r, orig trustbot.Reply
}

func (c *tipReplies) get(k tipReplyKey) (trustbot.Reply, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept, ok := c.m[k]
	if ok && testing.Testing() && !sameShared(kept.r, kept.orig) {
		panic(fmt.Sprintf("coach: a caller wrote to a kept tip's blocks, shared (Reply.Shared):\n%+v\nwas\n%+v", kept.r, kept.orig))
	}
	return kept.r, ok
}

func (c *tipReplies) put(k tipReplyKey, r trustbot.Reply) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= tipRepliesMax {
		c.m = map[tipReplyKey]keptReply{}
	}
	kept := keptReply{r: r}
	if testing.Testing() {
		kept.orig = deepCopy(r)
	}
	c.m[k] = kept
}

// TipMessages makes the message of every tip in every language on
// platform p, as "/trust tip" shows it (for any topic and for the tip's
// own), and keeps them, so that no one's first tip of a burst waits for
// its making; it returns them, for the platform to keep its rendering of
// (slack.Client.KeepMessages). Call it once at start, in the background:
// it does in one go what the first few hundred tips would do one by one,
// allocating then rather than in the middle of a burst.
func (c *Coach) TipMessages(ctx context.Context, p trustbot.Platform) []trustbot.Reply {
	// A request of nobody's on platform p: a turn reads its platform from
	// the workspace ID (trustbot.PlatformOf).
	req := trustbot.Request{}
	if p == trustbot.Teams {
		req.Team = trustbot.TeamsWorkspace("")
	}
	tips := c.Library.Tips()
	out := make([]trustbot.Reply, 0, 2*len(tips)*len(trustbot.Langs))
	for _, lang := range trustbot.Langs {
		t := &turn{Coach: c, ctx: ctx, req: req, lang: lang}
		for _, tip := range tips {
			if ctx.Err() != nil {
				return out
			}
			out = append(out, t.tipReply(tip, ""), t.tipReply(tip, tip.Topic.ID))
		}
	}
	return out
}

// sameShared reports whether a and b hold the same blocks and options:
// what a reply's callers share (the rest of it each gets a copy of). It
// allocates nothing, so that the check costs a benchmark run as a test
// binary little.
func sameShared(a, b trustbot.Reply) bool {
	return slices.Equal(a.Options, b.Options) && trustbot.EqualBlocks(a.Blocks, b.Blocks)
}

// deepCopy copies r's blocks, their controls and options.
func deepCopy(r trustbot.Reply) trustbot.Reply {
	r.Blocks = trustbot.CloneBlocks(r.Blocks)
	r.Options = slices.Clone(r.Options)
	return r
}

// New returns a Coach with the system clock and a random seed.
func New(lib *playbook.Library, store trustbot.Store, dir trustbot.Directory, def trustbot.Lang, logger *slog.Logger) *Coach {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Coach{Library: lib, Store: store, Directory: dir, DefaultLang: def, Logger: logger, Metrics: trustbot.NopMetrics{}, Now: time.Now}
}

// Seed makes the coach's choices repeatable, for tests.
func (c *Coach) Seed(seed uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rand = rand.New(rand.NewPCG(seed, seed))
}

func (c *Coach) intn(n int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rand == nil {
		c.rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return c.rand.IntN(n)
}

// turn is one request being answered: who asks, in which language.
type turn struct {
	*Coach
	ctx  context.Context
	req  trustbot.Request
	lang trustbot.Lang
}

// tr returns the catalog's text for key in the turn's language. A text
// that names something of one platform (a slash command, App Home) has a
// counterpart for the others under key + "." + platform, used on that
// platform.
func (t *turn) tr(key string, args ...string) string {
	return t.text(t.req.Platform(), t.lang, key, args...)
}

// text returns the catalog's text for key in lang, in its form for
// platform p when it has one.
func (c *Coach) text(p trustbot.Platform, lang trustbot.Lang, key string, args ...string) string {
	if p != trustbot.Slack {
		if pk := key + "." + string(p); c.Library.HasKey(pk) {
			key = pk
		}
	}
	return c.Library.T(lang, key, args...)
}

// T returns the catalog's text for key as the user k reads it: in their
// language, in the form for their platform. Adapters use it for the few
// texts they write themselves.
func (c *Coach) T(ctx context.Context, k trustbot.UserKey, key string, args ...string) string {
	return c.text(k.Platform(), c.Language(ctx, k), key, args...)
}

// phrasing returns a ready-to-send phrasing in the turn's language, with
// the workplace chat the user is on named where it says {chat}.
func (t *turn) phrasing(x playbook.Text) string {
	return playbook.FillChat(x.In(t.lang), t.tr("chat.name"))
}

// commandText writes a command the way the user types it on their
// platform: "/trust tip" where it is a slash command, "tip" where commands
// are messages to the bot.
func (t *turn) commandText(command string) string {
	return t.tr("command.form", "command", command)
}

// actions are the IDs of every control the coach puts in a reply.
var actions = []string{
	ActHelp, ActTip, ActTipTopic, ActPhrase, ActPhraseStyle, ActCheckHelp, ActLang,
	ActAnswer, ActSnooze, ActSkip, ActNow, ActCadence, ActNote, ActPause,
	ActJourneySign, ActJourneyAnswer, ActJourneySnooze, ActJourneyStop, ActPlanStart, ActDeclinedAgain,
	ActForgetConfirm, ActForgetCancel, ActTry, ActTryAnswer, ActTryOff,
}

// MetricNames are the names Handle counts requests under: every
// subcommand, every control ID and "unknown".
func MetricNames() []string {
	names := []string{"help", "unknown"}
	for _, name := range commands {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return append(names, actions...)
}

// Kinds are the kinds of scheduled message the coach builds.
func Kinds() []string { return []string{KindCheckin, KindJourney, KindWeekly, KindTryit, KindNotice} }

// Handle answers one request. It always returns a reply: failures are
// logged (with IDs only) and answered with a kind, localized message.
func (c *Coach) Handle(ctx context.Context, req trustbot.Request) trustbot.Reply {
	ctx, cancel := context.WithTimeout(ctx, RequestTimeout)
	defer cancel()
	t := &turn{Coach: c, ctx: ctx, req: req, lang: c.DefaultLang}
	if !req.UserKey.Valid() {
		c.Logger.Warn("request without a valid user", "team", req.Team, "user", req.User)
		return t.failure(trustbot.Errorf(trustbot.EINVALID, "invalid user key"))
	}
	if req.Profile != nil {
		c.adopt(ctx, req.UserKey, *req.Profile)
	}
	t.lang = c.Language(ctx, req.UserKey)
	var (
		r   trustbot.Reply
		err error
	)
	switch req.Kind {
	case trustbot.Command:
		cmd := Parse(req.Text)
		name := cmd.Name
		if !cmd.Known {
			name = "unknown"
		}
		if name == "" {
			name = "help"
		}
		c.Metrics.Command(name)
		r, err = t.command(cmd)
	case trustbot.Action:
		c.Metrics.Command(clip(req.ActionID, 40))
		r, err = t.action(req.ActionID, req.Value)
	case trustbot.Submit:
		r, err = t.submit(req.ActionID, req.Value, req.Inputs)
	case trustbot.Home:
		r, err = t.home()
	case trustbot.Install:
		r = t.greeting()
	case trustbot.Uninstall:
		err = t.uninstalled()
	case trustbot.Suggest:
		r = t.suggest(req.ActionID, req.Text)
	default:
		err = trustbot.Errorf(trustbot.EINVALID, "unknown request kind %d", req.Kind)
	}
	if err != nil {
		return t.failure(err)
	}
	return r
}

// failure turns an error into a reply, logging what an operator needs.
func (t *turn) failure(err error) trustbot.Reply {
	key := "error.internal"
	switch trustbot.ErrorCode(err) {
	case trustbot.EUNAVAILABLE:
		key = "error.busy"
		t.Logger.Warn("store unavailable", "team", t.req.Team, "user", t.req.User, "err", err)
	case trustbot.EINVALID:
		key = "error.invalid"
		t.Logger.Info("invalid request", "team", t.req.Team, "user", t.req.User, "action", t.req.ActionID, "err", err)
	default:
		t.Logger.Error("request failed", "team", t.req.Team, "user", t.req.User, "action", t.req.ActionID, "err", err)
	}
	text := t.tr(key)
	return trustbot.Reply{Text: text, Blocks: []trustbot.Block{{Kind: trustbot.Section, Text: text}}}
}

// Language decides which language to answer in: the user's choice, else
// the platform locale, else the default.
func (c *Coach) Language(ctx context.Context, k trustbot.UserKey) trustbot.Lang {
	l, err := c.language(ctx, k)
	if err != nil {
		c.Logger.Warn("settings unavailable, using default language", "team", k.Team, "user", k.User, "err", err)
	}
	return l
}

// language is Language, with the error that kept the user's settings
// from being read (and the default language).
func (c *Coach) language(ctx context.Context, k trustbot.UserKey) (trustbot.Lang, error) {
	s, err := c.Store.Settings(ctx, k)
	if err != nil {
		return c.DefaultLang, err
	}
	if l, ok := trustbot.ParseLang(s.Lang); ok {
		return l, nil
	}
	if p, ok := c.profile(ctx, k); ok {
		if l, ok := trustbot.ParseLang(p.Locale); ok {
			return l, nil
		}
	}
	return c.DefaultLang, nil
}

// zone is tz, or the installation's zone when tz is unknown ("").
func (c *Coach) zone(tz string) string {
	switch {
	case tz != "":
		return tz
	case c.DefaultTZ != "":
		return c.DefaultTZ
	}
	return DefaultZone
}

// settings returns the user's settings with the zone their rules apply
// in: the platform's, else the installation's.
func (c *Coach) settings(ctx context.Context, k trustbot.UserKey) (trustbot.Settings, error) {
	s, err := c.Store.Settings(ctx, k)
	if err != nil {
		return s, err
	}
	if s.Prefs.TZ == "" {
		// Not known yet: ask the platform (profile falls back itself).
		p, _ := c.profile(ctx, k)
		s.Prefs.TZ = p.TZ
	}
	s.Prefs.TZ = c.zone(s.Prefs.TZ)
	return s, nil
}

// zoneAssumed reports whether the user's zone is the installation's
// because their platform has not given one.
func (c *Coach) zoneAssumed(ctx context.Context, k trustbot.UserKey) bool {
	p, err := c.Store.Profile(ctx, k)
	return err != nil || p.TZ == ""
}

// profile returns the user's platform profile, from the cache while it is
// fresh, else from the directory (and caches it). Whatever asked for it
// (the language of a DM, a command), a zone found changed is adopted at
// once: the next check-in is planned again, at the same local time in the
// new zone.
//
// A profile without a zone (the platform gave none, or could not be asked)
// is kept for ZoneRetry only: the platform is asked again then. Meanwhile
// the profile returned carries the installation's zone.
func (c *Coach) profile(ctx context.Context, k trustbot.UserKey) (trustbot.Profile, bool) {
	p, err := c.Store.Profile(ctx, k)
	ttl := ProfileTTL
	if p.TZ == "" {
		ttl = ZoneRetry
	}
	fresh := err == nil && c.Now().Sub(p.FetchedAt) < ttl
	if fresh || c.Directory == nil {
		p.TZ = c.zone(p.TZ)
		return p, err == nil
	}
	q, derr := c.Directory.Profile(ctx, k)
	if derr != nil {
		if trustbot.ErrorCode(derr) != trustbot.ENOTFOUND {
			c.Logger.Warn("profile lookup failed", "team", k.Team, "user", k.User, "err", derr)
		}
		if err != nil {
			// Nothing known: keep an empty profile, so that the platform
			// is asked again after ZoneRetry, not at every turn.
			p = trustbot.Profile{UserKey: k, FetchedAt: c.Now()}
			if err := c.Store.SaveProfile(ctx, p); err != nil {
				c.Logger.Warn("profile not cached", "team", k.Team, "user", k.User, "err", err)
			}
		}
		p.UserKey, p.TZ = k, c.zone(p.TZ)
		return p, true // a stale profile beats none
	}
	q.UserKey, q.FetchedAt = k, c.Now()
	if err := c.Store.SaveProfile(ctx, q); err != nil {
		c.Logger.Warn("profile not cached", "team", k.Team, "user", k.User, "err", err)
	} else if c.zone(q.TZ) != c.zone(p.TZ) {
		if err := c.rezone(ctx, k, c.Now()); err != nil {
			c.Logger.Warn("check-in or journey not planned again after a zone change", "team", k.Team, "user", k.User, "err", err)
		}
	}
	q.TZ = c.zone(q.TZ)
	return q, true
}

// adopt takes in what the platform said about the user with a request
// (Teams sends the zone and locale with every message): a part it left
// out keeps its cached value, a change is saved, and a zone found changed
// plans the next check-in again, as profile does. Nothing is written when
// nothing changed and the cache is fresh.
func (c *Coach) adopt(ctx context.Context, k trustbot.UserKey, q trustbot.Profile) {
	p, err := c.Store.Profile(ctx, k)
	known := err == nil
	if q.TZ == "" {
		q.TZ = p.TZ
	}
	if q.Locale == "" {
		q.Locale = p.Locale
	}
	now := c.Now()
	if known && q.TZ == p.TZ && q.Locale == p.Locale && now.Sub(p.FetchedAt) < ProfileTTL/2 {
		return
	}
	q.UserKey, q.FetchedAt = k, now
	if err := c.Store.SaveProfile(ctx, q); err != nil {
		c.Logger.Warn("profile not cached", "team", k.Team, "user", k.User, "err", err)
		return
	}
	if c.zone(q.TZ) != c.zone(p.TZ) {
		if err := c.rezone(ctx, k, now); err != nil && trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
			c.Logger.Warn("check-in not planned again after a zone change", "team", k.Team, "user", k.User, "err", err)
		}
	}
}
