package fakeslack

import (
	"errors"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// Messages in the app's DM arrive as slack-go parses real ones: a
// message.im event per message typed, echoes of the app's own posts with
// bot_id, edits and deletions as subtypes, each with its own event_id.
func TestDMMessageEvents(t *testing.T) {
	s := newServer(t)
	if _, err := s.UserMessage("U1", "tip", ""); !errors.Is(err, ErrNotSubscribed) {
		t.Fatalf("a message with no message.im subscription: %v", err)
	}
	s.Subscribe("app_home_opened", "message.im")
	h := startClient(t, s)
	inner := func() (*slackevents.MessageEvent, string) {
		t.Helper()
		ev := h.waitEvent(t, socketmode.EventTypeEventsAPI, nil)
		outer := ev.Data.(slackevents.EventsAPIEvent)
		cb := outer.Data.(*slackevents.EventsAPICallbackEvent)
		m, ok := outer.InnerEvent.Data.(*slackevents.MessageEvent)
		if !ok || outer.Type != slackevents.CallbackEvent || cb.EventID == "" {
			t.Fatalf("not a message event_callback: %+v %T", outer, outer.InnerEvent.Data)
		}
		return m, cb.EventID
	}

	ts, err := s.UserMessage("U1", "check a < b & c", "")
	if err != nil {
		t.Fatal(err)
	}
	m, first := inner()
	if m.User != "U1" || m.Channel != "DU1" || m.ChannelType != "im" || m.Text != "check a &lt; b &amp; c" || m.TimeStamp != ts || m.BotID != "" || m.SubType != "" {
		t.Fatalf("typed message: %+v", m)
	}
	if _, _, err := newAPI(s).PostMessage("U1", slack.MsgOptionText("a tip", false)); err != nil {
		t.Fatal(err)
	}
	m, second := inner()
	if m.BotID != BotID || m.User != BotUserID || m.Channel != "DU1" || m.Text != "a tip" || second == first {
		t.Fatalf("echo of the app's post: %+v (%s, %s)", m, first, second)
	}
	if err := s.EditUserMessage("U1", ts, "help"); err != nil {
		t.Fatal(err)
	}
	if m, _ = inner(); m.SubType != "message_changed" || m.Message == nil || m.Message.Text != "help" {
		t.Fatalf("edit: %+v", m)
	}
	if err := s.DeleteUserMessage("U1", ts); err != nil {
		t.Fatal(err)
	}
	if m, _ = inner(); m.SubType != "message_deleted" || m.DeletedTimeStamp != ts {
		t.Fatalf("deletion: %+v", m)
	}
	if err := s.EditUserMessage("U1", ts, "again"); !errors.Is(err, ErrNoMessage) {
		t.Fatalf("editing a deleted message: %v", err)
	}
	// Messages outside a DM and ephemeral ones are not echoed.
	if _, _, err := newAPI(s).PostMessage("C1", slack.MsgOptionText("in a channel", false)); err != nil {
		t.Fatal(err)
	}
	if _, err := newAPI(s).PostEphemeral("C1", "U1", slack.MsgOptionText("only you", false)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserMessage("U1", "last", ""); err != nil {
		t.Fatal(err)
	}
	if m, _ = inner(); m.Text != "last" {
		t.Fatalf("an event for a message outside the DM: %+v", m)
	}
}
