package fakeslack

import (
	"errors"
	"strings"
)

// Message events in the app's DMs. Slack sends an app the events its
// manifest subscribes to (settings.event_subscriptions.bot_events); for
// "message.im" that is every message in a DM with the app: what a user
// types in the Messages tab, the app's own posts, edits, deletions and
// shared files, each as an events_api envelope around an event_callback
// with its own event_id. Text typed by a user arrives with &, < and >
// escaped as &amp;, &lt; and &gt;.

// ErrNotSubscribed is returned by UserMessage and its kin when the app
// does not subscribe to message.im: Slack would send nothing.
var ErrNotSubscribed = errors.New("fakeslack: the app does not subscribe to message.im")

// ErrNoMessage is returned by EditUserMessage and DeleteUserMessage for a
// message the user did not type or that is gone.
var ErrNoMessage = errors.New("fakeslack: no such message of the user")

// Subscribe sets the bot events the fake sends, as the manifest's
// bot_events list does (app_home_opened, message.im, ...). Events sent
// with EventsAPI are not filtered.
func (s *Server) Subscribe(events ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subscribed = map[string]bool{}
	for _, e := range events {
		s.subscribed[e] = true
	}
}

func (s *Server) subscribedLocked(event string) bool { return s.subscribed[event] }

// escapeText escapes a message's text as Slack does before sending it.
func escapeText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// imEvent is the common part of a message event in a DM.
func imEvent(channel, ts string) obj {
	return obj{"type": "message", "channel": channel, "channel_type": "im", "ts": ts, "event_ts": ts, "team": TeamID}
}

func userMessageJSON(m *msgRec) obj {
	o := obj{"type": "message", "user": m.User, "text": m.Text, "ts": m.TS, "team": TeamID,
		"client_msg_id": "cm-" + strings.ReplaceAll(m.TS, ".", "-"),
		"blocks": []obj{{"type": "rich_text", "block_id": "rt" + m.TS, "elements": []obj{{
			"type": "rich_text_section", "elements": []obj{{"type": "text", "text": m.Text}}}}}},
	}
	if m.ThreadTS != "" {
		o["thread_ts"] = m.ThreadTS
	}
	if m.edited != "" {
		o["edited"] = obj{"user": m.User, "ts": m.edited}
	}
	return o
}

// UserMessage is user typing text in their DM with the app (the Messages
// tab); threadTS, when set, puts it in that thread. Slack keeps the
// message (conversations.history shows it) and, when the app subscribes to
// message.im, sends it as a message event. It returns the message's ts.
func (s *Server) UserMessage(user, text, threadTS string) (string, error) {
	s.mu.Lock()
	if !s.subscribedLocked("message.im") {
		s.mu.Unlock()
		return "", ErrNotSubscribed
	}
	m := &msgRec{Message: Message{Channel: "D" + user, Text: escapeText(text), User: user, ThreadTS: threadTS}, byUser: true}
	m.TS = s.nextTSLocked()
	s.messages = append(s.messages, m)
	s.notifyLocked()
	ev := imEvent(m.Channel, m.TS)
	for k, v := range userMessageJSON(m) {
		ev[k] = v
	}
	s.mu.Unlock()
	_, err := s.EventsAPI(ev, "", 0)
	return m.TS, err
}

// EditUserMessage is the user editing a message of theirs in the DM:
// Slack sends a message_changed event.
func (s *Server) EditUserMessage(user, ts, text string) error {
	s.mu.Lock()
	m := s.userMessageLocked(user, ts)
	if m == nil || !s.subscribedLocked("message.im") {
		s.mu.Unlock()
		if m == nil {
			return ErrNoMessage
		}
		return ErrNotSubscribed
	}
	before := userMessageJSON(m)
	m.Text, m.Updated, m.edited = escapeText(text), true, s.nextTSLocked()
	ev := imEvent(m.Channel, m.edited)
	ev["subtype"], ev["hidden"], ev["message"], ev["previous_message"] = "message_changed", true, userMessageJSON(m), before
	s.notifyLocked()
	s.mu.Unlock()
	_, err := s.EventsAPI(ev, "", 0)
	return err
}

// DeleteUserMessage is the user deleting a message of theirs in the DM:
// Slack sends a message_deleted event.
func (s *Server) DeleteUserMessage(user, ts string) error {
	s.mu.Lock()
	m := s.userMessageLocked(user, ts)
	if m == nil || !s.subscribedLocked("message.im") {
		s.mu.Unlock()
		if m == nil {
			return ErrNoMessage
		}
		return ErrNotSubscribed
	}
	m.deleted = true
	ev := imEvent(m.Channel, s.nextTSLocked())
	ev["subtype"], ev["hidden"], ev["deleted_ts"], ev["previous_message"] = "message_deleted", true, m.TS, userMessageJSON(m)
	s.notifyLocked()
	s.mu.Unlock()
	_, err := s.EventsAPI(ev, "", 0)
	return err
}

func (s *Server) userMessageLocked(user, ts string) *msgRec {
	for _, m := range s.messages {
		if m.byUser && m.User == user && m.TS == ts && !m.deleted {
			return m
		}
	}
	return nil
}

// echoLocked sends, after the caller unlocks, the message event Slack
// sends for the app's own post in a DM (bot_id set, no subtype), for an
// edit of it (message_changed) or for a file it shared (file_share).
func (s *Server) echoLocked(ev obj) {
	if !s.subscribedLocked("message.im") || s.closed {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_, _ = s.EventsAPI(ev, "", 0)
	}()
}

// echoPostLocked echoes the app's post m in a DM.
func (s *Server) echoPostLocked(m *msgRec) {
	if !strings.HasPrefix(m.Channel, "D") || m.Ephemeral {
		return
	}
	ev := imEvent(m.Channel, m.TS)
	for k, v := range s.msgJSON(m, false) {
		ev[k] = v
	}
	ev["bot_profile"] = obj{"id": BotID, "app_id": AppID, "name": "trustbot", "team_id": TeamID}
	s.echoLocked(ev)
}

// echoEditLocked echoes an edit of the app's post m in a DM.
func (s *Server) echoEditLocked(m *msgRec, before obj) {
	if !strings.HasPrefix(m.Channel, "D") {
		return
	}
	ev := imEvent(m.Channel, m.edited)
	ev["subtype"], ev["hidden"], ev["message"], ev["previous_message"] = "message_changed", true, s.msgJSON(m, false), before
	s.echoLocked(ev)
}

// echoFileLocked echoes a file the app shared in a DM.
func (s *Server) echoFileLocked(f *File) {
	if !strings.HasPrefix(f.Channel, "D") {
		return
	}
	ev := imEvent(f.Channel, s.nextTSLocked())
	ev["subtype"], ev["user"], ev["bot_id"], ev["text"], ev["upload"] = "file_share", BotUserID, BotID, f.Comment, false
	ev["files"] = []obj{{"id": f.ID, "name": f.Name, "title": f.Title}}
	s.echoLocked(ev)
}
