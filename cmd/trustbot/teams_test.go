package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/fakebf"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestMain makes the fake Bot Framework's certificate (every httptest TLS
// server has the same one) the only one this test binary trusts, as an
// operator's SSL_CERT_FILE does: the program under test then reaches the
// fake over https, as it reaches Microsoft.
func TestMain(m *testing.M) {
	bf := fakebf.New(fakebf.Config{})
	dir, err := os.MkdirTemp("", "trustbot-certs-")
	if err != nil {
		panic(err)
	}
	cert := filepath.Join(dir, "fakebf.pem")
	if err := os.WriteFile(cert, bf.CertPEM(), 0o600); err != nil {
		panic(err)
	}
	bf.Close()
	os.Setenv("SSL_CERT_FILE", cert)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TeamsBot is the real program serving Teams against a fake Bot Framework.
type TeamsBot struct {
	BF     *fakebf.Server
	Stderr *syncBuffer
	DB     string
	HTTP   string
	Public string
	Env    map[string]string
	cancel context.CancelFunc
	done   chan int
}

var (
	satoJA = fakebf.NewUser("Sato", "ja-JP", "Asia/Tokyo")
	alexEN = fakebf.NewUser("Alex", "en-GB", "Europe/London")
)

// MustRunTeams starts "trustbot serve" with Teams only, on a temp database.
func MustRunTeams(tb testing.TB, extra map[string]string) *TeamsBot {
	tb.Helper()
	bf := fakebf.New(fakebf.Config{})
	tb.Cleanup(bf.Close)
	b := &TeamsBot{BF: bf, Stderr: &syncBuffer{}, DB: newDB(tb), HTTP: freeAddr(tb), Public: freeAddr(tb)}
	b.Env = map[string]string{
		"TEAMS_APP_ID":              bf.AppID(),
		"TEAMS_APP_PASSWORD":        bf.Password(),
		"TEAMS_TENANT_ID":           bf.TenantID(),
		"TEAMS_OPENID_METADATA_URL": bf.MetadataURL(),
		"TEAMS_TOKEN_URL":           bf.TokenURL(),
		"TRUSTBOT_PUBLIC_ADDR":      b.Public,
		"TRUSTBOT_DB":               b.DB,
		"TRUSTBOT_HTTP_ADDR":        b.HTTP,
		"LOG_LEVEL":                 "debug",
	}
	for k, v := range extra {
		b.Env[k] = v
	}
	tb.Cleanup(func() { b.Stop(tb) })
	b.Start(tb)
	return b
}

// Start runs serve and waits until it says it is ready.
func (b *TeamsBot) Start(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.done = make(chan int, 1)
	go func() {
		b.done <- run(ctx, []string{"serve"}, func(k string) string { return b.Env[k] }, strings.NewReader(""), io.Discard, b.Stderr)
	}()
	b.eventually(tb, "ready", func() bool { return readyAsLogged(b.HTTP, b.Stderr) })
}

// Stop ends serve and checks it exits cleanly.
func (b *TeamsBot) Stop(tb testing.TB) {
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
		tb.Errorf("trustbot did not stop")
	}
}

// eventually waits for cond, checking it often, for up to patience.
func (b *TeamsBot) eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(patience)
	for wait := time.Millisecond; !cond(); wait = min(wait*2, 50*time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting for %s\n%s", what, b.Stderr)
		}
		time.Sleep(wait)
	}
}

// Dispatch runs "trustbot dispatch" with the bot's configuration, the
// bot stopped meanwhile (one sender per database).
func (b *TeamsBot) Dispatch(t *testing.T, args ...string) string {
	t.Helper()
	if b.cancel != nil && !slices.Contains(args, "--dry-run") {
		b.Stop(t)
		defer b.Start(t)
	}
	code, out, stderr := runCmd(t, b.Env, "", append([]string{"dispatch", "--force"}, args...)...)
	if code != 0 {
		t.Fatalf("dispatch %v: exit %d\n%s\n%s", args, code, out, stderr)
	}
	return out
}

// Post sends an activity with a genuine token and returns the answer.
func (b *TeamsBot) Post(tb testing.TB, a *fakebf.Activity) (int, []byte) {
	tb.Helper()
	status, body, err := b.BF.Post(ctxTimeout(tb), "http://"+b.Public+"/api/messages", a, fakebf.Genuine)
	if err != nil {
		tb.Fatal(err)
	}
	return status, body
}

// botMessages are the bot's messages in a conversation (the fake records
// the user's own too, as the user sees them).
func (b *TeamsBot) botMessages(conv string) []fakebf.Message {
	var out []fakebf.Message
	for _, m := range b.BF.Messages(conv) {
		if m.From == b.BF.BotID() {
			out = append(out, m)
		}
	}
	return out
}

// send posts an activity and waits for n new messages in conversation
// conv, which it returns.
func (b *TeamsBot) send(tb testing.TB, a *fakebf.Activity, conv string, n int) []fakebf.Message {
	tb.Helper()
	before := len(b.botMessages(conv))
	if status, body := b.Post(tb, a); status != http.StatusOK {
		tb.Fatalf("activity answered %d: %s", status, body)
	}
	var got []fakebf.Message
	b.eventually(tb, "a message in "+conv, func() bool {
		got = b.botMessages(conv)
		return len(got) >= before+n
	})
	return got[before:]
}

// Say sends text in u's personal chat and returns the one message that
// answers it.
func (b *TeamsBot) Say(tb testing.TB, u fakebf.User, text string) (fakebf.Message, *fakebf.Activity) {
	tb.Helper()
	a := b.BF.Personal(u, text)
	return b.send(tb, a, b.BF.PersonalConversationID(u.ID), 1)[0], a
}

// Press presses the button of a card whose action is id (the first whose
// value contains value) and returns the message that answers it, or the
// message as updated in place.
func (b *TeamsBot) Press(tb testing.TB, u fakebf.User, base *fakebf.Activity, m fakebf.Message, id, value string) fakebf.Message {
	tb.Helper()
	data := actionData(tb, m, id, value)
	conv := b.BF.PersonalConversationID(u.ID)
	a := b.BF.Submit(base, m.ID, data)
	before := b.botMessages(conv)
	if status, body := b.Post(tb, a); status != http.StatusOK {
		tb.Fatalf("press answered %d: %s", status, body)
	}
	var got fakebf.Message
	b.eventually(tb, "an answer to the press", func() bool {
		now := b.botMessages(conv)
		if len(now) > len(before) {
			got = now[len(before)]
			return true
		}
		for i, msg := range now {
			if msg.ID == m.ID && msg.Updates > before[i].Updates {
				got = msg
				return true
			}
		}
		return false
	})
	return got
}

// eachObject calls f with every JSON object in a message's cards,
// depth first.
func eachObject(m fakebf.Message, f func(map[string]any)) {
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			f(v)
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, at := range m.Attachments {
		var v any
		json.Unmarshal(at.Content, &v)
		walk(v)
	}
}

// cardText is every text of a message's cards, for searching.
func cardText(m fakebf.Message) string {
	var b strings.Builder
	b.WriteString(m.Text + "\n" + m.Summary + "\n")
	eachObject(m, func(v map[string]any) {
		for _, k := range []string{"text", "title", "label"} {
			if s, ok := v[k].(string); ok {
				b.WriteString(s + "\n")
			}
		}
	})
	return b.String()
}

// actionData finds the data of the first Action.Submit of a message whose
// trustbot routing names action id and whose value contains value.
func actionData(tb testing.TB, m fakebf.Message, id, value string) map[string]any {
	tb.Helper()
	for _, d := range allActions(m) {
		if r, ok := d["trustbot"].(map[string]any); ok && r["a"] == id && strings.Contains(jsonString(r["v"]), value) {
			return d
		}
	}
	tb.Fatalf("no button %q (%q) in %s", id, value, cardText(m))
	return nil
}

func jsonString(v any) string {
	s, _ := v.(string)
	return s
}

func mustContain(tb testing.TB, m fakebf.Message, want ...string) {
	tb.Helper()
	text := cardText(m)
	for _, w := range want {
		if !strings.Contains(text, w) {
			tb.Fatalf("message lacks %q:\n%s", w, text)
		}
	}
}

// A Teams user's first steps, in both languages: the greeting on install,
// commands typed in the personal chat (Japanese aliases and a leading
// /trust too), buttons, and a tip of the week in a channel.
func TestTeamsEndToEnd(t *testing.T) {
	t.Parallel()
	b := MustRunTeams(t, nil)
	lib := mustLibrary(t)
	ja, en := trustbot.Japanese, trustbot.English

	// Installing greets once, in the user's language, even when Teams
	// tells of it twice.
	jaConv := b.BF.PersonalConversationID(satoJA.ID)
	greet := b.send(t, b.BF.Installed(satoJA), jaConv, 1)[0]
	mustContain(t, greet, lib.T(ja, "install.personal.msteams"))
	b.Post(t, b.BF.MembersAdded(satoJA))
	m, _ := b.Say(t, satoJA, "ヘルプ")
	mustContain(t, m, lib.T(ja, "help.title"))
	if n := len(b.botMessages(jaConv)); n != 2 {
		t.Fatalf("%d messages in the personal chat, want the greeting and the help: the install was greeted twice?", n)
	}

	// Told first by a notice without the user's language, then by the
	// installationUpdate: one greeting, in the user's language.
	enConv0 := b.BF.PersonalConversationID(alexEN.ID)
	added := b.BF.MembersAdded(alexEN)
	added.Locale = ""
	b.Post(t, added)
	greetEN := b.send(t, b.BF.Installed(alexEN), enConv0, 1)[0]
	mustContain(t, greetEN, lib.T(en, "install.personal.msteams"))

	// A tip, then another on the same topic by its button.
	m, base := b.Say(t, alexEN, "/trust tip cooling")
	if strings.Contains(cardText(m), "ヒント") {
		t.Fatalf("an English user got Japanese:\n%s", cardText(m))
	}
	next := b.Press(t, alexEN, base, m, coach.ActTip, "")
	if cardText(next) == "" {
		t.Fatal("no second tip")
	}

	// Phrasings switch between polite and casual in place.
	m, base = b.Say(t, alexEN, "phrase right after a no")
	casual := b.Press(t, alexEN, base, m, coach.ActPhraseStyle, ":casual")
	if casual.ID != m.ID || casual.Updates == 0 || cardText(casual) == cardText(m) {
		t.Fatalf("casual did not replace the phrasings in place: %+v", casual)
	}

	// The tone check answers in the personal chat.
	m, _ = b.Say(t, satoJA, "チェック LINE教えてください。今日中に返事ください")
	mustContain(t, m, "LINE")

	// In a channel, a private answer goes to the personal chat, and the
	// channel only hears where it went.
	team := fakebf.NewTeam("Sales")
	chGreet := b.send(t, b.BF.TeamInstalled(alexEN, team, false), team.ChannelID, 1)[0]
	mustContain(t, chGreet, lib.T(en, "install.channel.msteams"))
	enConv := b.BF.PersonalConversationID(alexEN.ID)
	before := len(b.botMessages(enConv))
	a := b.BF.InChannel(alexEN, team, "check Can I have your number? Reply today please")
	note := b.send(t, a, team.ChannelID, 1)[0]
	mustContain(t, note, lib.T(en, "teams.replied_in_chat"))
	b.eventually(t, "the check in the personal chat", func() bool { return len(b.botMessages(enConv)) > before })
	if strings.Contains(cardText(note), "number") {
		t.Fatalf("the channel sees the draft:\n%s", cardText(note))
	}

	// weekly on: the confirmation, like every answer to one person, goes
	// to their personal chat.
	before = len(b.botMessages(enConv))
	a = b.BF.InChannel(alexEN, team, "weekly on")
	b.send(t, a, team.ChannelID, 1)
	b.eventually(t, "the weekly confirmation", func() bool { return len(b.botMessages(enConv)) > before })
	mustContain(t, b.botMessages(enConv)[before], "Monday")
}

// Tokens that must fail are refused before anything is believed, and
// nothing is answered.
func TestTeamsRefusesForgedActivities(t *testing.T) {
	t.Parallel()
	b := MustRunTeams(t, nil)
	conv := b.BF.PersonalConversationID(satoJA.ID)
	for _, f := range []fakebf.Forgery{fakebf.NoToken, fakebf.WrongIssuer, fakebf.WrongAudience, fakebf.Expired, fakebf.NotYetValid,
		fakebf.UnknownKey, fakebf.Unendorsed, fakebf.ServiceURLMismatch, fakebf.AlgNone, fakebf.HS256PublicKey, fakebf.TamperedServiceURL} {
		status, _, err := b.BF.Post(ctxTimeout(t), "http://"+b.Public+"/api/messages", b.BF.Personal(satoJA, "help"), f)
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusUnauthorized && status != http.StatusForbidden {
			t.Errorf("forgery %d answered %d", f, status)
		}
	}
	// A genuine one after them is answered, and it is the only answer.
	b.Say(t, satoJA, "help")
	if n := len(b.botMessages(conv)); n != 1 {
		t.Fatalf("%d messages: a forged activity was answered", n)
	}
	// The public address never serves the metrics.
	resp, err := http.Get("http://" + b.Public + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatal("the public address serves /metrics")
	}
}

// dueAt finds when user's next delivery of kind is due, from a dry run far
// ahead.
func (b *TeamsBot) dueAt(t *testing.T, kind, user string) time.Time {
	t.Helper()
	out := b.Dispatch(t, "--dry-run", "--now", time.Now().Add(60*24*time.Hour).UTC().Format(time.RFC3339))
	for line := range strings.SplitSeq(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 7 && f[0] == kind && f[2] == user && f[5] == "due" {
			at, err := time.Parse(time.RFC3339, f[6])
			if err != nil {
				t.Fatal(err)
			}
			return at
		}
	}
	t.Fatalf("no %s due for %s in:\n%s", kind, user, out)
	return time.Time{}
}

// invoke sends an invoke and decodes its answer.
func (b *TeamsBot) invoke(t *testing.T, a *fakebf.Activity) map[string]any {
	t.Helper()
	status, body := b.Post(t, a)
	if status != http.StatusOK {
		t.Fatalf("invoke %s answered %d: %s", a.Name, status, body)
	}
	var v map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("invoke answer %q: %v", body, err)
		}
	}
	return v
}

// A check-in delivered at its due instant by dispatch --now, answered by
// its buttons in place; the trust plan's dialog, refused then taken; the
// export's single-use link; uninstalling stops what was planned.
func TestTeamsCheckinsFormsAndExport(t *testing.T) {
	t.Parallel()
	b := MustRunTeams(t, nil)
	lib := mustLibrary(t)
	en := trustbot.English
	conv := b.BF.PersonalConversationID(alexEN.ID)
	b.send(t, b.BF.Installed(alexEN), conv, 1)

	m, _ := b.Say(t, alexEN, "checkin weekly fri 16:00")
	mustContain(t, m, "Friday")
	due := b.dueAt(t, "checkin", alexEN.ID)
	if due.UTC().Hour() != 16 || due.Weekday() != time.Friday {
		t.Fatalf("check-in due %v, want Friday 16:00 in London", due)
	}
	before := len(b.botMessages(conv))
	out := b.Dispatch(t, "--now", due.UTC().Format(time.RFC3339))
	if !strings.Contains(out, "1 sent") {
		t.Fatalf("dispatch at the due instant:\n%s", out)
	}
	msgs := b.botMessages(conv)
	if len(msgs) != before+1 {
		t.Fatalf("%d new messages after dispatch, want the check-in", len(msgs)-before)
	}
	checkin := msgs[before]
	// A Teams send cannot be looked up later: a second pass must not send
	// it again.
	if out := b.Dispatch(t, "--now", due.Add(time.Minute).UTC().Format(time.RFC3339)); strings.Contains(out, "1 sent") {
		t.Fatalf("second pass sent again:\n%s", out)
	}
	base := b.BF.Personal(alexEN, "")
	updated := b.Press(t, alexEN, base, checkin, coach.ActAnswer, "")
	if updated.ID != checkin.ID || updated.Updates == 0 {
		t.Fatalf("the answer did not update the check-in in place: %+v", updated)
	}

	// The note form opens as a dialog from the check-in's button.
	fetch := b.invoke(t, b.BF.Invoke(base, "task/fetch", map[string]any{"data": actionData(t, updated, coach.ActNote, "")}))
	noteTask, _ := fetch["task"].(map[string]any)
	if noteTask["type"] != "continue" {
		t.Fatalf("task/fetch answered %v", fetch)
	}
	// The note, sent from the dialog, updates the check-in in place.
	noteCard, _ := json.Marshal(noteTask["value"].(map[string]any)["card"])
	note := formData(t, noteCard)
	note["in.note"], note["in.action"] = "Asked Kim about the release calmly", "Say thanks after the review"
	if got := b.invoke(t, b.BF.Invoke(base, "task/submit", map[string]any{"data": note})); got != nil {
		t.Fatalf("the note form came back: %v", got)
	}
	b.eventually(t, "the check-in updated with the note", func() bool {
		for _, m := range b.botMessages(conv) {
			if m.ID == checkin.ID && m.Updates > updated.Updates {
				return strings.Contains(cardText(m), "Say thanks after the review")
			}
		}
		return false
	})

	// The plan: typed, a card whose button opens the dialog.
	m, base = b.Say(t, alexEN, "plan")
	data := actionData(t, m, coach.ActPlanStart, "")
	if ms, _ := data["msteams"].(map[string]any); ms["type"] != "task/fetch" {
		t.Fatalf("the plan button does not open a dialog: %v", data)
	}
	fetch = b.invoke(t, b.BF.Invoke(base, "task/fetch", map[string]any{"data": data}))
	task, _ := fetch["task"].(map[string]any)
	value, _ := task["value"].(map[string]any)
	if task["type"] != "continue" || value["card"] == nil {
		t.Fatalf("task/fetch answered %v", fetch)
	}
	card, _ := json.Marshal(value["card"])
	submit := formData(t, card)
	// A bad stage comes back with the form, what was typed kept.
	submit["in.stage"], submit["in.goal"] = "no-such-stage", "Say good morning first"
	back := b.invoke(t, b.BF.Invoke(base, "task/submit", map[string]any{"data": submit}))
	if task, _ := back["task"].(map[string]any); task["type"] != "continue" || !strings.Contains(mustJSON(back), "Say good morning first") {
		t.Fatalf("a bad form was taken, or lost what was typed: %v", back)
	}
	submit["in.stage"] = "some-unease"
	before = len(b.botMessages(conv))
	if got := b.invoke(t, b.BF.Invoke(base, "task/submit", map[string]any{"data": submit})); got != nil {
		if task, _ := got["task"].(map[string]any); task["type"] == "continue" {
			t.Fatalf("a good form came back: %v", got)
		}
	}
	b.eventually(t, "the plan's first step", func() bool { return len(b.botMessages(conv)) > before })

	// Export: a link in the personal chat that works once.
	m, _ = b.Say(t, alexEN, "export")
	mustContain(t, m, lib.T(en, "export.link"))
	link := urlOf(t, m)
	if !strings.HasPrefix(link, "https://"+b.Public+"/files/") {
		t.Fatalf("link %s is not on the public address over https", link)
	}
	// In front of the public address, a proxy ends TLS.
	link = "http://" + strings.TrimPrefix(link, "https://")
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), alexEN.ID) || !strings.Contains(string(body), "Say good morning first") {
		t.Fatalf("export link: %d %s", resp.StatusCode, body)
	}
	resp, err = http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Fatalf("the link worked twice: %d", resp.StatusCode)
	}

	// Uninstalled: nothing more is sent.
	b.Post(t, b.BF.Uninstalled(alexEN))
	b.eventually(t, "the check-ins stopped", func() bool {
		out := b.Dispatch(t, "--dry-run", "--now", time.Now().Add(60*24*time.Hour).UTC().Format(time.RFC3339))
		return !strings.Contains(out, alexEN.ID)
	})
	// Added again: greeted again, and the status says the check-ins
	// stopped with the removal.
	greet := b.send(t, b.BF.Installed(alexEN), conv, 1)[0]
	mustContain(t, greet, lib.T(en, "install.personal.msteams"))
	m, _ = b.Say(t, alexEN, "checkin status")
	mustContain(t, m, lib.T(en, "checkin.stopped_uninstalled", "cadence", "every Friday at 16:00"))
}

// formData is the data a dialog's submit button sends, with every input
// at its value on the card.
func formData(t *testing.T, card []byte) map[string]any {
	t.Helper()
	var wrapped struct {
		Content json.RawMessage `json:"content"`
	}
	if json.Unmarshal(card, &wrapped) == nil && len(wrapped.Content) > 0 {
		card = wrapped.Content
	}
	var c struct {
		Body []struct {
			Type  string `json:"type"`
			ID    string `json:"id"`
			Value string `json:"value"`
		} `json:"body"`
		Actions []struct {
			Data map[string]any `json:"data"`
		} `json:"actions"`
	}
	if err := json.Unmarshal(card, &c); err != nil || len(c.Actions) == 0 {
		t.Fatalf("form card %s: %v", card, err)
	}
	data := c.Actions[0].Data
	for _, e := range c.Body {
		if strings.HasPrefix(e.Type, "Input.") {
			data[e.ID] = e.Value
		}
	}
	return data
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// urlOf is the link of a message's Action.OpenUrl.
func urlOf(t *testing.T, m fakebf.Message) string {
	t.Helper()
	for _, at := range m.Attachments {
		s := string(at.Content)
		if i := strings.Index(s, `"url":"`); i >= 0 {
			rest := s[i+len(`"url":"`):]
			return rest[:strings.IndexByte(rest, '"')]
		}
	}
	t.Fatalf("no link in %s", cardText(m))
	return ""
}

// serve runs whichever platforms have credentials, and refuses half a
// configuration, naming what is missing.
func TestPlatformsFromConfig(t *testing.T) {
	t.Parallel()
	full := map[string]string{"TEAMS_APP_ID": "app", "TEAMS_APP_PASSWORD": "pw", "TEAMS_TENANT_ID": "tenant", "TRUSTBOT_PUBLIC_ADDR": "0.0.0.0:3978"}
	slackEnv := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}
	slackHTTP := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "TRUSTBOT_PUBLIC_ADDR": "0.0.0.0:8080"}
	slackOAuth := map[string]string{"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "cs", "SLACK_SIGNING_SECRET": "s", "TRUSTBOT_PUBLIC_ADDR": "0.0.0.0:8080",
		"TRUSTBOT_PUBLIC_URL": "https://trustbot.example.com", "TRUSTBOT_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
	for _, c := range []struct {
		name    string
		env     map[string]string
		want    []trustbot.Platform
		wantErr []string
	}{
		{"None", nil, nil, []string{"SLACK_BOT_TOKEN", "TEAMS_APP_ID", "trustbot console"}},
		{"Slack", slackEnv, []trustbot.Platform{trustbot.Slack}, nil},
		{"Teams", full, []trustbot.Platform{trustbot.Teams}, nil},
		{"Both", merge(slackEnv, full), []trustbot.Platform{trustbot.Slack, trustbot.Teams}, nil},
		{"HalfSlack", map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"}, nil, []string{"SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"}},
		{"SlackHTTP", slackHTTP, []trustbot.Platform{trustbot.Slack}, nil},
		{"SlackHTTPAndTeams", merge(slackHTTP, full), []trustbot.Platform{trustbot.Slack, trustbot.Teams}, nil},
		{"SlackHTTPWithoutAddress", map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, nil, []string{"TRUSTBOT_PUBLIC_ADDR"}},
		{"SlackHTTPWithoutBotToken", map[string]string{"SLACK_SIGNING_SECRET": "s", "TRUSTBOT_PUBLIC_ADDR": "0.0.0.0:8080"}, nil, []string{"SLACK_BOT_TOKEN"}},
		{"SlackBothModes", merge(slackEnv, slackHTTP), nil, []string{"SLACK_APP_TOKEN and SLACK_SIGNING_SECRET are both set"}},
		{"SlackHTTPUserToken", merge(slackHTTP, map[string]string{"SLACK_BOT_TOKEN": "xoxp-1"}), nil, []string{"xoxb-"}},
		{"SlackHTTPSameAddress", merge(slackHTTP, map[string]string{"TRUSTBOT_HTTP_ADDR": "0.0.0.0:8080"}), nil, []string{"must differ"}},
		{"SlackOAuth", slackOAuth, []trustbot.Platform{trustbot.Slack}, nil},
		{"SlackOAuthWithBotToken", merge(slackOAuth, map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"}), nil, []string{"unset SLACK_BOT_TOKEN"}},
		{"SlackOAuthHalf", merge(slackOAuth, map[string]string{"SLACK_CLIENT_SECRET": ""}), nil, []string{"SLACK_CLIENT_ID and SLACK_CLIENT_SECRET"}},
		{"SlackOAuthSocketMode", merge(slackOAuth, map[string]string{"SLACK_SIGNING_SECRET": "", "SLACK_APP_TOKEN": "xapp-1"}), nil, []string{"SLACK_SIGNING_SECRET"}},
		{"SlackOAuthWithoutKey", merge(slackOAuth, map[string]string{"TRUSTBOT_ENCRYPTION_KEY": ""}), nil, []string{"TRUSTBOT_ENCRYPTION_KEY"}},
		{"SlackOAuthWithoutURL", merge(slackOAuth, map[string]string{"TRUSTBOT_PUBLIC_URL": ""}), nil, []string{"TRUSTBOT_PUBLIC_URL"}},
		{"SlackOAuthPlainURL", merge(slackOAuth, map[string]string{"TRUSTBOT_PUBLIC_URL": "http://trustbot.example.com"}), nil, []string{"TRUSTBOT_PUBLIC_URL"}},
		{"SlackOAuthWithoutAddress", merge(slackOAuth, map[string]string{"TRUSTBOT_PUBLIC_ADDR": ""}), nil, []string{"TRUSTBOT_PUBLIC_ADDR"}},
		{"HalfTeams", map[string]string{"TEAMS_APP_ID": "app"}, nil, []string{"TEAMS_APP_PASSWORD", "TEAMS_TENANT_ID", "TRUSTBOT_PUBLIC_ADDR"}},
		{"SameAddress", merge(full, map[string]string{"TRUSTBOT_HTTP_ADDR": "0.0.0.0:3978"}), nil, []string{"must differ"}},
		{"DevRemote", map[string]string{"TEAMS_DEV": "1", "TRUSTBOT_PUBLIC_ADDR": "0.0.0.0:3978"}, nil, []string{"loopback"}},
		{"DevWithPassword", map[string]string{"TEAMS_DEV": "1", "TEAMS_APP_PASSWORD": "pw", "TRUSTBOT_PUBLIC_ADDR": "127.0.0.1:3978"}, nil, []string{"TEAMS_APP_PASSWORD"}},
		{"Dev", map[string]string{"TEAMS_DEV": "1", "TRUSTBOT_PUBLIC_ADDR": "127.0.0.1:3978"}, []trustbot.Platform{trustbot.Teams}, nil},
		{"PlainTokenURL", merge(full, map[string]string{"TEAMS_TOKEN_URL": "http://login.example/token"}), nil, []string{"TEAMS_TOKEN_URL"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := LoadConfig(func(k string) string { return c.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			got, err := cfg.Platforms()
			if len(c.wantErr) == 0 {
				if err != nil || !slices.Equal(got, c.want) {
					t.Fatalf("platforms %v %v, want %v", got, err, c.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted: %v", got)
			}
			for _, w := range c.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
	// The password may come from a file, and is never logged.
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("s3cret-value\n"), 0o600)
	cfg, err := LoadConfig(func(k string) string {
		return merge(full, map[string]string{"TEAMS_APP_PASSWORD": "", "TEAMS_APP_PASSWORD_FILE": pw})[k]
	})
	if err != nil || cfg.TeamsAppPassword != "s3cret-value" {
		t.Fatalf("password from file: %q %v", cfg.TeamsAppPassword, err)
	}
	var log strings.Builder
	newLogger(&log, 0, "json").Info("starting", "config", cfg)
	if strings.Contains(log.String(), "s3cret") {
		t.Fatalf("the password reached the log: %s", log.String())
	}
	// So may Slack's signing secret, never logged either.
	secret := filepath.Join(dir, "signing")
	os.WriteFile(secret, []byte("signing-s3cret\n"), 0o600)
	cfg, err = LoadConfig(func(k string) string {
		return merge(slackHTTP, map[string]string{"SLACK_SIGNING_SECRET": "", "SLACK_SIGNING_SECRET_FILE": secret})[k]
	})
	if err != nil || cfg.SigningSecret != "signing-s3cret" || !cfg.SlackHTTP() {
		t.Fatalf("signing secret from file: %q %v", cfg.SigningSecret, err)
	}
	log.Reset()
	newLogger(&log, 0, "json").Info("starting", "config", cfg)
	if strings.Contains(log.String(), "s3cret") || !strings.Contains(log.String(), `"slack_signing_secret":"set"`) {
		t.Fatalf("the signing secret in the log: %s", log.String())
	}
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// A journey's follow-up and a channel's tip of the week arrive at their
// due instants through dispatch --now; "try this" on the channel's post
// brings the try-it question to the presser's personal chat; forget
// deletes the user, after a confirmation, in English and in Japanese.
func TestTeamsJourneysChannelTipsAndForget(t *testing.T) {
	t.Parallel()
	b := MustRunTeams(t, nil)
	lib := mustLibrary(t)
	ja := trustbot.Japanese
	conv := b.BF.PersonalConversationID(satoJA.ID)
	b.send(t, b.BF.Installed(satoJA), conv, 1)

	b.Say(t, satoJA, "断られた Aさん")
	due := b.dueAt(t, "journey", satoJA.ID)
	before := len(b.botMessages(conv))
	b.Dispatch(t, "--now", due.UTC().Format(time.RFC3339))
	if got := b.botMessages(conv); len(got) != before+1 {
		t.Fatalf("%d new messages after the journey's due instant, want its follow-up", len(got)-before)
	}

	team := fakebf.NewTeam("開発チーム")
	b.send(t, b.BF.TeamInstalled(satoJA, team, false), team.ChannelID, 1)
	on := b.BF.InChannel(satoJA, team, "今週のヒント on")
	b.send(t, on, team.ChannelID, 1)
	due = b.dueAt(t, "weekly", team.ChannelID)
	before = len(b.botMessages(team.ChannelID))
	b.Dispatch(t, "--now", due.UTC().Format(time.RFC3339))
	posts := b.botMessages(team.ChannelID)
	if len(posts) != before+1 {
		t.Fatalf("%d new posts in the channel at the tip's due instant", len(posts)-before)
	}
	post := posts[len(posts)-1]
	mustContain(t, post, lib.T(ja, "weekly.post_title"))
	// The status names whoever set it up by their Teams name, not an ID.
	personal0 := len(b.botMessages(conv))
	b.send(t, b.BF.InChannel(satoJA, team, "今週のヒント 状態"), team.ChannelID, 1)
	b.eventually(t, "the weekly status in the personal chat", func() bool { return len(b.botMessages(conv)) > personal0 })
	if text := cardText(b.botMessages(conv)[personal0]); strings.Contains(text, satoJA.ID) || !strings.Contains(text, "<at>"+satoJA.Name+"</at>") {
		t.Fatalf("the status does not name its subscriber by name:\n%s", text)
	}

	// "Try this", pressed in the channel: the answer is the presser's
	// alone, in their personal chat.
	personal := len(b.botMessages(conv))
	press := b.BF.Submit(on, post.ID, actionData(t, post, coach.ActTry, ""))
	b.send(t, press, team.ChannelID, 1)
	b.eventually(t, "the try-this answer in the personal chat", func() bool { return len(b.botMessages(conv)) > personal })
	due = b.dueAt(t, "tryit", satoJA.ID)
	before = len(b.botMessages(conv))
	b.Dispatch(t, "--now", due.UTC().Format(time.RFC3339))
	if got := b.botMessages(conv); len(got) != before+1 {
		t.Fatalf("no try-it question after its due instant (%d new)", len(got)-before)
	} else {
		mustContain(t, got[len(got)-1], lib.T(ja, "tryit.tried"))
	}

	// The app removed from the team: the channel's tip stops.
	b.Post(t, b.BF.TeamInstalled(satoJA, team, true))
	b.eventually(t, "the channel's tip stopped", func() bool {
		out := b.Dispatch(t, "--dry-run", "--now", time.Now().Add(60*24*time.Hour).UTC().Format(time.RFC3339))
		return !strings.Contains(out, team.ChannelID)
	})

	// In English: forget, confirmed by its button, deletes everything
	// about the user, stops what was planned for them and their export
	// link, and leaves the other user as they were.
	for _, cmd := range []string{"checkin weekly fri 16:00", "declined A", "repair B"} {
		b.Say(t, alexEN, cmd)
	}
	en := trustbot.English
	m, _ := b.Say(t, alexEN, "export")
	mustContain(t, m, lib.T(en, "export.link"))
	link := "http://" + strings.TrimPrefix(urlOf(t, m), "https://")
	out := b.Dispatch(t, "--dry-run", "--now", time.Now().Add(60*24*time.Hour).UTC().Format(time.RFC3339))
	if !strings.Contains(out, alexEN.ID) || !strings.Contains(out, satoJA.ID) {
		t.Fatalf("before forget, not both users have deliveries planned:\n%s", out)
	}
	db := testdb.OpenAt(t, b.DB)
	defer db.Close()
	if places, err := db.Mentions(context.Background(), alexEN.ID); err != nil || len(places) == 0 {
		t.Fatalf("before forget, %s is stored nowhere (%v): the check below sees nothing", alexEN.ID, err)
	}
	m, base := b.Say(t, alexEN, "forget")
	mustContain(t, m, lib.T(en, "forget.confirm"))
	mustContain(t, b.Press(t, alexEN, base, m, coach.ActForgetConfirm, ""), lib.T(en, "forget.done"))
	if places, err := db.Mentions(context.Background(), alexEN.ID); err != nil || len(places) > 0 {
		t.Fatalf("after forget, %s is still in %v (%v)", alexEN.ID, places, err)
	}
	if places, err := db.Mentions(context.Background(), satoJA.ID); err != nil || len(places) == 0 {
		t.Fatalf("one user's forget removed another's data (%v)", err)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Fatalf("an export link works after forget in English: %d", resp.StatusCode)
	}
	out = b.Dispatch(t, "--dry-run", "--now", time.Now().Add(60*24*time.Hour).UTC().Format(time.RFC3339))
	if strings.Contains(out, alexEN.ID) || !strings.Contains(out, satoJA.ID) {
		t.Fatalf("after the English user's forget, the planned deliveries are wrong:\n%s", out)
	}

	// Forget in Japanese, confirmed by its button; an export link not yet
	// used stops working too.
	m, _ = b.Say(t, satoJA, "エクスポート")
	link = "http://" + strings.TrimPrefix(urlOf(t, m), "https://")
	m, base = b.Say(t, satoJA, "削除")
	done := b.Press(t, satoJA, base, m, coach.ActForgetConfirm, "")
	mustContain(t, done, lib.T(ja, "forget.done"))
	if places, err := db.Mentions(context.Background(), satoJA.ID); err != nil || len(places) > 0 {
		t.Fatalf("after forget, %s is still in %v (%v)", satoJA.ID, places, err)
	}
	resp, err = http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Fatalf("an export link works after forget: %d", resp.StatusCode)
	}
	out = b.Dispatch(t, "--dry-run", "--now", time.Now().Add(60*24*time.Hour).UTC().Format(time.RFC3339))
	if strings.Contains(out, satoJA.ID) {
		t.Fatalf("the forgotten user still has deliveries:\n%s", out)
	}
}

// allActions returns the data of every Action.Submit of a message.
func allActions(m fakebf.Message) []map[string]any {
	var out []map[string]any
	eachObject(m, func(v map[string]any) {
		if d, ok := v["data"].(map[string]any); ok && v["type"] == "Action.Submit" {
			out = append(out, d)
		}
	})
	return out
}

// Every button of every command's answer works in Teams, in both
// languages: a press is answered (a new message or the card updated in
// place) with no error, and a button that opens a form opens its dialog.
func TestTeamsEveryButton(t *testing.T) {
	t.Parallel()
	b := MustRunTeams(t, nil)
	lib := mustLibrary(t)
	for _, c := range []struct {
		u        fakebf.User
		lang     trustbot.Lang
		commands []string
	}{
		{satoJA, trustbot.Japanese, []string{"ヘルプ", "ヒント", "言い方", "チェック 今日中にLINE教えて", "振り返り", "振り返り 状態", "履歴", "断られた Aさん", "修復 Bさん", "信頼プラン", "進行中", "ホーム", "言語", "一時停止", "削除"}},
		{alexEN, trustbot.English, []string{"help", "tip", "phrase", "check can I get your number today?", "checkin", "checkin status", "history", "declined A", "repair B", "plan", "journeys", "home", "lang", "pause", "forget"}},
	} {
		bad := []string{lib.T(c.lang, "error.invalid.msteams"), lib.T(c.lang, "error.internal"), lib.T(c.lang, "error.invalid")}
		for i, cmd := range c.commands {
			// A user per command: Teams paces each conversation (60
			// messages in 30 s), and the walk must not wait on that.
			u := fakebf.NewUser(fmt.Sprintf("%s-%d", c.u.Name, i), c.u.Locale, c.u.Timezone)
			conv := b.BF.PersonalConversationID(u.ID)
			m, base := b.Say(t, u, cmd)
			b.pressEvery(t, m, base, conv, bad, fmt.Sprintf("%s: %q", c.lang, cmd))
		}
	}
}

// Every button of what trustbot sends on its own works in Teams, in both
// languages: the check-in at its due instant, the first follow-up of each
// journey (after a "no", a repair, a trust plan) and the try-it question
// of a channel's tip of the week, each delivered by dispatch --now and
// pressed in the personal chat.
func TestTeamsEveryButtonOfDeliveries(t *testing.T) {
	t.Parallel()
	for _, c := range []walk{
		{fakebf.NewUser("Mori", "ja-JP", "Asia/Tokyo"), trustbot.Japanese, []string{"振り返り 毎週", "断られた Aさん", "修復 Bさん"}, "信頼プラン", "今週のヒント on"},
		{fakebf.NewUser("Sam", "en-US", "America/New_York"), trustbot.English, []string{"checkin weekly", "declined A", "repair B"}, "plan", "weekly on"},
	} {
		t.Run(string(c.lang), func(t *testing.T) {
			t.Parallel() // a bot each: dispatch --now stops and starts it
			c.run(t, MustRunTeams(t, nil))
		})
	}
}

// walk is a user's way through every kind of delivery: the commands that
// start a check-in and journeys, the one that opens the plan's dialog,
// and the channel's tip of the week.
type walk struct {
	u         fakebf.User
	lang      trustbot.Lang
	commands  []string
	plan, tip string
}

func (c walk) run(t *testing.T, b *TeamsBot) {
	lib := mustLibrary(t)
	u := c.u
	bad := []string{lib.T(c.lang, "error.invalid.msteams"), lib.T(c.lang, "error.internal"), lib.T(c.lang, "error.invalid")}
	conv := b.BF.PersonalConversationID(u.ID)
	b.send(t, b.BF.Installed(u), conv, 1)
	for _, cmd := range c.commands {
		b.Say(t, u, cmd)
	}
	// The trust plan, through its dialog.
	m, base := b.Say(t, u, c.plan)
	data := actionData(t, m, coach.ActPlanStart, "")
	fetch := b.invoke(t, b.BF.Invoke(base, "task/fetch", map[string]any{"data": data}))
	card, _ := json.Marshal(fetch["task"].(map[string]any)["value"].(map[string]any)["card"])
	form := formData(t, card)
	form["in.label"], form["in.stage"], form["in.goal"] = "C", "some-unease", "Lunch together"
	before := len(b.botMessages(conv))
	b.invoke(t, b.BF.Invoke(base, "task/submit", map[string]any{"data": form}))
	b.eventually(t, "the plan's first step", func() bool { return len(b.botMessages(conv)) > before })

	// The channel's tip, and "try this" pressed on it.
	team := fakebf.NewTeam("Team " + u.Name)
	b.send(t, b.BF.TeamInstalled(u, team, false), team.ChannelID, 1)
	on := b.BF.InChannel(u, team, c.tip)
	b.send(t, on, team.ChannelID, 1)
	b.Dispatch(t, "--now", b.dueAt(t, "weekly", team.ChannelID).UTC().Format(time.RFC3339))
	posts := b.botMessages(team.ChannelID)
	before = len(b.botMessages(conv))
	b.send(t, b.BF.Submit(on, posts[len(posts)-1].ID, actionData(t, posts[len(posts)-1], coach.ActTry, "")), team.ChannelID, 1)
	b.eventually(t, "the try-this answer", func() bool { return len(b.botMessages(conv)) > before })

	// Each kind's first delivery, at its due instant, in order.
	firstDue := map[string]time.Time{}
	out := b.Dispatch(t, "--dry-run", "--now", time.Now().Add(60*24*time.Hour).UTC().Format(time.RFC3339))
	for line := range strings.SplitSeq(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 7 || f[2] != u.ID || f[5] != "due" {
			continue
		}
		which := f[0]
		if which == "journey" {
			which, _, _ = strings.Cut(f[4], ":") // the journey's ID
		}
		at, err := time.Parse(time.RFC3339, f[6])
		if err != nil {
			t.Fatal(err)
		}
		if old, ok := firstDue[which]; !ok || at.Before(old) {
			firstDue[which] = at
		}
	}
	if len(firstDue) != 5 {
		t.Fatalf("%s: due %v, want a check-in, a try-it question and three journeys' follow-ups", c.lang, firstDue)
	}
	dues := slices.SortedFunc(maps.Values(firstDue), time.Time.Compare)
	base = b.BF.Personal(u, "")
	for _, due := range slices.CompactFunc(dues, time.Time.Equal) {
		before := len(b.botMessages(conv))
		b.Dispatch(t, "--now", due.UTC().Format(time.RFC3339))
		sent := b.botMessages(conv)[before:]
		if len(sent) == 0 {
			t.Fatalf("%s: nothing sent at %v", c.lang, due)
		}
		for _, m := range sent {
			if len(allActions(m)) == 0 {
				t.Errorf("%s: a delivery without buttons:\n%s", c.lang, cardText(m))
			}
			b.pressEvery(t, m, base, conv, bad, fmt.Sprintf("%s: delivery at %v", c.lang, due))
		}
	}
}

// A user who blocked trustbot in Teams (the connector answers 403
// ConversationBlockedByUser) is marked unreachable at the due instant:
// their check-ins stop, nothing is tried again, and when they write again
// the status says why.
func TestTeamsBlockedUserIsUnreachable(t *testing.T) {
	t.Parallel()
	b := MustRunTeams(t, nil)
	lib := mustLibrary(t)
	u := fakebf.NewUser("Noa", "en-GB", "Europe/London")
	conv := b.BF.PersonalConversationID(u.ID)
	b.send(t, b.BF.Installed(u), conv, 1)
	b.Say(t, u, "checkin weekly fri 16:00")
	due := b.dueAt(t, "checkin", u.ID)
	b.BF.Inject(fakebf.Fault{Conversation: conv, Status: http.StatusForbidden, Code: "Forbidden", InnerCode: "ConversationBlockedByUser", Times: 100})
	sent := len(b.botMessages(conv))
	if out := b.Dispatch(t, "--now", due.UTC().Format(time.RFC3339)); !strings.Contains(out, "1 unreachable") {
		t.Fatalf("dispatch to a user who blocked the bot:\n%s", out)
	}
	if out := b.Dispatch(t, "--dry-run", "--now", due.Add(60*24*time.Hour).UTC().Format(time.RFC3339)); strings.Contains(out, u.ID) {
		t.Fatalf("check-ins go on for a user who blocked the bot:\n%s", out)
	}
	if n := len(b.botMessages(conv)); n != sent {
		t.Fatalf("%d messages reached a conversation that refuses them", n-sent)
	}
	b.BF.ClearFaults()
	m, _ := b.Say(t, u, "checkin status")
	mustContain(t, m, lib.T(trustbot.English, "checkin.stopped.msteams", "cadence", "every Friday at 16:00"))
}

// Until Teams tells a user's time zone, the installation's (TRUSTBOT_TZ)
// is used and the reply says so; the first message that carries one moves
// the check-in to the same local time there.
func TestTeamsZoneFromTheClient(t *testing.T) {
	t.Parallel()
	b := MustRunTeams(t, map[string]string{"TRUSTBOT_TZ": "Europe/Berlin"})
	lib := mustLibrary(t)
	u := fakebf.NewUser("Lee", "en-US", "")
	m, _ := b.Say(t, u, "checkin weekly fri 16:00")
	mustContain(t, m, lib.T(trustbot.English, "checkin.zone_assumed.msteams", "zone", "Europe/Berlin"))
	berlin, _ := time.LoadLocation("Europe/Berlin")
	if due := b.dueAt(t, "checkin", u.ID).In(berlin); due.Hour() != 16 || due.Weekday() != time.Friday {
		t.Fatalf("check-in due %v, want Friday 16:00 in the installation's zone", due)
	}
	u.Timezone = "America/Chicago"
	m, _ = b.Say(t, u, "checkin status")
	if strings.Contains(cardText(m), "Europe/Berlin") {
		t.Fatalf("the zone Teams told is not used:\n%s", cardText(m))
	}
	chicago, _ := time.LoadLocation("America/Chicago")
	if due := b.dueAt(t, "checkin", u.ID).In(chicago); due.Hour() != 16 || due.Weekday() != time.Friday {
		t.Fatalf("check-in due %v, want Friday 16:00 in Chicago", due)
	}
}

// A channel that can no longer be reached stops its tip of the week, and
// whoever set it up is told in their personal chat, by words, never by
// the channel's ID, even when Teams never said the channel's name (it
// leaves out the General channel's).
func TestTeamsChannelGoneIsToldByName(t *testing.T) {
	t.Parallel()
	b := MustRunTeams(t, nil)
	lib := mustLibrary(t)
	u := fakebf.NewUser("Rin", "ja-JP", "Asia/Tokyo")
	conv := b.BF.PersonalConversationID(u.ID)
	b.send(t, b.BF.Installed(u), conv, 1)
	team := fakebf.NewTeam("営業")
	team.ChannelName = ""
	b.send(t, b.BF.TeamInstalled(u, team, false), team.ChannelID, 1)
	b.send(t, b.BF.InChannel(u, team, "今週のヒント on"), team.ChannelID, 1)
	b.BF.Inject(fakebf.Fault{Conversation: team.ChannelID, Status: http.StatusNotFound, Code: "ConversationNotFound", Times: 100})
	due := b.dueAt(t, "weekly", team.ChannelID)
	before := len(b.botMessages(conv))
	b.Dispatch(t, "--now", due.UTC().Format(time.RFC3339))
	b.Dispatch(t, "--now", due.Add(time.Minute).UTC().Format(time.RFC3339))
	got := b.botMessages(conv)[before:]
	if len(got) != 1 {
		t.Fatalf("%d messages to the subscriber, want the notice", len(got))
	}
	mustContain(t, got[0], lib.T(trustbot.Japanese, "weekly.paused_dm.msteams", "channel", lib.T(trustbot.Japanese, "teams.unnamed_channel")))
	if text := cardText(got[0]); strings.Contains(text, team.ChannelID) || strings.Contains(text, "19:") {
		t.Fatalf("the notice names the channel by its ID:\n%s", text)
	}
}

// pressEvery presses every button of message m, in conversation conv,
// one after another (base is an activity of the user where m was shown):
// each press must be answered (a new message, or a card updated in place)
// with none of the bad texts, and a button that opens a form must open
// its dialog.
func (b *TeamsBot) pressEvery(t *testing.T, m fakebf.Message, base *fakebf.Activity, conv string, bad []string, what string) {
	t.Helper()
	for _, data := range allActions(m) {
		route, _ := data["trustbot"].(map[string]any)
		id, _ := route["a"].(string)
		if id == coach.ActForgetConfirm {
			continue // pressed in TestTeamsJourneysChannelTipsAndForget
		}
		if ms, _ := data["msteams"].(map[string]any); ms["type"] == "task/fetch" {
			got := b.invoke(t, b.BF.Invoke(base, "task/fetch", map[string]any{"data": data}))
			if task, _ := got["task"].(map[string]any); task["type"] != "continue" {
				t.Errorf("%s: button %s opened no dialog: %v", what, id, got)
			}
			continue
		}
		if route["i"] != nil {
			// A menu: choose its first option.
			data = choose(t, m, data)
		}
		before := b.botMessages(conv)
		if status, body := b.Post(t, b.BF.Submit(base, m.ID, data)); status != http.StatusOK {
			t.Fatalf("press answered %d: %s", status, body)
		}
		var got fakebf.Message
		b.eventually(t, fmt.Sprintf("an answer to %s (%s)", id, what), func() bool {
			now := b.botMessages(conv)
			if len(now) > len(before) {
				got = now[len(before)]
				return true
			}
			for i := range before {
				if now[i].Updates > before[i].Updates {
					got = now[i]
					return true
				}
			}
			return false
		})
		for _, w := range bad {
			if strings.Contains(cardText(got), w) {
				t.Errorf("%s: button %s (%v) answered with an error:\n%s", what, id, route["v"], cardText(got))
			}
		}
	}
}

// choose fills in a menu's choice in a press's data: the first option of
// the menu the data names.
func choose(t *testing.T, m fakebf.Message, data map[string]any) map[string]any {
	t.Helper()
	route := data["trustbot"].(map[string]any)
	input := route["i"].(string)
	var first string
	eachObject(m, func(v map[string]any) {
		if cs, ok := v["choices"].([]any); ok && v["id"] == input && len(cs) > 0 && first == "" {
			first, _ = cs[0].(map[string]any)["value"].(string)
		}
	})
	if first == "" {
		t.Fatalf("menu %s has no choice", input)
	}
	out := map[string]any{}
	for k, v := range data {
		out[k] = v
	}
	out[input] = first
	return out
}

// One serve runs Slack and Teams at once on one database: each answers
// its own users, and a Teams channel is never looked up in Slack.
func TestSlackAndTeamsInOneServe(t *testing.T) {
	slackBot := MustRunBot(t, nil)
	slackBot.Stop(t)
	env := merge(slackBot.Env, map[string]string{"TRUSTBOT_DB": testdb.EmptyDSN(t)})
	delete(env, "TRUSTBOT_HTTP_ADDR") // the Teams harness has its own
	b := MustRunTeams(t, env)
	// Ready means Slack's socket is connected too.
	_, r := slackBot.Slash(t, enUser, "tip")
	if r.Text == "" {
		t.Fatal("no answer in Slack")
	}
	m, _ := b.Say(t, alexEN, "tip")
	if cardText(m) == "" {
		t.Fatal("no answer in Teams")
	}
	team := fakebf.NewTeam("Both")
	b.send(t, b.BF.TeamInstalled(alexEN, team, false), team.ChannelID, 1)
	b.send(t, b.BF.InChannel(alexEN, team, "weekly on"), team.ChannelID, 1)
	for _, c := range slackBot.Slack.Calls("conversations.info") {
		if strings.Contains(c.Params["channel"], "@thread") {
			t.Fatalf("a Teams channel was looked up in Slack: %v", c.Params)
		}
	}
}
