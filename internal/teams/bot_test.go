package teams

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakebf"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// memConversations is a conversation store in memory.
type memConversations struct {
	mu sync.Mutex
	m  map[trustbot.UserKey]trustbot.Conversation
}

func (s *memConversations) SaveConversation(_ context.Context, c trustbot.Conversation) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[trustbot.UserKey]trustbot.Conversation{}
	}
	_, had := s.m[c.Key]
	s.m[c.Key] = c
	return !had, nil
}

func (s *memConversations) Conversation(_ context.Context, k trustbot.UserKey) (trustbot.Conversation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[k]
	if !ok {
		return c, trustbot.Errorf(trustbot.ENOTFOUND, "none")
	}
	return c, nil
}

func (s *memConversations) DeleteConversation(_ context.Context, k trustbot.UserKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, k)
	return nil
}

// echo answers every request with what it was asked, and records it.
type echo struct {
	mu   sync.Mutex
	reqs []trustbot.Request
	hold chan struct{} // when set, each request waits for it
}

func (e *echo) Handle(_ context.Context, r trustbot.Request) trustbot.Reply {
	if e.hold != nil {
		<-e.hold
	}
	e.mu.Lock()
	e.reqs = append(e.reqs, r)
	e.mu.Unlock()
	text := "echo: " + r.Text + r.ActionID
	return trustbot.Reply{Text: text, Blocks: []trustbot.Block{{Kind: trustbot.Section, Text: text}}}
}

func (e *echo) requests() []trustbot.Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]trustbot.Request(nil), e.reqs...)
}

// devBot is a Bot in the development mode against a plain-http fake, and
// the endpoint that serves it.
func devBot(t *testing.T, tweak func(*Config)) (*Bot, *fakebf.Server, *httptest.Server, *echo) {
	t.Helper()
	bf := fakebf.New(fakebf.Config{PlainHTTP: true, Anonymous: true})
	t.Cleanup(bf.Close)
	conn, err := NewConnector(ConnectorConfig{AppID: DevAppID, Dev: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{AppID: DevAppID, Connector: conn, Conversations: &memConversations{}, Dev: true,
		T: func(_ context.Context, _ trustbot.UserKey, key string, _ ...string) string { return "text:" + key }}
	if tweak != nil {
		tweak(&cfg)
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &echo{}
	b.SetHandler(h, nil)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); b.Wait() })
	b.Start(ctx)
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	return b, bf, srv, h
}

func await(t *testing.T, bf *fakebf.Server, conv string, n int) []fakebf.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msgs, err := bf.Await(ctx, conv, func(m []fakebf.Message) bool { return len(bf.FromBot(m)) >= n })
	if err != nil {
		t.Fatalf("waiting for %d messages in %s: %v", n, conv, err)
	}
	return bf.FromBot(msgs)
}

// What a message becomes: the command without the bot's mention or a
// leading /trust, the user's zone and locale, the conversation kept for
// later.
func TestMessageBecomesARequest(t *testing.T) {
	b, bf, srv, h := devBot(t, nil)
	u := fakebf.NewUser("Mori", "ja-JP", "Asia/Tokyo")
	for _, text := range []string{"/trust tip 冷却期間", "/TRUST　tip 冷却期間", "tip 冷却期間"} {
		if status, body, err := bf.Post(context.Background(), srv.URL, bf.Personal(u, text), fakebf.NoToken); err != nil || status != http.StatusOK {
			t.Fatalf("%q: %d %s %v", text, status, body, err)
		}
	}
	await(t, bf, bf.PersonalConversationID(u.ID), 3)
	for _, r := range h.requests() {
		if r.Text != "tip 冷却期間" || r.Kind != trustbot.Command || !r.Typed || !r.Direct {
			t.Errorf("request %+v", r)
		}
		if r.Profile == nil || r.Profile.TZ != "Asia/Tokyo" || r.Profile.Locale != "ja-JP" {
			t.Errorf("profile %+v", r.Profile)
		}
		if r.Team != trustbot.TeamsWorkspace(bf.TenantID()) || r.User != u.ID {
			t.Errorf("key %v", r.UserKey)
		}
	}
	c, err := b.cfg.Conversations.Conversation(context.Background(), trustbot.UserKey{Team: trustbot.TeamsWorkspace(bf.TenantID()), User: u.ID})
	if err != nil || c.ID != bf.PersonalConversationID(u.ID) || c.ServiceURL != bf.ServiceURL() {
		t.Fatalf("conversation reference %+v %v", c, err)
	}
	// In a channel, the mention goes and the request says where it came
	// from.
	team := fakebf.NewTeam("Ops")
	bf.Post(context.Background(), srv.URL, bf.InChannel(u, team, "weekly on"), fakebf.NoToken)
	await(t, bf, team.ChannelID, 1)
	last := h.requests()[3]
	if last.Text != "weekly on" || last.Direct || last.Channel != team.ChannelID {
		t.Fatalf("channel request %+v", last)
	}
}

// The development mode takes activities without a token only from this
// machine; a press whose data is not trustbot's is answered as invalid,
// never taken.
func TestDevModeAndForgedPresses(t *testing.T) {
	b, bf, _, h := devBot(t, nil)
	u := fakebf.NewUser("Ono", "en-US", "")
	bf.Join(u)
	a := bf.Personal(u, "help")
	req := httptest.NewRequest(http.MethodPost, "/api/messages", strings.NewReader(mustMarshal(t, a)))
	req.RemoteAddr = "203.0.113.7:40000"
	rec := httptest.NewRecorder()
	b.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Fatalf("a remote client in the development mode got %d", rec.Code)
	}
	if len(h.requests()) != 0 {
		t.Fatal("a remote activity reached the coach")
	}
	for _, value := range []any{map[string]any{"trustbot": map[string]any{"a": "bad id with spaces"}}, map[string]any{"other": 1}, "text"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/api/messages", strings.NewReader(mustMarshal(t, bf.Submit(a, "1", value))))
		req.RemoteAddr = "127.0.0.1:40000"
		b.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("forged press answered %d", rec.Code)
		}
	}
	await(t, bf, bf.PersonalConversationID(u.ID), 3)
	for _, r := range h.requests() {
		if r.Kind != trustbot.Action || r.ActionID != invalidAction {
			t.Errorf("a forged press became %+v", r)
		}
	}
}

// Every worker busy and the queue full: the user hears "busy" at once
// rather than nothing, and the messages already taken are answered.
func TestBusyWhenTheQueueIsFull(t *testing.T) {
	_, bf, srv, h := devBot(t, func(c *Config) { c.Workers, c.Queue = 1, 1 })
	h.hold = make(chan struct{})
	u := fakebf.NewUser("Abe", "en-US", "")
	conv := bf.PersonalConversationID(u.ID)
	for i := range 3 {
		if status, _, err := bf.Post(context.Background(), srv.URL, bf.Personal(u, "tip"), fakebf.NoToken); err != nil || status != http.StatusOK {
			t.Fatalf("message %d: %d %v", i, status, err)
		}
	}
	// One is being handled, one waits, the third is answered busy.
	msgs := await(t, bf, conv, 1)
	if !strings.Contains(msgs[0].Text+msgs[0].Summary+string(msgs[0].Attachments[0].Content), "text:error.busy") {
		t.Fatalf("first answer %+v, want busy", msgs[0])
	}
	close(h.hold)
	await(t, bf, conv, 3)
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
