package fakeslack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// harness runs a real slack-go socketmode client against a fake.
type harness struct {
	s      *Server
	api    *slack.Client
	cli    *socketmode.Client
	events chan socketmode.Event
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func newAPI(s *Server) *slack.Client {
	return slack.New(BotToken, slack.OptionAppLevelToken(AppToken), slack.OptionAPIURL(s.APIURL()))
}

func startClient(t *testing.T, s *Server, opts ...socketmode.Option) *harness {
	t.Helper()
	h := &harness{s: s, api: newAPI(s), events: make(chan socketmode.Event, 200), done: make(chan error, 1)}
	opts = append([]socketmode.Option{socketmode.OptionPingInterval(2 * time.Second)}, opts...)
	h.cli = socketmode.New(h.api, opts...)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- h.cli.RunContext(ctx) }()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-h.cli.Events:
				switch ev.Type {
				case socketmode.EventTypeSlashCommand:
					cmd := ev.Data.(slack.SlashCommand)
					_ = h.cli.Ack(*ev.Request, map[string]any{"response_type": "ephemeral", "text": "ok: " + cmd.Text})
				case socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
					_ = h.cli.Ack(*ev.Request)
				}
				select {
				case h.events <- ev:
				default:
				}
			}
		}
	}()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	h.once.Do(func() {
		h.cancel()
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
		}
	})
}

func (h *harness) waitEvent(t *testing.T, typ socketmode.EventType, pred func(socketmode.Event) bool) socketmode.Event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev := <-h.events:
			if ev.Type == typ && (pred == nil || pred(ev)) {
				return ev
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s event", typ)
		}
	}
}

func ctx5(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newServer(t *testing.T) *Server {
	s := New()
	s.SetPingInterval(100 * time.Millisecond)
	t.Cleanup(s.Close)
	return s
}

func (h *harness) slash(t *testing.T, text string) {
	t.Helper()
	id, err := h.s.SlashCommand(SlashCommand{Text: text})
	if err != nil {
		t.Fatalf("SlashCommand: %v", err)
	}
	h.waitEvent(t, socketmode.EventTypeSlashCommand, func(ev socketmode.Event) bool {
		return ev.Data.(slack.SlashCommand).Text == text
	})
	ack, err := h.s.WaitAck(ctx5(t), id)
	if err != nil {
		t.Fatalf("WaitAck(%q): %v", text, err)
	}
	if !strings.Contains(string(ack.Payload), "ok: "+text) {
		t.Fatalf("ack payload = %s", ack.Payload)
	}
}

func TestConnectSlashCommandAck(t *testing.T) {
	s := newServer(t)
	h := startClient(t, s)
	if err := s.WaitConnected(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	hello := h.waitEvent(t, socketmode.EventTypeHello, nil)
	if hello.Request.ConnectionInfo.AppID != AppID || hello.Request.NumConnections != 1 || hello.Request.DebugInfo.ApproximateConnectionTime != 18060 {
		t.Fatalf("hello = %+v", hello.Request)
	}

	id, err := s.SlashCommand(SlashCommand{UserID: "U1", Text: "hello world"})
	if err != nil {
		t.Fatal(err)
	}
	ev := h.waitEvent(t, socketmode.EventTypeSlashCommand, nil)
	cmd := ev.Data.(slack.SlashCommand)
	if ev.Request.EnvelopeID != id || !ev.Request.AcceptsResponsePayload {
		t.Fatalf("request = %+v", ev.Request)
	}
	if cmd.Command != "/trust" || cmd.TeamID != TeamID || cmd.ChannelID != DefaultChannelID || cmd.ChannelName != "general" ||
		cmd.UserID != "U1" || cmd.Text != "hello world" || cmd.APIAppID != AppID || cmd.IsEnterpriseInstall ||
		!strings.HasPrefix(cmd.ResponseURL, s.URL()+"/response/") || cmd.TriggerID == "" {
		t.Fatalf("slash command = %+v", cmd)
	}

	ack, err := s.WaitAck(ctx5(t), id)
	if err != nil {
		t.Fatal(err)
	}
	var p struct{ ResponseType, Text string }
	p.ResponseType = "?"
	if err := json.Unmarshal(ack.Payload, &struct {
		ResponseType *string `json:"response_type"`
		Text         *string `json:"text"`
	}{&p.ResponseType, &p.Text}); err != nil {
		t.Fatal(err)
	}
	if p.ResponseType != "ephemeral" || p.Text != "ok: hello world" {
		t.Fatalf("ack payload = %s", ack.Payload)
	}
	if ack.Sent.IsZero() || ack.Received.Before(ack.Sent) {
		t.Fatalf("ack times = %v / %v", ack.Sent, ack.Received)
	}
	if got := s.Connections(); got != 1 {
		t.Fatalf("Connections = %d", got)
	}
	if envs := s.Envelopes(); len(envs) != 1 || envs[0].ID != id || envs[0].Type != "slash_commands" {
		t.Fatalf("Envelopes = %+v", envs)
	}
	// The client answers the fake's pings.
	deadline := time.Now().Add(3 * time.Second)
	for s.Pongs() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if s.Pings() == 0 || s.Pongs() == 0 {
		t.Fatalf("pings=%d pongs=%d", s.Pings(), s.Pongs())
	}
}

func TestWebAPI(t *testing.T) {
	s := newServer(t)
	api := newAPI(s)
	s.AddUser(User{ID: "U1", RealName: "Ada", TZ: "Europe/Berlin", Locale: "de-DE"})

	// auth.test
	at, err := api.AuthTest()
	if err != nil || at.UserID != BotUserID || at.BotID != BotID || at.TeamID != TeamID || at.User != "trustbot" {
		t.Fatalf("AuthTest = %+v, %v", at, err)
	}
	if _, err := slack.New("xoxb-wrong", slack.OptionAPIURL(s.APIURL())).AuthTest(); err == nil || err.Error() != "invalid_auth" {
		t.Fatalf("wrong token: %v", err)
	}

	// users.info
	u, err := api.GetUserInfo("U1")
	if err != nil {
		t.Fatal(err)
	}
	if u.TZ != "Europe/Berlin" || u.Locale != "de-DE" || (u.TZOffset != 3600 && u.TZOffset != 7200) || u.TZLabel == "" || u.RealName != "Ada" || u.TeamID != TeamID {
		t.Fatalf("user = %+v", u)
	}
	if u, err := api.GetUserInfo("U1", slack.GetUserInfoOptionIncludeLocale(false)); err != nil || u.Locale != "" {
		t.Fatalf("without locale: %+v %v", u, err)
	}
	if _, err := api.GetUserInfo("UNOPE"); err == nil || err.Error() != "user_not_found" {
		t.Fatalf("unknown user: %v", err)
	}

	// chat.postMessage to a user ID lands in the DM channel.
	blocks := slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "*hi*", false, false), nil, nil)
	meta := slack.SlackMetadata{EventType: "checkin", EventPayload: map[string]any{"id": 7}}
	ch, ts, err := api.PostMessage("U1", slack.MsgOptionText("hi", false), slack.MsgOptionBlocks(blocks), slack.MsgOptionMetadata(meta))
	if err != nil || ch != "DU1" || ts == "" {
		t.Fatalf("PostMessage = %q %q %v", ch, ts, err)
	}
	msgs := s.Messages("DU1")
	if len(msgs) != 1 || msgs[0].Text != "hi" || msgs[0].TS != ts || msgs[0].User != BotUserID ||
		!strings.Contains(string(msgs[0].Blocks), `"section"`) || !strings.Contains(string(msgs[0].Metadata), `"checkin"`) {
		t.Fatalf("messages = %+v", msgs)
	}
	if len(s.Messages("U1")) != 1 {
		t.Fatal("Messages(user ID) should resolve to the DM")
	}
	_, ts2, err := api.PostMessage("C0GENERAL", slack.MsgOptionText("second", false), slack.MsgOptionTS(ts))
	if err != nil || ts2 <= ts {
		t.Fatalf("second post: %q %v", ts2, err)
	}
	if _, _, err := api.PostMessage("C0GENERAL"); err == nil || err.Error() != "no_text" {
		t.Fatalf("empty post: %v", err)
	}
	calls := s.Calls("chat.postMessage")
	if len(calls) != 3 || calls[0].Token != BotToken || calls[0].Params["channel"] != "U1" || calls[0].Params["text"] != "hi" {
		t.Fatalf("calls = %+v", calls)
	}

	// Channel errors.
	s.SetChannelError("C1", "not_in_channel")
	if _, _, err := api.PostMessage("C1", slack.MsgOptionText("x", false)); err == nil || err.Error() != "not_in_channel" {
		t.Fatalf("not_in_channel: %v", err)
	}
	s.SetChannelError("U9", "account_inactive")
	if _, _, err := api.PostMessage("U9", slack.MsgOptionText("x", false)); err == nil || err.Error() != "account_inactive" {
		t.Fatalf("account_inactive: %v", err)
	}
	s.ClearChannelError("C1")
	if _, _, err := api.PostMessage("C1", slack.MsgOptionText("x", false)); err != nil {
		t.Fatal(err)
	}

	// chat.update / chat.postEphemeral
	if _, _, _, err := api.UpdateMessage("DU1", ts, slack.MsgOptionText("edited", false)); err != nil {
		t.Fatal(err)
	}
	if m := s.Messages("DU1")[0]; !m.Updated || m.Text != "edited" || len(m.Blocks) == 0 {
		t.Fatalf("updated = %+v", m)
	}
	if _, _, _, err := api.UpdateMessage("DU1", "1.000001", slack.MsgOptionText("x", false)); err == nil || err.Error() != "message_not_found" {
		t.Fatalf("update missing: %v", err)
	}
	ets, err := api.PostEphemeral("C0GENERAL", "U1", slack.MsgOptionText("psst", false))
	if err != nil || ets == "" {
		t.Fatalf("PostEphemeral: %q %v", ets, err)
	}
	var eph []Message
	for _, m := range s.Messages("C0GENERAL") {
		if m.Ephemeral {
			eph = append(eph, m)
		}
	}
	if len(eph) != 1 || eph[0].User != "U1" || eph[0].Text != "psst" {
		t.Fatalf("ephemeral = %+v", eph)
	}

	// conversations.*
	hist, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "DU1", IncludeAllMetadata: true})
	if err != nil || len(hist.Messages) != 1 || hist.Messages[0].Metadata.EventType != "checkin" || hist.Messages[0].Text != "edited" {
		t.Fatalf("history = %+v %v", hist, err)
	}
	hist, err = api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "DU1"})
	if err != nil || len(hist.Messages) != 1 || hist.Messages[0].Metadata.EventType != "" {
		t.Fatalf("history without metadata = %+v %v", hist, err)
	}
	dm, _, _, err := api.OpenConversation(&slack.OpenConversationParameters{Users: []string{"U1"}})
	if err != nil || dm.ID != "DU1" {
		t.Fatalf("OpenConversation = %+v %v", dm, err)
	}
	info, err := api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: "C0GENERAL"})
	if err != nil || !info.IsMember || info.Name != "general" {
		t.Fatalf("conversations.info = %+v %v", info, err)
	}

	// views.*
	modal := slack.ModalViewRequest{
		Type:   slack.VTModal,
		Title:  slack.NewTextBlockObject("plain_text", "Check-in", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{blocks}},
	}
	trig := s.NewTriggerID("U1")
	vr, err := api.OpenView(trig, modal)
	if err != nil || !strings.HasPrefix(vr.View.ID, "V") || vr.View.Title.Text != "Check-in" {
		t.Fatalf("OpenView = %+v %v", vr, err)
	}
	if _, err := api.OpenView(trig, modal); err == nil || err.Error() != "exchanged_trigger_id" {
		t.Fatalf("reused trigger: %v", err)
	}
	if _, err := api.OpenView("123.456.bogus", modal); err == nil || err.Error() != "invalid_trigger_id" {
		t.Fatalf("bogus trigger: %v", err)
	}
	s.SetTriggerTTL(time.Millisecond)
	old := s.NewTriggerID("U1")
	time.Sleep(5 * time.Millisecond)
	if _, err := api.OpenView(old, modal); err == nil || err.Error() != "expired_trigger_id" {
		t.Fatalf("expired trigger: %v", err)
	}
	s.SetTriggerTTL(DefaultTriggerTTL)
	if _, err := api.UpdateView(modal, "", "", vr.View.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := api.UpdateView(modal, "", "", "VNOPE"); err == nil || err.Error() != "not_found" {
		t.Fatalf("update unknown view: %v", err)
	}
	home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{blocks}}}
	if _, err := api.PublishView("U1", home, ""); err != nil {
		t.Fatal(err)
	}
	views := s.Views()
	if len(views) != 3 || views[0].Kind != "open" || views[0].UserID != "U1" || views[0].TriggerID != trig ||
		views[1].Kind != "update" || views[1].ID != vr.View.ID || views[2].Kind != "publish" || views[2].UserID != "U1" ||
		!strings.Contains(string(views[2].View), `"home"`) {
		t.Fatalf("views = %+v", views)
	}
	if c := s.Calls("views.open"); len(c) != 4 || c[0].Params["trigger_id"] != trig || !strings.HasPrefix(c[0].Params["view"], "{") {
		t.Fatalf("views.open calls = %+v", c)
	}

	// Unknown method, GET.
	resp, err := http.Post(s.APIURL()+"no.such", "application/x-www-form-urlencoded", strings.NewReader("token="+BotToken))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"unknown_method"`) {
		t.Fatalf("unknown method: %s", b)
	}
}

func TestFaults(t *testing.T) {
	s := newServer(t)
	api := newAPI(s)

	s.RateLimit("chat.postMessage", 1, "2")
	_, _, err := api.PostMessage("C1", slack.MsgOptionText("x", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
		t.Fatalf("rate limit with header: %v", err)
	}
	if _, _, err := api.PostMessage("C1", slack.MsgOptionText("x", false)); err != nil {
		t.Fatalf("after rate limit: %v", err)
	}

	s.RateLimit("users.info", 1, "")
	_, err = api.GetUserInfo(DefaultUserID)
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != http.StatusTooManyRequests {
		t.Fatalf("rate limit without header: %#v", err)
	}

	s.FailNext("users.info", "fatal_error", 2)
	for range 2 {
		if _, err := api.GetUserInfo(DefaultUserID); err == nil || err.Error() != "fatal_error" {
			t.Fatalf("FailNext: %v", err)
		}
	}
	if _, err := api.GetUserInfo(DefaultUserID); err != nil {
		t.Fatalf("after FailNext: %v", err)
	}

	s.FailHTTP("*", http.StatusServiceUnavailable, 1)
	if _, err := api.AuthTest(); !errors.As(err, &sc) || sc.Code != http.StatusServiceUnavailable {
		t.Fatalf("FailHTTP: %#v", err)
	}

	s.SetDelay("auth.test", 150*time.Millisecond)
	start := time.Now()
	if _, err := api.AuthTest(); err != nil || time.Since(start) < 150*time.Millisecond {
		t.Fatalf("SetDelay: %v after %v", err, time.Since(start))
	}
	// A caller that gives up is let go: with a delay far longer than its
	// deadline, the call ends with the deadline, long before the delay.
	s.SetDelay("auth.test", time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := api.AuthTestContext(ctx); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 30*time.Second {
		t.Fatalf("SetDelay with ctx: %v after %v", err, time.Since(start))
	}
	s.SetDelay("auth.test", 0)
	if n := len(s.Calls("auth.test")); n != 3 {
		t.Fatalf("auth.test calls = %d", n)
	}
}

func TestSocketDropDisconnectMalformed(t *testing.T) {
	s := newServer(t)
	h := startClient(t, s)
	ctx := ctx5(t)
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	h.slash(t, "first")

	s.Drop()
	if err := s.WaitConnections(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if got := s.Connections(); got != 2 {
		t.Fatalf("Connections after Drop = %d", got)
	}
	h.slash(t, "after drop")

	s.Disconnect("refresh_requested")
	// Sent right away: waits for the replacement socket, like Slack's queue.
	h.slash(t, "after disconnect")
	if err := s.WaitConnections(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if got := s.OpenSockets(); got > 2 {
		t.Fatalf("OpenSockets = %d", got)
	}

	if err := s.SendRaw([]byte(`{"type":"slash_commands","envelope_id":`)); err != nil {
		t.Fatal(err)
	}
	if err := s.SendRaw([]byte(`{"type":"no_such_type","envelope_id":"x"}`)); err != nil {
		t.Fatal(err)
	}
	h.waitEvent(t, socketmode.EventTypeErrorBadMessage, nil)
	h.slash(t, "after garbage")
	if got := s.Connections(); got != 3 {
		t.Fatalf("malformed frame caused a reconnect: Connections = %d", got)
	}

	// events_api with a retry.
	id, err := s.EventsAPI(map[string]any{"type": "app_mention", "user": "U1", "text": "<@UBOT> hi", "channel": "C1", "ts": "1.000001", "event_ts": "1.000001"}, "Ev123", 1)
	if err != nil {
		t.Fatal(err)
	}
	ev := h.waitEvent(t, socketmode.EventTypeEventsAPI, nil)
	outer := ev.Data.(slackevents.EventsAPIEvent)
	if ev.Request.RetryAttempt != 1 || ev.Request.RetryReason != "timeout" || outer.TeamID != TeamID || outer.APIAppID != AppID {
		t.Fatalf("events_api = %+v / %+v", ev.Request, outer)
	}
	if cb := outer.Data.(*slackevents.EventsAPICallbackEvent); cb.EventID != "Ev123" || cb.EventTime == 0 {
		t.Fatalf("callback = %+v", cb)
	}
	if _, ok := outer.InnerEvent.Data.(*slackevents.AppMentionEvent); !ok {
		t.Fatalf("inner = %T", outer.InnerEvent.Data)
	}
	if _, err := s.WaitAck(ctx, id); err != nil {
		t.Fatal(err)
	}

	// interactive: trigger_id and response_url are filled in and usable.
	id, err = s.Interactive(map[string]any{
		"type":    "block_actions",
		"user":    map[string]any{"id": "U1", "name": "ada"},
		"actions": []any{map[string]any{"action_id": "rate", "block_id": "b1", "type": "button", "value": "5"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ev = h.waitEvent(t, socketmode.EventTypeInteractive, nil)
	cb := ev.Data.(slack.InteractionCallback)
	if cb.TriggerID == "" || !strings.HasPrefix(cb.ResponseURL, s.URL()) || cb.Team.ID != TeamID || cb.ActionCallback.BlockActions[0].ActionID != "rate" {
		t.Fatalf("interaction = %+v", cb)
	}
	if _, err := s.WaitAck(ctx, id); err != nil {
		t.Fatal(err)
	}
	modal := slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject("plain_text", "T", false, false)}
	if _, err := h.api.OpenView(cb.TriggerID, modal); err != nil {
		t.Fatalf("OpenView with issued trigger: %v", err)
	}
	if v := s.Views(); len(v) != 1 || v[0].UserID != "U1" {
		t.Fatalf("views = %+v", v)
	}
}

func TestHalfOpenReconnect(t *testing.T) {
	s := newServer(t)
	h := startClient(t, s, socketmode.OptionPingInterval(300*time.Millisecond))
	ctx := ctx5(t)
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	s.StopPings(true)
	if err := s.WaitConnections(ctx, 2); err != nil {
		t.Fatal(err)
	}
	s.StopPings(false)
	h.slash(t, "after half-open")
}

func TestQueueTimeout(t *testing.T) {
	s := newServer(t)
	s.SetQueueTimeout(50 * time.Millisecond)
	if _, err := s.SlashCommand(SlashCommand{}); !errors.Is(err, ErrNoConnection) {
		t.Fatalf("err = %v", err)
	}
}

func TestResponseURL(t *testing.T) {
	s := newServer(t)
	api := newAPI(s)
	u := s.NewResponseURL()
	for i := range 5 {
		if _, _, err := api.PostMessage("", slack.MsgOptionResponseURL(u, slack.ResponseTypeInChannel), slack.MsgOptionText(fmt.Sprint("reply ", i), false)); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
	_, _, err := api.PostMessage("", slack.MsgOptionResponseURL(u, slack.ResponseTypeInChannel), slack.MsgOptionText("sixth", false))
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != http.StatusNotFound {
		t.Fatalf("6th post: %#v", err)
	}
	got, err := s.WaitResponse(ctx5(t), u, 5)
	if err != nil || len(got) != 5 || len(s.Responses(u)) != 5 {
		t.Fatalf("responses = %d %v", len(got), err)
	}
	var body struct {
		Text, ResponseType string
	}
	if err := json.Unmarshal(got[4], &struct {
		Text *string `json:"text"`
		RT   *string `json:"response_type"`
	}{&body.Text, &body.ResponseType}); err != nil || body.Text != "reply 4" || body.ResponseType != "in_channel" {
		t.Fatalf("body = %s %v", got[4], err)
	}
}

func openConn(t *testing.T, s *Server, token string) (string, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.APIURL()+"apps.connections.open", nil)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		OK    bool
		Error string
		URL   string
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if !r.OK {
		return "", errors.New(r.Error)
	}
	return r.URL, nil
}

func TestConnectionsOpenAndTooMany(t *testing.T) {
	s := newServer(t)
	if _, err := openConn(t, s, BotToken); err == nil || err.Error() != "invalid_auth" {
		t.Fatalf("bot token: %v", err)
	}
	// slack-go treats invalid_auth as fatal.
	bad := socketmode.New(slack.New(BotToken, slack.OptionAppLevelToken("xapp-wrong"), slack.OptionAPIURL(s.APIURL())))
	runErr := make(chan error, 1)
	badCtx := ctx5(t)
	go func() { runErr <- bad.RunContext(badCtx) }()
	go func() {
		for {
			select {
			case <-bad.Events:
			case <-badCtx.Done():
				return
			}
		}
	}()
	select {
	case err := <-runErr:
		if err == nil || err.Error() != "invalid_auth" {
			t.Fatalf("RunContext = %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("RunContext did not fail")
	}

	hdr := http.Header{"Origin": {"https://api.slack.com"}}
	var conns []*websocket.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 1; i <= MaxSockets+1; i++ {
		u, err := openConn(t, s, AppToken)
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := websocket.DefaultDialer.Dial(u, hdr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, c)
		if i == 1 { // tickets are single-use
			if _, _, err := websocket.DefaultDialer.Dial(u, hdr); err == nil {
				t.Fatal("reused ticket accepted")
			}
		}
		var f struct {
			Type, Reason   string
			NumConnections int `json:"num_connections"`
		}
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if err := c.ReadJSON(&f); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if i <= MaxSockets && (f.Type != "hello" || f.NumConnections != i) {
			t.Fatalf("socket %d got %+v", i, f)
		}
		if i == MaxSockets+1 && (f.Type != "disconnect" || f.Reason != "too_many_websockets") {
			t.Fatalf("socket %d got %+v", i, f)
		}
	}
	if got := s.Connections(); got != MaxSockets+1 {
		t.Fatalf("Connections = %d", got)
	}
	// Envelopes are spread over the open sockets.
	for range 3 {
		if err := s.SendRaw([]byte(`{"envelope_id":"x"}`)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCloseNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	s := New()
	s.SetPingInterval(50 * time.Millisecond)
	h := startClient(t, s)
	if err := s.WaitConnected(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	h.slash(t, "leak check")
	s.SetDelay("auth.test", time.Hour)
	go func() { _, _ = h.api.AuthTest() }() // in flight during Close
	if _, err := s.WaitCalls(ctx5(t), "auth.test", 1); err != nil {
		t.Fatal(err)
	}
	s.Disconnect("warning")
	h.stop()
	s.Close()
	s.Close() // idempotent
	if _, err := s.WaitAck(context.Background(), "nope"); !errors.Is(err, ErrClosed) {
		t.Fatalf("WaitAck after Close = %v", err)
	}
	if _, err := s.SendEnvelope("events_api", json.RawMessage(`{}`), false); !errors.Is(err, ErrClosed) {
		t.Fatalf("SendEnvelope after Close = %v", err)
	}
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines: before %d, after %d\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}

// TestLostAnswersAndClock: a lost answer leaves the message posted and the
// client with an error; the clock offset moves message timestamps.
func TestLostAnswersAndClock(t *testing.T) {
	s := newServer(t)
	api := newAPI(s)
	s.SetClockOffset(-time.Hour)
	s.LoseAnswers("chat.postMessage", 1)
	if _, _, err := api.PostMessage("UABC", slack.MsgOptionText("x", false)); err == nil {
		t.Fatal("a lost answer came back")
	}
	if n := len(s.Messages("UABC")); n != 1 {
		t.Fatalf("%d messages after a lost answer, want the one Slack took", n)
	}
	_, ts, err := api.PostMessage("UABC", slack.MsgOptionText("y", false))
	if err != nil {
		t.Fatal(err)
	}
	us, _ := parseTS(ts)
	if lag := time.Since(time.UnixMicro(us)); lag < 59*time.Minute || lag > 61*time.Minute {
		t.Fatalf("message stamped %v behind this host, want an hour", lag)
	}
	// The Date header of every answer tells the same clock.
	resp, err := http.Post(s.APIURL()+"auth.test", "application/x-www-form-urlencoded", strings.NewReader("token="+BotToken))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		t.Fatalf("Date header %q: %v", resp.Header.Get("Date"), err)
	}
	if lag := time.Since(date); lag < 59*time.Minute || lag > 61*time.Minute {
		t.Fatalf("Date header %v behind this host, want an hour", lag)
	}
}

// TestNonUserIDsAreNotUsers: as in Slack, users.info and conversations.open
// answer user_not_found for a channel or bot ID, and conversations.open
// does not resume a public channel.
func TestNonUserIDsAreNotUsers(t *testing.T) {
	s := newServer(t)
	api := newAPI(s)
	s.AddUser(User{ID: "C0LOOKSLIKE"})
	for _, id := range []string{"C0LOOKSLIKE", "G0PRIVATE", "D0DM", "B0BOT", "U", ""} {
		if _, err := api.GetUserInfo(id); err == nil || err.Error() != "user_not_found" {
			t.Errorf("users.info %q: %v, want user_not_found", id, err)
		}
		if id == "" {
			continue
		}
		_, _, _, err := api.OpenConversation(&slack.OpenConversationParameters{Users: []string{id}, ReturnIM: true})
		if err == nil || err.Error() != "user_not_found" {
			t.Errorf("conversations.open users=%q: %v, want user_not_found", id, err)
		}
	}
	if _, _, _, err := api.OpenConversation(&slack.OpenConversationParameters{ChannelID: "C0LOOKSLIKE"}); err == nil || err.Error() != "method_not_supported_for_channel_type" {
		t.Errorf("conversations.open channel=C…: %v", err)
	}
	if ch, _, _, err := api.OpenConversation(&slack.OpenConversationParameters{Users: []string{"W0GRID"}, ReturnIM: true}); err != nil || ch.ID != "DW0GRID" {
		t.Errorf("conversations.open with a Grid user: %v %v", ch, err)
	}
}

// TestAnswers checks what the fake counts as an answer the user saw: the
// message in a slash command's ack, then response_url posts; a payload on
// the ack of a click is not shown, as in Slack.
func TestAnswers(t *testing.T) {
	s := newServer(t)
	api := newAPI(s)
	cli := socketmode.New(api)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = cli.RunContext(ctx) }()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-cli.Events:
				if ev.Request == nil || ev.Request.EnvelopeID == "" {
					continue
				}
				// Every ack carries a message; only the slash command's counts.
				_ = cli.Ack(*ev.Request, map[string]any{"response_type": "ephemeral", "text": "in the ack"})
			}
		}
	}()
	if err := s.WaitConnected(ctx5(t)); err != nil {
		t.Fatal(err)
	}

	u := s.NewResponseURL()
	id, err := s.SlashCommand(SlashCommand{Text: "x", ResponseURL: u})
	if err != nil {
		t.Fatal(err)
	}
	ack, err := s.WaitAck(ctx5(t), id)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.WaitAnswers(ctx5(t), u, 1)
	if err != nil || got[0].Via != ViaAck || !strings.Contains(string(got[0].Body), "in the ack") || !got[0].At.Equal(ack.Received) {
		t.Fatalf("answers = %+v, %v", got, err)
	}
	if _, _, err := api.PostMessage("", slack.MsgOptionResponseURL(u, slack.ResponseTypeEphemeral), slack.MsgOptionText("later", false)); err != nil {
		t.Fatal(err)
	}
	got, err = s.WaitAnswers(ctx5(t), u, 2)
	if err != nil || got[1].Via != ViaResponseURL || got[1].At.Before(got[0].At) {
		t.Fatalf("answers = %+v, %v", got, err)
	}
	if n := len(s.Responses(u)); n != 1 {
		t.Fatalf("the ack's answer is not a response_url use: %d bodies", n)
	}

	click := s.NewResponseURL()
	id, err = s.Interactive(map[string]any{"type": "block_actions", "user": map[string]string{"id": DefaultUserID},
		"response_url": click, "actions": []any{map[string]string{"action_id": "a", "type": "button"}}})
	if err != nil {
		t.Fatal(err)
	}
	if ack, err := s.WaitAck(ctx5(t), id); err != nil || len(ack.Payload) == 0 {
		t.Fatalf("ack = %+v, %v", ack, err)
	}
	if got := s.Answers(click); len(got) != 0 {
		t.Fatalf("a click's ack payload was shown: %+v", got)
	}
}
