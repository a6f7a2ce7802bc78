package coach_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// slackWords are words that only make sense in Slack: a Teams user must
// never read them.
var slackWords = []string{"Slack", "/invite", "App Home", "/trust ", "DM"}

// Where the walks happen.
const (
	teamsChannel   = "19:3b1c0f2d9e8a4b7c6d5e4f3a2b1c0d9e@thread.tacv2"
	teamsPersonal  = "a:1personal"
	teamsOutsider  = "19:77aa0c5e1d2f4b3a9c8d7e6f5a4b3c2d@thread.tacv2" // a team without trustbot
	slackChannel   = "C1"
	slackDM        = "D1"
	slackOutsider  = "C2"
	walkPressLimit = 600
)

// outsiders says trustbot is in every channel but the two outsiders.
type outsiders struct{}

func (outsiders) IsMember(_ context.Context, _, channel string) (bool, error) {
	return channel != teamsOutsider && channel != slackOutsider, nil
}

// localeOnly is a platform directory that knows the user's locale but not
// their time zone, so that the "zone assumed" texts are read too.
type localeOnly string

func (l localeOnly) Profile(_ context.Context, k trustbot.UserKey) (trustbot.Profile, error) {
	return trustbot.Profile{UserKey: k, Locale: string(l)}, nil
}

// walker drives a real coach through every command, every button and every
// scheduled message, as one user, and keeps every text the user reads.
type walker struct {
	t       *testing.T
	c       *coach.Coach
	db      *testdb.DB
	key     trustbot.UserKey
	locale  string
	teams   bool
	dm, ch  string // the personal chat (DM) and a channel with trustbot
	outside string // a channel without trustbot
	now     time.Time

	texts   map[string]bool
	queue   []pressing
	pressed map[string]bool
	forms   map[string]bool
}

// pressing is a control seen in a reply, to be used where it was shown.
type pressing struct {
	id, value, channel string
}

func newWalker(t *testing.T, k trustbot.UserKey, locale string) *walker {
	t.Helper()
	db := MustStore(t)
	w := &walker{t: t, db: db, key: k, locale: locale, teams: k.Platform() == trustbot.Teams,
		now:   time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), // a Tuesday
		texts: map[string]bool{}, pressed: map[string]bool{}, forms: map[string]bool{}}
	var dir trustbot.Directory = localeOnly(locale)
	w.dm, w.ch, w.outside = slackDM, slackChannel, slackOutsider
	if w.teams {
		// Teams has no directory: the locale comes with each message.
		dir = noDirectory{}
		w.dm, w.ch, w.outside = teamsPersonal, teamsChannel, teamsOutsider
	}
	w.c = coach.New(MustLibrary(t), db, dir, trustbot.Japanese, nil)
	w.c.Seed(1)
	w.c.Now = func() time.Time { return w.now }
	w.c.Channels = outsiders{}
	return w
}

// handle sends a request from channel (the personal chat when it is w.dm)
// and reads the reply.
func (w *walker) handle(req trustbot.Request, channel string) trustbot.Reply {
	req.UserKey, req.Channel, req.Direct = w.key, channel, channel == w.dm
	if w.teams {
		req.Typed = req.Kind == trustbot.Command
		req.Profile = &trustbot.Profile{Locale: w.locale}
	}
	r := w.c.Handle(context.Background(), req)
	w.read(r, channel)
	return r
}

func (w *walker) cmd(text, channel string) trustbot.Reply {
	return w.handle(trustbot.Request{Kind: trustbot.Command, Text: text}, channel)
}

// read keeps every text of a reply, queues its controls and fills in its
// form.
func (w *walker) read(r trustbot.Reply, channel string) {
	keep := func(ss ...string) {
		for _, s := range ss {
			if s != "" {
				w.texts[s] = true
			}
		}
	}
	keep(r.Text)
	for _, b := range r.Blocks {
		keep(b.Title, b.Text)
		for _, c := range b.Controls {
			keep(c.Label, c.Description)
			switch {
			case c.URL != "":
			case c.Kind == trustbot.Select:
				for _, o := range c.Options {
					keep(o.Label)
					w.queue = append(w.queue, pressing{c.ID, o.Value, channel})
				}
			default:
				w.queue = append(w.queue, pressing{c.ID, c.Value, channel})
			}
		}
	}
	if f := r.File; f != nil {
		keep(f.Title, f.Sent, f.Failed)
	}
	if m := r.Modal; m != nil {
		keep(m.Title, m.Submit, m.Close, m.Intro)
		inputs := map[string]string{}
		for _, in := range m.Inputs {
			keep(in.Label, in.Placeholder)
			inputs[in.ID] = in.Initial
			for _, o := range in.Options {
				keep(o.Label)
			}
			if len(in.Options) > 0 && inputs[in.ID] == "" {
				inputs[in.ID] = in.Options[0].Value
			}
			if inputs[in.ID] == "" {
				inputs[in.ID] = "A"
			}
		}
		if !w.forms[m.ID] {
			w.forms[m.ID] = true
			w.handle(trustbot.Request{Kind: trustbot.Submit, ActionID: m.ID, Value: m.Metadata, Inputs: inputs}, channel)
		}
	}
}

// storedID is the ID of a stored delivery or journey, random.
var storedID = regexp.MustCompile(`\b[dj]?[0-9a-f]{16,}\b`)

// browsing are the controls that show one more piece of content (a tip,
// a situation's phrasings): the walk presses each once, whatever its
// value; TestPhrasingsNameTheUsersChat reads every situation.
var browsing = map[string]bool{coach.ActTip: true, coach.ActTipTopic: true, coach.ActPhrase: true, coach.ActPhraseStyle: true}

// pressAll presses every control seen and not yet pressed, breadth first,
// except the one that deletes everything.
func (w *walker) pressAll() {
	for len(w.queue) > 0 {
		p := w.queue[0]
		w.queue = w.queue[1:]
		// The same control on another check-in or journey reads the
		// same: a stored record's ID does not make it new.
		k := p.id + "\x00" + storedID.ReplaceAllString(p.value, "ID")
		if browsing[p.id] {
			k = p.id // one tip or phrasing is as good as another here
		}
		if p.id == coach.ActForgetConfirm || w.pressed[k] {
			continue
		}
		if len(w.pressed) >= walkPressLimit {
			w.t.Fatalf("more than %d different controls: the walk does not end", walkPressLimit)
		}
		w.pressed[k] = true
		w.handle(trustbot.Request{Kind: trustbot.Action, ActionID: p.id, Value: p.value}, p.channel)
	}
}

// deliver sends everything due by now: each scheduled message is read
// where it goes (a channel's post in the channel, the rest in the personal
// chat); unreachable, when set, is told instead of sending the first
// delivery of each of those kinds.
func (w *walker) deliver(unreachable ...string) {
	w.t.Helper()
	ctx := context.Background()
	if _, err := w.db.ClaimDue(ctx, w.now, 50, func(s trustbot.Schedule, p trustbot.Prefs) (trustbot.Schedule, int) {
		return w.c.Advance(s, p, w.now)
	}); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.db.ClaimDueJourneys(ctx, w.now, 50, func(j trustbot.Journey, p trustbot.Prefs) (trustbot.Journey, string) {
		return w.c.AdvanceJourney(j, p, w.now)
	}); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.db.ClaimDueSubscriptions(ctx, w.now, 50, func(s trustbot.Subscription) (trustbot.Subscription, int) {
		return w.c.AdvanceSubscription(s, w.now)
	}); err != nil {
		w.t.Fatal(err)
	}
	ds, err := w.db.Deliverable(ctx, w.now, 100)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, d := range ds {
		if i := slices.Index(unreachable, d.Kind); i >= 0 {
			unreachable = slices.Delete(unreachable, i, i+1)
			w.c.Unreachable(ctx, d, "channel_not_found", w.now)
			w.db.MarkSending(ctx, d.ID, "walk", w.now)
			w.db.MarkSent(ctx, d.ID, "walk", trustbot.Posted{}, w.now)
			continue
		}
		r, err := w.c.Message(ctx, d)
		if err != nil {
			w.t.Fatalf("message %s %s: %v", d.Kind, d.Occurrence, err)
		}
		where := w.dm
		if d.Kind == coach.KindWeekly {
			where = w.ch
		}
		w.read(r, where)
		w.db.MarkSending(ctx, d.ID, "walk", w.now)
		w.db.MarkSent(ctx, d.ID, "walk", trustbot.Posted{Channel: where, TS: d.ID}, w.now)
	}
}

// commands are typed in the personal chat and, again, in a channel: each
// subcommand with no words, good words and bad words, in an order that
// reaches the states each answer depends on (nothing yet, set, twice).
var walkCommands = []string{
	"checkin off", "resume", "journeys", "checkin", "history", "home", "plan status",
	"", "help", "tpi cooling", "zzzzzz", "ヘルプ",
	"tip", "tip cooling", "tip zzzzzz", "tip 信頼",
	"phrase", "phrase decline", "phrase zzzzzz", "phrase 断る",
	"check", "check LINE交換しませんか？今日中に返事ください", "check もう一度だけLINE交換をお願いできませんか", "check お疲れさまです。資料ありがとうございました。",
	"lang", "lang zz",
	"checkin weekly sun 09:00", "checkin zzz", "checkin weekly 25:99", "checkin weekly zzday", "checkin monthly last friday",
	"checkin weekly fri 16:00", "checkin now", "checkin now", "checkin status", "checkin off", "checkin off", "checkin weekly fri 16:00",
	"workdays", "workdays zz", "workdays mon-fri", "quiet", "quiet zz", "quiet 22:00-08:00", "quiet off",
	"holidays", "holidays zz", "holidays jp", "pause", "pause zz", "pause 1w", "pause 1w", "resume", "resume",
	"declined", "declined 田中さん", "declined again", "declined again", "declined 田中さん", "repair", "repair 締め切り", "repair 打ち合わせ",
	"plan", "plan status", "journeys", "declined 鈴木さん", "declined 佐藤さん", "repair 約束", "plan",
	"history", "home", "export",
	"weekly", "weekly on",
}

// channelCommands are the tip of the week's, typed in a channel.
var channelCommands = []string{
	"weekly", "weekly holidays", "weekly off", "weekly on mon 9:00", "weekly status", "weekly holidays", "weekly holidays jp",
	"weekly zzz", "weekly on small-talk events", "weekly off", "weekly on",
}

// walk goes through everything the coach answers, as w's user.
func (w *walker) walk() {
	w.handle(trustbot.Request{Kind: trustbot.Install}, w.dm)
	w.handle(trustbot.Request{Kind: trustbot.Install}, w.ch)
	places := []string{w.dm}
	if w.teams {
		// In Teams every command may also be typed in a channel, after
		// @trustbot; its answer goes to the personal chat.
		places = append(places, w.ch)
	}
	for _, ch := range places {
		for _, text := range walkCommands {
			w.cmd(text, ch)
			w.pressAll()
		}
	}
	w.handle(trustbot.Request{Kind: trustbot.Home}, w.dm)
	for _, text := range channelCommands {
		w.cmd(text, w.ch)
	}
	w.cmd("weekly on", w.outside)
	w.pressAll()
	// Two months of scheduled messages, each answered: check-ins,
	// follow-ups, the tip of the week and its "how did it go".
	for range 6 {
		w.now = w.now.Add(10 * 24 * time.Hour)
		w.deliver()
		w.pressAll()
	}
	// A channel that went away, and a personal chat that cannot be reached.
	w.cmd("checkin weekly fri 16:00", w.dm)
	w.now = w.now.Add(8 * 24 * time.Hour)
	w.deliver(coach.KindWeekly, coach.KindCheckin)
	w.deliver()
	w.cmd("checkin status", w.dm)
	w.handle(trustbot.Request{Kind: trustbot.Home}, w.dm)
	w.handle(trustbot.Request{Kind: trustbot.Action, ActionID: "no.such.action"}, w.dm)
	w.pressAll()
	w.cmd("forget", w.dm)
	w.pressAll()
	w.handle(trustbot.Request{Kind: trustbot.Action, ActionID: coach.ActForgetConfirm}, w.dm)
	w.handle(trustbot.Request{Kind: trustbot.Uninstall}, w.dm)
}

// found returns the texts read that hold word, sorted.
func (w *walker) found(word string) []string {
	var out []string
	for s := range w.texts {
		if strings.Contains(s, word) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

// TestTeamsTextsSaySlackNowhere walks every command, button, form and
// scheduled message of the coach as a Teams user, in the personal chat and
// in a channel, in Japanese and English: no text may name Slack or its
// ways (a slash command, /invite, a DM, App Home). The same walk as a
// Slack user does find those words, so the walk reaches the texts that
// have them; and every Teams form of a text is read at least once.
func TestTeamsTextsSaySlackNowhere(t *testing.T) {
	lib := MustLibrary(t)
	var (
		mu        sync.Mutex
		teamsRead = map[string]bool{}
	)
	t.Run("walks", func(t *testing.T) {
		for _, locale := range []string{"ja-JP", "en-US"} {
			lang, _ := trustbot.ParseLang(locale)
			t.Run("msteams/"+locale, func(t *testing.T) {
				t.Parallel()
				w := newWalker(t, teamsUser, locale)
				w.walk()
				for _, word := range slackWords {
					for _, s := range w.found(word) {
						t.Errorf("a Teams user reads %q in %q", word, s)
					}
				}
				if len(w.texts) < 300 {
					t.Errorf("the walk read only %d texts", len(w.texts))
				}
				mu.Lock()
				for s := range w.texts {
					teamsRead[s] = true
				}
				mu.Unlock()
			})
			t.Run("slack/"+locale, func(t *testing.T) {
				t.Parallel()
				w := newWalker(t, user, locale)
				w.walk()
				for _, word := range slackWords {
					inCatalog := false
					for _, k := range lib.Keys() {
						if !strings.HasSuffix(k, "."+string(trustbot.Teams)) && !strings.HasPrefix(k, "console.") &&
							strings.Contains(lib.T(lang, k, "count", "2"), word) {
							inCatalog = true
						}
					}
					if inCatalog && len(w.found(word)) == 0 {
						t.Errorf("the Slack walk never reads %q, which the %s catalog has: the walk misses texts", word, lang)
					}
				}
			})
		}
	})
	// Every Teams form of a text is read somewhere on the Teams walks: its
	// longest fixed part (between placeholders) shows.
	for _, k := range lib.Keys() {
		if !strings.HasSuffix(k, "."+string(trustbot.Teams)) {
			continue
		}
		for _, lang := range trustbot.Langs {
			part := ""
			for _, p := range placeholder.Split(lib.T(lang, k), -1) {
				if len([]rune(p)) > len([]rune(part)) {
					part = p
				}
			}
			if len([]rune(strings.TrimSpace(part))) < 4 {
				continue // nothing to recognise it by ("{command}")
			}
			seen := false
			for s := range teamsRead {
				if strings.Contains(s, part) {
					seen = true
					break
				}
			}
			if !seen {
				t.Errorf("%s %s is never read on the Teams walk (looked for %q)", lang, k, part)
			}
		}
	}
}

// A phrasing that names the workplace chat names Teams for a Teams user.
func TestPhrasingsNameTheUsersChat(t *testing.T) {
	lib := MustLibrary(t)
	ctx := context.Background()
	n := 0
	for _, tc := range []struct {
		k    trustbot.UserKey
		chat string
	}{{teamsUser, "Teams"}, {user, "Slack"}} {
		w := newWalker(t, tc.k, "en-US")
		for _, s := range lib.Situations {
			r := w.cmd("phrase "+s.ID, w.dm)
			for _, p := range s.Phrasings {
				if !strings.Contains(p.Polite.In(trustbot.English), playbook.ChatPlaceholder) {
					continue
				}
				n++
				if want := playbook.FillChat(p.Polite.In(trustbot.English), tc.chat); !strings.Contains(all(r), want) {
					t.Errorf("%s: %s user does not read %q", p.ID, tc.chat, want)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no phrasing names the chat: the test shows nothing")
	}
	// The texts an adapter writes itself follow the platform too.
	c, _ := teamsCoach(t, time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC))
	if got, want := c.T(ctx, teamsUser, "error.invalid"), lib.T(trustbot.Japanese, "error.invalid.msteams"); got != want {
		t.Errorf("Teams adapter text %q, want %q", got, want)
	}
	if got, want := c.T(ctx, user, "error.invalid"), lib.T(trustbot.Japanese, "error.invalid"); got != want {
		t.Errorf("Slack adapter text %q, want %q", got, want)
	}
}

// TestNoSlackWordsInGo: the coach writes no Slack-only word into a text
// itself; such words live in the catalog, which has a Teams form of each.
func TestNoSlackWordsInGo(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(node ast.Node) bool {
			lit, ok := node.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			n++
			s, _ := strconv.Unquote(lit.Value)
			for _, word := range slackWords {
				if strings.Contains(s, word) {
					t.Errorf("%s: %q says %q: put the text in the catalog, with a .msteams form", fset.Position(lit.Pos()), s, word)
				}
			}
			return true
		})
	}
	if n < 100 {
		t.Fatalf("found only %d strings: the scan is broken", n)
	}
}
