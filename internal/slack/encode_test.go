package slack

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestEncodeMessage: the direct encoding of a message is the JSON
// json.Marshal gives, for every kind of block and control Render makes,
// text that needs escaping, and the limits' cuts; a message it does not
// know is left to json.Marshal.
func TestEncodeMessage(t *testing.T) {
	odd := "a \"quote\" \\ <b> & 'x' \t\n\r\x01\x7f é 日本 \u2028\u2029 \xff end"
	long := strings.Repeat("長い文章です。\n", 1000)
	var many []trustbot.Block
	for range 60 {
		many = append(many, trustbot.Block{Kind: trustbot.Context, Text: "small"})
	}
	sel := trustbot.Control{Kind: trustbot.Select, ID: "tip.topic", Label: odd, Initial: "b"}
	for _, v := range []string{"a", "b", strings.Repeat("v", 200)} {
		sel.Options = append(sel.Options, trustbot.Option{Label: odd + v, Value: v})
	}
	replies := []trustbot.Reply{
		{},
		{Text: odd},
		{Text: "t", Public: true, ReplaceOriginal: true, Blocks: []trustbot.Block{
			{Kind: trustbot.Header, Text: odd},
			{Kind: trustbot.Section, Title: odd, Text: odd + trustbot.MentionUser("U1") + trustbot.Typed("*x*")},
			{Kind: trustbot.Quote, Title: "q", Text: odd},
			{Kind: trustbot.Context, Text: odd},
			{Kind: trustbot.Divider},
			{Kind: trustbot.Actions, Controls: []trustbot.Control{
				{Kind: trustbot.Button, ID: "a", Label: odd, Value: odd, Style: trustbot.Primary},
				{Kind: trustbot.Button, ID: "b", Label: "l", Style: trustbot.Danger, URL: "https://example.com/?a=1&b=<2>"},
				{Kind: trustbot.Button, ID: "c", Label: "plain"},
				sel,
				{Kind: trustbot.Select, ID: "empty", Label: "none"},
				{Kind: trustbot.Select, ID: "searched", Label: odd, Initial: "a", Options: sel.Options, Suggest: true},
			}},
			{Kind: trustbot.Actions},
		}},
		{Text: strings.Repeat("x", 10_000), Blocks: append([]trustbot.Block{{Kind: trustbot.Section, Text: long}}, many...)},
	}
	for i, r := range replies {
		m := webhookMessage(r)
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		p, ok := toPlain(m)
		if !ok {
			t.Errorf("reply %d: not encoded as plain values", i)
			continue
		}
		got, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("reply %d: invalid JSON %v: %s", i, err, got)
		}
		json.Unmarshal(want, &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("reply %d:\n got %s\nwant %s", i, got, want)
		}
	}
	// Unknown to the direct encoding: json.Marshal's result.
	m := &slack.WebhookMessage{Text: "x", Blocks: &slack.Blocks{BlockSet: []slack.Block{slack.NewImageBlock("https://example.com/i.png", "alt", "", nil)}}}
	got, err := encodeMessage(m)
	want, _ := json.Marshal(m)
	if err != nil || string(got) != string(want) {
		t.Errorf("fallback: %s, want %s", got, want)
	}
	if _, ok := toPlain(m); ok {
		t.Error("an image block was encoded as plain values")
	}
}

// FuzzEncodeMessage: for any text in any field, the direct encoding is
// the JSON json.Marshal gives.
func FuzzEncodeMessage(f *testing.F) {
	f.Add("plain", "値")
	f.Add("<@U1> & \"x\"\n", "\xff\x00\u2028")
	f.Fuzz(func(t *testing.T, text, value string) {
		r := trustbot.Reply{Text: text, Blocks: []trustbot.Block{
			{Kind: trustbot.Header, Text: text},
			{Kind: trustbot.Section, Title: value, Text: text},
			{Kind: trustbot.Context, Text: value},
			{Kind: trustbot.Actions, Controls: []trustbot.Control{
				{Kind: trustbot.Button, ID: value, Label: text, Value: value},
				{Kind: trustbot.Select, ID: "s", Label: text, Initial: value, Options: []trustbot.Option{{Label: text, Value: value}}},
			}},
		}}
		m := webhookMessage(r)
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("encoding/json refused the message: %v", err)
		}
		p, ok := toPlain(m)
		if !ok {
			t.Fatal("not encoded as plain values")
		}
		got, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("invalid JSON %v: %s", err, got)
		}
		json.Unmarshal(want, &b)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}
