package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
	"github.com/trustbot/trustbot/playbooks"
	"go.yaml.in/yaml/v3"
)

// syncBuffer is a bytes.Buffer safe for the program's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Bot is the real program running against a fake Slack.
type Bot struct {
	Slack  *fakeslack.Server
	Stderr *syncBuffer
	DB     string
	HTTP   string
	// Public is the public address Slack posts to in HTTP mode; empty in
	// Socket Mode.
	Public string
	Env    map[string]string
	cancel context.CancelFunc
	done   chan int
}

const (
	jaUser = "UJAPANESE"
	enUser = "UENGLISH"
)

// patience bounds every wait for something observable (a connection, a
// recorded call). A passing test returns as soon as it sees it, so the bound
// only decides how long a broken one hangs; it is generous so that a busy
// machine does not fail a correct build.
const patience = 60 * time.Second

// MustRunBot starts "trustbot serve" on a temp database against a new fake
// Slack with one Japanese and one English user.
func MustRunBot(tb testing.TB, extra map[string]string) *Bot {
	tb.Helper()
	fake := fakeslack.New()
	tb.Cleanup(fake.Close)
	fake.SetPingInterval(500 * time.Millisecond)
	fake.AddUser(fakeslack.User{ID: jaUser, TZ: "Asia/Tokyo", Locale: "ja-JP"})
	fake.AddUser(fakeslack.User{ID: enUser, TZ: "Europe/London", Locale: "en-GB"})
	b := &Bot{Slack: fake, Stderr: &syncBuffer{}, DB: newDB(tb), HTTP: freeAddr(tb)}
	env := map[string]string{
		"SLACK_BOT_TOKEN":    fakeslack.BotToken,
		"SLACK_APP_TOKEN":    fakeslack.AppToken,
		"SLACK_API_URL":      fake.APIURL(),
		"TRUSTBOT_DB":        b.DB,
		"TRUSTBOT_HTTP_ADDR": b.HTTP,
		"LOG_LEVEL":          "debug",
	}
	for k, v := range extra {
		env[k] = v
	}
	b.Env = env
	tb.Cleanup(func() { b.Stop(tb) })
	b.Start(tb)
	return b
}

// Start runs "trustbot serve" with the bot's environment and waits until
// it is connected to the fake Slack.
// The HTTP address is found free and then released for the bot to
// listen on, so another process on a shared machine may take it first:
// the bot then exits at once, and starts again on another address.
func (b *Bot) Start(tb testing.TB) {
	tb.Helper()
	for attempt := 0; ; attempt++ {
		before := b.Slack.Connections()
		ctx, cancel := context.WithCancel(context.Background())
		b.cancel = cancel
		done := make(chan int, 1)
		b.done = done
		go func() {
			done <- run(ctx, []string{"serve"}, func(k string) string { return b.Env[k] }, strings.NewReader(""), io.Discard, b.Stderr)
		}()
		wctx, wcancel := context.WithTimeout(context.Background(), patience)
		connected := make(chan error, 1)
		if b.Public != "" {
			// HTTP mode: no socket; ready once it takes requests.
			go func() { connected <- waitReadyz(wctx, b.HTTP, b.Stderr) }()
		} else {
			go func() { connected <- b.Slack.WaitConnections(wctx, before+1) }()
		}
		select {
		case err := <-connected:
			wcancel()
			if err != nil {
				tb.Fatalf("bot did not connect: %v\n%s", err, b.Stderr)
			}
			return
		case code := <-done:
			wcancel()
			cancel()
			b.cancel = nil
			if attempt < 3 && b.Env["TRUSTBOT_HTTP_ADDR"] != "" && strings.Contains(b.Stderr.String(), "address already in use") {
				b.Env["TRUSTBOT_HTTP_ADDR"] = freeAddr(tb)
				b.HTTP = b.Env["TRUSTBOT_HTTP_ADDR"]
				if b.Public != "" {
					b.setPublic(freeAddr(tb))
				}
				continue
			}
			tb.Fatalf("bot exited %d before connecting\n%s", code, b.Stderr)
		}
	}
}

// TestStartMovesOffATakenAddress: when another process took the HTTP
// address the test found free, the bot is started on another one.
func TestStartMovesOffATakenAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	bot := MustRunBot(t, map[string]string{"TRUSTBOT_HTTP_ADDR": ln.Addr().String()})
	if bot.HTTP == ln.Addr().String() {
		t.Fatal("the bot runs on the taken address")
	}
	resp, err := http.Get("http://" + bot.HTTP + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz on the new address: %s", resp.Status)
	}
}

// Stop cancels the program and checks it exits cleanly.
func (b *Bot) Stop(tb testing.TB) {
	tb.Helper()
	if b.cancel == nil {
		return
	}
	b.cancel()
	b.cancel = nil
	select {
	case code := <-b.done:
		if code != 0 {
			tb.Errorf("trustbot exited %d\n%s", code, b.Stderr)
		}
	case <-time.After(patience):
		tb.Errorf("trustbot did not stop within 10s")
	}
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		// A closed port may come back from the next Listen: tests running
		// in parallel must not be given the same one.
		if !handedOut.addrs[addr] {
			handedOut.addrs[addr] = true
			return addr
		}
	}
	tb.Fatal("no free port that was not handed out already")
	return ""
}

// handedOut is every address freeAddr gave in this test binary.
var handedOut = struct {
	sync.Mutex
	addrs map[string]bool
}{addrs: map[string]bool{}}

// newDB returns TRUSTBOT_DB for a new, migrated database of the test: a
// SQLite file in its temp folder, or a PostgreSQL database when the suite
// runs on PostgreSQL (internal/testdb). The tests that are about a new
// or an old file (TestStartOnAnEmptyFile, the migrate command,
// internal/sqlite's) start from nothing.
func newDB(tb testing.TB) string {
	tb.Helper()
	return testdb.DSN(tb)
}

func ctxTimeout(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	tb.Cleanup(cancel)
	return ctx
}

// reply is an answer the user saw: the message in the ack of a slash
// command, or a body posted to the response_url.
type reply struct {
	Text            string            `json:"text"`
	ResponseType    string            `json:"response_type"`
	ReplaceOriginal bool              `json:"replace_original"`
	Blocks          []json.RawMessage `json:"blocks"`
	raw             string
}

// Slash sends "/trust text" as user and returns the ack and the reply. In
// HTTP mode the ack is the HTTP response, checked as Slack checks it, and
// the Ack returned is empty.
func (b *Bot) Slash(tb testing.TB, user, text string) (fakeslack.Ack, reply) {
	tb.Helper()
	url := b.Slack.NewResponseURL()
	if b.Public != "" {
		d, err := b.Slack.PostSlashCommand(fakeslack.SlashCommand{UserID: user, Text: text, ResponseURL: url})
		if err != nil || !d.OK() {
			tb.Fatalf("/trust %s not acknowledged: %d in %s (%v)\n%s", text, d.Status, d.Took, err, b.Stderr)
		}
		return fakeslack.Ack{}, b.response(tb, url, 1)
	}
	env, err := b.Slack.SlashCommand(fakeslack.SlashCommand{UserID: user, Text: text, ResponseURL: url})
	if err != nil {
		tb.Fatal(err)
	}
	ack, err := b.Slack.WaitAck(ctxTimeout(tb), env)
	if err != nil {
		tb.Fatalf("no ack for /trust %s: %v", text, err)
	}
	return ack, b.response(tb, url, 1)
}

// response waits for the n-th answer to the command or click that carried
// url, in its ack or at the response_url.
func (b *Bot) response(tb testing.TB, url string, n int) reply {
	tb.Helper()
	got, err := b.Slack.WaitAnswers(ctxTimeout(tb), url, n)
	if err != nil {
		tb.Fatalf("no answer in the ack or at the response_url: %v\n%s", err, b.Stderr)
	}
	var r reply
	if err := json.Unmarshal(got[n-1].Body, &r); err != nil {
		tb.Fatal(err)
	}
	r.raw = string(got[n-1].Body)
	return r
}

// Press presses the first control whose action_id starts with id in a
// reply, choosing value for a menu, and returns the updated reply.
func (b *Bot) Press(tb testing.TB, user string, r reply, id, value string) reply {
	tb.Helper()
	actionID, val, typ := findControl(tb, r, id)
	if value == "" {
		return b.pressExact(tb, user, actionID, val)
	}
	if typ == "external_select" {
		// The menu asks for its choices as it opens, nothing typed yet;
		// the value must be among them.
		if !slices.ContainsFunc(b.Suggest(tb, user, actionID, ""), func(o option) bool { return o.Value == value }) {
			tb.Fatalf("%s is not among the choices of %s", value, actionID)
		}
	}
	return b.choose(tb, user, actionID, typ, value)
}

// findControl returns the action_id, value and type of the first control
// whose action_id starts with id in a reply.
func findControl(tb testing.TB, r reply, id string) (actionID, value, typ string) {
	tb.Helper()
	for _, raw := range r.Blocks {
		var blk struct {
			Elements []struct {
				Type     string `json:"type"`
				ActionID string `json:"action_id"`
				Value    string `json:"value"`
			} `json:"elements"`
		}
		json.Unmarshal(raw, &blk)
		for _, e := range blk.Elements {
			if strings.HasPrefix(e.ActionID, id+"#") {
				return e.ActionID, e.Value, e.Type
			}
		}
	}
	tb.Fatalf("no control %s in %s", id, r.raw)
	return "", "", ""
}

// option is one choice of a menu, as the ack of a block_suggestion
// carries it.
type option struct {
	Text struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"text"`
	Value string `json:"value"`
}

// Suggest types typed in the external select with this action_id and
// returns the choices the ack carries.
func (b *Bot) Suggest(tb testing.TB, user, actionID, typed string) []option {
	tb.Helper()
	payload := map[string]any{
		"type":      "block_suggestion",
		"user":      map[string]string{"id": user, "team_id": fakeslack.TeamID},
		"team":      map[string]string{"id": fakeslack.TeamID},
		"container": map[string]any{"type": "message", "is_ephemeral": true, "channel_id": fakeslack.DefaultChannelID},
		"action_id": actionID,
		"block_id":  "b1",
		"value":     typed,
	}
	var body []byte
	if b.Public != "" {
		d, err := b.Slack.PostInteractive(payload)
		if err != nil || !d.OK() {
			tb.Fatalf("block_suggestion not answered: %d in %s (%v)\n%s", d.Status, d.Took, err, b.Stderr)
		}
		body = d.Body
	} else {
		env, err := b.Slack.Interactive(payload)
		if err != nil {
			tb.Fatal(err)
		}
		ack, err := b.Slack.WaitAck(ctxTimeout(tb), env)
		if err != nil {
			tb.Fatalf("block_suggestion not acked: %v", err)
		}
		body = ack.Payload
	}
	var got struct {
		Options *[]option `json:"options"`
	}
	if err := json.Unmarshal(body, &got); err != nil || got.Options == nil {
		tb.Fatalf("block_suggestion answered %s (%v)", body, err)
	}
	return *got.Options
}

// pressExact presses a button with this action_id and value.
func (b *Bot) pressExact(tb testing.TB, user, actionID, value string) reply {
	tb.Helper()
	return b.interact(tb, user, map[string]any{"type": "button", "action_id": actionID, "block_id": "b1", "value": value})
}

// choose picks value in the menu of this type with this action_id.
func (b *Bot) choose(tb testing.TB, user, actionID, typ, value string) reply {
	tb.Helper()
	return b.interact(tb, user, map[string]any{"type": typ, "action_id": actionID, "block_id": "b1",
		"selected_option": map[string]any{"value": value, "text": map[string]string{"type": "plain_text", "text": value}}})
}

// interact sends a block_actions payload with one action and returns the
// reply posted to its response_url.
func (b *Bot) interact(tb testing.TB, user string, action map[string]any) reply {
	tb.Helper()
	url := b.Slack.NewResponseURL()
	b.acked(tb, map[string]any{
		"type":         "block_actions",
		"user":         map[string]string{"id": user, "team_id": fakeslack.TeamID},
		"team":         map[string]string{"id": fakeslack.TeamID},
		"channel":      map[string]string{"id": fakeslack.DefaultChannelID},
		"container":    map[string]any{"type": "message", "is_ephemeral": true, "channel_id": fakeslack.DefaultChannelID},
		"response_url": url,
		"actions":      []any{action},
	})
	return b.response(tb, url, 1)
}

// acked sends an interaction, over the socket or HTTP, and waits for its
// acknowledgement.
func (b *Bot) acked(tb testing.TB, payload map[string]any) {
	tb.Helper()
	if b.Public != "" {
		d, err := b.Slack.PostInteractive(payload)
		if err != nil || !d.OK() {
			tb.Fatalf("%s not acknowledged: %d in %s (%v)\n%s", payload["type"], d.Status, d.Took, err, b.Stderr)
		}
		return
	}
	env, err := b.Slack.Interactive(payload)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := b.Slack.WaitAck(ctxTimeout(tb), env); err != nil {
		tb.Fatalf("%s not acked: %v", payload["type"], err)
	}
}

// waitLog waits until the bot's log has a line containing s.
func (b *Bot) waitLog(tb testing.TB, s string) {
	tb.Helper()
	for deadline := time.Now().Add(patience); !strings.Contains(b.Stderr.String(), s); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("no log line with %q:\n%s", s, b.Stderr)
		}
	}
}

// mustLibrary is the built-in content, as the program loads it (once).
func mustLibrary(tb testing.TB) *playbook.Library {
	tb.Helper()
	lib, err := embedded()
	if err != nil {
		tb.Fatal(err)
	}
	return lib
}

func TestSlackEndToEnd(t *testing.T) {
	lib := mustLibrary(t)
	bot := MustRunBot(t, nil)

	// Every tip's message, and its rendering, is kept at start: both
	// languages, for any topic and for its own.
	t.Run("TipMessagesKeptAtStart", func(t *testing.T) {
		bot.waitLog(t, fmt.Sprintf(`msg="tip messages kept" slack=%d `, 2*len(lib.Tips())*len(trustbot.Langs)))
	})

	for _, tc := range []struct {
		user string
		lang trustbot.Lang
	}{{jaUser, trustbot.Japanese}, {enUser, trustbot.English}} {
		t.Run(string(tc.lang), func(t *testing.T) {
			_, r := bot.Slash(t, tc.user, "help")
			if r.ResponseType != "ephemeral" || !strings.Contains(r.raw, lib.T(tc.lang, "help.title")) {
				t.Fatalf("help reply: %s", r.raw)
			}

			_, r = bot.Slash(t, tc.user, "tip cooling-period")
			tp, _ := lib.Topic("cooling-period")
			if !strings.Contains(r.raw, tp.Title.In(tc.lang)) {
				t.Fatalf("tip reply lacks the topic: %s", r.raw)
			}
			next := bot.Press(t, tc.user, r, "tip.another", "")
			if !next.ReplaceOriginal || !strings.Contains(next.raw, tp.Title.In(tc.lang)) || next.Text == r.Text {
				t.Fatalf("another tip: replace=%v %s", next.ReplaceOriginal, next.raw)
			}
			chosen := bot.Press(t, tc.user, next, "tip.topic", "small-talk")
			st, _ := lib.Topic("small-talk")
			if !strings.Contains(chosen.raw, st.Title.In(tc.lang)) {
				t.Fatalf("topic menu: %s", chosen.raw)
			}
			// The topic menu is searched as one types, by alias in
			// either language, and lists titles in the user's.
			if strings.Contains(chosen.raw, `"options"`) || !strings.Contains(chosen.raw, `"external_select"`) {
				t.Fatalf("the topic menu carries its options: %s", chosen.raw)
			}
			rt, _ := lib.Topic("repairing-trust")
			menu, _, _ := findControl(t, chosen, "tip.topic")
			for _, typed := range []string{"修復", "sorry"} {
				got := bot.Suggest(t, tc.user, menu, typed)
				if len(got) == 0 || got[0].Value != rt.ID || got[0].Text.Text != rt.Title.In(tc.lang) {
					t.Fatalf("typing %q in the topic menu: %+v", typed, got)
				}
			}
			if got := bot.Suggest(t, tc.user, menu, ""); len(got) != len(lib.Topics) {
				t.Fatalf("the opened topic menu lists %d topics of %d", len(got), len(lib.Topics))
			}

			_, r = bot.Slash(t, tc.user, "phrase ask-contact-softly")
			sit, _ := lib.Situation("ask-contact-softly")
			if !strings.Contains(r.raw, jsonText(playbook.FillChat(sit.Phrasings[0].Polite.In(tc.lang), "Slack"))) {
				t.Fatalf("phrase reply: %s", r.raw)
			}
			casual := bot.Press(t, tc.user, r, "phrase.style", "")
			if !strings.Contains(casual.raw, jsonText(playbook.FillChat(sit.Phrasings[0].Casual.In(tc.lang), "Slack"))) {
				t.Fatalf("casual switch: %s", casual.raw)
			}

			_, r = bot.Slash(t, tc.user, "check LINE教えて。今すぐ！")
			if !strings.Contains(r.raw, jsonText(flagLabel(t, lib, "rush", tc.lang))) {
				t.Fatalf("tone check: %s", r.raw)
			}
		})
	}

	t.Run("LanguageOverride", func(t *testing.T) {
		_, r := bot.Slash(t, jaUser, "lang en")
		if !strings.Contains(r.raw, "English") {
			t.Fatalf("lang en: %s", r.raw)
		}
		_, r = bot.Slash(t, jaUser, "help")
		if !strings.Contains(r.raw, lib.T(trustbot.English, "help.title")) {
			t.Fatalf("after lang en: %s", r.raw)
		}
		bot.Slash(t, jaUser, "言語 auto")
	})

	t.Run("BadInput", func(t *testing.T) {
		for _, text := range []string{"", "unknwn", strings.Repeat("長", 10_000), "check \xff\xfe\x00\x1b", "ｈｅｌｐ"} {
			_, r := bot.Slash(t, enUser, text)
			if r.Text == "" {
				t.Errorf("%q: empty reply", text[:min(len(text), 20)])
			}
		}
		_, r := bot.Slash(t, enUser, "hlep")
		if !strings.Contains(r.raw, "/trust help") {
			t.Errorf("no did-you-mean: %s", r.raw)
		}
	})

	t.Run("MalformedEnvelopesAreAckedAndSurvived", func(t *testing.T) {
		for i, frame := range []string{
			`{"envelope_id":"bad-1","type":"slash_commands","accepts_response_payload":true,"payload":"not an object"}`,
			`{"envelope_id":"bad-2","type":"interactive","payload":{"type":"block_actions","actions":"x"}}`,
			`{"envelope_id":"bad-3","type":"slash_commands","payload":{"team_id":"T1"}}`,
			`{"envelope_id":"bad-4","type":"no_such_type","payload":{}}`,
			`{"this is not json`,
		} {
			if err := bot.Slack.SendRaw([]byte(frame)); err != nil {
				t.Fatal(err)
			}
			if id := fmt.Sprintf("bad-%d", i+1); i < 4 {
				if _, err := bot.Slack.WaitAck(ctxTimeout(t), id); err != nil {
					t.Errorf("%s not acked: %v", id, err)
				}
			}
		}
		if _, r := bot.Slash(t, enUser, "help"); !strings.Contains(r.raw, lib.T(trustbot.English, "help.title")) {
			t.Fatalf("bot stopped answering after malformed envelopes")
		}
		if n := bot.Slack.Connections(); n != 1 {
			t.Errorf("%d connections: malformed envelopes made the bot reconnect", n)
		}
	})

	t.Run("DuplicateEnvelopeHandledOnce", func(t *testing.T) {
		url := bot.Slack.NewResponseURL()
		payload, err := bot.Slack.BuildSlashCommand(fakeslack.SlashCommand{UserID: enUser, Text: "help", ResponseURL: url})
		if err != nil {
			t.Fatal(err)
		}
		frame, _ := json.Marshal(map[string]any{"envelope_id": "dup-1", "type": "slash_commands", "accepts_response_payload": true, "payload": payload})
		for range 2 {
			if err := bot.Slack.SendRaw(frame); err != nil {
				t.Fatal(err)
			}
		}
		bot.response(t, url, 1)
		// The second is set aside by its worker, and says so.
		bot.waitLog(t, `msg="duplicate envelope" component=slack envelope=dup-1`)
		if got := len(bot.Slack.Answers(url)); got != 1 {
			t.Fatalf("duplicate envelope answered %d times", got)
		}
	})

	t.Run("ReconnectsAfterDropAndDisconnect", func(t *testing.T) {
		before := bot.Slack.Connections()
		bot.Slack.Drop()
		if err := bot.Slack.WaitConnections(ctxTimeout(t), before+1); err != nil {
			t.Fatalf("no reconnect after a drop: %v", err)
		}
		if _, r := bot.Slash(t, jaUser, "help"); !strings.Contains(r.raw, lib.T(trustbot.Japanese, "help.title")) {
			t.Fatal("no answer after reconnect")
		}
		bot.Slack.Disconnect("refresh_requested")
		if err := bot.Slack.WaitConnections(ctxTimeout(t), before+2); err != nil {
			t.Fatalf("no reconnect after disconnect: %v", err)
		}
		if _, r := bot.Slash(t, jaUser, "help"); !strings.Contains(r.raw, lib.T(trustbot.Japanese, "help.title")) {
			t.Fatal("no answer after disconnect")
		}
	})

	t.Run("HealthAndReadiness", func(t *testing.T) {
		// What /metrics must count is done here, so that this runs alone
		// too: a command, a button, an unknown command and a reconnect.
		reconnects := func() int {
			m := regexp.MustCompile(`(?m)^trustbot_socket_reconnects_total ([0-9]+)$`).FindStringSubmatch(bot.get(t, "/metrics"))
			if m == nil {
				t.Fatal("/metrics lacks trustbot_socket_reconnects_total")
			}
			n, _ := strconv.Atoi(m[1])
			return n
		}
		before, dropped := reconnects(), bot.Slack.Connections()
		_, r := bot.Slash(t, enUser, "tip")
		bot.Press(t, enUser, r, "tip.another", "")
		bot.Slash(t, enUser, "unknwn")
		bot.Slack.Drop()
		if err := bot.Slack.WaitConnections(ctxTimeout(t), dropped+1); err != nil {
			t.Fatalf("no reconnect after a drop: %v", err)
		}
		for _, path := range []string{"/healthz", "/readyz"} {
			// The socket was just dropped: the replica may report it
			// reconnecting for a moment, never for long.
			var (
				res  *http.Response
				body []byte
				err  error
			)
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				res, err = http.Get("http://" + bot.HTTP + path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode == 200 || time.Now().After(deadline) {
					break
				}
			}
			if res.StatusCode != 200 {
				t.Errorf("%s: %d", path, res.StatusCode)
			}
			if path == "/readyz" && !regexp.MustCompile(`^replica r[0-9a-f]{16}: ready`).Match(body) {
				t.Errorf("/readyz does not name the replica: %q", body)
			}
		}
		if got := reconnects(); got != before+1 {
			t.Errorf("trustbot_socket_reconnects_total went from %d to %d over one reconnect", before, got)
		}
		body := bot.get(t, "/metrics")
		for _, want := range []string{
			`trustbot_commands_total{command="tip"}`,
			`trustbot_commands_total{command="tip.another"}`,
			`trustbot_commands_total{command="unknown"}`,
			`trustbot_ack_latency_seconds_count`,
			`trustbot_claims_total`,
			`trustbot_reconciled_total{outcome="requeued"}`,
			`trustbot_lease_expiries_total`,
			`go_goroutines`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})

	t.Run("LogsCarryNoMessageBodies", func(t *testing.T) {
		// Texts of its own, so that this runs alone too; the logs hold
		// the other subtests' as well.
		if _, r := bot.Slash(t, jaUser, "check LINE教えて。今すぐ！"); !strings.Contains(r.raw, jsonText(flagLabel(t, lib, "rush", trustbot.Japanese))) {
			t.Fatalf("tone check: %s", r.raw)
		}
		bot.Slash(t, enUser, "tip cooling-period")
		logs := bot.Stderr.String()
		for _, secret := range []string{fakeslack.BotToken, fakeslack.AppToken, "LINE教えて", "cooling-period\""} {
			if strings.Contains(logs, secret) {
				t.Errorf("logs contain %q", secret)
			}
		}
	})
}

// get returns the body of a GET of path on the bot's HTTP address, which
// must answer 200.
func (b *Bot) get(tb testing.TB, path string) string {
	tb.Helper()
	res, err := http.Get("http://" + b.HTTP + path)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: %s %s", path, res.Status, body)
	}
	return string(body)
}

// TestSlackRateLimitedConnect: apps.connections.open answering 429 is
// waited out, not fatal.
func TestSlackRateLimitedConnect(t *testing.T) {
	bot := MustRunBot(t, nil)
	before := bot.Slack.Connections()
	bot.Slack.RateLimit("apps.connections.open", 1, "1")
	bot.Slack.Drop()
	if err := bot.Slack.WaitConnections(ctxTimeout(t), before+1); err != nil {
		t.Fatalf("did not reconnect after a rate-limited connections.open: %v\n%s", err, bot.Stderr)
	}
	if _, r := bot.Slash(t, enUser, "help"); r.Text == "" {
		t.Fatal("no answer after the rate limit")
	}
}

// TestSlackBusyDatabase holds the database's write lock: a command that
// writes answers "busy, try again" instead of failing silently.
func TestSlackBusyDatabase(t *testing.T) {
	t.Parallel() // its own fake platform and database
	if testing.Short() {
		t.Skip("waits for the busy timeout")
	}
	lib := mustLibrary(t)
	bot := MustRunBot(t, nil)
	bot.Slash(t, enUser, "help") // caches the profile
	bot.Slash(t, enUser, "tip")  // and the recent tips
	lock := holdWriteLock(t, bot.DB)
	_, r := bot.Slash(t, enUser, "lang en")
	if !strings.Contains(r.raw, lib.T(trustbot.English, "error.busy")) {
		t.Fatalf("a setting saved under a locked database: %s", r.raw)
	}
	// A tip needs no write at once: it is answered from memory, and its
	// record waits for the lock. Only the SQLite store, the one process
	// writing its file, keeps that memory; PostgreSQL's replicas share
	// every row, so a tip there writes its record at once.
	if !testdb.Postgres(t) {
		if _, r := bot.Slash(t, enUser, "tip"); strings.Contains(r.raw, lib.T(trustbot.English, "error.busy")) {
			t.Fatalf("tip under a locked database: %s", r.raw)
		}
	}
	// While the database stays stuck, the socket keeps acknowledging: twenty
	// more commands are all acked before the lock is released.
	for range 20 {
		env, err := bot.Slack.SlashCommand(fakeslack.SlashCommand{UserID: enUser, Text: "tip", ResponseURL: bot.Slack.NewResponseURL()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bot.Slack.WaitAck(ctxTimeout(t), env); err != nil {
			t.Fatalf("no ack while the database is locked: %v", err)
		}
	}
	lock()
	if _, r := bot.Slash(t, enUser, "lang en"); strings.Contains(r.raw, lib.T(trustbot.English, "error.busy")) {
		t.Fatal("still busy after the lock was released")
	}
}

// holdWriteLock takes the database's write lock from another connection
// and returns the function that releases it: SQLite's one writer lock,
// or on PostgreSQL every table locked against writes (reads go on).
func holdWriteLock(t *testing.T, dsn string) func() {
	t.Helper()
	ctx := context.Background()
	db, err := testdb.Raw(dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if dbKind(dsn) == Postgres {
		var tables string
		if err := conn.QueryRowContext(ctx, `SELECT string_agg(quote_ident(table_name), ', ') FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`).Scan(&tables); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "LOCK TABLE "+tables+" IN EXCLUSIVE MODE"); err != nil {
			t.Fatal(err)
		}
	} else if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	return func() {
		conn.ExecContext(ctx, "ROLLBACK")
		conn.Close()
		db.Close()
	}
}

func jsonText(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

func flagLabel(t *testing.T, lib *playbook.Library, id string, lang trustbot.Lang) string {
	f, ok := lib.Tone.Flag(id)
	if !ok {
		t.Fatalf("no flag %s", id)
	}
	return f.Label.In(lang)
}

func runCmd(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestServeWithoutTokens(t *testing.T) {
	code, _, stderr := runCmd(t, map[string]string{}, "", "serve")
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	for _, want := range []string{"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "trustbot console"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("message lacks %q: %s", want, stderr)
		}
	}
	// No subcommand means serve.
	if code, _, _ := runCmd(t, map[string]string{}, ""); code != 2 {
		t.Errorf("no subcommand: exit %d, want serve's 2", code)
	}
}

func TestServeInvalidToken(t *testing.T) {
	fake := fakeslack.New()
	defer fake.Close()
	code, _, stderr := runCmd(t, map[string]string{
		"SLACK_BOT_TOKEN": "xoxb-revoked", "SLACK_APP_TOKEN": fakeslack.AppToken,
		"SLACK_API_URL": fake.APIURL(), "TRUSTBOT_DB": testdb.EmptyDSN(t),
	}, "", "serve")
	if code != 1 || !strings.Contains(stderr, "invalid_auth") {
		t.Fatalf("exit %d, stderr %q; want 1 with Slack's invalid_auth", code, stderr)
	}
	if strings.Contains(stderr, "xoxb-revoked") {
		t.Error("the token is in the error output")
	}
	if n := len(fake.Calls("auth.test")); n != 1 {
		t.Errorf("auth.test called %d times: a wrong token must fail at once, without retrying", n)
	}
	if n := len(fake.Calls("apps.connections.open")); n != 0 {
		t.Errorf("apps.connections.open called %d times after invalid_auth", n)
	}
}

func TestConsole(t *testing.T) {
	lib := mustLibrary(t)
	db := testdb.EmptyDSN(t)
	env := map[string]string{"TRUSTBOT_DB": db}
	input := "/trust help\n1\n/trust phrase thanks\n2\n1\nヒント 冷却期間\n99\n/trust lang en\nhelp\nexit\n"
	code, out, stderr := runCmd(t, env, input, "console", "--user", "UME")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		lib.T(trustbot.Japanese, "console.welcome", "user", "UME"),
		lib.T(trustbot.Japanese, "help.title"),
		"[1] " + lib.T(trustbot.Japanese, "button.tip"),
		lib.T(trustbot.Japanese, "console.no_such_button", "number", "99"),
		lib.T(trustbot.English, "help.title"),
		lib.T(trustbot.English, "console.bye"), // "lang en" applies at once
	} {
		if !strings.Contains(out, want) {
			t.Errorf("console output lacks %q", want)
		}
	}
	sit, _ := lib.Situation("thanks")
	if !strings.Contains(out, playbook.FillChat(sit.Phrasings[0].Polite.In(trustbot.Japanese), "Slack")) {
		t.Error("phrasings not shown")
	}
	// The tip button and "ヒント 冷却期間" each showed a tip (which one is
	// chosen at random, so look for any; not every tip has a try line).
	tips, cooling := 0, 0
	for _, tip := range lib.Tips() {
		if strings.Contains(out, "【"+tip.Title.In(trustbot.Japanese)+"】") {
			tips++
			if tip.Topic.ID == "cooling-period" {
				cooling++
			}
		}
	}
	if tips < 2 || cooling < 1 {
		t.Errorf("tips shown: %d, from the cooling period: %d; want a tip from the button and one of the topic", tips, cooling)
	}
	// The same store: the language chosen above is remembered.
	_, out, _ = runCmd(t, env, "help\n", "console", "--user", "UME")
	if !strings.Contains(out, lib.T(trustbot.English, "help.title")) {
		t.Error("language setting not kept in the SQLite file")
	}
	// --lang sets the locale for a new user.
	_, out, _ = runCmd(t, env, "help\n", "console", "--user", "UNEW", "--lang", "en")
	if !strings.Contains(out, lib.T(trustbot.English, "help.title")) {
		t.Error("--lang en not applied")
	}
	if code, _, _ := runCmd(t, env, "", "console", "--lang", "fr"); code != 2 {
		t.Errorf("--lang fr: exit %d, want 2", code)
	}
}

// TestPlaybooksCommands: "playbooks lint" of content without problems
// says so (a copy of the built-in content with a few tone examples: the
// package playbook lints the built-in content whole), of broken content
// lists its problems; "playbooks stats" counts the built-in content.
func TestPlaybooksCommands(t *testing.T) {
	t.Parallel() // it only reads content
	code, out, _ := runCmd(t, nil, "", "playbooks", "lint", cutCorpus(t, nil))
	if code != 0 || !strings.Contains(out, "no problems") {
		t.Fatalf("lint of the built-in content: exit %d: %s", code, out)
	}
	code, out, _ = runCmd(t, nil, "", "playbooks", "lint", "../../internal/playbook/testdata/bad")
	if code != 1 || !strings.Contains(out, "tips/beta.yaml:3: audience") {
		t.Fatalf("lint of broken content: exit %d: %s", code, out)
	}
	code, out, _ = runCmd(t, nil, "", "playbooks", "stats", "--json")
	var st playbook.Stats
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Languages["ja"].Tips < 200 {
		t.Fatalf("stats --json: exit %d: %s", code, out)
	}
	if code, out, _ = runCmd(t, nil, "", "playbooks", "stats"); code != 0 || !strings.Contains(out, "tips per topic") {
		t.Fatalf("stats: exit %d: %s", code, out)
	}
}

// cutCorpus returns a copy of the built-in content with its first twenty
// tone examples only and, unless body is nil, tone corpus files that each
// hold only what body gives for the part and language, so that linting,
// measuring or training on it stays quick.
func cutCorpus(t *testing.T, body func(split, lang string) string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, playbooks.FS); err != nil {
		t.Fatal(err)
	}
	examples := filepath.Join(dir, "tone", "examples.yaml")
	b, err := os.ReadFile(examples)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Examples []playbook.ToneExample `yaml:"examples"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	doc.Examples = doc.Examples[:20]
	if b, err = yaml.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(examples, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if body == nil {
		return dir
	}
	for _, split := range []string{"train", "dev", "retired", "fresh", "holdout"} {
		for _, lang := range []string{"ja", "en"} {
			if err := os.WriteFile(filepath.Join(dir, "tone", "corpus", lang+"-"+split+".yaml"), []byte(body(split, lang)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// TestToneEvalEmptySplit: a part of the tone corpus with no drafts (the
// fresh batch between two batches) is measured as such, and the other
// parts still are.
func TestToneEvalEmptySplit(t *testing.T) {
	t.Parallel() // its own copy of the content
	dir := cutCorpus(t, func(split, lang string) string {
		if split == "fresh" {
			return "# between batches\ndrafts: []\n"
		}
		return "drafts:\n  - text: \"" + split + " " + lang + "\"\n    labels: []\n"
	})
	code, out, stderr := runCmd(t, nil, "", "playbooks", "tone-eval", "--split", "fresh", dir)
	if code != 0 || out != "fresh: no drafts\n\n" {
		t.Fatalf("tone-eval of an empty part: exit %d: %q %s", code, out, stderr)
	}
	code, out, stderr = runCmd(t, nil, "", "playbooks", "tone-eval", dir)
	if code != 0 || !strings.Contains(out, "fresh: no drafts") || !strings.Contains(out, "holdout ja: 1 drafts") || !strings.Contains(out, "train en: 1 drafts") {
		t.Fatalf("tone-eval of every part: exit %d: %s %s", code, out, stderr)
	}
}

// TestToneTrain: "playbooks tone-train DIR" writes the model of each
// language into DIR; the content then loads with them, and tone-eval
// measures it with and without --rules-only. A threshold that is no
// probability is refused.
func TestToneTrain(t *testing.T) {
	t.Parallel() // its own copy of the content
	// (Twenty examples and the phrasings remain to train on.)
	dir := cutCorpus(t, func(split, lang string) string {
		return "drafts:\n  - text: \"" + split + " " + lang + " また今度\"\n    labels: []\n"
	})
	for _, lang := range []string{"ja", "en"} {
		if err := os.Remove(filepath.Join(dir, "tone", "model-"+lang+".json")); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, stderr := runCmd(t, nil, "", "playbooks", "tone-train", "--threshold", "2", dir); code != 2 || !strings.Contains(stderr, "--threshold") {
		t.Errorf("--threshold 2: exit %d: %s", code, stderr)
	}
	code, out, stderr := runCmd(t, nil, "", "playbooks", "tone-train", dir)
	if code != 0 || !strings.Contains(out, "model-ja.json") || !strings.Contains(out, "model-en.json") {
		t.Fatalf("tone-train: exit %d: %s %s", code, out, stderr)
	}
	lib, err := playbook.Load(os.DirFS(dir))
	if err != nil || !lib.Tone.HasModel() {
		t.Fatalf("the content with the trained model: %v, model %v", err, err == nil && lib.Tone.HasModel())
	}
	for _, args := range [][]string{{"--split", "holdout"}, {"--split", "holdout", "--rules-only"}} {
		if code, out, stderr := runCmd(t, nil, "", append(append([]string{"playbooks", "tone-eval"}, args...), dir)...); code != 0 || !strings.Contains(out, "holdout ja: 1 drafts") {
			t.Errorf("tone-eval %v: exit %d: %s %s", args, code, out, stderr)
		}
	}
}

// TestPlaybooksDirOverride: a writer edits a copy of the content and sees
// the change in the console without rebuilding; broken content is refused
// with its lint report.
func TestPlaybooksDirOverride(t *testing.T) {
	t.Parallel() // its own copy of the content and database
	dir := t.TempDir()
	if err := os.CopyFS(dir, playbooks.FS); err != nil {
		t.Fatal(err)
	}
	uiFile := filepath.Join(dir, "ui", "ja.yaml")
	b, err := os.ReadFile(uiFile)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(b), "help.title: trustbot の使い方", "help.title: 編集したタイトル", 1)
	if edited == string(b) {
		t.Fatal("fixture text not found in ui/ja.yaml")
	}
	os.WriteFile(uiFile, []byte(edited), 0o644)
	env := map[string]string{"TRUSTBOT_DB": testdb.EmptyDSN(t), "TRUSTBOT_PLAYBOOKS_DIR": dir}
	code, out, stderr := runCmd(t, env, "help\n", "console")
	if code != 0 || !strings.Contains(out, "編集したタイトル") {
		t.Fatalf("edited content not shown: exit %d: %s %s", code, out, stderr)
	}
	os.WriteFile(filepath.Join(dir, "tips", "cooling-period.yaml"), []byte("topic: cooling-period\ntips: [{id: X}]\n"), 0o644)
	code, _, stderr = runCmd(t, env, "help\n", "console")
	if code != 1 || !strings.Contains(stderr, "refused") || !strings.Contains(stderr, "tips/cooling-period.yaml:") {
		t.Fatalf("broken content: exit %d: %s", code, stderr)
	}
}

// TestHelpLinesUp: trustbot --help lists every subcommand with its one
// line, the lines starting in one column whatever the names' lengths.
func TestHelpLinesUp(t *testing.T) {
	code, out, _ := runCmd(t, nil, "", "--help")
	if code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	col := -1
	for _, c := range commands {
		line := ""
		for l := range strings.Lines(out) {
			if strings.HasPrefix(l, "  "+c.name+" ") {
				line = l
			}
		}
		i := strings.Index(line, c.summary)
		if i < 0 {
			t.Fatalf("no line for %q:\n%s", c.name, out)
		}
		if col >= 0 && i != col {
			t.Errorf("%q's summary starts at column %d, the others at %d:\n%s", c.name, i, col, out)
		}
		col = i
	}
}

func TestMigrateVersionHelp(t *testing.T) {
	db := testdb.EmptyDSN(t)
	code, out, stderr := runCmd(t, map[string]string{"TRUSTBOT_DB": db}, "", "migrate")
	if code != 0 || !strings.Contains(out, "schema version") {
		t.Fatalf("migrate: exit %d %s %s", code, out, stderr)
	}
	if code, out, _ := runCmd(t, nil, "", "version"); code != 0 || !strings.HasPrefix(out, "trustbot ") {
		t.Fatalf("version: %d %s", code, out)
	}
	secrets := map[string]string{"SLACK_BOT_TOKEN": "xoxb-secret-123", "SLACK_APP_TOKEN": "xapp-secret-456", "TRUSTBOT_ENCRYPTION_KEY": strings.Repeat("ab", 32)}
	for _, args := range [][]string{{"serve", "--help"}, {"console", "--help"}, {"migrate", "--help"}, {"dispatch", "--help"}, {"backup", "--help"},
		{"export", "--help"}, {"rekey", "--help"}, {"playbooks", "lint", "--help"}, {"playbooks", "stats", "--help"}, {"help"}} {
		code, out, errOut := runCmd(t, secrets, "", args...)
		if code != 0 || !strings.Contains(out, "trustbot") {
			t.Errorf("%v: exit %d: %s", args, code, out)
		}
		for _, v := range secrets {
			if strings.Contains(out+errOut, v) {
				t.Errorf("%v prints a secret", args)
			}
		}
	}
	// A bad key is refused without being echoed.
	if code, _, errOut := runCmd(t, map[string]string{"TRUSTBOT_ENCRYPTION_KEY": "not-a-key-secret"}, "", "migrate"); code != 2 || strings.Contains(errOut, "not-a-key-secret") {
		t.Errorf("bad key: exit %d, %s", code, errOut)
	}
	if code, _, _ := runCmd(t, nil, "", "frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
	if code, _, _ := runCmd(t, map[string]string{"LOG_FORMAT": "xml"}, "", "migrate"); code != 2 {
		t.Errorf("bad LOG_FORMAT: exit %d", code)
	}
}

// TestStartOnAnEmptyFile: a zero-length file where the database should be
// is opened as a new database, by migrate and by serve, and the log says
// so, naming the file.
func TestStartOnAnEmptyFile(t *testing.T) {
	testdb.SQLiteOnly(t, "about a zero-length SQLite file")
	path := filepath.Join(t.TempDir(), "trustbot.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(t, map[string]string{"TRUSTBOT_DB": path}, "", "migrate")
	if code != 0 || !strings.Contains(stderr, "level=WARN") || !strings.Contains(stderr, "database file is empty") || !strings.Contains(stderr, path) {
		t.Fatalf("exit %d, log:\n%s", code, stderr)
	}
	served := filepath.Join(t.TempDir(), "trustbot.db")
	if err := os.WriteFile(served, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	bot := MustRunBot(t, map[string]string{"TRUSTBOT_DB": served})
	if log := bot.Stderr.String(); !strings.Contains(log, `level=WARN msg="the database file is empty`) || !strings.Contains(log, served) {
		t.Errorf("serve on an empty file does not say so:\n%s", log)
	}
	// A new file is no news.
	fresh := filepath.Join(t.TempDir(), "new.db")
	if code, _, stderr := runCmd(t, map[string]string{"TRUSTBOT_DB": fresh}, "", "migrate"); code != 0 || strings.Contains(stderr, "WARN") {
		t.Fatalf("new database: exit %d, log:\n%s", code, stderr)
	}
}

// TestNotReadyOnADamagedDatabase starts the bot on a database with a
// damaged page: it runs, says so in the log, and /readyz says not ready.
func TestNotReadyOnADamagedDatabase(t *testing.T) {
	testdb.SQLiteOnly(t, "damages a page of the SQLite file, which quick_check finds")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trustbot.db")
	db := testdb.OpenAt(t, path)
	for i := range 50 {
		db.RecordTipShown(ctx, trustbot.UserKey{Team: fakeslack.TeamID, User: fmt.Sprintf("U%03d", i)}, "cooling-work-only-first", time.Now())
	}
	db.Close()
	raw := openRaw(t, path)
	var root, size int64
	if err := raw.QueryRow(`SELECT rootpage FROM sqlite_master WHERE name = 'tips_shown'`).Scan(&root); err != nil {
		t.Fatal(err)
	}
	raw.QueryRow(`PRAGMA page_size`).Scan(&size)
	raw.Close()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(bytes.Repeat([]byte{0xfe, 0x17}, int(size)/2), (root-1)*size)
	f.Close()

	bot := MustRunBot(t, map[string]string{"TRUSTBOT_DB": path})
	resp, err := http.Get("http://" + bot.HTTP + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "damaged") {
		t.Errorf("/readyz: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(bot.Stderr.String(), "the database is damaged") {
		t.Errorf("the log does not say the database is damaged:\n%s", bot.Stderr)
	}
}
