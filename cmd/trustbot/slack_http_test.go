package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// MustRunSlackHTTP starts "trustbot serve" in Slack's HTTP mode (a
// signing secret, no app token) on a temp database, the fake Slack
// posting to its public address, with one Japanese and one English user.
func MustRunSlackHTTP(tb testing.TB, extra map[string]string) *Bot {
	tb.Helper()
	fake := fakeslack.New()
	tb.Cleanup(fake.Close)
	fake.AddUser(fakeslack.User{ID: jaUser, TZ: "Asia/Tokyo", Locale: "ja-JP"})
	fake.AddUser(fakeslack.User{ID: enUser, TZ: "Europe/London", Locale: "en-GB"})
	b := &Bot{Slack: fake, Stderr: &syncBuffer{}, DB: newDB(tb), HTTP: freeAddr(tb)}
	b.Env = map[string]string{
		"SLACK_BOT_TOKEN":      fakeslack.BotToken,
		"SLACK_SIGNING_SECRET": fakeslack.SigningSecret,
		"SLACK_API_URL":        fake.APIURL(),
		"TRUSTBOT_DB":          b.DB,
		"TRUSTBOT_HTTP_ADDR":   b.HTTP,
		"LOG_LEVEL":            "debug",
	}
	for k, v := range extra {
		b.Env[k] = v
	}
	b.setPublic(freeAddr(tb))
	tb.Cleanup(func() { b.Stop(tb) })
	b.Start(tb)
	return b
}

// setPublic moves the bot's public address, and the fake's request URLs
// with it.
func (b *Bot) setPublic(addr string) {
	b.Public = addr
	b.Env["TRUSTBOT_PUBLIC_ADDR"] = addr
	base := "http://" + addr
	if b.Env["SLACK_CLIENT_ID"] != "" {
		b.Env["TRUSTBOT_PUBLIC_URL"] = base // where browsers come back after installing
	}
	b.Slack.SetRequestURLs(base+"/slack/events", base+"/slack/interactive", base+"/slack/commands")
	b.Slack.SetOptionsURL(base + "/slack/interactive")
}

// waitReadyz waits until readyAsLogged(addr, stderr).
func waitReadyz(ctx context.Context, addr string, stderr fmt.Stringer) error {
	for wait := time.Millisecond; !readyAsLogged(addr, stderr); wait = min(2*wait, 50*time.Millisecond) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w", ctx.Err())
		case <-time.After(wait):
		}
	}
	return nil
}

// readyAsLogged reports whether /readyz on addr answers 200 for the
// process whose log is stderr: the answer must name the replica that log
// registered last (a restarted bot logs on after its earlier run). addr was free when the test picked it, but a trustbot that
// another suite started on the same machine may have taken it since, and
// be ready first.
func readyAsLogged(addr string, stderr fmt.Stringer) bool {
	ids := registeredReplica.FindAllStringSubmatch(stderr.String(), -1)
	if ids == nil {
		return false
	}
	id := ids[len(ids)-1]
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusOK && strings.HasPrefix(string(body), "replica "+id[1]+":")
}

// registeredReplica finds the replica ID in the log line that registers it.
var registeredReplica = regexp.MustCompile(`msg="?replica registered"?[^\n]* replica=(r[0-9a-f]+)`)

// TestWaitReadyzOnlyTrustsItsOwnProcess: another process ready on the
// address is not taken for the one whose log the test reads.
func TestWaitReadyzOnlyTrustsItsOwnProcess(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "replica r00000000000000aa: ready")
	}))
	defer other.Close()
	addr := strings.TrimPrefix(other.URL, "http://")
	var theirs, own syncBuffer
	fmt.Fprintln(&theirs, `time=2026-12-02T09:00:00Z level=INFO msg="replica registered" component=schedule replica=r00000000000000bb host=vm pid=1`)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := waitReadyz(ctx, addr, &theirs); err == nil {
		t.Fatal("another replica's ready answer was taken for this process's")
	}
	fmt.Fprintln(&own, `time=2026-12-02T09:00:00Z level=INFO msg="replica registered" component=schedule replica=r00000000000000aa host=vm pid=1`)
	if err := waitReadyz(ctxTimeout(t), addr, &own); err != nil {
		t.Fatalf("its own replica's ready answer: %v", err)
	}
}

// TestSlackHTTPEndToEnd: the real program in HTTP mode answers a slash
// command, a button, a modal and events, as in Socket Mode; a retried
// event is handled once; forged requests are refused and never handled.
func TestSlackHTTPEndToEnd(t *testing.T) {
	lib := mustLibrary(t)
	bot := MustRunSlackHTTP(t, nil)

	t.Run("URLVerification", func(t *testing.T) {
		d, challenge, err := bot.Slack.PostURLVerification()
		if err != nil || !d.OK() || string(d.Body) != challenge {
			t.Fatalf("challenge: %d %q (%v)", d.Status, d.Body, err)
		}
	})

	t.Run("CommandAndButton", func(t *testing.T) {
		_, r := bot.Slash(t, jaUser, "help")
		if r.ResponseType != "ephemeral" || !strings.Contains(r.raw, lib.T(trustbot.Japanese, "help.title")) {
			t.Fatalf("help reply: %s", r.raw)
		}
		_, r = bot.Slash(t, enUser, "tip cooling-period")
		tp, _ := lib.Topic("cooling-period")
		if !strings.Contains(r.raw, tp.Title.In(trustbot.English)) {
			t.Fatalf("tip reply lacks the topic: %s", r.raw)
		}
		next := bot.Press(t, enUser, r, "tip.another", "")
		if !next.ReplaceOriginal || next.Text == r.Text {
			t.Fatalf("another tip: replace=%v %s", next.ReplaceOriginal, next.raw)
		}
		// The topic menu's choices come from the options load URL.
		chosen := bot.Press(t, enUser, next, "tip.topic", "small-talk")
		if st, _ := lib.Topic("small-talk"); !strings.Contains(chosen.raw, st.Title.In(trustbot.English)) {
			t.Fatalf("topic menu: %s", chosen.raw)
		}
	})

	t.Run("ModalSubmission", func(t *testing.T) {
		d, err := bot.Slack.PostSlashCommand(fakeslack.SlashCommand{UserID: jaUser, Text: "plan"})
		if err != nil || !d.OK() {
			t.Fatalf("/trust plan: %d (%v)", d.Status, err)
		}
		// The form opens with the command's trigger, within its 3 s.
		views := bot.waitViews(t, "open", "", 1)
		if !strings.Contains(string(views[0].View), `"callback_id":"plan.new"`) {
			t.Fatalf("plan form: %s", views[0].View)
		}
		bot.acked(t, map[string]any{
			"type": "view_submission", "user": map[string]string{"id": jaUser, "team_id": fakeslack.TeamID},
			"team": map[string]string{"id": fakeslack.TeamID},
			"view": map[string]any{"id": "V2", "type": "modal", "callback_id": "plan.new",
				"state": map[string]any{"values": map[string]any{
					"label":   map[string]any{"label": map[string]string{"type": "plain_text_input", "value": "Cさん"}},
					"stage":   map[string]any{"stage": map[string]any{"type": "static_select", "selected_option": map[string]string{"value": "some-unease"}}},
					"goal":    map[string]any{"goal": map[string]string{"type": "plain_text_input", "value": "率直に相談し合える"}},
					"horizon": map[string]any{"horizon": map[string]any{"type": "static_select", "selected_option": map[string]string{"value": "3"}}},
				}}},
		})
		if _, err := bot.Slack.WaitMessages(ctxTimeout(t), "D"+jaUser, 1); err != nil {
			t.Fatalf("no DM after the submission: %v\n%s", err, bot.Stderr)
		}
		if dm := bot.Slack.Messages("D" + jaUser); !strings.Contains(string(dm[0].Blocks), "率直に相談し合える") {
			t.Fatalf("plan start by DM: %+v", dm)
		}
	})

	t.Run("EventsAndRetries", func(t *testing.T) {
		home := map[string]any{"type": "app_home_opened", "user": enUser, "channel": "D" + enUser, "tab": "home"}
		before := len(bot.Slack.Calls("views.publish"))
		if ds, err := bot.Slack.PostEvent(home, "EvHOME"); err != nil || len(ds) != 1 || !ds[0].OK() {
			t.Fatalf("app_home_opened: %+v (%v)", ds, err)
		}
		if _, err := bot.Slack.WaitCalls(ctxTimeout(t), "views.publish", before+1); err != nil {
			t.Fatalf("Home not published: %v", err)
		}
		// A DM typed to the app, answered in the DM; then Slack, having
		// judged the first delivery failed, sends it again.
		dm := map[string]any{"type": "message", "channel": "D" + enUser, "channel_type": "im", "user": enUser, "text": "help", "ts": "1700000000.000100"}
		if ds, err := bot.Slack.PostEvent(dm, "EvDM1"); err != nil || !ds[0].OK() {
			t.Fatalf("DM event: %+v (%v)", ds, err)
		}
		if _, err := bot.Slack.WaitMessages(ctxTimeout(t), "D"+enUser, 1); err != nil {
			t.Fatalf("DM not answered: %v", err)
		}
		for n := 1; n <= 3; n++ {
			if d, err := bot.Slack.PostEventRetry(dm, "EvDM1", n, "http_timeout"); err != nil || !d.OK() {
				t.Fatalf("retry %d: %d (%v)", n, d.Status, err)
			}
		}
		// Each retry is either set aside or handled: all three set aside,
		// the DM was answered once.
		dup := `msg="duplicate event" component=slack event=EvDM1`
		for deadline := time.Now().Add(patience); strings.Count(bot.Stderr.String(), dup) < 3; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d of 3 retries set aside\n%s", strings.Count(bot.Stderr.String(), dup), bot.Stderr)
			}
		}
		if n := len(bot.Slack.Messages("D" + enUser)); n != 1 {
			t.Fatalf("%d answers in the DM for one message sent four times", n)
		}
	})

	t.Run("ForgedRequestsRefused", func(t *testing.T) {
		respURL := bot.Slack.NewResponseURL()
		body := []byte(url.Values{"team_id": {fakeslack.TeamID}, "user_id": {enUser}, "channel_id": {fakeslack.DefaultChannelID},
			"command": {"/trust"}, "text": {"help 偽物"}, "response_url": {respURL}, "trigger_id": {bot.Slack.NewTriggerID(enUser)}}.Encode())
		commands := "http://" + bot.Public + "/slack/commands"
		for name, tamper := range map[string]func(*http.Request){
			"stale": func(r *http.Request) {
				h := bot.Slack.Sign(body, time.Now().Add(-10*time.Minute))
				r.Header.Set("X-Slack-Request-Timestamp", h.Get("X-Slack-Request-Timestamp"))
				r.Header.Set("X-Slack-Signature", h.Get("X-Slack-Signature"))
			},
			"tampered": func(r *http.Request) {
				b := bytes.Replace(body, []byte("help"), []byte("hElp"), 1)
				r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
			},
			"unsigned": func(r *http.Request) { r.Header.Del("X-Slack-Signature") },
		} {
			if d := bot.Slack.PostSigned(commands, "application/x-www-form-urlencoded", body, tamper); d.Status != http.StatusUnauthorized {
				t.Errorf("%s: %d", name, d.Status)
			}
		}
		res, err := http.Get("http://" + bot.HTTP + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for _, want := range []string{
			`trustbot_requests_refused_total{platform="slack",reason="stale"} 1`,
			`trustbot_requests_refused_total{platform="slack",reason="signature"} 1`,
			`trustbot_requests_refused_total{platform="slack",reason="unsigned"} 1`,
		} {
			if !strings.Contains(string(metrics), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		// A request refused is answered 401 before anything is queued:
		// the command after them is answered, they never are.
		bot.Slash(t, enUser, "help")
		if got := bot.Slack.Answers(respURL); len(got) != 0 {
			t.Fatalf("a refused command was answered: %s", got[0].Body)
		}
		if logs := bot.Stderr.String(); strings.Count(logs, `msg="Slack request refused"`) != 3 || strings.Contains(logs, "偽物") || strings.Contains(logs, "%E5%81%BD") {
			t.Errorf("refusals not logged by reason alone:\n%s", logs)
		}
	})

	t.Run("ReadyWithoutASocket", func(t *testing.T) {
		code, body := bot.readyz(t)
		if code != http.StatusOK || bot.Slack.Connections() != 0 {
			t.Fatalf("/readyz %d %s, %d sockets", code, body, bot.Slack.Connections())
		}
		// The public address serves Slack, never the metrics.
		res, err := http.Get("http://" + bot.Public + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("/metrics on the public address: %d", res.StatusCode)
		}
	})

	t.Run("LogsCarryNoSecrets", func(t *testing.T) {
		logs := bot.Stderr.String()
		for _, secret := range []string{fakeslack.BotToken, fakeslack.SigningSecret, "率直に相談し合える"} {
			if strings.Contains(logs, secret) {
				t.Errorf("logs contain %q", secret)
			}
		}
	})
}
