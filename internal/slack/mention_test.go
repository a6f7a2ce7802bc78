package slack

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// hostile are texts a user might type that Slack would take as mentions or
// markup if they reached mrkdwn as they are.
var hostile = []string{
	"<@U0EVIL>", "<#C0EVIL>", "<!here>", "<!channel>", "<!everyone>", "<!subteam^S0EVIL>",
	"{@U0EVIL}", "{#C0EVIL}", "<https://evil.example|click here>", "a & b < c > d",
	"&lt;@U0EVIL&gt;", "\x1d@U0EVIL\x1f", "\x1d#C0EVIL\x1f",
}

// live finds what Slack shows as a mention or a link in mrkdwn.
var live = regexp.MustCompile(`<[@#!][^>]*>|<https?:`)

// everywhere puts text in every field of a reply and of a form.
func everywhere(text string) (trustbot.Reply, *trustbot.Modal) {
	r := trustbot.Reply{Text: text + " " + trustbot.MentionUser("UGENUINE")}
	r.Add(
		trustbot.Block{Kind: trustbot.Header, Text: text},
		trustbot.Block{Kind: trustbot.Section, Title: text, Text: text + " " + trustbot.MentionChannel("CGENUINE")},
		trustbot.Block{Kind: trustbot.Quote, Title: text, Text: text},
		trustbot.Block{Kind: trustbot.Context, Text: text},
		trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{
			{Kind: trustbot.Button, ID: "x", Label: text, Value: text},
			{Kind: trustbot.Select, ID: "y", Label: text, Options: []trustbot.Option{{Label: text, Value: "v"}}},
		}},
	)
	m := &trustbot.Modal{ID: "f", Title: text, Submit: text, Close: text, Intro: text, Inputs: []trustbot.Input{
		{ID: "a", Label: text, Placeholder: text, Initial: text},
	}}
	return r, m
}

// rendered returns what Slack reads as mrkdwn in everything it receives
// for a reply (its blocks, its notification text, the same as a Home tab)
// and a form, and, apart, every other string (plain text, values).
func rendered(t testing.TB, r trustbot.Reply, m *trustbot.Modal) (mrkdwn, other string) {
	t.Helper()
	b, err := json.Marshal([]any{Render(r), webhookMessage(r), renderHome(r), renderModal(m)})
	if err != nil {
		t.Fatal(err)
	}
	var v any
	json.Unmarshal(b, &v) // decodes \u003c, so the check sees what Slack sees
	var md, rest strings.Builder
	md.WriteString(fallback(r) + "\n")
	walk(v, "", func(key, typ, x string) {
		if key == "text" && typ != "plain_text" {
			md.WriteString(x + "\n")
		} else {
			rest.WriteString(x + "\n")
		}
	})
	return md.String(), rest.String()
}

// walk calls f with each string of a decoded JSON value, its key and the
// "type" of the object holding it.
func walk(v any, key string, f func(key, typ, s string)) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			walk(e, key, f)
		}
	case map[string]any:
		typ, _ := x["type"].(string)
		for k, e := range x {
			if s, ok := e.(string); ok {
				f(k, typ, s)
				continue
			}
			walk(e, k, f)
		}
	}
}

// TestUserTextNeverMentions: whatever a user typed is shown as typed in
// every field of a message, the Home tab and a form: escaped in mrkdwn,
// literal in plain text. Only the coach's own mentions are live.
func TestUserTextNeverMentions(t *testing.T) {
	for _, text := range hostile {
		// As every adapter receives text: without mention marks.
		r, m := everywhere(trustbot.Unmarked(text))
		got, other := rendered(t, r, m)
		mentions := live.FindAllString(got, -1)
		for _, s := range mentions {
			if s != "<@UGENUINE>" && s != "<#CGENUINE>" {
				t.Errorf("%q became live: %s", text, s)
			}
		}
		if strings.Count(got, "<@UGENUINE>") < 1 || strings.Count(got, "<#CGENUINE>") < 1 {
			t.Errorf("%q: the coach's own mentions are not live:\n%s", text, got)
		}
		for _, s := range []string{"\x1d", "\x1f"} {
			if strings.Contains(got+other, s) {
				t.Errorf("%q: a mention mark reached Slack", text)
			}
		}
	}
	// Escaped as Slack asks, so the text reads as typed.
	mrkdwn := Render(trustbot.Reply{Blocks: []trustbot.Block{{Kind: trustbot.Section, Text: "a & b < c > d {@U1}"}}})
	sec := mrkdwn[0].(*slack.SectionBlock).Text.Text
	if sec != "a &amp; b &lt; c &gt; d {@U1}" {
		t.Errorf("mrkdwn: %q", sec)
	}
	head := Render(trustbot.Reply{Blocks: []trustbot.Block{{Kind: trustbot.Header, Text: "a & <@U1> " + trustbot.MentionUser("U2")}}})
	if h := head[0].(*slack.HeaderBlock).Text.Text; h != "a & <@U1> @U2" {
		t.Errorf("plain text: %q", h)
	}
}

// TestInboundTextLosesMarks: a mention mark sent by a user (a raw control
// character in the slash command, a button value or a form) is dropped
// where the text enters.
func TestInboundTextLosesMarks(t *testing.T) {
	forged := "\x1d@U0EVIL\x1f"
	req, _, err := translateSlash([]byte(`{"team_id":"T1","user_id":"U1","text":` + quote(forged) + `}`))
	if err != nil || req.Text != "@U0EVIL" {
		t.Errorf("slash: %q %v", req.Text, err)
	}
	req, _, err = translateInteraction([]byte(`{"type":"block_actions","team":{"id":"T1"},"user":{"id":"U1"},"actions":[{"type":"button","action_id":"x#0","block_id":"b1","value":` + quote(forged) + `}]}`))
	if err != nil || req.Value != "@U0EVIL" {
		t.Errorf("button: %q %v", req.Value, err)
	}
	req, _, err = translateInteraction([]byte(`{"type":"view_submission","team":{"id":"T1"},"user":{"id":"U1"},"view":{"callback_id":"f","private_metadata":` + quote(forged) +
		`,"state":{"values":{"a":{"a":{"type":"plain_text_input","value":` + quote(forged) + `}}}}}}`))
	if err != nil || req.Value != "@U0EVIL" || req.Inputs["a"] != "@U0EVIL" {
		t.Errorf("form: %q %q %v", req.Value, req.Inputs, err)
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// FuzzUserTextNeverMentions: text from a slash command, however made, and
// echoed back in every field of a reply and a form, never renders as a
// live mention or link; the coach's own mentions always do.
func FuzzUserTextNeverMentions(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		req, _, err := translateSlash([]byte(`{"team_id":"T1","user_id":"U1","text":` + quote(typed) + `}`))
		if err != nil {
			return
		}
		if len(req.Text) > 500 {
			// The coach clips what it echoes (a word to 40 characters, a
			// note to 1,000, alone in its section); a text that escapes
			// to more than a section holds (3,000 characters) is cut
			// there, whatever follows it in that section.
			return
		}
		r, m := everywhere(req.Text)
		got, _ := rendered(t, r, m)
		for _, s := range live.FindAllString(got, -1) {
			if s != "<@UGENUINE>" && s != "<#CGENUINE>" {
				t.Fatalf("%q became live: %s", typed, s)
			}
		}
		if !strings.Contains(got, "<@UGENUINE>") {
			t.Fatalf("%q: the coach's mention is lost", typed)
		}
	})
}
