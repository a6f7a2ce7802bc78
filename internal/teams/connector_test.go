package teams

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakebf"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// recordingMetrics keeps the labels of every API error and rate limit.
type recordingMetrics struct {
	trustbot.NopMetrics
	mu    sync.Mutex
	calls []string
}

func (m *recordingMetrics) APIError(p trustbot.Platform, method, code string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, string(p)+" "+method+" "+code)
}

func (m *recordingMetrics) RateLimited(p trustbot.Platform, method string) {
	m.APIError(p, method, "rate_limited")
}

func (m *recordingMetrics) list() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.calls)
}

type connFixture struct {
	fake    *fakebf.Server
	clock   *clock
	conn    *Connector
	metrics *recordingMetrics
	user    fakebf.User
	ref     ConversationReference

	mu     sync.Mutex
	sleeps []time.Duration
}

// newConnFixture runs a Connector against a fake Bot Framework on a test
// clock: every wait (a turn, a Retry-After, a backoff) moves the clock
// instead of the test's time, and is recorded. It opens the personal chat
// of one user.
func newConnFixture(t *testing.T, cfg fakebf.Config, tweak func(*ConnectorConfig)) *connFixture {
	t.Helper()
	fake := fakebf.New(cfg)
	t.Cleanup(fake.Close)
	c := newClock()
	fake.SetClock(c.Now)
	ts, err := NewTokenSource(TokenConfig{AppID: fake.AppID(), Password: fake.Password(), TokenURL: fake.TokenURL(), HTTPClient: fake.Client(), Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	f := &connFixture{fake: fake, clock: c, metrics: &recordingMetrics{}, user: fakebf.NewUser("Tanaka Yui", "ja-JP", "Asia/Tokyo")}
	ccfg := ConnectorConfig{AppID: fake.AppID(), Tokens: ts, HTTPClient: fake.Client(), Metrics: f.metrics}
	if tweak != nil {
		tweak(&ccfg)
	}
	conn, err := NewConnector(ccfg)
	if err != nil {
		t.Fatal(err)
	}
	conn.pacer.now = c.Now
	conn.pacer.sleep = func(ctx context.Context, d time.Duration) error {
		f.mu.Lock()
		f.sleeps = append(f.sleeps, d)
		f.mu.Unlock()
		c.Advance(d)
		return ctx.Err()
	}
	conn.jitter = func(time.Duration) time.Duration { return 0 }
	if err := conn.TrustServiceURL(fake.ServiceURL()); err != nil {
		t.Fatal(err)
	}
	f.conn = conn
	created, err := conn.CreateConversation(context.Background(), fake.ServiceURL(), PersonalConversation(fake.AppID(), fake.TenantID(), f.user.ID))
	if err != nil {
		t.Fatalf("create the personal chat: %v", err)
	}
	f.ref = ConversationReference{
		ServiceURL:   fake.ServiceURL(),
		ChannelID:    ChannelMSTeams,
		Bot:          ChannelAccount{ID: fake.BotID(), Name: fakebf.BotName},
		User:         ChannelAccount{ID: f.user.ID},
		Conversation: ConversationAccount{ID: created.ID, ConversationType: ConversationPersonal, TenantID: fake.TenantID()},
	}
	return f
}

func (f *connFixture) waits() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sleeps)
}

func text(s string) *Activity { return &Activity{Type: TypeMessage, Text: s} }

func errCode(err error) string { return trustbot.ErrorCode(err) }

func TestConnectorSendReplyUpdateDelete(t *testing.T) {
	f := newConnFixture(t, fakebf.Config{}, nil)
	ctx := context.Background()
	if f.ref.Conversation.ID != f.fake.PersonalConversationID(f.user.ID) {
		t.Errorf("personal chat %q", f.ref.Conversation.ID)
	}
	card := Attachment{ContentType: ContentTypeAdaptiveCard, Content: json.RawMessage(`{"type":"AdaptiveCard","version":"1.5","body":[]}`)}
	sent, err := f.conn.SendToConversation(ctx, f.ref, &Activity{Text: "check-in", Attachments: []Attachment{card}})
	if err != nil || sent.ID == "" {
		t.Fatalf("send: %v %q", err, sent.ID)
	}
	reply, err := f.conn.ReplyToActivity(ctx, f.ref, sent.ID, text("thanks"))
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	if _, err := f.conn.UpdateActivity(ctx, f.ref, sent.ID, text("check-in (done)")); err != nil {
		t.Fatalf("update: %v", err)
	}
	if err := f.conn.DeleteActivity(ctx, f.ref, reply.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	msgs := f.fake.Messages(f.ref.Conversation.ID)
	if len(msgs) != 2 {
		t.Fatalf("the user sees %d messages, want 2: %+v", len(msgs), msgs)
	}
	if m := msgs[0]; m.ID != sent.ID || m.Text != "check-in (done)" || m.Updates != 1 || len(m.Attachments) != 0 || m.From != f.fake.BotID() {
		t.Errorf("updated message %+v", m)
	}
	if m := msgs[1]; m.ReplyToID != sent.ID || !m.Deleted {
		t.Errorf("deleted reply %+v", m)
	}
	_, err = f.conn.UpdateActivity(ctx, f.ref, "no-such-activity", text("x"))
	if errCode(err) != trustbot.ENOTFOUND {
		t.Errorf("update of a missing activity: %v, want %s", err, trustbot.ENOTFOUND)
	}
	for _, r := range f.fake.Requests() {
		if !r.Authorization {
			t.Errorf("%s without a token", r.Method)
		}
	}
}

func TestConnectorPostsToAChannel(t *testing.T) {
	f := newConnFixture(t, fakebf.Config{}, nil)
	team := fakebf.NewTeam("Sales")
	card := Attachment{ContentType: ContentTypeAdaptiveCard, Content: map[string]any{"type": "AdaptiveCard", "version": "1.5"}}
	got, err := f.conn.CreateConversation(context.Background(), f.fake.ServiceURL(),
		ChannelConversation(f.fake.TenantID(), team.ChannelID, &Activity{Type: TypeMessage, Attachments: []Attachment{card}}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.ID, team.ChannelID+";messageid=") || got.ActivityID == "" {
		t.Errorf("thread %+v", got)
	}
	msgs := f.fake.Messages(team.ChannelID)
	if len(msgs) != 1 || len(msgs[0].Attachments) != 1 || !strings.Contains(string(msgs[0].Attachments[0].Content), "AdaptiveCard") {
		t.Errorf("channel shows %+v", msgs)
	}
	// A reply in the new thread lands in the channel.
	ref := ConversationReference{ServiceURL: f.fake.ServiceURL(), Conversation: ConversationAccount{ID: got.ID, IsGroup: true, TenantID: f.fake.TenantID()}}
	if _, err := f.conn.SendToConversation(context.Background(), ref, text("try it")); err != nil {
		t.Fatal(err)
	}
	if msgs := f.fake.Messages(team.ChannelID); len(msgs) != 2 || msgs[1].ReplyToID != got.ActivityID {
		t.Errorf("thread reply %+v", msgs)
	}
}

// maxInWindow returns the most events in any closed window of length w.
func maxInWindow(times []time.Time, w time.Duration) int {
	best, j := 0, 0
	for i := range times {
		for times[i].Sub(times[j]) > w {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

func TestConnectorPacesOneConversation(t *testing.T) {
	f := newConnFixture(t, fakebf.Config{}, nil)
	for i := range 100 {
		if _, err := f.conn.SendToConversation(context.Background(), f.ref, text("m")); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	var times []time.Time
	for _, r := range f.fake.Requests() {
		if r.Method == "send" {
			times = append(times, r.Time)
		}
	}
	if len(times) != 100 || len(f.fake.Messages(f.ref.Conversation.ID)) != 100 {
		t.Fatalf("%d sends reached the connector, want all 100", len(times))
	}
	for _, lim := range []struct {
		n int
		w time.Duration
	}{{7, time.Second}, {8, 2 * time.Second}, {60, 30 * time.Second}} {
		if got := maxInWindow(times, lim.w); got > lim.n {
			t.Errorf("%d sends within %v, Teams allows %d", got, lim.w, lim.n)
		}
	}
	// The first burst is not held back.
	if got := maxInWindow(times, 0); got < 6 {
		t.Errorf("only %d sends at once before any wait", got)
	}
}

func TestPacerKeepsTheHourlyLimit(t *testing.T) {
	p := newPacer(nil, slog.New(slog.DiscardHandler))
	c := newClock()
	p.now = c.Now
	p.sleep = func(ctx context.Context, d time.Duration) error { c.Advance(d); return nil }
	var times []time.Time
	for range 2500 {
		if err := p.wait(context.Background(), "tenant", "a:1conversation"); err != nil {
			t.Fatal(err)
		}
		times = append(times, c.Now())
	}
	if got := maxInWindow(times, time.Hour); got > 1800 {
		t.Errorf("%d sends within an hour, Teams allows 1,800", got)
	}
	if got := maxInWindow(times, 30*time.Second); got > 60 {
		t.Errorf("%d sends within 30 s, Teams allows 60", got)
	}
	// Replies in a channel's threads count with the channel.
	if threadKey("19:abc@thread.tacv2;messageid=17") != "19:abc@thread.tacv2" {
		t.Error("a thread does not count with its channel")
	}
}

func TestPacerKeepsTheTenantLimit(t *testing.T) {
	p := newPacer(nil, slog.New(slog.DiscardHandler))
	c := newClock()
	p.now = c.Now
	p.sleep = func(ctx context.Context, d time.Duration) error { c.Advance(d); return nil }
	var times []time.Time
	for i := range 400 {
		if err := p.wait(context.Background(), "tenant", "a:1user"+string(rune('A'+i%50))+string(rune('A'+i/50))); err != nil {
			t.Fatal(err)
		}
		times = append(times, c.Now())
	}
	if got := maxInWindow(times, time.Second); got > 50 {
		t.Errorf("%d sends within a second in one tenant, Teams allows 50", got)
	}
	// Another tenant has a budget of its own.
	start := c.Now()
	if err := p.wait(context.Background(), "other tenant", "a:1other"); err != nil || !c.Now().Equal(start) {
		t.Errorf("another tenant waited %v", c.Now().Sub(start))
	}
}

func TestPacerWaitEndsWithTheContext(t *testing.T) {
	f := newConnFixture(t, fakebf.Config{}, nil)
	f.conn.pacer.hold(context.Background(), f.ref.Conversation.ID, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.conn.SendToConversation(ctx, f.ref, text("m"))
	if errCode(err) != trustbot.ECANCELED {
		t.Errorf("canceled while waiting: %v, want %s", err, trustbot.ECANCELED)
	}
	if n := len(f.fake.Messages(f.ref.Conversation.ID)); n != 0 {
		t.Errorf("%d messages sent", n)
	}
}

func TestConnectorHonoursRetryAfter(t *testing.T) {
	f := newConnFixture(t, fakebf.Config{}, nil)
	f.fake.Inject(fakebf.Fault{Conversation: f.ref.Conversation.ID, Status: 429, RetryAfter: 7 * time.Second, Times: 2})
	if _, err := f.conn.SendToConversation(context.Background(), f.ref, text("m")); err != nil {
		t.Fatalf("send after two 429s: %v", err)
	}
	var times []time.Time
	for _, r := range f.fake.Requests() {
		if r.Method == "send" {
			times = append(times, r.Time)
		}
	}
	if len(times) != 3 {
		t.Fatalf("%d attempts, want 3", len(times))
	}
	for i := 1; i < 3; i++ {
		if gap := times[i].Sub(times[i-1]); gap < 7*time.Second {
			t.Errorf("attempt %d came %v after the 429, Retry-After said 7s", i+1, gap)
		}
	}
	if n := len(f.fake.Messages(f.ref.Conversation.ID)); n != 1 {
		t.Errorf("the user sees %d messages, want 1", n)
	}
	if calls := f.metrics.list(); !slices.Equal(calls, []string{"msteams send rate_limited", "msteams send rate_limited"}) {
		t.Errorf("metrics %v", calls)
	}
}

// A scheduled message's sender may lose it while the connector waits out
// a 429 (another replica took it over): the check it passes runs again
// before each attempt, and a message no longer its own is not sent.
func TestConnectorChecksBeforeEachAttempt(t *testing.T) {
	f := newConnFixture(t, fakebf.Config{}, nil)
	f.fake.Inject(fakebf.Fault{Conversation: f.ref.Conversation.ID, Status: 429, RetryAfter: 7 * time.Second, Times: 1})
	lost := errors.New("taken over by another sender")
	var checks atomic.Int32
	ctx := trustbot.WithSendCheck(context.Background(), func(context.Context) error {
		if checks.Add(1) > 1 {
			return lost
		}
		return nil
	})
	if _, err := f.conn.SendToConversation(ctx, f.ref, text("m")); !errors.Is(err, lost) {
		t.Fatalf("send after the sender lost the message: %v, want its check's error", err)
	}
	sends := 0
	for _, r := range f.fake.Requests() {
		if r.Method == "send" {
			sends++
		}
	}
	if sends != 1 || checks.Load() != 2 {
		t.Fatalf("%d attempts and %d checks, want the 429'd attempt alone and a check before each", sends, checks.Load())
	}
	if n := len(f.fake.Messages(f.ref.Conversation.ID)); n != 0 {
		t.Errorf("the user sees %d messages, want none", n)
	}
}

// The wait a 429 asks for is not part of the request's timeout: with the
// real clock, a Retry-After longer than the timeout still ends in a send.
func TestConnectorRetryAfterIsNotPartOfTheTimeout(t *testing.T) {
	f := newConnFixture(t, fakebf.Config{}, func(c *ConnectorConfig) { c.RequestTimeout = 500 * time.Millisecond })
	f.conn.pacer.now, f.conn.pacer.sleep = time.Now, sleep
	f.fake.SetClock(time.Now)
	f.fake.Inject(fakebf.Fault{Conversation: f.ref.Conversation.ID, Status: 429, RetryAfter: time.Second, Times: 1})
	if _, err := f.conn.SendToConversation(context.Background(), f.ref, text("m")); err != nil {
		t.Fatalf("send after a 1 s Retry-After with a 500 ms timeout: %v", err)
	}
}

func TestConnectorRetriesWithBackoff(t *testing.T) {
	for _, status := range []int{412, 502, 503, 504} {
		f := newConnFixture(t, fakebf.Config{}, nil)
		f.fake.Inject(fakebf.Fault{Conversation: f.ref.Conversation.ID, Status: status, Times: 3})
		if _, err := f.conn.SendToConversation(context.Background(), f.ref, text("m")); err != nil {
			t.Errorf("%d three times, then ok: %v", status, err)
			continue
		}
		backoffs := slices.DeleteFunc(f.waits(), func(d time.Duration) bool { return d < backoffBase/2 })
		if len(backoffs) != 3 || !(backoffs[0] < backoffs[1] && backoffs[1] < backoffs[2]) {
			t.Errorf("%d: waits %v, want three growing backoffs", status, backoffs)
		}
	}
}

func TestConnectorHonoursRetryAfterOn503(t *testing.T) {
	f := newConnFixture(t, fakebf.Config{}, nil)
	f.fake.Inject(fakebf.Fault{Conversation: f.ref.Conversation.ID, Status: 503, RetryAfter: 20 * time.Second, Times: 1})
	if _, err := f.conn.SendToConversation(context.Background(), f.ref, text("m")); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(f.waits(), 20*time.Second) {
		t.Errorf("waits %v, want the 20 s the 503 asked for", f.waits())
	}
}

func TestConnectorGivesUpAfterBoundedRetries(t *testing.T) {
	cases := []struct {
		status int
		want   string
	}{
		{412, trustbot.ECANCELED}, // never taken: can be sent later
		{503, trustbot.EUNCERTAIN},
		{502, trustbot.EUNCERTAIN},
	}
	for _, tc := range cases {
		f := newConnFixture(t, fakebf.Config{}, nil)
		f.fake.Inject(fakebf.Fault{Conversation: f.ref.Conversation.ID, Status: tc.status})
		_, err := f.conn.SendToConversation(context.Background(), f.ref, text("m"))
		if errCode(err) != tc.want {
			t.Errorf("%d forever: %v, want %s", tc.status, err, tc.want)
		}
		attempts := 0
		for _, r := range f.fake.Requests() {
			if r.Method == "send" {
				attempts++
			}
		}
		if attempts != DefaultMaxRetries+1 {
			t.Errorf("%d: %d attempts, want %d", tc.status, attempts, DefaultMaxRetries+1)
		}
	}
}

func TestConnector500IsUncertainAndNotRetried(t *testing.T) {
	f := newConnFixture(t, fakebf.Config{}, nil)
	f.fake.Inject(fakebf.Fault{Conversation: f.ref.Conversation.ID, Status: 500, Apply: true, Times: 1})
	_, err := f.conn.SendToConversation(context.Background(), f.ref, text("m"))
	if errCode(err) != trustbot.EUNCERTAIN {
		t.Errorf("500: %v, want %s", err, trustbot.EUNCERTAIN)
	}
	if n := len(f.fake.Messages(f.ref.Conversation.ID)); n != 1 {
		t.Errorf("the user sees %d messages, want exactly 1 (no retry)", n)
	}
}

func TestConnectorNeverCodesAreUnreachable(t *testing.T) {
	f := newConnFixture(t, fakebf.Config{}, nil)
	ctx := context.Background()
	for _, code := range []string{"ConversationBlockedByUser", "BotNotInConversationRoster", "BotDisabledByAdmin", "ForbiddenOperationException", "MessageWritesBlocked"} {
		f.fake.Inject(fakebf.Fault{Conversation: f.ref.Conversation.ID, Status: 403, Code: code, Times: 1})
		if _, err := f.conn.SendToConversation(ctx, f.ref, text("m")); errCode(err) != trustbot.EUNREACHABLE {
			t.Errorf("403 %s: %v, want %s", code, err, trustbot.EUNREACHABLE)
		}
	}
	// The code of the service behind the connector counts too.
	f.fake.Inject(fakebf.Fault{Conversation: f.ref.Conversation.ID, Status: 403, Code: "Forbidden", InnerCode: "ConversationBlockedByUser", Times: 1})
	if _, err := f.conn.SendToConversation(ctx, f.ref, text("m")); errCode(err) != trustbot.EUNREACHABLE {
		t.Errorf("inner ConversationBlockedByUser: %v", err)
	}
	// A 403 that does not say "never" is a failure, not an unreachable user.
	f.fake.Inject(fakebf.Fault{Conversation: f.ref.Conversation.ID, Status: 403, Code: "InvalidBotApiHost", Times: 1})
	if _, err := f.conn.SendToConversation(ctx, f.ref, text("m")); err == nil || errCode(err) == trustbot.EUNREACHABLE {
		t.Errorf("403 InvalidBotApiHost: %v, want a failure other than %s", err, trustbot.EUNREACHABLE)
	}
	// A conversation the connector does not know.
	gone := f.ref
	gone.Conversation.ID = "a:1nosuchconversation"
	if _, err := f.conn.SendToConversation(ctx, gone, text("m")); errCode(err) != trustbot.EUNREACHABLE {
		t.Errorf("404 ConversationNotFound: %v, want %s", err, trustbot.EUNREACHABLE)
	}
	if n := len(f.fake.Messages(f.ref.Conversation.ID)); n != 0 {
		t.Errorf("%d messages got through", n)
	}
	if calls := f.metrics.list(); !slices.Contains(calls, "msteams send ConversationBlockedByUser") || !slices.Contains(calls, "msteams send ConversationNotFound") {
		t.Errorf("metrics %v", calls)
	}
}

func TestConnectorTimeoutAfterSendIsUncertain(t *testing.T) {
	f := newConnFixture(t, fakebf.Config{}, func(c *ConnectorConfig) { c.RequestTimeout = 500 * time.Millisecond })
	// A first send opens the connection and gets the token, so that the
	// timed one is written at once, however busy the machine.
	if _, err := f.conn.SendToConversation(context.Background(), f.ref, text("warm")); err != nil {
		t.Fatal(err)
	}
	before := len(f.fake.Messages(f.ref.Conversation.ID))
	// The connector takes the message and never answers in time.
	f.fake.Inject(fakebf.Fault{Conversation: f.ref.Conversation.ID, Delay: time.Minute, Apply: true, Times: 1})
	_, err := f.conn.SendToConversation(context.Background(), f.ref, text("m"))
	if errCode(err) != trustbot.EUNCERTAIN {
		t.Errorf("timeout after the send: %v, want %s", err, trustbot.EUNCERTAIN)
	}
	if n := len(f.fake.Messages(f.ref.Conversation.ID)) - before; n != 1 {
		t.Errorf("the user sees %d messages, want 1 (taken, and not sent again)", n)
	}
	if calls := f.metrics.list(); !slices.Contains(calls, "msteams send timeout") {
		t.Errorf("metrics %v", calls)
	}
}

func TestConnectorNoConnectionIsCanceled(t *testing.T) {
	f := newConnFixture(t, fakebf.Config{}, nil)
	closed := httptest.NewTLSServer(http.NotFoundHandler())
	url := closed.URL + "/teams/"
	closed.Close()
	if err := f.conn.TrustServiceURL(url); err != nil {
		t.Fatal(err)
	}
	ref := f.ref
	ref.ServiceURL = url
	_, err := f.conn.SendToConversation(context.Background(), ref, text("m"))
	if errCode(err) != trustbot.ECANCELED {
		t.Errorf("no connection: %v, want %s", err, trustbot.ECANCELED)
	}
}

func TestConnectorFetchesANewTokenWhenRefused(t *testing.T) {
	f := newConnFixture(t, fakebf.Config{}, nil)
	f.fake.ExpireTokens()
	if _, err := f.conn.SendToConversation(context.Background(), f.ref, text("m")); err != nil {
		t.Fatalf("send with a revoked token: %v", err)
	}
	if n := f.fake.Count("token"); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
}

func TestConnectorSendsTheTokenOnlyToTrustedHosts(t *testing.T) {
	f := newConnFixture(t, fakebf.Config{}, nil)
	var seen atomic.Int32
	var withToken atomic.Int32
	attacker := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		if r.Header.Get("Authorization") != "" {
			withToken.Add(1)
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"1"}`))
	}))
	t.Cleanup(attacker.Close)
	f.conn.cfg.HTTPClient = attacker.Client() // would trust the attacker's certificate
	for _, u := range []string{attacker.URL + "/teams/", strings.Replace(attacker.URL, "https", "http", 1) + "/teams/", "https://smba.trafficmanager.net.attacker.example/teams/"} {
		ref := f.ref
		ref.ServiceURL = u
		_, err := f.conn.SendToConversation(context.Background(), ref, text("m"))
		if errCode(err) != trustbot.EINVALID {
			t.Errorf("%s: %v, want %s", u, err, trustbot.EINVALID)
		}
		if _, err := f.conn.CreateConversation(context.Background(), u, PersonalConversation("a", "t", "29:u")); err == nil {
			t.Errorf("%s: create accepted", u)
		}
	}
	if seen.Load() != 0 || withToken.Load() != 0 {
		t.Errorf("the unlisted host got %d requests, %d with the token", seen.Load(), withToken.Load())
	}
	// Plain http is never trusted outside the development mode.
	if err := f.conn.TrustServiceURL(strings.Replace(attacker.URL, "https", "http", 1)); err == nil {
		t.Error("an http service URL was trusted")
	}
	// Teams' own hosts are, in every region's path.
	for _, u := range []string{"https://smba.trafficmanager.net/amer/", "https://SMBA.infra.gcc.teams.microsoft.com/teams", "https://smba.infra.dod.teams.microsoft.us/teams/"} {
		if _, err := f.conn.endpoint(u, "v3/conversations"); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}

func TestConnectorDevelopmentMode(t *testing.T) {
	fake := fakebf.New(fakebf.Config{PlainHTTP: true, Anonymous: true})
	t.Cleanup(fake.Close)
	if _, err := NewConnector(ConnectorConfig{AppID: fake.AppID()}); err == nil {
		t.Error("a connector without tokens outside the development mode")
	}
	conn, err := NewConnector(ConnectorConfig{AppID: fake.AppID(), Dev: true})
	if err != nil {
		t.Fatal(err)
	}
	u := fakebf.NewUser("Dev", "en-US", "")
	created, err := conn.CreateConversation(context.Background(), fake.ServiceURL(), PersonalConversation(fake.AppID(), fake.TenantID(), u.ID))
	if err != nil {
		t.Fatalf("create over plain http on loopback: %v", err)
	}
	ref := ConversationReference{ServiceURL: fake.ServiceURL(), Conversation: ConversationAccount{ID: created.ID, TenantID: fake.TenantID()}}
	if _, err := conn.SendToConversation(context.Background(), ref, text("hello")); err != nil {
		t.Fatalf("send: %v", err)
	}
	for _, r := range fake.Requests() {
		if r.Authorization {
			t.Errorf("%s carried a token in the development mode", r.Method)
		}
	}
	ref.ServiceURL = "https://smba.trafficmanager.net/teams/"
	if _, err := conn.SendToConversation(context.Background(), ref, text("hello")); errCode(err) != trustbot.EINVALID {
		t.Errorf("the development mode sent to Teams itself: %v", err)
	}
}

func TestErrorCodes(t *testing.T) {
	cases := map[string][]string{
		`{"error":{"code":"ConversationBlockedByUser","message":"blocked"}}`:                                                           {"ConversationBlockedByUser"},
		`{"error":{"code":"Forbidden","subCode":"MessageWritesBlocked"}}`:                                                              {"Forbidden", "MessageWritesBlocked"},
		`{"error":{"code":"ServiceError","innerHttpError":{"statusCode":403,"body":{"error":{"code":"BotNotInConversationRoster"}}}}}`: {"ServiceError", "BotNotInConversationRoster"},
		`{"error":{"code":"ServiceError","innerHttpError":{"statusCode":403,"body":"{\"error\":{\"code\":\"BotDisabledByAdmin\"}}"}}}`: {"ServiceError", "BotDisabledByAdmin"},
		`<html>bad gateway</html>`: nil,
		``:                         nil,
	}
	for body, want := range cases {
		if got := errorCodes([]byte(body)); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", body, got, want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		"0.5":                           500 * time.Millisecond,
		"-1":                            0,
		"99999":                         maxRetryAfter,
		"Mon, 30 Nov 2026 09:00:30 GMT": 30 * time.Second,
		"soon":                          0,
	}
	for h, want := range cases {
		if got := retryAfter(h, now); got != want {
			t.Errorf("%q: %v, want %v", h, got, want)
		}
	}
}

func TestLabelsAreBounded(t *testing.T) {
	for _, l := range []string{label(outcome{status: 403, sent: true}, []string{"ConversationBlockedByUser"}), label(outcome{status: 599, sent: true}, nil), "timeout", "connect", "token", "untrusted"} {
		if !slices.Contains(ErrorLabels(), l) {
			t.Errorf("%q is not among ErrorLabels", l)
		}
	}
	if l := label(outcome{status: 403, sent: true}, []string{"SomethingNew"}); l != "403" {
		t.Errorf("unknown code: %q", l)
	}
	if l := label(outcome{status: 418, sent: true}, nil); l != "other" {
		t.Errorf("unknown status: %q", l)
	}
	if l := label(outcome{err: errors.New("x")}, nil); l != "connect" {
		t.Errorf("no connection: %q", l)
	}
}

// staticTokens always gives the same token.
type staticTokens string

func (s staticTokens) Token(context.Context) (string, error) { return string(s), nil }
func (s staticTokens) Invalidate(string)                     {}

func TestConnectorNeverFollowsARedirect(t *testing.T) {
	var withToken atomic.Int32
	attacker := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			withToken.Add(1)
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"1"}`))
	}))
	t.Cleanup(attacker.Close)
	redirector := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, attacker.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	conn, err := NewConnector(ConnectorConfig{AppID: "app", Tokens: staticTokens("secret-token"), HTTPClient: redirector.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.TrustServiceURL(redirector.URL + "/teams/"); err != nil {
		t.Fatal(err)
	}
	ref := ConversationReference{ServiceURL: redirector.URL + "/teams/", Conversation: ConversationAccount{ID: "a:1x"}}
	if _, err := conn.SendToConversation(context.Background(), ref, text("m")); err == nil {
		t.Error("a redirected send succeeded")
	}
	if withToken.Load() != 0 {
		t.Error("the token followed a redirect to another server")
	}
}
