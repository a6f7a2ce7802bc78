package coach_test

import (
	"context"
	"strings"
	"testing"
	"time"

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
