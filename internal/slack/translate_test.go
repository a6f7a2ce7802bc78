package slack

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/trustbot/trustbot/internal/trustbot"
)

func TestTranslateSlash(t *testing.T) {
	b, err := os.ReadFile("testdata/slash_command.json")
	if err != nil {
		t.Fatal(err)
	}
	req, to, err := translateSlash(b)
	if err != nil {
		t.Fatal(err)
	}
	want := trustbot.Request{Kind: trustbot.Command, UserKey: trustbot.UserKey{Team: "T0001", User: "U2147483697"}, Channel: "C2147483705", Text: "tip 冷却期間"}
	if req.Kind != want.Kind || req.UserKey != want.UserKey || req.Channel != want.Channel || req.Text != want.Text || req.Direct {
		t.Errorf("request = %+v, want %+v", req, want)
	}
	if to.ResponseURL != "https://hooks.slack.com/commands/1234/5678" || to.TriggerID != "13345224609.738474920.8088930838d88f008e0" {
		t.Errorf("target = %+v", to)
	}
	for name, payload := range map[string]string{
		"NotJSON":   `{"team_id":`,
		"NoUser":    `{"team_id":"T1","text":"help"}`,
		"BadUserID": `{"team_id":"T1","user_id":"U1 OR 1=1"}`,
		"Array":     `[1,2,3]`,
		// A Teams workspace's ID in a Slack payload names another platform.
		"TeamsTeam": `{"team_id":"msteams:8f0d6a1e-3c1b-4b5e-9e7f-2a6c4d1b0e93","user_id":"U1","text":"help"}`,
	} {
		if _, _, err := translateSlash([]byte(payload)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestTranslateSlashReadsWhatSlackGoReads: the fields translateSlash
// decodes are all that translateSlashCommand reads of slack-go's whole
// SlashCommand.
func TestTranslateSlashReadsWhatSlackGoReads(t *testing.T) {
	b, err := os.ReadFile("testdata/slash_command.json")
	if err != nil {
		t.Fatal(err)
	}
	var sc slack.SlashCommand
	if err := json.Unmarshal(b, &sc); err != nil {
		t.Fatal(err)
	}
	wantReq, wantTo, wantErr := translateSlashCommand(sc)
	req, to, err := translateSlash(b)
	if !reflect.DeepEqual(req, wantReq) || to != wantTo || (err == nil) != (wantErr == nil) {
		t.Errorf("lean decoding gives %+v %+v %v, slack-go's %+v %+v %v", req, to, err, wantReq, wantTo, wantErr)
	}
}

func TestTranslateInteraction(t *testing.T) {
	for _, tc := range []struct {
		file  string
		id    string
		value string
	}{
		{"testdata/block_actions_button.json", "tip.another", "cooling-period"},
		{"testdata/block_actions_select.json", "tip.topic", "small-talk"},
	} {
		b, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		req, to, err := translateInteraction(b)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if req.Kind != trustbot.Action || req.ActionID != tc.id || req.Value != tc.value || req.Team != "T9TK3CUKW" || req.User != "UA8RXUSPL" {
			t.Errorf("%s: request = %+v", tc.file, req)
		}
		if to.ResponseURL == "" || to.Channel != "CBR2V3XEX" {
			t.Errorf("%s: target = %+v", tc.file, to)
		}
	}
	if _, _, err := translateInteraction([]byte(`{"type":"view_closed","user":{"id":"U1"},"team":{"id":"T1"}}`)); !errors.Is(err, errIgnore) {
		t.Errorf("view_closed: err = %v, want errIgnore", err)
	}
	if _, _, err := translateInteraction([]byte(`{"type":"block_actions","user":{"id":"U1"},"team":{"id":"T1"},"actions":[]}`)); err == nil {
		t.Error("block_actions without an action accepted")
	}
}

func TestEnvelopeID(t *testing.T) {
	if got := envelopeID([]byte(`{"envelope_id":"e1","type":"slash_commands","payload":"oops"}`)); got != "e1" {
		t.Errorf("got %q", got)
	}
	if got := envelopeID([]byte(`not json`)); got != "" {
		t.Errorf("got %q", got)
	}
}

func TestTrustedResponseURL(t *testing.T) {
	api := "http://127.0.0.1:4000/api/"
	for u, want := range map[string]bool{
		"https://hooks.slack.com/commands/1/2":  true,
		"https://hooks.slack-gov.com/x":         true,
		"http://127.0.0.1:4000/response/1":      true,
		"http://127.0.0.1:4001/response/1":      false,
		"http://hooks.slack.com/commands/1/2":   false,
		"https://evil.example/hooks.slack.com":  false,
		"https://hooks.slack.com.evil.example/": false,
		"":                                      false,
	} {
		if got := trustedResponseURL(u, api); got != want {
			t.Errorf("trustedResponseURL(%q) = %v, want %v", u, got, want)
		}
	}
}

func FuzzTranslateSlash(f *testing.F) {
	if b, err := os.ReadFile("testdata/slash_command.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"team_id":"T1","user_id":"U1","text":"\xff"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, _, err := translateSlash(b)
		if err == nil && !req.UserKey.Valid() {
			t.Fatalf("accepted an invalid user key: %+v", req.UserKey)
		}
	})
}

func FuzzTranslateInteraction(f *testing.F) {
	for _, name := range []string{"testdata/block_actions_button.json", "testdata/block_actions_select.json"} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"type":"block_actions","actions":[{}]}`))
	f.Add([]byte(`{"type":"block_suggestion","user":{"id":"U1","team_id":"T1"},"action_id":"tip.topic#1","value":"修\u0000<@U2>"}`))
	f.Add([]byte(`{"type":"view_submission","user":{"id":"U1","team_id":"T1"},"view":{"callback_id":"x"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, to, err := translateInteraction(b)
		if err != nil {
			return
		}
		if !req.UserKey.Valid() || req.Kind != trustbot.Action && req.Kind != trustbot.Submit && req.Kind != trustbot.Suggest {
			t.Fatalf("accepted %+v", req)
		}
		if to.Suggest != (req.Kind == trustbot.Suggest) || req.Kind == trustbot.Suggest && (strings.Contains(req.ActionID, actionSep) || req.Text != trustbot.Unmarked(req.Text)) {
			t.Fatalf("suggestion %+v to %+v", req, to)
		}
	})
}

func TestTranslateEvent(t *testing.T) {
	event := func(ev string) []byte {
		return []byte(`{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":` + ev + `}`)
	}
	req, to, id, err := translateEvent(event(`{"type":"message","channel":"DU1","channel_type":"im","user":"U1","text":"check a &lt;b&gt; &amp; c <https://x.example/p|x.example> <mailto:a@b.example|a@b.example> <@U2>","ts":"1.2","thread_ts":"1.1"}`), "UBOT")
	if err != nil || id != "Ev1" || req.Kind != trustbot.Command || !req.Typed || req.UserKey != (trustbot.UserKey{Team: "T1", User: "U1"}) || req.Channel != "DU1" {
		t.Fatalf("DM message: %+v %v %q", req, err, id)
	}
	if want := "check a <b> & c x.example a@b.example <@U2>"; req.Text != want {
		t.Errorf("text %q, want %q", req.Text, want)
	}
	if !to.DM || to.Channel != "DU1" || to.ThreadTS != "1.1" || to.Home {
		t.Errorf("target %+v", to)
	}
	req, to, _, err = translateEvent(event(`{"type":"app_home_opened","user":"U1","tab":"home","channel":"DU1"}`), "UBOT")
	if err != nil || req.Kind != trustbot.Home || !to.Home {
		t.Errorf("app_home_opened: %+v %+v %v", req, to, err)
	}
	for name, ev := range map[string]string{
		"own message":     `{"type":"message","channel":"DU1","channel_type":"im","user":"UBOT","text":"hi","ts":"1.2"}`,
		"a bot's message": `{"type":"message","channel":"DU1","channel_type":"im","user":"U9","bot_id":"B1","text":"hi","ts":"1.2"}`,
		"edit":            `{"type":"message","subtype":"message_changed","channel":"DU1","channel_type":"im","message":{"user":"U1","text":"help"},"ts":"1.3"}`,
		"deletion":        `{"type":"message","subtype":"message_deleted","channel":"DU1","channel_type":"im","deleted_ts":"1.2","ts":"1.3"}`,
		"file":            `{"type":"message","subtype":"file_share","channel":"DU1","channel_type":"im","user":"U1","text":"","ts":"1.3"}`,
		"channel message": `{"type":"message","channel":"C1","channel_type":"channel","user":"U1","text":"help","ts":"1.3"}`,
		"messages tab":    `{"type":"app_home_opened","user":"U1","tab":"messages","channel":"DU1"}`,
	} {
		if _, _, _, err := translateEvent(event(ev), "UBOT"); !errors.Is(err, errIgnore) {
			t.Errorf("%s: err = %v, want errIgnore", name, err)
		}
	}
	if _, _, _, err := translateEvent(event(`{"type":"message","channel":"DU1","channel_type":"im","user":"bad id!","text":"hi"}`), "UBOT"); err == nil || errors.Is(err, errIgnore) {
		t.Errorf("a message with an invalid user: %v", err)
	}
}

func FuzzTranslateEvent(f *testing.F) {
	f.Add([]byte(`{"team_id":"T1","event_id":"Ev1","event":{"type":"message","channel":"DU1","channel_type":"im","user":"U1","text":"tip &amp; <https://a|b>"}}`))
	f.Add([]byte(`{"team_id":"T1","event":{"type":"app_home_opened","user":"U1","tab":"home"}}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"team_id":"T1","event_id":"Ev2","event":{"type":"app_uninstalled"}}`))
	f.Add([]byte(`{"team_id":"T1","enterprise_id":"E1","authorizations":[{"enterprise_id":"E1","is_enterprise_install":true}],"event":{"type":"tokens_revoked","tokens":{"bot":["UBOT"]}}}`))
	f.Add([]byte(`{"enterprise_id":"E1","event_id":"Ev3","authorizations":[{"enterprise_id":"E1","is_enterprise_install":true}],"event":{"type":"team_access_granted","team_ids":["T1","T2"]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if enterprise, teams, _, _, ok := teamAccessEvent(b); ok && (enterprise == "" || len(enterprise) > 40 || !strings.Contains(string(b), "team_access_")) {
			t.Fatalf("read as a change of access of %q to %q", enterprise, teams)
		} else if ok {
			for _, team := range teams {
				if !validKey(trustbot.UserKey{Team: team, User: enterprise}) {
					t.Fatalf("an invalid workspace %q", team)
				}
			}
		}
		if enterprise, team, ok := orgInstall(inbound{kind: kindEvent, payload: b}); ok && !validKey(trustbot.UserKey{Team: team, User: enterprise}) {
			t.Fatalf("an org install of %q %q", enterprise, team)
		}
		if enterprise, team, _, ok := uninstallEvent(b); ok && (team == "" && enterprise == "" || len(team) > 40 || len(enterprise) > 40 ||
			!strings.Contains(string(b), "app_uninstalled") && !strings.Contains(string(b), "tokens_revoked")) {
			t.Fatalf("read as an uninstall of %q %q", enterprise, team)
		}
		req, to, _, err := translateEvent(b, "UBOT")
		if err != nil {
			return
		}
		if !req.UserKey.Valid() || req.User == "UBOT" {
			t.Fatalf("accepted %+v", req)
		}
		if req.Kind == trustbot.Command && (!to.DM || !strings.HasPrefix(to.Channel, "D")) {
			t.Fatalf("a command answered outside a DM: %+v", to)
		}
	})
}

func TestUninstallEvent(t *testing.T) {
	for _, c := range []struct {
		name, body       string
		enterprise, team string
		ok               bool
	}{
		{"Uninstalled", `{"team_id":"T1","event_id":"Ev1","event":{"type":"app_uninstalled"}}`, "", "T1", true},
		{"WorkspaceOfAnOrg", `{"team_id":"T1","enterprise_id":"E1","event":{"type":"app_uninstalled"}}`, "E1", "T1", true},
		{"OrgWide", `{"team_id":"T1","enterprise_id":"E1","authorizations":[{"enterprise_id":"E1","is_enterprise_install":true}],"event":{"type":"app_uninstalled"}}`, "E1", "", true},
		{"BotTokenRevoked", `{"team_id":"T1","event":{"type":"tokens_revoked","tokens":{"oauth":[],"bot":["UBOT"]}}}`, "", "T1", true},
		{"OnlyUserTokensRevoked", `{"team_id":"T1","event":{"type":"tokens_revoked","tokens":{"oauth":["U1"],"bot":[]}}}`, "", "", false},
		{"OtherEvent", `{"team_id":"T1","event":{"type":"app_home_opened"}}`, "", "", false},
		{"NoWorkspace", `{"event":{"type":"app_uninstalled"}}`, "", "", false},
	} {
		enterprise, team, _, ok := uninstallEvent([]byte(c.body))
		if ok != c.ok || ok && (enterprise != c.enterprise || team != c.team) {
			t.Errorf("%s: %q %q %v", c.name, enterprise, team, ok)
		}
	}
}

func TestOrgInstall(t *testing.T) {
	for _, c := range []struct {
		name, body       string
		enterprise, team string
		ok               bool
	}{
		{"Event", `{"team_id":"T1","enterprise_id":"E1","authorizations":[{"enterprise_id":"E1","team_id":null,"is_enterprise_install":true}],"event":{"type":"app_home_opened"}}`, "E1", "T1", true},
		{"EventOfAWorkspaceInstall", `{"team_id":"T1","enterprise_id":"E1","authorizations":[{"enterprise_id":"E1","team_id":"T1","is_enterprise_install":false}],"event":{}}`, "", "", false},
		{"EventOutsideGrid", `{"team_id":"T1","authorizations":[{"team_id":"T1"}],"event":{}}`, "", "", false},
		{"Interaction", `{"type":"block_actions","team":{"id":"T2"},"enterprise":{"id":"E1"},"is_enterprise_install":true,"user":{"id":"W1","team_id":"T9"}}`, "E1", "T2", true},
		{"InteractionWithoutTeam", `{"type":"view_submission","team":null,"enterprise":{"id":"E1"},"is_enterprise_install":true,"user":{"id":"W1","team_id":"T2"}}`, "E1", "T2", true},
		{"SlashOverTheSocket", `{"team_id":"T3","enterprise_id":"E1","is_enterprise_install":"true","user_id":"W1"}`, "E1", "T3", true},
		{"SlashNotOrgWide", `{"team_id":"T3","enterprise_id":"E1","is_enterprise_install":"false","user_id":"W1"}`, "", "", false},
		{"InvalidIDs", `{"team_id":"T 3","enterprise_id":"E1","is_enterprise_install":true}`, "", "", false},
		{"NotJSON", `{`, "", "", false},
	} {
		enterprise, team, ok := orgInstall(inbound{kind: kindInteractive, payload: []byte(c.body)})
		if ok != c.ok || ok && (enterprise != c.enterprise || team != c.team) {
			t.Errorf("%s: %q %q %v", c.name, enterprise, team, ok)
		}
	}
	sc := slack.SlashCommand{TeamID: "T4", EnterpriseID: "E2", IsEnterpriseInstall: true, UserID: "W2"}
	if enterprise, team, ok := orgInstall(inbound{kind: kindSlash, slash: &sc}); !ok || enterprise != "E2" || team != "T4" {
		t.Errorf("slash command over HTTP: %q %q %v", enterprise, team, ok)
	}
}

func TestTeamAccessEvent(t *testing.T) {
	enterprise, teams, granted, id, ok := teamAccessEvent([]byte(`{"enterprise_id":"E1","event_id":"Ev9","authorizations":[{"enterprise_id":"E1","is_enterprise_install":true}],"event":{"type":"team_access_granted","team_ids":["T1","bad id","T2"]}}`))
	if !ok || !granted || enterprise != "E1" || id != "Ev9" || len(teams) != 2 || teams[0] != "T1" || teams[1] != "T2" {
		t.Errorf("granted: %q %q %v %q %v", enterprise, teams, granted, id, ok)
	}
	if _, teams, granted, _, ok := teamAccessEvent([]byte(`{"enterprise_id":"E1","event":{"type":"team_access_revoked","team_ids":["T1"]}}`)); !ok || granted || len(teams) != 1 {
		t.Errorf("revoked: %q %v %v", teams, granted, ok)
	}
	for _, body := range []string{`{"enterprise_id":"E1","event":{"type":"app_uninstalled"}}`, `{"event":{"type":"team_access_granted","team_ids":["T1"]}}`, `[]`} {
		if _, _, _, _, ok := teamAccessEvent([]byte(body)); ok {
			t.Errorf("%s read as a change of access", body)
		}
	}
}
