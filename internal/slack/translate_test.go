package slack

import (
	"errors"
	"os"
	"testing"

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
	if req.Kind != want.Kind || req.UserKey != want.UserKey || req.Channel != want.Channel || req.Text != want.Text {
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
	} {
		if _, _, err := translateSlash([]byte(payload)); err == nil {
			t.Errorf("%s: accepted", name)
		}
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
	f.Fuzz(func(t *testing.T, b []byte) {
		req, _, err := translateInteraction(b)
		if err == nil && (!req.UserKey.Valid() || req.Kind != trustbot.Action) {
			t.Fatalf("accepted %+v", req)
		}
	})
}
