package teams

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
	"github.com/trustbot/trustbot/playbooks"
)

// scene is one reply of the real coach, named for its golden file.
type scene struct {
	name  string
	reply trustbot.Reply
}

// locale is a Directory that gives everyone one locale and Tokyo time.
type locale string

func (l locale) Profile(_ context.Context, k trustbot.UserKey) (trustbot.Profile, error) {
	return trustbot.Profile{UserKey: k, Locale: string(l), TZ: "Asia/Tokyo"}, nil
}

// member says trustbot is in every channel.
type member struct{}

func (member) IsMember(context.Context, string, string) (bool, error) { return true, nil }

// library is the real content, loaded once: loading it (the tone
// patterns above all) is the slowest part of a coach's start.
var loadLibrary = sync.OnceValues(func() (*playbook.Library, error) { return playbook.Load(playbooks.FS) })

func library(tb testing.TB) *playbook.Library {
	tb.Helper()
	lib, err := loadLibrary()
	if err != nil {
		tb.Fatal(err)
	}
	return lib
}

// session drives a real coach on a fresh database (SQLite, or PostgreSQL
// as the suite runs: internal/testdb) at a fixed instant.
type session struct {
	t   testing.TB
	c   *coach.Coach
	db  *testdb.DB // its Exec fixes random IDs
	now time.Time
	key trustbot.UserKey
	// ids are the random IDs the store made (deliveries, journeys),
	// replaced by stable names in the golden files.
	ids map[string]string
}

func newSession(t testing.TB, loc string) *session {
	t.Helper()
	db := testdb.Open(t)
	s := &session{t: t, db: db, key: trustbot.UserKey{Team: trustbot.TeamsWorkspace("tenant-1"), User: "29:user-1"}, ids: map[string]string{},
		now: time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)} // Tuesday 10:00 in Tokyo
	s.c = coach.New(library(t), db, locale(loc), trustbot.Japanese, nil)
	s.c.Seed(1)
	s.c.Now = func() time.Time { return s.now }
	s.c.Channels = member{}
	return s
}

func (s *session) handle(req trustbot.Request) trustbot.Reply {
	if req.UserKey == (trustbot.UserKey{}) {
		req.UserKey = s.key
	}
	return s.c.Handle(context.Background(), req)
}

// The personal chat and a team channel, as the Teams adapter names them.
const (
	personalChat = "a:personal-1"
	teamChannel  = "19:general@thread.tacv2"
)

// cmd is a command typed in the personal chat.
func (s *session) cmd(text string) trustbot.Reply {
	return s.handle(trustbot.Request{Kind: trustbot.Command, Text: text, Typed: true, Direct: true, Channel: personalChat})
}

// channelCmd is a command typed in a team channel (by @mention).
func (s *session) channelCmd(text string) trustbot.Reply {
	return s.handle(trustbot.Request{Kind: trustbot.Command, Text: text, Typed: true, Channel: teamChannel})
}

func (s *session) press(id, value string) trustbot.Reply {
	return s.handle(trustbot.Request{Kind: trustbot.Action, ActionID: id, Value: value, Direct: true, Channel: personalChat})
}

func (s *session) name(id, as string) {
	if id != "" {
		if _, ok := s.ids[id]; !ok {
			s.ids[id] = as
		}
	}
}

// stable replaces the random IDs in b by their names.
func (s *session) stable(b string) string {
	ids := make([]string, 0, len(s.ids))
	for id := range s.ids {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return len(ids[i]) > len(ids[j]) })
	for _, id := range ids {
		b = strings.ReplaceAll(b, id, s.ids[id])
	}
	return b
}

// checkin claims the check-ins due now and builds their DMs.
func (s *session) due() []trustbot.Delivery {
	s.t.Helper()
	ctx := context.Background()
	var out []trustbot.Delivery
	ds, err := s.db.ClaimDue(ctx, s.now, 10, func(sc trustbot.Schedule, p trustbot.Prefs) (trustbot.Schedule, int) {
		return s.c.Advance(sc, p, s.now)
	})
	if err != nil {
		s.t.Fatal(err)
	}
	out = append(out, ds...)
	js, err := s.db.ClaimDueJourneys(ctx, s.now, 10, func(j trustbot.Journey, p trustbot.Prefs) (trustbot.Journey, string) {
		return s.c.AdvanceJourney(j, p, s.now)
	})
	if err != nil {
		s.t.Fatal(err)
	}
	out = append(out, js...)
	ws, err := s.db.ClaimDueSubscriptions(ctx, s.now, 10, func(sub trustbot.Subscription) (trustbot.Subscription, int) {
		return s.c.AdvanceSubscription(sub, s.now)
	})
	if err != nil {
		s.t.Fatal(err)
	}
	out = append(out, ws...)
	// And what was queued by hand (a try-it follow-up).
	ready, err := s.db.Deliverable(ctx, s.now, 10)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, d := range ready {
		if !slices.ContainsFunc(out, func(x trustbot.Delivery) bool { return x.ID == d.ID }) {
			out = append(out, d)
		}
	}
	for _, d := range out {
		s.name(d.ID, d.Kind+"-delivery")
		s.db.MarkSending(ctx, d.ID, "test", s.now)
		s.db.MarkSent(ctx, d.ID, "test", trustbot.Posted{Channel: "a:conversation", TS: "activity-" + d.Kind}, s.now)
	}
	return out
}

func (s *session) message(d trustbot.Delivery) trustbot.Reply {
	s.t.Helper()
	r, err := s.c.Message(context.Background(), d)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

// fixJourneyIDs gives the user's journeys fixed IDs, named by their
// kind: the coach picks a follow-up's tip by the journey's ID, which is
// random.
func (s *session) fixJourneyIDs() {
	s.t.Helper()
	js, err := s.db.Journeys(context.Background(), s.key, true)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, j := range js {
		s.name(j.ID, j.Kind+"-journey")
		if _, err := s.db.Raw(s.t).Exec(s.db.Dialect().Rebind(`UPDATE journeys SET id = ? WHERE id = ?`), j.Kind+"-journey", j.ID); err != nil {
			s.t.Fatal(err)
		}
	}
}

// firstValue returns the value of the first control with this ID.
func firstValue(r trustbot.Reply, id string) string {
	for _, b := range r.Blocks {
		for _, c := range b.Controls {
			if c.ID == id {
				if c.Kind == trustbot.Select && len(c.Options) > 0 {
					return c.Options[0].Value
				}
				return c.Value
			}
		}
	}
	return ""
}

// scenes walks the real coach through every kind of reply it gives, in
// one language.
func scenes(t testing.TB, loc string) ([]scene, *session) {
	s := newSession(t, loc)
	var out []scene
	add := func(name string, r trustbot.Reply) { out = append(out, scene{name, r}) }

	add("help", s.cmd("help"))
	add("unknown", s.cmd("tpi cooling"))
	tip := s.cmd("tip cooling")
	add("tip", tip)
	add("tip_another", s.press(coach.ActTip, firstValue(tip, coach.ActTip)))
	add("tip_menu", s.cmd("tip"))
	phrase := s.cmd("phrase decline")
	add("phrase", phrase)
	add("phrase_casual", s.press(coach.ActPhraseStyle, "decline-contact-kindly:casual"))
	add("phrase_menu", s.cmd("phrase"))
	add("check", s.cmd("check LINE教えてください。今日中に返事ください <at>x</at> **bold** [link](https://evil.example)"))
	add("check_help", s.press(coach.ActCheckHelp, ""))
	add("checkin_set", s.cmd("checkin weekly fri 16:00"))
	add("checkin_status", s.cmd("checkin status"))
	add("workdays", s.cmd("workdays mon-fri"))
	add("quiet", s.cmd("quiet 22:00-08:00"))
	add("pause_ask", s.cmd("pause"))

	// The check-in DM at its due time, answered, with a note.
	s.now = time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	ds := s.due()
	if len(ds) != 1 {
		t.Fatalf("%d check-ins due", len(ds))
	}
	card := s.message(ds[0])
	add("checkin_card", card)
	answered := s.press(coach.ActAnswer, firstValue(card, coach.ActAnswer))
	add("checkin_answered", answered)
	form := s.press(coach.ActNote, ds[0].ID)
	add("note_form", form)
	add("note_saved", s.handle(trustbot.Request{Kind: trustbot.Submit, ActionID: coach.FormNote, Value: ds[0].ID,
		Inputs: map[string]string{"note": "話しかけてくれた *嬉しい* <b>", "action": "朝の挨拶"}}))
	add("history", s.cmd("history"))
	add("home", s.cmd("home"))

	// Journeys, started a minute apart so that their order is fixed.
	add("declined", s.cmd("declined 田中さん"))
	s.now = s.now.Add(time.Minute)
	add("repair", s.cmd("repair 締め切り"))
	s.now = s.now.Add(time.Minute)
	add("plan_button", s.cmd("plan"))
	add("plan_form", s.press(coach.ActPlanStart, ""))
	add("plan_started", s.handle(trustbot.Request{Kind: trustbot.Submit, ActionID: coach.FormPlan,
		Inputs: map[string]string{"label": "佐藤さん", "stage": "little-contact", "goal": "信頼される", "horizon": "6"}}))
	add("plan_status", s.cmd("plan status"))
	add("journeys", s.cmd("journeys"))
	s.fixJourneyIDs()
	s.now = s.now.Add(3 * 24 * time.Hour)
	for _, d := range s.due() {
		// The occurrence names the journey: "<journey>:<item>".
		kind, _, _ := strings.Cut(s.stable(d.Occurrence), "-journey")
		add("followup_"+kind, s.message(d))
	}

	// Tip of the week in a channel, and its try-it loop.
	add("weekly_on", s.channelCmd("weekly on"))
	add("weekly_status", s.channelCmd("weekly status"))
	add("weekly_in_chat", s.cmd("weekly on"))
	s.now = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC) // Monday 09:00 in Tokyo
	for _, d := range s.due() {
		if d.Kind == coach.KindWeekly {
			post := s.message(d)
			add("weekly_post", post)
			add("weekly_try", s.handle(trustbot.Request{Kind: trustbot.Action, ActionID: coach.ActTry, Value: firstValue(post, coach.ActTry), Channel: teamChannel}))
		}
	}
	s.now = s.now.Add(coach.TryitDays*24*time.Hour + 2*time.Hour) // the follow-up comes at 10:00
	for _, d := range s.due() {
		if d.Kind == coach.KindTryit {
			tryit := s.message(d)
			add("tryit", tryit)
			add("tryit_answered", s.press(coach.ActTryAnswer, firstValue(tryit, coach.ActTryAnswer)))
		}
	}

	export := s.cmd("export")
	add("export", export)
	if export.File != nil {
		// The card with the download link the adapter sends to the
		// personal chat (a button that opens a URL).
		lang := trustbot.Lang(loc[:2])
		add("export_link", trustbot.Reply{Text: export.Text, Blocks: []trustbot.Block{
			{Kind: trustbot.Header, Text: export.File.Title},
			{Kind: trustbot.Section, Text: export.Text},
			{Kind: trustbot.Section, Text: library(t).T(lang, "export.link")},
			{Kind: trustbot.Actions, Controls: []trustbot.Control{{Kind: trustbot.Button, ID: "download", Label: library(t).T(lang, "button.download"),
				URL: "https://trustbot.example/files/0123456789abcdef", Style: trustbot.Primary}}},
		}})
		// What the user hears when the link could not be delivered.
		add("export_failed", notice(export.File.Failed))
	}
	add("forget", s.cmd("forget"))
	add("forget_canceled", s.press(coach.ActForgetCancel, ""))
	add("lang", s.cmd("lang en"))
	add("pause", s.cmd("pause 2w"))
	add("resume", s.cmd("resume"))
	add("error_invalid", s.press("nope", ""))
	add("forgotten", s.press(coach.ActForgetConfirm, ""))

	// What follows starts again from a user trustbot knows nothing of.
	add("install", s.handle(trustbot.Request{Kind: trustbot.Install, Direct: true, Channel: personalChat}))
	add("install_channel", s.handle(trustbot.Request{Kind: trustbot.Install, Channel: teamChannel}))
	// The line a channel sees when the answer went to the personal chat,
	// as the adapter sends it.
	lang := trustbot.Lang(loc[:2])
	replied := library(t).T(lang, "teams.replied_in_chat")
	add("replied_in_chat", trustbot.Reply{Text: replied, Blocks: []trustbot.Block{{Kind: trustbot.Context, Text: replied}}})
	add("holidays", s.cmd("holidays jp"))
	add("weekly_off", s.channelCmd("weekly off"))
	s.cmd("declined 田中さん")
	add("declined_again", s.cmd("declined again"))
	s.cmd("repair 締め切り")
	s.fixJourneyIDs()
	add("journey_stopped", s.press(coach.ActJourneyStop, "repair-journey"))
	s.cmd("checkin weekly fri 16:00")
	s.now = time.Date(2026, 12, 11, 7, 0, 0, 0, time.UTC)
	if ds := s.due(); len(ds) == 1 {
		add("checkin_snoozed", s.press(coach.ActSnooze, ds[0].ID+":3h"))
		add("checkin_skipped", s.press(coach.ActSkip, ds[0].ID))
	} else {
		t.Fatalf("%d check-ins due after forgetting", len(ds))
	}
	// A trust plan's first step after its start, at its due time.
	s.handle(trustbot.Request{Kind: trustbot.Submit, ActionID: coach.FormPlan,
		Inputs: map[string]string{"label": "鈴木さん", "stage": "some-unease", "goal": "雑談できる", "horizon": "3"}})
	s.fixJourneyIDs()
	for found := false; !found; {
		if s.now = s.now.Add(24 * time.Hour); s.now.After(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)) {
			t.Fatal("no follow-up of the plan")
		}
		for _, d := range s.due() {
			if d.Kind == coach.KindJourney && !found {
				add("followup_plan", s.message(d))
				found = true
			}
		}
	}
	// The subscriber told that the channel's posts stopped (trustbot was
	// removed from the team).
	s.channelCmd("weekly on")
	s.c.Unreachable(context.Background(), trustbot.Delivery{UserKey: trustbot.UserKey{Team: s.key.Team, User: teamChannel}, Kind: coach.KindWeekly}, "channel_not_found", s.now)
	for _, d := range s.due() {
		if d.Kind == coach.KindNotice {
			add("weekly_paused", s.message(d))
		}
	}
	s.handle(trustbot.Request{Kind: trustbot.Uninstall, Direct: true, Channel: personalChat})
	add("checkin_stopped", s.cmd("checkin status"))
	// A check-in asked for now, and again within the same minute.
	add("checkin_now", s.cmd("checkin now"))
	add("checkin_now_again", s.cmd("checkin now"))
	// The adapter's answer when every worker is busy and the queue full.
	add("busy", notice(library(t).T(trustbot.Lang(loc[:2]), "error.busy")))
	return out, s
}
