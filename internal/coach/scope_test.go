package coach_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestNoUserReachesAnothersData gives a user check-ins, a note, journeys
// and a "try this" follow-up, then has two others (another user, and the
// same user ID in another workspace) press every control and submit every
// form with the first user's IDs: the first user's data must be exactly as
// it was, and nothing of it may show in what the others see.
func TestNoUserReachesAnothersData(t *testing.T) {
	e := newCheckinEnv(t)
	ctx := context.Background()
	lib := MustLibrary(t)
	victim := user
	e.cmd(victim, "checkin weekly fri 16:00")
	e.now = time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	d := e.deliver(t)[0]
	e.c.Handle(ctx, trustbot.Request{Kind: trustbot.Submit, UserKey: victim, ActionID: coach.FormNote, Value: d.ID,
		Inputs: map[string]string{"note": "the victim's private note", "action": "the victim's action"}})
	e.cmd(victim, "declined the victim's label")
	e.c.Handle(ctx, trustbot.Request{Kind: trustbot.Submit, UserKey: victim, ActionID: coach.FormPlan,
		Inputs: map[string]string{"label": "plan label", "stage": "some-unease", "goal": "the victim's goal", "horizon": "3"}})
	tip := lib.Tips()[0]
	e.press(victim, coach.ActTry, tip.ID)
	journeys, _ := e.db.Journeys(ctx, victim, false)
	pending, _ := e.db.Deliverable(ctx, e.now.Add(30*24*time.Hour), 100)
	var tryit string
	for _, p := range pending {
		if p.Kind == coach.KindTryit {
			tryit = p.ID
		}
	}
	if len(journeys) != 2 || tryit == "" {
		t.Fatalf("setup: %d journeys, tryit %q", len(journeys), tryit)
	}
	snapshot := func() string {
		u, err := e.db.Export(ctx, victim)
		if err != nil {
			t.Fatal(err)
		}
		u.ExportedAt = time.Time{}
		b, _ := json.Marshal(u)
		return string(b)
	}
	before := snapshot()

	var values [][2]string
	for _, q := range lib.Checkin.Questions {
		values = append(values, [2]string{coach.ActAnswer, d.ID + ":" + q.ID + ":" + q.Choices[0].ID})
	}
	values = append(values,
		[2]string{coach.ActSnooze, d.ID + ":3h"}, [2]string{coach.ActSnooze, d.ID + ":1d"},
		[2]string{coach.ActSkip, d.ID}, [2]string{coach.ActNote, d.ID},
		[2]string{coach.ActTryAnswer, tryit + ":tried"},
	)
	for _, j := range journeys {
		for _, v := range []string{j.ID + ":cooling-day-14:small-talk", j.ID + ":review-1:working-well", j.ID + ":repair-day-7:kept"} {
			values = append(values, [2]string{coach.ActJourneySign, v}, [2]string{coach.ActJourneyAnswer, v})
		}
		values = append(values,
			[2]string{coach.ActJourneySnooze, j.ID + ":7"}, [2]string{coach.ActJourneyStop, j.ID}, [2]string{coach.ActDeclinedAgain, j.ID})
	}
	secrets := []string{"the victim's private note", "the victim's action", "the victim's label", "plan label", "the victim's goal"}
	for _, attacker := range []trustbot.UserKey{{Team: "T1", User: "UMALLORY"}, {Team: "T2", User: victim.User}} {
		for _, v := range values {
			r := e.press(attacker, v[0], v[1])
			for _, s := range secrets {
				if strings.Contains(all(r), s) {
					t.Errorf("%s pressing %s saw %q", attacker, v[0], s)
				}
			}
		}
		r := e.c.Handle(ctx, trustbot.Request{Kind: trustbot.Submit, UserKey: attacker, ActionID: coach.FormNote, Value: d.ID,
			Inputs: map[string]string{"note": "overwritten by an attacker"}})
		if !strings.Contains(r.Text, "couldn't be used") {
			t.Errorf("%s submitting a note on another's check-in: %q", attacker, r.Text)
		}
		for _, cmd := range []string{"history", "journeys", "checkin status", "plan status", "export"} {
			r := e.cmd(attacker, cmd)
			if r.File != nil {
				r.Text += string(r.File.Data)
			}
			for _, s := range secrets {
				if strings.Contains(all(r), s) {
					t.Errorf("%s: /trust %s shows %q", attacker, cmd, s)
				}
			}
		}
	}
	if after := snapshot(); after != before {
		t.Fatalf("the victim's data changed:\nbefore %s\nafter  %s", before, after)
	}
}
