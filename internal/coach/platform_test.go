package coach_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// noDirectory is a platform without a profile lookup (Teams): the zone
// and locale come with the user's own messages.
type noDirectory struct{}

func (noDirectory) Profile(_ context.Context, k trustbot.UserKey) (trustbot.Profile, error) {
	return trustbot.Profile{}, trustbot.Errorf(trustbot.ENOTFOUND, "no directory for %s", k.Platform())
}

var teamsUser = trustbot.UserKey{Team: trustbot.TeamsWorkspace("8f0d6a1e-3c1b-4b5e-9e7f-2a6c4d1b0e93"), User: "29:1aB3-xY_9"}

func teamsCoach(t *testing.T, now time.Time) (*coach.Coach, *testdb.DB) {
	t.Helper()
	db := MustStore(t)
	c := coach.New(MustLibrary(t), db, noDirectory{}, trustbot.Japanese, nil)
	c.Now = func() time.Time { return now }
	return c, db
}

// A Teams user's zone and locale come with their messages: the first one
// sets them, a later one in another zone moves the next check-in to the
// same local time there, and a message without them keeps what is known.
func TestProfileComesWithTheRequest(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC) // a Tuesday
	c, db := teamsCoach(t, now)
	ask := func(text string, p *trustbot.Profile) trustbot.Reply {
		return c.Handle(ctx, trustbot.Request{Kind: trustbot.Command, UserKey: teamsUser, Text: text, Typed: true, Direct: true, Profile: p})
	}
	r := ask("checkin weekly fri 16:00", &trustbot.Profile{TZ: "Asia/Tokyo", Locale: "en-US"})
	if !strings.Contains(r.Text, "Friday") {
		t.Fatalf("the locale of the request was not used: %q", r.Text)
	}
	s, err := db.Schedule(ctx, teamsUser)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 12, 4, 7, 0, 0, 0, time.UTC); !s.NextDueAt.Equal(want) {
		t.Fatalf("next check-in %v, want %v (16:00 in Tokyo)", s.NextDueAt, want)
	}
	ask("history", &trustbot.Profile{Locale: "en-GB"}) // no zone in this one
	if p, _ := db.Profile(ctx, teamsUser); p.TZ != "Asia/Tokyo" || p.Locale != "en-GB" {
		t.Fatalf("profile after a message without a zone: %+v", p)
	}
	ask("history", &trustbot.Profile{TZ: "Europe/London"})
	s, _ = db.Schedule(ctx, teamsUser)
	if want := time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC); !s.NextDueAt.Equal(want) {
		t.Fatalf("after moving to London the next check-in is %v, want %v", s.NextDueAt, want)
	}
}

// Until a Teams user's zone is known, the installation's is assumed and
// the reply says so, naming Teams, not Slack.
func TestTeamsTextsNameTeams(t *testing.T) {
	ctx := context.Background()
	c, _ := teamsCoach(t, time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC))
	lib := MustLibrary(t)
	r := c.Handle(ctx, trustbot.Request{Kind: trustbot.Command, UserKey: teamsUser, Text: "checkin weekly", Typed: true, Direct: true,
		Profile: &trustbot.Profile{Locale: "ja-JP"}})
	if !strings.Contains(all(r), lib.T(trustbot.Japanese, "checkin.zone_assumed.msteams", "zone", "Asia/Tokyo")) {
		t.Fatalf("no Teams note on the assumed zone in %q", all(r))
	}
	if strings.Contains(all(r), "Slack") {
		t.Fatalf("a Teams reply names Slack: %q", all(r))
	}
	r = c.Handle(ctx, trustbot.Request{Kind: trustbot.Command, UserKey: teamsUser, Channel: "a:1personal", Text: "weekly on", Typed: true, Direct: true})
	if r.Text != lib.T(trustbot.Japanese, "weekly.in_dm.msteams") {
		t.Fatalf("weekly in a personal chat: %q", r.Text)
	}
	// The same text for a Slack user keeps Slack's words.
	slack := MustCoach(t, "ja-JP")
	r = slack.Handle(ctx, trustbot.Request{Kind: trustbot.Command, UserKey: user, Channel: "D1", Direct: true, Text: "weekly on"})
	if r.Text != lib.T(trustbot.Japanese, "weekly.in_dm") {
		t.Fatalf("Slack weekly in a DM: %q", r.Text)
	}
}

// "home" shows the overview where a platform has no home tab.
func TestHomeCommand(t *testing.T) {
	c, _ := teamsCoach(t, time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC))
	ctx := context.Background()
	want := all(c.Handle(ctx, trustbot.Request{Kind: trustbot.Home, UserKey: teamsUser}))
	for _, text := range []string{"home", "ホーム"} {
		if got := all(c.Handle(ctx, trustbot.Request{Kind: trustbot.Command, UserKey: teamsUser, Text: text, Typed: true, Direct: true})); got != want {
			t.Errorf("%q: %q, want the overview %q", text, got, want)
		}
	}
}

// Installing greets once, briefly, in the user's language; uninstalling
// stops every delivery bound there and keeps the user's data.
func TestInstallAndUninstall(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	c, db := teamsCoach(t, now)
	lib := MustLibrary(t)
	r := c.Handle(ctx, trustbot.Request{Kind: trustbot.Install, UserKey: teamsUser, Direct: true, Profile: &trustbot.Profile{Locale: "en-US"}})
	if r.Text != lib.T(trustbot.English, "install.personal.msteams") || r.Public {
		t.Fatalf("personal greeting: %+v", r)
	}
	ch := "19:3b1c0f2d9e8a4b7c6d5e4f3a2b1c0d9e@thread.tacv2"
	r = c.Handle(ctx, trustbot.Request{Kind: trustbot.Install, UserKey: teamsUser, Channel: ch})
	if r.Text != lib.T(trustbot.English, "install.channel.msteams") || !r.Public {
		t.Fatalf("channel greeting: %+v", r)
	}
	ask := func(text, channel string, direct bool) trustbot.Reply {
		return c.Handle(ctx, trustbot.Request{Kind: trustbot.Command, UserKey: teamsUser, Channel: channel, Text: text, Typed: true, Direct: direct})
	}
	ask("checkin weekly fri 16:00", "a:1personal", true)
	ask("declined A-san", "a:1personal", true)
	ask("weekly on", ch, false)
	c.Handle(ctx, trustbot.Request{Kind: trustbot.Uninstall, UserKey: teamsUser, Direct: true})
	if s, err := db.Schedule(ctx, teamsUser); err != nil || s.Active || s.Stopped == "" {
		t.Fatalf("check-ins after uninstall: %+v %v", s, err)
	}
	if js, err := db.Journeys(ctx, teamsUser, true); err != nil || len(js) != 0 {
		t.Fatalf("active journeys after uninstall: %v %v", js, err)
	}
	if ds, err := db.Deliverable(ctx, now.Add(60*24*time.Hour), 100); err != nil || len(ds) != 0 {
		t.Fatalf("deliveries still pending after uninstall: %v %v", ds, err)
	}
	if sub, err := db.Subscription(ctx, teamsUser.Team, ch); err != nil || !sub.Active {
		t.Fatalf("removing the app from the personal chat stopped the channel's tip: %+v %v", sub, err)
	}
	c.Handle(ctx, trustbot.Request{Kind: trustbot.Uninstall, UserKey: teamsUser, Channel: ch})
	if sub, _ := db.Subscription(ctx, teamsUser.Team, ch); sub.Active {
		t.Fatal("the channel's tip goes on after the app left the team")
	}
	// Back in the personal chat (the app added again), the status says the
	// check-ins stopped with the removal, not that a message failed.
	status := all(ask("checkin status", "a:1personal", true))
	if !strings.Contains(status, lib.T(trustbot.English, "checkin.stopped_uninstalled", "cadence", "every Friday at 16:00")) ||
		strings.Contains(status, lib.T(trustbot.English, "checkin.stopped.msteams", "cadence", "every Friday at 16:00")) {
		t.Fatalf("check-in status after the app was removed: %q", status)
	}
	// The data stays: history still shows the journey.
	if js, err := db.Journeys(ctx, teamsUser, false); err != nil || len(js) != 1 {
		t.Fatalf("journeys kept: %v %v", js, err)
	}
}

// A refused form comes back with what was typed and what to correct,
// never thrown away.
func TestRefusedFormComesBack(t *testing.T) {
	c := MustCoach(t, "en-GB")
	ctx := context.Background()
	submit := func(inputs map[string]string) trustbot.Reply {
		return c.Handle(ctx, trustbot.Request{Kind: trustbot.Submit, UserKey: user, ActionID: coach.FormPlan, Inputs: inputs})
	}
	long := strings.Repeat("a", 301)
	for name, in := range map[string]map[string]string{
		"UnknownStage": {"stage": "no-such-stage", "horizon": "6", "goal": "Say good morning first"},
		"NoHorizon":    {"stage": "some-unease", "horizon": "", "goal": "Say good morning first"},
		"LongGoal":     {"stage": "some-unease", "horizon": "6", "goal": long},
	} {
		r := submit(in)
		if r.Modal == nil || r.Modal.ID != coach.FormPlan {
			t.Errorf("%s: the form did not come back: %q", name, r.Text)
			continue
		}
		kept := map[string]string{}
		for _, input := range r.Modal.Inputs {
			kept[input.ID] = input.Initial
		}
		if kept["goal"] != in["goal"] || kept["stage"] != in["stage"] {
			t.Errorf("%s: what was typed is lost: %v", name, kept)
		}
		if r.Text == "" || !strings.Contains(all(r), "\"") {
			t.Errorf("%s: no problem named: %q", name, r.Text)
		}
	}
	if js, _ := c.Store.Journeys(ctx, user, true); len(js) != 0 {
		t.Fatalf("a refused form started a plan: %v", js)
	}
	r := submit(map[string]string{"stage": "some-unease", "horizon": "6", "goal": "Say good morning first"})
	if r.Modal != nil {
		t.Fatalf("a good form came back: %q", r.Text)
	}
}
