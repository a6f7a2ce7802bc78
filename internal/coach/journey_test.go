package coach_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/calendar"
	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/trustbot"
)

func TestJourneyLimitAndOwnership(t *testing.T) {
	e := newCheckinEnv(t)
	lib := MustLibrary(t)
	for i := range coach.MaxJourneys {
		if r := e.cmd(user, "declined"); !strings.Contains(all(r), lib.Journeys["cooling"].Title.In(trustbot.English)) {
			t.Fatalf("journey %d not started: %q", i, all(r))
		}
	}
	r := e.cmd(user, "repair")
	if !strings.Contains(all(r), "You already have 5 in progress") {
		t.Fatalf("sixth journey: %q", all(r))
	}
	js, _ := e.db.Journeys(context.Background(), user, true)
	if len(js) != coach.MaxJourneys {
		t.Fatalf("%d journeys", len(js))
	}
	id := js[0].ID
	mallory := trustbot.UserKey{Team: "T1", User: "UMALLORY"}
	invalid := lib.T(trustbot.English, "error.invalid")
	for _, a := range [][2]string{
		{coach.ActJourneyStop, id},
		{coach.ActJourneySnooze, id + ":7"},
		{coach.ActJourneySign, id + ":cooling-day-14:small-talk"},
		{coach.ActDeclinedAgain, id},
	} {
		if r := e.press(mallory, a[0], a[1]); r.Text != invalid {
			t.Errorf("%s on another user's journey: %q", a[0], r.Text)
		}
	}
	for _, v := range []string{id + ":cooling-day-14:bribery", id + ":no-such-step:small-talk", id} {
		if r := e.press(user, coach.ActJourneySign, v); r.Text != invalid {
			t.Errorf("forged sign %q: %q", v, r.Text)
		}
	}
	if j, _ := e.db.Journey(context.Background(), user, id); j.State != trustbot.Active || len(j.Data.Signs) != 0 {
		t.Fatalf("journey changed by forged presses: %+v", j)
	}
	// Snoozing moves the next follow-up a week later.
	before, _ := e.db.Journey(context.Background(), user, id)
	e.press(user, coach.ActJourneySnooze, id+":7")
	after, _ := e.db.Journey(context.Background(), user, id)
	if d := after.NextDueAt.Sub(before.NextDueAt); d < 6*24*time.Hour || d > 9*24*time.Hour {
		t.Fatalf("snooze moved the follow-up by %v", d)
	}
}

// TestJourneyCatchUp: after downtime, a journey sends its latest missed
// follow-up once, not every one it missed.
func TestJourneyCatchUp(t *testing.T) {
	e := newCheckinEnv(t)
	e.cmd(user, "declined")
	js, _ := e.db.Journeys(context.Background(), user, true)
	j := js[0]
	set, _ := e.db.Settings(context.Background(), user)
	now := j.NextDueAt.Add(22 * 24 * time.Hour) // down from day 3 to about day 25
	next, key := e.c.AdvanceJourney(j, set.Prefs, now)
	if key != "cooling-day-21" {
		t.Fatalf("claimed %q after downtime, want the latest missed step, cooling-day-21", key)
	}
	if !next.NextDueAt.After(now) {
		t.Fatalf("next follow-up %s is not after now %s", next.NextDueAt, now)
	}
}

// TestJourneyFollowsAZoneChange: a user on a journey moves from Tokyo to
// New York. Their next follow-up moves to the same local date and time in
// the new zone, whether the move is seen by a command (the language
// follows the platform's locale, so the profile is read) or when a
// follow-up goes out (the language is set: building the DM does not read
// the profile).
func TestJourneyFollowsAZoneChange(t *testing.T) {
	ctx := context.Background()
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	ny, _ := time.LoadLocation("America/New_York")
	const layout = "Mon 2 Jan 15:04"
	// move makes the cached profile stale and the platform say New York.
	move := func(e *checkinEnv) {
		t.Helper()
		if err := e.db.SaveProfile(ctx, trustbot.Profile{UserKey: user, TZ: "Asia/Tokyo", Locale: "en-US", FetchedAt: e.now.Add(-coach.ProfileTTL - time.Hour)}); err != nil {
			t.Fatal(err)
		}
		e.dir.tz = "America/New_York"
	}
	journey := func(e *checkinEnv) trustbot.Journey {
		t.Helper()
		js, err := e.db.Journeys(ctx, user, true)
		if err != nil || len(js) != 1 {
			t.Fatalf("journeys: %v %v", js, err)
		}
		return js[0]
	}

	t.Run("seen by a command", func(t *testing.T) {
		e := newCheckinEnv(t) // language: auto, read from the profile
		e.cmd(user, "declined")
		before := journey(e).NextDueAt.In(tokyo).Format(layout)
		move(e)
		e.cmd(user, "journeys")
		if got := journey(e).NextDueAt.In(ny).Format(layout); got != before {
			t.Fatalf("next follow-up %s in New York, want %s there as it was in Tokyo", got, before)
		}
	})

	t.Run("seen when a follow-up goes out", func(t *testing.T) {
		e := newCheckinEnv(t)
		e.cmd(user, "lang en")
		e.cmd(user, "declined")
		e.now = journey(e).NextDueAt
		ds, err := e.db.ClaimDueJourneys(ctx, e.now, 10, func(j trustbot.Journey, p trustbot.Prefs) (trustbot.Journey, string) {
			return e.c.AdvanceJourney(j, p, e.now)
		})
		if err != nil || len(ds) != 1 {
			t.Fatalf("claim: %v %v", ds, err)
		}
		planned := journey(e).NextDueAt.In(tokyo).Format(layout)
		move(e)
		if _, err := e.c.Message(ctx, ds[0]); err != nil {
			t.Fatal(err)
		}
		e.c.Delivered(ctx, ds[0], e.now)
		if got := journey(e).NextDueAt.In(ny).Format(layout); got != planned {
			t.Fatalf("follow-up after the move %s in New York, want %s there as planned in Tokyo", got, planned)
		}
	})
}

// TestFollowUpsKeepTheUsersDays: a journey's follow-ups keep to the same
// rules as check-ins (workdays, Japanese public holidays, quiet hours), for
// a user in Tokyo who never chose about holidays (skipped by default there)
// and when the rules change after the journey began.
func TestFollowUpsKeepTheUsersDays(t *testing.T) {
	ctx := context.Background()
	cal := calendar.New()
	tokyo := coach.Location("Asia/Tokyo")
	for _, tc := range []struct {
		name          string
		before, after []string // commands before and after the plan starts
		workdays      trustbot.Weekdays
		quiet         [2]int // minutes; no follow-up at or after [0] and before [1]
	}{
		{name: "never chose", workdays: trustbot.MondayToFriday},
		{name: "rules set first", before: []string{"workdays mon-thu", "quiet 09:30-10:30", "holidays jp"},
			workdays: trustbot.MondayToFriday &^ (1 << time.Friday), quiet: [2]int{9*60 + 30, 10*60 + 30}},
		{name: "rules changed after", after: []string{"workdays mon-thu", "quiet 09:30-10:30"},
			workdays: trustbot.MondayToFriday &^ (1 << time.Friday), quiet: [2]int{9*60 + 30, 10*60 + 30}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newCheckinEnv(t)
			e.c.Holidays = cal
			e.now = time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
			for _, c := range tc.before {
				e.cmd(user, c)
			}
			e.c.Handle(ctx, trustbot.Request{Kind: trustbot.Submit, UserKey: user, ActionID: coach.FormPlan,
				Inputs: map[string]string{"label": "x", "stage": "some-unease", "goal": "g", "horizon": "3"}})
			for _, c := range tc.after {
				e.cmd(user, c)
			}
			sent := 0
			for range 20 {
				js, err := e.db.Journeys(ctx, user, true)
				if err != nil {
					t.Fatal(err)
				}
				if len(js) == 0 {
					break
				}
				local := js[0].NextDueAt.In(tokyo)
				d, m := trustbot.DateOf(local), local.Hour()*60+local.Minute()
				if !tc.workdays.Has(d.Weekday()) || cal.IsHoliday("jp", d) || m >= tc.quiet[0] && m < tc.quiet[1] {
					t.Errorf("follow-up %d at %s (%s): not a time the user allows", js[0].Step, local.Format("2006-01-02 15:04"), d.Weekday())
				}
				e.now = js[0].NextDueAt
				ds, err := e.db.ClaimDueJourneys(ctx, e.now, 10, func(j trustbot.Journey, p trustbot.Prefs) (trustbot.Journey, string) {
					return e.c.AdvanceJourney(j, p, e.now)
				})
				if err != nil {
					t.Fatal(err)
				}
				sent += len(ds)
			}
			if sent < 8 {
				t.Errorf("%d follow-ups of a 3-month plan, want every step and review", sent)
			}
		})
	}
}
