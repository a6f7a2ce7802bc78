package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// journey reads the user's only active journey of kind from the bot's
// database.
func (b *Bot) journey(t *testing.T, user, kind string) trustbot.Journey {
	t.Helper()
	db := testdb.OpenAt(t, b.DB)
	defer db.Close()
	js, err := db.Journeys(context.Background(), trustbot.UserKey{Team: fakeslack.TeamID, User: user}, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range js {
		if j.Kind == kind {
			return j
		}
	}
	t.Fatalf("%s has no %s journey", user, kind)
	return trustbot.Journey{}
}

// runJourney dispatches at each due instant of the user's journey until it
// ends, calling each with every new DM; it returns the DMs in order.
func (b *Bot) runJourney(t *testing.T, user, kind string, each func(i int, m fakeslack.Message)) []fakeslack.Message {
	t.Helper()
	var got []fakeslack.Message
	for i := 0; i < 40; i++ {
		j := b.journey(t, user, kind)
		if j.State != trustbot.Active || j.NextDueAt.IsZero() {
			return got
		}
		before := len(b.Slack.Messages("D" + user))
		b.Dispatch(t, "--now", j.NextDueAt.Format(time.RFC3339))
		msgs := b.Slack.Messages("D" + user)
		if len(msgs) != before+1 {
			t.Fatalf("item %d: %d new DMs, want 1", i, len(msgs)-before)
		}
		got = append(got, msgs[before])
		if each != nil {
			each(i, msgs[before])
		}
	}
	t.Fatal("journey did not end within 40 follow-ups")
	return nil
}

func contains(m fakeslack.Message, s string) bool {
	return strings.Contains(string(m.Blocks), jsonText(s))
}

func TestCoolingJourney(t *testing.T) {
	t.Parallel() // its own fake platform and database
	lib := mustLibrary(t)
	content := lib.Journeys["cooling"]
	bot := MustRunBot(t, nil)
	reapproach, _ := lib.Situation("re-approach")
	for _, tc := range []struct {
		user  string
		lang  trustbot.Lang
		cmd   string
		signs bool
	}{
		{jaUser, trustbot.Japanese, "断られた Aさん", true},
		{enUser, trustbot.English, "declined", false},
	} {
		t.Run(string(tc.lang), func(t *testing.T) {
			_, r := bot.Slash(t, tc.user, tc.cmd)
			if !strings.Contains(r.raw, jsonText(firstLine(content.Intro.In(tc.lang)))) {
				t.Fatalf("no intro at once: %s", r.raw)
			}
			j := bot.journey(t, tc.user, "cooling")
			dms := bot.runJourney(t, tc.user, "cooling", func(i int, m fakeslack.Message) {
				if i < len(content.Steps) {
					step := content.Steps[i]
					if !contains(m, step.Title.In(tc.lang)) {
						t.Errorf("day %d: step title missing: %s", step.Day, m.Blocks)
					}
					if step.Day < 21 && (contains(m, content.Endings["with-signs"].Title.In(tc.lang)) || contains(m, playbook.FillChat(reapproach.Phrasings[0].Polite.In(tc.lang), "Slack"))) {
						t.Errorf("day %d: asking again suggested before week 3", step.Day)
					}
					if step.AskSigns && tc.signs && step.Day == 21 {
						cur := messageReply(m)
						bot.PressValue(t, tc.user, cur, "journey.sign", ":small-talk")
						bot.PressValue(t, tc.user, cur, "journey.sign", ":more-smiles")
					}
					if !strings.Contains(string(m.Blocks), `"journey.stop#`) {
						t.Errorf("day %d: no stop button", step.Day)
					}
				}
			})
			if len(dms) != len(content.Steps)+1 {
				t.Fatalf("%d DMs, want %d steps and an ending", len(dms), len(content.Steps))
			}
			end := dms[len(dms)-1]
			withSigns := contains(end, content.Endings["with-signs"].Title.In(tc.lang))
			if withSigns != tc.signs {
				t.Fatalf("ending with signs = %v, want %v: %s", withSigns, tc.signs, end.Blocks)
			}
			if !tc.signs && (contains(end, playbook.FillChat(reapproach.Phrasings[0].Polite.In(tc.lang), "Slack")) || !contains(end, content.Endings["without-signs"].Title.In(tc.lang))) {
				t.Fatalf("without signs, the ending must not suggest asking again: %s", end.Blocks)
			}
			if tc.signs && !contains(end, playbook.FillChat(reapproach.Phrasings[0].Polite.In(tc.lang), "Slack")) {
				t.Fatalf("with signs, the ending shows soft phrasings: %s", end.Blocks)
			}
			if j.Label != "" && !contains(end, j.Label) {
				t.Errorf("the private label is not shown back to its owner")
			}
		})
	}

	t.Run("DeclinedAgainClosesIt", func(t *testing.T) {
		bot.Slash(t, jaUser, "declined")
		_, r := bot.Slash(t, jaUser, "断られた また")
		again := content.Endings["declined-again"]
		if !strings.Contains(r.raw, jsonText(again.Title.In(trustbot.Japanese))) || strings.Contains(r.raw, jsonText(reapproach.Title.In(trustbot.Japanese))) {
			t.Fatalf("declined again: %s", r.raw)
		}
	})
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// TestStoppedJourneySendsNothing: stopping is immediate.
func TestStoppedJourneySendsNothing(t *testing.T) {
	t.Parallel() // its own fake platform and database
	lib := mustLibrary(t)
	bot := MustRunBot(t, nil)
	_, r := bot.Slash(t, enUser, "repair my manager")
	if !strings.Contains(r.raw, jsonText(firstLine(lib.Journeys["repair"].Intro.In(trustbot.English)))) {
		t.Fatalf("repair intro: %s", r.raw)
	}
	j := bot.journey(t, enUser, "repair")
	bot.Dispatch(t, "--now", j.NextDueAt.Format(time.RFC3339))
	dms := bot.Slack.Messages("D" + enUser)
	if len(dms) != 1 {
		t.Fatalf("%d DMs", len(dms))
	}
	stopped := bot.PressValue(t, enUser, messageReply(dms[0]), "journey.stop", j.ID)
	if !strings.Contains(stopped.raw, "No more messages") {
		t.Fatalf("stop: %s", stopped.raw)
	}
	for _, d := range []int{7, 14, 21, 40} {
		bot.Dispatch(t, "--now", j.StartedAt.Add(time.Duration(d)*24*time.Hour).Format(time.RFC3339))
	}
	if n := len(bot.Slack.Messages("D" + enUser)); n != 1 {
		t.Fatalf("%d DMs after stopping, want still 1", n)
	}
	_, r = bot.Slash(t, enUser, "journeys")
	if !strings.Contains(r.raw, jsonText(lib.T(trustbot.English, "journey.none"))) {
		t.Fatalf("journeys after stopping: %s", r.raw)
	}
}

// TestPlanJourney: the plan form, its steps with one action each, monthly
// reviews by stage buttons, and the progress in history.
func TestPlanJourney(t *testing.T) {
	t.Parallel() // its own fake platform and database
	lib := mustLibrary(t)
	content := lib.Journeys["plan"]
	bot := MustRunBot(t, nil)
	// /trust plan answers with a form: no reply at the response_url.
	env, err := bot.Slack.SlashCommand(fakeslack.SlashCommand{UserID: jaUser, Text: "plan"})
	if err != nil {
		t.Fatal(err)
	}
	bot.Slack.WaitAck(ctxTimeout(t), env)
	views := bot.waitViews(t, "open", "", 1)
	if !strings.Contains(string(views[0].View), `"callback_id":"plan.new"`) {
		t.Fatalf("plan form: %s", views[0].View)
	}
	env, err = bot.Slack.Interactive(map[string]any{
		"type": "view_submission", "user": map[string]string{"id": jaUser, "team_id": fakeslack.TeamID},
		"team": map[string]string{"id": fakeslack.TeamID},
		"view": map[string]any{"id": "V2", "type": "modal", "callback_id": "plan.new",
			"state": map[string]any{"values": map[string]any{
				"label":   map[string]any{"label": map[string]string{"type": "plain_text_input", "value": "Cさん"}},
				"stage":   map[string]any{"stage": map[string]any{"type": "static_select", "selected_option": map[string]string{"value": "some-unease"}}},
				"goal":    map[string]any{"goal": map[string]string{"type": "plain_text_input", "value": "3か月後に率直に相談し合える"}},
				"horizon": map[string]any{"horizon": map[string]any{"type": "static_select", "selected_option": map[string]string{"value": "3"}}},
			}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	bot.Slack.WaitAck(ctxTimeout(t), env)
	deadline := time.Now().Add(patience)
	for len(bot.Slack.Messages("D"+jaUser)) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if dm := bot.Slack.Messages("D" + jaUser); len(dm) != 1 || !strings.Contains(string(dm[0].Blocks), "3か月後に率直に相談し合える") {
		t.Fatalf("plan start by DM: %+v", dm)
	}
	steps, reviews := 0, 0
	bot.runJourney(t, jaUser, "plan", func(i int, m fakeslack.Message) {
		switch {
		case strings.Contains(string(m.Blocks), `"journey.answer#`):
			reviews++
			if !contains(m, content.Review.Title.In(trustbot.Japanese)) {
				t.Errorf("review without its question: %s", m.Blocks)
			}
			bot.PressValue(t, jaUser, messageReply(m), "journey.answer", ":working-well")
		case contains(m, lib.T(trustbot.Japanese, "journey.action_title")):
			steps++
		}
	})
	if steps != 5 || reviews != 2 {
		t.Fatalf("%d steps and %d reviews over 3 months, want 5 and 2", steps, reviews)
	}
	last := bot.Slack.Messages("D" + jaUser)
	end := last[len(last)-1]
	stages := map[string]string{}
	for _, s := range content.Stages {
		stages[s.ID] = s.Label.In(trustbot.Japanese)
	}
	if !contains(end, content.Finished.Title.In(trustbot.Japanese)) || !contains(end, stages["some-unease"]) || !contains(end, stages["working-well"]) {
		t.Fatalf("plan ending without its progress: %s", end.Blocks)
	}
	_, h := bot.Slash(t, jaUser, "history")
	if !strings.Contains(h.raw, jsonText(lib.T(trustbot.Japanese, "journey.list_title"))) && !strings.Contains(h.raw, jsonText(lib.T(trustbot.Japanese, "history.empty"))) {
		t.Fatalf("history: %s", h.raw)
	}
}

func TestRepairJourney(t *testing.T) {
	t.Parallel() // its own fake platform and database
	lib := mustLibrary(t)
	content := lib.Journeys["repair"]
	bot := MustRunBot(t, nil)
	_, r := bot.Slash(t, jaUser, "修復 Dさん")
	apology, _ := lib.Situation("apology-repair")
	if !strings.Contains(r.raw, jsonText(playbook.FillChat(apology.Phrasings[0].Polite.In(trustbot.Japanese), "Slack"))) {
		t.Fatalf("repair start lacks apology phrasings: %s", r.raw)
	}
	asked := 0
	dms := bot.runJourney(t, jaUser, "repair", func(i int, m fakeslack.Message) {
		if i < len(content.Steps) {
			if !contains(m, content.Steps[i].Title.In(trustbot.Japanese)) || !contains(m, "Dさん") {
				t.Errorf("step %d: %s", i, m.Blocks)
			}
			if content.Steps[i].AskPromises {
				asked++
				if !contains(m, content.PromiseQuestion.In(trustbot.Japanese)) {
					t.Errorf("step %d asks no promise question", i)
				}
				got := bot.PressValue(t, jaUser, messageReply(m), "journey.answer", ":kept")
				if !strings.Contains(got.raw, "✓") {
					t.Errorf("promise answer not shown: %s", got.raw)
				}
			}
		}
	})
	if asked == 0 || len(dms) != len(content.Steps)+1 {
		t.Fatalf("%d DMs, %d promise questions", len(dms), asked)
	}
	if !contains(dms[len(dms)-1], content.Endings["done"].Title.In(trustbot.Japanese)) {
		t.Fatalf("repair ending: %s", dms[len(dms)-1].Blocks)
	}
}

// A plan form Slack sends back with a value trustbot refuses (a goal over
// its limit, as an old client that ignores max_length may send): what to
// correct arrives by DM, and the form opens again with what was typed.
func TestPlanFormRefusedInSlack(t *testing.T) {
	bot := MustRunBot(t, nil)
	long := strings.Repeat("率直に", 120)
	env, err := bot.Slack.Interactive(map[string]any{
		"type": "view_submission", "user": map[string]string{"id": jaUser, "team_id": fakeslack.TeamID},
		"team": map[string]string{"id": fakeslack.TeamID}, "trigger_id": "T.refused",
		"view": map[string]any{"id": "V3", "type": "modal", "callback_id": "plan.new",
			"state": map[string]any{"values": map[string]any{
				"stage":   map[string]any{"stage": map[string]any{"type": "static_select", "selected_option": map[string]string{"value": "some-unease"}}},
				"goal":    map[string]any{"goal": map[string]string{"type": "plain_text_input", "value": long}},
				"horizon": map[string]any{"horizon": map[string]any{"type": "static_select", "selected_option": map[string]string{"value": "3"}}},
			}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	bot.Slack.WaitAck(ctxTimeout(t), env)
	views := bot.waitViews(t, "open", "", 1)
	if !strings.Contains(string(views[0].View), long) {
		t.Fatalf("the form did not open again with the goal typed: %s", views[0].View)
	}
	dm := bot.Slack.Messages("D" + jaUser)
	if len(dm) != 1 || !strings.Contains(string(dm[0].Blocks), "300") {
		t.Fatalf("no DM saying what to correct: %+v", dm)
	}
}
