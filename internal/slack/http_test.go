package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// lockedBuffer is a log sink safe for the client and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// refusals records what the metrics hear of refused requests and acks.
type refusals struct {
	trustbot.NopMetrics
	mu      sync.Mutex
	reasons []string
	acks    int
}

func (r *refusals) Refused(p trustbot.Platform, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reasons = append(r.reasons, string(p)+":"+reason)
}

func (r *refusals) Acked(trustbot.Platform, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.acks++
}

func (r *refusals) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reasons)
}

// httpApp is a Client in HTTP mode behind a test server, with the fake
// Slack posting to it.
type httpApp struct {
	fake *fakeslack.Server
	log  *lockedBuffer
	met  *refusals
	c    *Client
	base string // the app's URL
}

// runHTTPClient runs a Client in HTTP mode with one worker (jobs finish in
// the order they came) against a new fake Slack that posts to it.
func runHTTPClient(t *testing.T, h trustbot.Handler, tweak func(*Client)) *httpApp {
	t.Helper()
	app := &httpApp{fake: fakeslack.New(), log: &lockedBuffer{}, met: &refusals{}}
	t.Cleanup(app.fake.Close)
	app.c = New(Config{BotToken: fakeslack.BotToken, SigningSecret: fakeslack.SigningSecret, APIURL: app.fake.APIURL(), Workers: 1,
		Logger: slog.New(slog.NewTextHandler(app.log, &slog.HandlerOptions{Level: slog.LevelDebug})), Metrics: app.met})
	app.c.SetHandler(h)
	if tweak != nil {
		tweak(app.c)
	}
	mux := http.NewServeMux()
	app.c.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	app.base = srv.URL
	app.fake.SetRequestURLs(srv.URL+EventsPath, srv.URL+InteractivePath, srv.URL+CommandsPath)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	// Until its workers run, the client answers 503 (as it must while
	// starting): the test's requests begin once it takes them.
	wctx := waitCtx(t)
	for !app.c.Connected() {
		select {
		case err := <-done:
			done <- err // for the cleanup
			t.Fatalf("client stopped before taking requests: %v", err)
		case <-wctx.Done():
			t.Fatal("client never took requests")
		case <-time.After(time.Millisecond):
		}
	}
	return app
}

// command posts "/trust text" and returns the delivery and response_url.
func (a *httpApp) command(t *testing.T, text string) (fakeslack.Delivery, string) {
	t.Helper()
	url := a.fake.NewResponseURL()
	d, err := a.fake.PostSlashCommand(fakeslack.SlashCommand{Text: text, ResponseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	if !d.OK() {
		t.Fatalf("/trust %s: %d %s (%v, %s)", text, d.Status, d.Body, d.Err, d.Took)
	}
	return d, url
}

// settled waits until every job before it is finished: with one worker,
// a command answered after them proves they are done.
func (a *httpApp) settled(t *testing.T) {
	t.Helper()
	_, url := a.command(t, "barrier")
	if _, err := a.fake.WaitAnswers(waitCtx(t), url, 1); err != nil {
		t.Fatalf("barrier not answered: %v", err)
	}
}

// recorder answers every request and records it.
type recorder struct {
	mu   sync.Mutex
	reqs []trustbot.Request
}

func (r *recorder) Handle(_ context.Context, req trustbot.Request) trustbot.Reply {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	if req.Kind == trustbot.Submit {
		return trustbot.Reply{}
	}
	return textReply(fmt.Sprintf("answer to %d %s%s", req.Kind, req.Text, req.ActionID))
}

// handled returns the requests handled, the barriers left out.
func (r *recorder) handled() []trustbot.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []trustbot.Request
	for _, q := range r.reqs {
		if q.Text != "barrier" {
			out = append(out, q)
		}
	}
	return out
}

func TestHTTPSlashCommandAnsweredInTheResponse(t *testing.T) {
	rec := &recorder{}
	app := runHTTPClient(t, rec, func(c *Client) { c.cfg.AnswerBudget = time.Minute })
	d, url := app.command(t, "tip")
	if ct := d.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var msg struct {
		ResponseType string            `json:"response_type"`
		Text         string            `json:"text"`
		Blocks       []json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(d.Body, &msg); err != nil || msg.ResponseType != "ephemeral" || msg.Text != "answer to 1 tip" || len(msg.Blocks) != 1 {
		t.Fatalf("response %s (%v)", d.Body, err)
	}
	app.settled(t)
	got := app.fake.Answers(url)
	if len(got) != 1 || got[0].Via != fakeslack.ViaAck || len(app.fake.Responses(url)) != 0 {
		t.Fatalf("answers %+v, %d response_url posts", got, len(app.fake.Responses(url)))
	}
	if h := rec.handled(); len(h) != 1 || h[0].Team != fakeslack.TeamID || h[0].User != fakeslack.DefaultUserID || h[0].Channel != fakeslack.DefaultChannelID {
		t.Errorf("handled %+v", h)
	}
}

func TestHTTPSlowSlashCommandThroughResponseURL(t *testing.T) {
	release := make(chan struct{})
	app := runHTTPClient(t, handlerFunc(func(_ context.Context, req trustbot.Request) trustbot.Reply {
		if req.Text == "slow" {
			<-release
		}
		return textReply("answer to " + req.Text)
	}), func(c *Client) { c.cfg.AnswerBudget = 10 * time.Millisecond })
	d, url := app.command(t, "slow")
	if len(d.Body) != 0 {
		t.Fatalf("the empty ack carried %s", d.Body)
	}
	close(release)
	got, err := app.fake.WaitAnswers(waitCtx(t), url, 1)
	if err != nil || got[0].Via != fakeslack.ViaResponseURL || !strings.Contains(string(got[0].Body), "answer to slow") {
		t.Fatalf("answers %+v (%v)", got, err)
	}
}

func TestHTTPInteractions(t *testing.T) {
	rec := &recorder{}
	app := runHTTPClient(t, rec, nil)
	url := app.fake.NewResponseURL()
	d, err := app.fake.PostInteractive(map[string]any{
		"type":         "block_actions",
		"user":         map[string]string{"id": fakeslack.DefaultUserID, "team_id": fakeslack.TeamID},
		"channel":      map[string]string{"id": fakeslack.DefaultChannelID},
		"container":    map[string]any{"type": "message", "is_ephemeral": true, "channel_id": fakeslack.DefaultChannelID},
		"response_url": url,
		"actions":      []any{map[string]any{"type": "button", "action_id": "tip.another#0", "block_id": "b1", "value": "v"}},
	})
	if err != nil || !d.OK() || len(d.Body) != 0 {
		t.Fatalf("block_actions: %d %s (%v)", d.Status, d.Body, err)
	}
	got, err := app.fake.WaitAnswers(waitCtx(t), url, 1)
	if err != nil || got[0].Via != fakeslack.ViaResponseURL || !strings.Contains(string(got[0].Body), "answer to 2 tip.another") {
		t.Fatalf("answers %+v (%v)", got, err)
	}
	for _, typ := range []string{"view_submission", "view_closed", "shortcut", "message_action"} {
		d, err := app.fake.PostInteractive(map[string]any{
			"type": typ,
			"user": map[string]string{"id": fakeslack.DefaultUserID, "team_id": fakeslack.TeamID},
			"view": map[string]any{"type": "modal", "callback_id": "reflect.form", "private_metadata": "m",
				"state": map[string]any{"values": map[string]any{"note": map[string]any{"note": map[string]any{"type": "plain_text_input", "value": "書いたこと"}}}}},
		})
		// The ack of a submission closes the modal: empty, as Socket Mode's.
		if err != nil || !d.OK() || len(d.Body) != 0 {
			t.Fatalf("%s: %d %s (%v)", typ, d.Status, d.Body, err)
		}
	}
	app.settled(t)
	h := rec.handled()
	// A submission refreshes the Home tab, as over Socket Mode.
	if len(h) != 3 || h[0].Kind != trustbot.Action || h[1].Kind != trustbot.Submit || h[1].ActionID != "reflect.form" || h[1].Inputs["note"] != "書いたこと" || h[1].Value != "m" || h[2].Kind != trustbot.Home {
		t.Fatalf("handled %d requests (%v): want the press, the submission and its Home refresh only", len(h), kinds(h))
	}
}

func TestHTTPEvents(t *testing.T) {
	rec := &recorder{}
	app := runHTTPClient(t, rec, nil)
	d, challenge, err := app.fake.PostURLVerification()
	if err != nil || !d.OK() || string(d.Body) != challenge {
		t.Fatalf("url_verification: %d %q, want %q (%v)", d.Status, d.Body, challenge, err)
	}
	home := map[string]any{"type": "app_home_opened", "user": fakeslack.DefaultUserID, "channel": "D0USER", "tab": "home"}
	ds, err := app.fake.PostEvent(home, "EvHOME1")
	if err != nil || len(ds) != 1 || !ds[0].OK() {
		t.Fatalf("event: %+v (%v)", ds, err)
	}
	if _, err := app.fake.WaitCalls(waitCtx(t), "views.publish", 1); err != nil {
		t.Fatalf("Home not published: %v", err)
	}
	// Slack judged the first attempt failed (it was slow) and retries:
	// acknowledged, not handled again.
	for n := 1; n <= 3; n++ {
		d, err := app.fake.PostEventRetry(home, "EvHOME1", n, "http_timeout")
		if err != nil || !d.OK() {
			t.Fatalf("retry %d: %d (%v)", n, d.Status, err)
		}
	}
	dm := map[string]any{"type": "message", "channel": "D0USER", "channel_type": "im", "user": fakeslack.DefaultUserID, "text": "help", "ts": "1.2"}
	if ds, err := app.fake.PostEvent(dm, ""); err != nil || !ds[0].OK() {
		t.Fatalf("DM: %+v (%v)", ds, err)
	}
	if _, err := app.fake.WaitMessages(waitCtx(t), "D0USER", 1); err != nil {
		t.Fatalf("DM not answered: %v", err)
	}
	app.settled(t)
	h := rec.handled()
	if len(h) != 2 || h[0].Kind != trustbot.Home || h[1].Kind != trustbot.Command || h[1].Text != "help" || !h[1].Typed {
		t.Fatalf("handled %+v: want the Home tab once and the DM", h)
	}
	if n := len(app.fake.Calls("views.publish")); n != 1 {
		t.Errorf("Home published %d times", n)
	}
	if !strings.Contains(app.log.String(), "duplicate event") {
		t.Error("the retries are not logged as duplicates")
	}
}

// TestHTTPRefusesUnverified: unsigned, stale, tampered or oversized
// requests are refused before they are read: 401 (413), logged by reason
// without the body, counted, never handled.
func TestHTTPRefusesUnverified(t *testing.T) {
	rec := &recorder{}
	// Answers go to the response_url, where the fake sees them.
	app := runHTTPClient(t, rec, func(c *Client) { c.cfg.AnswerBudget = -1 })
	respURL := app.fake.NewResponseURL()
	sc, err := app.fake.BuildSlashCommand(fakeslack.SlashCommand{Text: "秘密の本文", ResponseURL: respURL})
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]string
	json.Unmarshal(sc, &fields)
	form := url.Values{}
	for k, v := range fields {
		form.Set(k, v)
	}
	body := []byte(form.Encode())
	target := app.base + CommandsPath

	resign := func(at time.Time) func(*http.Request) {
		return func(r *http.Request) {
			h := app.fake.Sign(body, at)
			r.Header.Set("X-Slack-Request-Timestamp", h.Get("X-Slack-Request-Timestamp"))
			r.Header.Set("X-Slack-Signature", h.Get("X-Slack-Signature"))
		}
	}
	for _, tc := range []struct {
		name, reason string
		status       int
		tamper       func(*http.Request)
	}{
		{"wrong secret", RefusedSignature, 401, func(r *http.Request) {
			other := fakeslack.New()
			defer other.Close()
			other.SetSigningSecret("another-secret")
			h := other.Sign(body, time.Now())
			r.Header.Set("X-Slack-Signature", h.Get("X-Slack-Signature"))
		}},
		{"six minutes old", RefusedStale, 401, resign(time.Now().Add(-6 * time.Minute))},
		{"six minutes ahead", RefusedStale, 401, resign(time.Now().Add(6 * time.Minute))},
		{"body changed by one byte", RefusedSignature, 401, func(r *http.Request) {
			b := bytes.Clone(body)
			b[len(b)-1] ^= 1
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		}},
		{"timestamp changed", RefusedSignature, 401, func(r *http.Request) {
			ts, _ := strconv.ParseInt(r.Header.Get("X-Slack-Request-Timestamp"), 10, 64)
			r.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts-1, 10))
		}},
		{"no signature", RefusedUnsigned, 401, func(r *http.Request) { r.Header.Del("X-Slack-Signature") }},
		{"no timestamp", RefusedUnsigned, 401, func(r *http.Request) { r.Header.Del("X-Slack-Request-Timestamp") }},
		{"not v0", RefusedMalformed, 401, func(r *http.Request) {
			r.Header.Set("X-Slack-Signature", "v1="+strings.TrimPrefix(r.Header.Get("X-Slack-Signature"), "v0="))
		}},
		{"timestamp not a number", RefusedMalformed, 401, func(r *http.Request) { r.Header.Set("X-Slack-Request-Timestamp", "soon") }},
		{"too large", RefusedTooLarge, 413, func(r *http.Request) {
			b := append(bytes.Clone(body), bytes.Repeat([]byte("x"), MaxBodyBytes)...)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		}},
	} {
		d := app.fake.PostSigned(target, "application/x-www-form-urlencoded", body, tc.tamper)
		if d.Err != nil || d.Status != tc.status {
			t.Errorf("%s: %d (%v), want %d", tc.name, d.Status, d.Err, tc.status)
		}
		if got := app.met.got(); len(got) == 0 || got[len(got)-1] != "slack:"+tc.reason {
			t.Errorf("%s: refusals counted %v, want slack:%s last", tc.name, got, tc.reason)
		}
	}
	// A request captured and replayed after the window: its signature is
	// right for its time, and the same body signed now is taken.
	replayed := app.fake.PostSigned(target, "application/x-www-form-urlencoded", body, resign(time.Now().Add(-5*time.Minute-2*time.Second)))
	if replayed.Status != 401 {
		t.Errorf("replay after the window: %d", replayed.Status)
	}
	app.settled(t)
	if h := rec.handled(); len(h) != 0 {
		t.Fatalf("refused requests were handled: %+v", h)
	}
	if len(app.fake.Answers(respURL)) != 0 {
		t.Error("a refused command was answered")
	}
	if fresh := app.fake.PostSigned(target, "application/x-www-form-urlencoded", body, nil); !fresh.OK() {
		t.Fatalf("the same body signed now: %d", fresh.Status)
	}
	if _, err := app.fake.WaitAnswers(waitCtx(t), respURL, 1); err != nil {
		t.Fatal(err)
	}
	logs := app.log.String()
	if strings.Contains(logs, "秘密の本文") || strings.Contains(logs, "%E7%A7%98") {
		t.Errorf("a body reached the log:\n%s", logs)
	}
	if n := strings.Count(logs, "Slack request refused"); n != 11 {
		t.Errorf("%d refusals logged, want 11:\n%s", n, logs)
	}
}

func TestHTTPBadRequests(t *testing.T) {
	rec := &recorder{}
	app := runHTTPClient(t, rec, nil)
	base := app.base
	for path, body := range map[string]string{
		EventsPath:      `{"type":`,
		InteractivePath: `nothing=here`,
	} {
		d := app.fake.PostSigned(base+path, "application/x-www-form-urlencoded", []byte(body), nil)
		if d.Status != http.StatusBadRequest || d.Header.Get("X-Slack-No-Retry") != "1" {
			t.Errorf("%s %s: %d", path, body, d.Status)
		}
	}
	resp, err := http.Get(base + EventsPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET %s: %d", EventsPath, resp.StatusCode)
	}
	app.settled(t)
	if h := rec.handled(); len(h) != 0 {
		t.Fatalf("handled %+v", h)
	}
}

// TestHTTPBusy: with the queue full, a slash command's response says so.
func TestHTTPBusy(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	started := make(chan struct{})
	app := runHTTPClient(t, handlerFunc(func(_ context.Context, req trustbot.Request) trustbot.Reply {
		once.Do(func() { close(started) })
		<-release
		return textReply("late")
	}), func(c *Client) {
		c.cfg.BusyText = "混んでいます"
		c.cfg.AnswerBudget = -1
		c.jobs = make(chan job, 1)
	})
	defer close(release)
	app.command(t, "one") // taken by the worker
	<-started
	app.command(t, "two") // waits in the queue
	d, _ := app.command(t, "three")
	if !strings.Contains(string(d.Body), "混んでいます") {
		t.Fatalf("busy response %s", d.Body)
	}
}

// kinds names requests for a failure message.
func kinds(reqs []trustbot.Request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, fmt.Sprintf("%d:%s:%s", r.Kind, r.ActionID, r.Text))
	}
	return out
}

// FuzzHTTPRequest: whatever body Slack (or anyone holding the secret)
// posts to any of the three paths, reading and translating it never
// panics, answers a challenge only on the events path, and hands on only
// requests of a valid Slack user.
func FuzzHTTPRequest(f *testing.F) {
	f.Add(uint8(0), []byte(`{"type":"url_verification","challenge":"abc"}`))
	f.Add(uint8(0), []byte(`{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"message","channel":"DU1","channel_type":"im","user":"U1","text":"tip &amp; <https://a|b>"}}`))
	f.Add(uint8(0), []byte(`{"type":"app_rate_limited","team_id":"T1","minute_rate_limited":1}`))
	f.Add(uint8(1), []byte(`payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A%7B%22id%22%3A%22U1%22%7D%2C%22team%22%3A%7B%22id%22%3A%22T1%22%7D%2C%22actions%22%3A%5B%7B%22action_id%22%3A%22tip.another%230%22%7D%5D%7D`))
	f.Add(uint8(1), []byte(`payload=%ff&payload=x`))
	f.Add(uint8(2), []byte(`team_id=T1&user_id=U1&channel_id=C1&command=%2Ftrust&text=tip+%E5%86%B7%E5%8D%B4&response_url=https%3A%2F%2Fhooks.slack.com%2Fx`))
	f.Add(uint8(2), []byte(`team_id=T1&user_id=U1&text=%zz;&`))
	kinds := []string{kindEvent, kindInteractive, kindSlash}
	f.Fuzz(func(t *testing.T, k uint8, body []byte) {
		kind := kinds[int(k)%len(kinds)]
		in, challenge, err := readHTTP(kind, body)
		if err != nil {
			return
		}
		if challenge != nil {
			if kind != kindEvent {
				t.Fatalf("a challenge answered on %s", kind)
			}
			return
		}
		if in.kind != "" && in.kind != kind {
			t.Fatalf("a %s body read as %s", kind, in.kind)
		}
		req, to, _, err := translate(in, "UBOT")
		if err != nil {
			return
		}
		if !req.UserKey.Valid() || req.Platform() != trustbot.Slack || req.User == "UBOT" {
			t.Fatalf("accepted %+v", req.UserKey)
		}
		if kind == kindSlash && (req.Kind != trustbot.Command || to.Form || to.Home) {
			t.Fatalf("a slash command read as %d, target %+v", req.Kind, to)
		}
	})
}

// FuzzVerify: a request passes the check only with the signature of its
// own body and timestamp under the secret, and a timestamp within 5
// minutes; with that signature and a fresh timestamp it passes.
func FuzzVerify(f *testing.F) {
	f.Add([]byte("team_id=T1&text=help"), "", int64(0), true)
	f.Add([]byte("team_id=T1&text=help"), "v0=00", int64(-301), false)
	f.Add([]byte{}, "v0=", int64(299), true)
	f.Add([]byte(`{"type":"event_callback"}`), "v0=zz", int64(1<<40), false)
	fake := fakeslack.New()
	defer fake.Close()
	f.Fuzz(func(t *testing.T, body []byte, sig string, skew int64, sign bool) {
		skew %= 1 << 40
		at := time.Now().Add(time.Duration(skew) * time.Second)
		h := fake.Sign(body, at)
		right := h.Get("X-Slack-Signature")
		if !sign {
			h.Set("X-Slack-Signature", sig)
		}
		r := httptest.NewRequest(http.MethodPost, CommandsPath, bytes.NewReader(body))
		r.Header = h
		got, _, reason := verify(httptest.NewRecorder(), r, fakeslack.SigningSecret)
		passed := reason == ""
		if passed && (h.Get("X-Slack-Signature") != right || skew < -300 || skew > 300 || !bytes.Equal(got, body)) {
			t.Fatalf("passed with signature %q (want %q), %d s apart", h.Get("X-Slack-Signature"), right, skew)
		}
		if !passed && sign && skew > -290 && skew < 290 && len(body) <= MaxBodyBytes {
			t.Fatalf("refused a right signature %d s apart: %s", skew, reason)
		}
	})
}
