package teams

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/trustbot/trustbot/internal/fakebf"
)

// fakeActivity parses an activity built by the fake Bot Framework.
func fakeActivity(t testing.TB, a *fakebf.Activity) *Activity {
	t.Helper()
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseActivity(b)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestParsePersonalMessage(t *testing.T) {
	fake := fakebf.New(fakebf.Config{})
	defer fake.Close()
	u := fakebf.NewUser("Suzuki Ichiro", "ja-JP", "Asia/Tokyo")
	a := fakeActivity(t, fake.Personal(u, "tip 感謝"))
	if a.Type != TypeMessage || !a.IsPersonal() || a.ChannelID != ChannelMSTeams {
		t.Errorf("type %q personal %v channel %q", a.Type, a.IsPersonal(), a.ChannelID)
	}
	if got := a.TextWithoutMention(); got != "tip 感謝" {
		t.Errorf("text %q", got)
	}
	if a.Timezone() != "Asia/Tokyo" || a.UserLocale() != "ja-JP" || a.TenantID() != fake.TenantID() {
		t.Errorf("zone %q locale %q tenant %q", a.Timezone(), a.UserLocale(), a.TenantID())
	}
	if a.Time().IsZero() {
		t.Errorf("timestamp %q not read", a.Timestamp)
	}
	ref := a.Reference()
	if ref.User.ID != u.ID || ref.Bot.ID != fake.BotID() || ref.ServiceURL != fake.ServiceURL() ||
		ref.Conversation.ID != fake.PersonalConversationID(u.ID) || ref.Conversation.TenantID != fake.TenantID() {
		t.Errorf("reference %+v", ref)
	}
}

func TestParseChannelMentionAndInvoke(t *testing.T) {
	fake := fakebf.New(fakebf.Config{})
	defer fake.Close()
	u := fakebf.NewUser("Ann Lee", "en-US", "America/New_York")
	msg := fake.InChannel(u, fakebf.NewTeam("Design"), "weekly on")
	a := fakeActivity(t, msg)
	if a.IsPersonal() || a.ChannelData == nil || a.ChannelData.Channel == nil || a.ChannelData.Team == nil {
		t.Fatalf("channel message read as %+v", a)
	}
	if got := a.TextWithoutMention(); got != "weekly on" {
		t.Errorf("text without mention %q", got)
	}
	inv := fakeActivity(t, fake.Invoke(msg, InvokeTaskFetch, map[string]any{"data": map[string]any{"form": "plan"}}))
	if inv.Type != TypeInvoke || inv.Name != InvokeTaskFetch || !strings.Contains(string(inv.Value), `"plan"`) {
		t.Errorf("invoke %q %q %s", inv.Type, inv.Name, inv.Value)
	}
	sub := fakeActivity(t, fake.Submit(msg, "1700000000001", map[string]any{"press": "polite"}))
	if sub.Type != TypeMessage || sub.ReplyToID != "1700000000001" || !strings.Contains(string(sub.Value), "polite") || sub.TextWithoutMention() != "" {
		t.Errorf("submit %+v", sub)
	}
	inst := fakeActivity(t, fake.Uninstalled(u))
	if inst.Type != TypeInstallationUpdate || inst.Action != ActionRemove {
		t.Errorf("uninstall %q %q", inst.Type, inst.Action)
	}
}

func TestTextWithoutMention(t *testing.T) {
	bot := &ChannelAccount{ID: "28:bot", Name: "trustbot"}
	mention := func(id, text string) Entity {
		return Entity{Type: "mention", Mentioned: &ChannelAccount{ID: id}, Text: text}
	}
	cases := []struct {
		text     string
		entities []Entity
		want     string
	}{
		{"<at>trustbot</at> help", []Entity{mention("28:bot", "<at>trustbot</at>")}, "help"},
		{"please <at>trustbot</at>&nbsp;tip", []Entity{mention("28:bot", "<at>trustbot</at>")}, "please   tip"},
		// Someone else's mention stays; the bot's goes.
		{"<at>trustbot</at> check <at>Taro</at> thanks", []Entity{mention("28:bot", "<at>trustbot</at>"), mention("29:taro", "<at>Taro</at>")}, "check <at>Taro</at> thanks"},
		// A mention entity for another user with the bot's name does not strip.
		{"<at>trustbot</at> hi", []Entity{mention("29:impostor", "<at>trustbot</at>")}, "<at>trustbot</at> hi"},
		// No entity: a leading mention with the bot's name is taken out.
		{"  <at>trustbot</at> plan", nil, "plan"},
		{"plan <at>trustbot</at>", nil, "plan <at>trustbot</at>"},
		{"help", nil, "help"},
		{"", nil, ""},
	}
	for _, tc := range cases {
		a := &Activity{Text: tc.text, Recipient: bot, Entities: tc.entities}
		if got := a.TextWithoutMention(); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestTimezoneAndLocale(t *testing.T) {
	cases := []struct {
		a          Activity
		zone, lang string
	}{
		{Activity{LocalTimezone: "Europe/Berlin", Locale: "de-DE"}, "Europe/Berlin", "de-DE"},
		{Activity{Entities: []Entity{{Type: "clientInfo", Timezone: "Asia/Tokyo", Locale: "ja-JP"}}, LocalTimezone: "UTC"}, "Asia/Tokyo", "ja-JP"},
		{Activity{LocalTimezone: "Mars/Olympus", Locale: "ja JP"}, "", ""},
		{Activity{LocalTimezone: "../../etc/passwd", Locale: "-en"}, "", ""},
		{Activity{LocalTimezone: "Local"}, "", ""},
		{Activity{Entities: []Entity{{Type: "clientInfo", Timezone: "Nope/Zone"}}, LocalTimezone: "Asia/Kolkata"}, "Asia/Kolkata", ""},
	}
	for i, tc := range cases {
		if z, l := tc.a.Timezone(), tc.a.UserLocale(); z != tc.zone || l != tc.lang {
			t.Errorf("case %d: got %q %q, want %q %q", i, z, l, tc.zone, tc.lang)
		}
	}
}

func TestParseActivityRefusesIncomplete(t *testing.T) {
	for _, body := range []string{
		``, `[]`, `{}`, `{"type":"message"}`,
		`{"type":"message","serviceUrl":"https://x/","channelId":"msteams"}`,
		`{"type":"message","serviceUrl":"https://x/","channelId":"msteams","conversation":{"id":""}}`,
		`{"type":"message","serviceUrl":"https://x/","channelId":"msteams","conversation":{"id":"a"},"value":`,
	} {
		if _, err := ParseActivity([]byte(body)); err == nil {
			t.Errorf("%q was accepted", body)
		}
	}
	ok := `{"type":"message","serviceUrl":"https://x/","channelId":"msteams","conversation":{"id":"a"},"unknown":{"x":[1]}}`
	if _, err := ParseActivity([]byte(ok)); err != nil {
		t.Errorf("unknown fields refused: %v", err)
	}
}

// FuzzActivity feeds arbitrary bodies to the parser and the helpers that
// read user text: nothing panics, the bot's own mention never survives,
// and valid UTF-8 stays valid.
func FuzzActivity(f *testing.F) {
	// Seeds as the fake Bot Framework builds them (without starting one:
	// every fuzz worker would generate its keys).
	for _, seed := range []string{
		`{"type":"message","id":"1700000000001","timestamp":"2026-11-30T09:00:00.0000000Z","localTimestamp":"2026-11-30T18:00:00.000+09:00","localTimezone":"Asia/Tokyo","serviceUrl":"http://127.0.0.1:1/teams/","channelId":"msteams","from":{"id":"29:1abc","name":"Seed","aadObjectId":"0c5d"},"conversation":{"id":"a:1abc","conversationType":"personal","tenantId":"t"},"recipient":{"id":"28:b","name":"trustbot"},"text":"check 明日LINE交換しませんか","textFormat":"plain","locale":"ja-JP","entities":[{"type":"clientInfo","locale":"ja-JP","country":"JP","platform":"Web","timezone":"Asia/Tokyo"}],"channelData":{"tenant":{"id":"t"}}}`,
		`{"type":"message","id":"1700000000002","serviceUrl":"s","channelId":"msteams","from":{"id":"29:1abc"},"conversation":{"id":"19:x@thread.tacv2;messageid=1700000000002","conversationType":"channel","isGroup":true},"recipient":{"id":"28:b","name":"trustbot"},"text":"<at>trustbot</at> tip","entities":[{"type":"mention","text":"<at>trustbot</at>","mentioned":{"id":"28:b","name":"trustbot"}}],"channelData":{"team":{"id":"19:x@thread.tacv2"},"channel":{"id":"19:x@thread.tacv2"}}}`,
		`{"type":"installationUpdate","action":"add","serviceUrl":"s","channelId":"msteams","conversation":{"id":"a:1abc","conversationType":"personal"}}`,
		`{"type":"invoke","name":"task/submit","value":{"note":"x"},"serviceUrl":"s","channelId":"msteams","conversation":{"id":"a:1abc"}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Add([]byte(`{"type":"message","serviceUrl":"s","channelId":"msteams","conversation":{"id":"c"},"recipient":{"id":"28:b","name":"trustbot"},"text":"<at>trustbot</at><at>trustbot</at>","entities":[{"type":"mention","text":"<at>trustbot</at>","mentioned":{"id":"28:b"}}]}`))
	f.Add([]byte(`{"type":"message","serviceUrl":"s","channelId":"msteams","conversation":{"id":"c"},"localTimezone":"Asia/Tokyo\u0000","locale":"ja-JP","entities":[{"type":"clientInfo","timezone":"../x"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := ParseActivity(body)
		if err != nil {
			return
		}
		text := a.TextWithoutMention()
		if utf8.ValidString(a.Text) && !utf8.ValidString(text) {
			t.Errorf("valid text %q became invalid %q", a.Text, text)
		}
		if len(text) > len(a.Text)+len(a.Entities) {
			t.Errorf("text grew: %q -> %q", a.Text, text)
		}
		if a.Recipient != nil && a.Recipient.Name != "" && len(a.Entities) == 0 && strings.Count(a.Text, "<at>"+a.Recipient.Name+"</at>") == 1 &&
			strings.HasPrefix(strings.TrimLeftFunc(a.Text, unicode.IsSpace), "<at>"+a.Recipient.Name+"</at>") && strings.HasPrefix(text, "<at>"+a.Recipient.Name+"</at>") {
			t.Errorf("the bot's leading mention survived: %q -> %q", a.Text, text)
		}
		if z := a.Timezone(); z != "" && z != a.LocalTimezone && !hasClientZone(a, z) {
			t.Errorf("zone %q comes from nowhere", z)
		}
		_ = a.UserLocale()
		_ = a.Reference()
		_ = a.Time()
	})
}

func hasClientZone(a *Activity, z string) bool {
	for _, e := range a.Entities {
		if e.Timezone == z {
			return true
		}
	}
	return false
}
