package slack

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// suggestion is a block_suggestion payload: someone typed value in the
// menu of the given action_id.
func suggestion(actionID, value string) map[string]any {
	return map[string]any{
		"type":      "block_suggestion",
		"user":      map[string]string{"id": fakeslack.DefaultUserID, "team_id": fakeslack.TeamID},
		"container": map[string]any{"type": "message", "is_ephemeral": true, "channel_id": fakeslack.DefaultChannelID},
		"action_id": actionID,
		"block_id":  "b1",
		"value":     value,
	}
}

type optionsAck struct {
	Options []struct {
		Text struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"text"`
		Value string `json:"value"`
	} `json:"options"`
}

// menuHandler answers a Suggest request with the choices whose label
// holds what was typed, and records the requests.
func menuHandler(seen chan<- trustbot.Request, choices []trustbot.Option) handlerFunc {
	return func(_ context.Context, req trustbot.Request) trustbot.Reply {
		if req.Kind != trustbot.Suggest {
			return textReply("answer to " + req.Text)
		}
		seen <- req
		var out []trustbot.Option
		for _, o := range choices {
			if strings.Contains(o.Label, req.Text) {
				out = append(out, o)
			}
		}
		return trustbot.Reply{Options: out}
	}
}

// A menu's choices come in the ack of its block_suggestion, within Slack's
// limits, and nothing else is sent for it.
func TestMenuChoicesInTheAck(t *testing.T) {
	choices := []trustbot.Option{{Label: "信頼の修復", Value: "repairing-trust"}, {Label: "上司との信頼", Value: "managers"},
		{Label: "修復の前に" + strings.Repeat("長", 100), Value: "long-label"}, {Label: "修復", Value: strings.Repeat("v", 200)}}
	for range 120 {
		choices = append(choices, trustbot.Option{Label: "多い", Value: "many"})
	}
	seen := make(chan trustbot.Request, 4)
	fake := runClient(t, menuHandler(seen, choices), nil)
	id, err := fake.Interactive(suggestion("tip.topic#1", "修復"))
	if err != nil {
		t.Fatal(err)
	}
	ack, err := fake.WaitAck(waitCtx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	req := <-seen
	if req.ActionID != "tip.topic" || req.Text != "修復" || req.Team != fakeslack.TeamID || req.User != fakeslack.DefaultUserID {
		t.Fatalf("request %+v", req)
	}
	var got optionsAck
	if err := json.Unmarshal(ack.Payload, &got); err != nil {
		t.Fatalf("ack %s: %v", ack.Payload, err)
	}
	// The value over 150 characters is left out; the long label is cut.
	if len(got.Options) != 2 || got.Options[0].Value != "repairing-trust" || got.Options[0].Text.Type != "plain_text" ||
		got.Options[0].Text.Text != "信頼の修復" || got.Options[1].Value != "long-label" || utf8.RuneCountInString(got.Options[1].Text.Text) > MaxOptionText {
		t.Fatalf("options %s", ack.Payload)
	}

	// Nothing matches: an empty list, not an empty ack.
	id, _ = fake.Interactive(suggestion("tip.topic#1", "xyzzy"))
	ack, err = fake.WaitAck(waitCtx(t), id)
	if err != nil || strings.TrimSpace(string(ack.Payload)) != `{"options":[]}` {
		t.Fatalf("no match: ack %s (%v)", ack.Payload, err)
	}
	<-seen
	// More than a menu holds: the first 100.
	id, _ = fake.Interactive(suggestion("tip.topic#1", "多い"))
	ack, _ = fake.WaitAck(waitCtx(t), id)
	<-seen
	if err := json.Unmarshal(ack.Payload, &got); err != nil || len(got.Options) != MaxSelectOptions {
		t.Fatalf("%d options (%v)", len(got.Options), err)
	}
	settled(t, fake)
	if n := acksOf(fake, id); n != 1 {
		t.Fatalf("%d acks of a suggestion", n)
	}
	if n := len(fake.Messages(fakeslack.DefaultChannelID)); n != 0 {
		t.Fatalf("%d messages posted for a menu's choices", n)
	}
}

// Choices not ready when the budget ends: the ack goes with none, once,
// and the late choices go nowhere.
func TestMenuChoicesTooLate(t *testing.T) {
	release := make(chan struct{})
	done := make(chan struct{})
	var fire func()
	fired := make(chan struct{})
	fake := runClient(t, handlerFunc(func(_ context.Context, req trustbot.Request) trustbot.Reply {
		if req.Kind != trustbot.Suggest {
			return textReply("answer to " + req.Text)
		}
		defer close(done)
		<-release
		return trustbot.Reply{Options: []trustbot.Option{{Label: "late", Value: "late"}}}
	}), func(c *Client) {
		c.afterFunc = func(d time.Duration, f func()) func() bool {
			if d == SuggestBudget {
				fire = f
				close(fired)
				return func() bool { return false }
			}
			return time.AfterFunc(d, f).Stop
		}
	})
	id, err := fake.Interactive(suggestion("tip.topic#0", ""))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-fired:
	case <-waitCtx(t).Done():
		t.Fatal("no budget was set for the choices")
	}
	fire() // the budget ends while the choices are being found
	ack, err := fake.WaitAck(waitCtx(t), id)
	if err != nil || string(ack.Payload) != `{"options":[]}` {
		t.Fatalf("ack %s (%v)", ack.Payload, err)
	}
	close(release)
	<-done
	settled(t, fake)
	if n := acksOf(fake, id); n != 1 {
		t.Fatalf("%d acks of the suggestion", n)
	}
}

func acksOf(fake *fakeslack.Server, envelopeID string) int {
	n := 0
	for _, a := range fake.Acks() {
		if a.EnvelopeID == envelopeID {
			n++
		}
	}
	return n
}

// In HTTP mode Slack posts a block_suggestion to the options load URL
// (set to the interactivity path, as the HTTP manifest does): the
// response carries the choices.
func TestHTTPMenuChoices(t *testing.T) {
	seen := make(chan trustbot.Request, 1)
	app := runHTTPClient(t, menuHandler(seen, []trustbot.Option{{Label: "信頼の修復", Value: "repairing-trust"}}), nil)
	if _, err := app.fake.PostInteractive(suggestion("tip.topic#1", "修")); err == nil {
		t.Fatal("a block_suggestion was posted with no options load URL")
	}
	app.fake.SetOptionsURL(app.base + InteractivePath)
	d, err := app.fake.PostInteractive(suggestion("tip.topic#1", "修"))
	if err != nil || !d.OK() {
		t.Fatalf("block_suggestion: %d %s (%v)", d.Status, d.Body, err)
	}
	var got optionsAck
	if err := json.Unmarshal(d.Body, &got); err != nil || len(got.Options) != 1 || got.Options[0].Value != "repairing-trust" {
		t.Fatalf("response %s (%v)", d.Body, err)
	}
	if req := <-seen; req.Kind != trustbot.Suggest || req.ActionID != "tip.topic" || req.Text != "修" {
		t.Fatalf("request %+v", req)
	}
}
