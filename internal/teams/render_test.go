package teams

import (
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// checkPayload fails the test for any limit a message breaks.
func checkPayload(t *testing.T, p Payload) {
	t.Helper()
	if n := size(p); n > MaxMessageBytes {
		t.Errorf("message of %d bytes, limit %d", n, MaxMessageBytes)
	}
	c := p.Card()
	if c.Version != MessageCardVersion {
		t.Errorf("card version %s", c.Version)
	}
	var walk func([]Element)
	walk = func(es []Element) {
		for _, e := range es {
			if e.Type == typeActionSet && (len(e.Actions) > MaxActionsPerSet || len(e.Actions) == 0) {
				t.Errorf("ActionSet of %d actions", len(e.Actions))
			}
			if e.Type == typeRichText && len(e.Inlines) == 0 {
				t.Error("empty RichTextBlock")
			}
			walk(e.Items)
		}
	}
	walk(c.Body)
}

// hostile are texts a user might type that a card would read as markup,
// a mention or a date function if they reached it as they are.
var hostile = []string{
	"**bold** _it_ *em*", "[click](https://evil.example)", "<at>Boss</at>", "<b>tag</b> &amp; &lt;",
	"- a list", "1. numbered", "# heading", "> quote", "`code` ~~strike~~", "\\*escaped\\*",
	"{{DATE(2017-02-14T06:08:39Z, SHORT)}}", "<AT>x</at >", "\x1d@UEVIL\x1f", "\x1d#CEVIL\x1f",
}

// everywhere puts text in every field of a reply, marked as typed by a
// user where the coach echoes a user's words (trustbot.Typed): the
// coach's own emphasis, "*`…`*", may look like what a user types.
func everywhere(typed string) trustbot.Reply {
	text := trustbot.Typed(typed)
	r := trustbot.Reply{Text: text + " " + trustbot.MentionUser("UGENUINE")}
	r.Add(
		trustbot.Block{Kind: trustbot.Header, Text: text},
		trustbot.Block{Kind: trustbot.Section, Title: text, Text: text + "\n" + text + " " + trustbot.MentionUser("UGENUINE")},
		trustbot.Block{Kind: trustbot.Quote, Title: text, Text: text},
		trustbot.Block{Kind: trustbot.Context, Text: text + " " + trustbot.MentionChannel("CGENUINE")},
		trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{
			{Kind: trustbot.Button, ID: "x", Label: typed, Value: typed},
			{Kind: trustbot.Select, ID: "y", Label: typed, Options: []trustbot.Option{{Label: typed, Value: "v"}}},
		}},
	)
	return r
}

// unescaped matches a markdown character not escaped by a backslash.
var unescaped = regexp.MustCompile(`(^|[^\\])(\\\\)*[*_\[\]<>` + "`" + `~]`)

// TestUserTextShownAsTyped: whatever a user typed reads as typed in every
// field of a card: TextRuns carry it untouched (no markdown there), the
// markdown of a line with a mention escapes it, and only the coach's own
// mentions are live.
func TestUserTextShownAsTyped(t *testing.T) {
	for _, typed := range hostile {
		shownAsTyped(t, typed)
	}
}

// FuzzUserTextShownAsTyped: the same for any text.
func FuzzUserTextShownAsTyped(f *testing.F) {
	for _, typed := range hostile {
		f.Add(typed)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		if !utf8.ValidString(typed) || strings.ContainsAny(typed, "\n\r") {
			return // text from Teams is valid UTF-8; a line break starts another line
		}
		if strings.TrimSpace(trustbot.Unmarked(typed)) != trustbot.Unmarked(typed) || trustbot.Unmarked(typed) == "" {
			return // lines are trimmed
		}
		if utf8.RuneCountInString(typed) > MaxLine/2 {
			return // a longer line is shown as several (TestLongLine)
		}
		if strings.ContainsFunc(typed, func(r rune) bool { return unicode.IsControl(r) && r != '\x1d' && r != '\x1f' && r != '\t' }) {
			return // the coach drops control characters from all it reads (the mention marks are tried above)
		}
		shownAsTyped(t, typed)
	})
}

var liveTag = regexp.MustCompile(`(?i)<at\b`)

func shownAsTyped(t *testing.T, typed string) {
	t.Helper()
	o := Options{Names: map[string]string{"UGENUINE": "Genuine Person", "CGENUINE": "general"}}
	text := trustbot.Unmarked(typed) // as every adapter receives text
	// A long reply is sent as several messages (each within
	// MaxMessageBytes; escaping makes a line of backslashes twice as
	// long): what a user typed is read across all of them.
	var cards []*Card
	for _, m := range Render(everywhere(text), o) {
		cards = append(cards, m.Card())
	}
	var runs, blocks []string
	var walk func([]Element)
	walk = func(es []Element) {
		for _, e := range es {
			var line strings.Builder
			for _, in := range e.Inlines {
				line.WriteString(in.Text)
			}
			if line.Len() > 0 {
				runs = append(runs, line.String())
			}
			if e.Type == typeTextBlock {
				blocks = append(blocks, e.Text)
			}
			walk(e.Items)
		}
	}
	var entities []Mention
	for _, c := range cards {
		walk(c.Body)
		entities = append(entities, c.MSTeams.Entities...)
	}
	if !slices.Contains(runs, unformat(text)) || strings.ReplaceAll(unformat(text), "\u2060", "") != strings.ReplaceAll(text, "\u2060", "") {
		t.Errorf("%q: no TextRun shows it as typed: %q", typed, runs)
	}
	if len(blocks) != 2 {
		t.Fatalf("%q: %d markdown lines, want the two with mentions", typed, len(blocks))
	}
	for _, b := range blocks {
		rest := strings.Replace(b, "<at>Genuine Person</at>", "", 1)
		if m := unescaped.FindString(rest); m != "" {
			t.Errorf("%q: markdown not escaped in %q (%q)", typed, b, m)
		}
		if strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, "+") || strings.HasPrefix(rest, "#") || regexp.MustCompile(`^\d+\.`).MatchString(rest) {
			t.Errorf("%q: line start read as markdown: %q", typed, rest)
		}
	}
	if !strings.Contains(blocks[0], "<at>Genuine Person</at>") || !strings.Contains(blocks[1], "general") {
		t.Errorf("%q: the coach's mentions are missing: %q", typed, blocks)
	}
	if len(entities) != 1 || entities[0].Mentioned.ID != "UGENUINE" {
		t.Errorf("%q: mention entities %+v", typed, entities)
	}
	for _, c := range cards {
		b, _ := marshal(c)
		if strings.ContainsAny(string(b), "\x1d\x1f") {
			t.Errorf("%q: a mention mark reached the card", typed)
		}
	}
	if n := len(liveTag.FindAllString(strings.Join(slices.Concat(runs, blocks), "\n"), -1)); n != 1 {
		t.Errorf("%q: %d <at> tags in the card's text, want the coach's one: %q %q", typed, n, runs, blocks)
	}
}

func TestCoachEmphasis(t *testing.T) {
	got := runs("*`/trust workdays` `quiet`*: when, and *not* this", kind{})
	want := []Element{
		{Type: typeTextRun, Text: "/trust workdays", Weight: "Bolder", FontType: "Monospace"},
		{Type: typeTextRun, Text: " ", Weight: "Bolder"},
		{Type: typeTextRun, Text: "quiet", Weight: "Bolder", FontType: "Monospace"},
		{Type: typeTextRun, Text: ": when, and *not* this"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("runs:\n got %+v\nwant %+v", got, want)
	}
	// A bold command the coach did not write is text: what a user typed,
	// echoed by the coach, shows as typed, on every line of it.
	got = runs("「"+trustbot.Typed("*`/trust x`*")+"」 *`/trust tip`*", kind{})
	want = []Element{
		{Type: typeTextRun, Text: "「*`/trust x`*」 "},
		{Type: typeTextRun, Text: "/trust tip", Weight: "Bolder", FontType: "Monospace"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("runs:\n got %+v\nwant %+v", got, want)
	}
	es, _ := paragraph("Note: "+trustbot.Typed("one\n`▇` *`/trust x`*"), kind{}, Options{})
	if len(es) != 2 || len(es[1].Inlines) != 1 || es[1].Inlines[0].Text != "`▇` *`/trust x`*" {
		t.Errorf("the second line a user typed is read as markup: %+v", es)
	}
	got = runs("`▇▄·`  Did you listen? `x` stays", kind{})
	want = []Element{
		{Type: typeTextRun, Text: "▇▄·", FontType: "Monospace"},
		{Type: typeTextRun, Text: "  Did you listen? `x` stays"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("runs:\n got %+v\nwant %+v", got, want)
	}
}

func TestRenderLimits(t *testing.T) {
	long := strings.Repeat("長い文章です。これは分割されるはずの本文です。\n", 1200)
	r := trustbot.Reply{Text: strings.Repeat("x", 10_000)}
	r.Add(trustbot.Block{Kind: trustbot.Header, Text: strings.Repeat("見出し", 100)})
	r.Add(trustbot.Block{Kind: trustbot.Section, Text: long})
	var ctl []trustbot.Control
	for range 12 {
		ctl = append(ctl, trustbot.Control{Kind: trustbot.Button, ID: "tip.another", Label: strings.Repeat("ラベル", 40), Value: "v"})
	}
	sel := trustbot.Control{Kind: trustbot.Select, ID: "tip.topic", Label: "pick"}
	for i := range 120 {
		sel.Options = append(sel.Options, trustbot.Option{Label: "o" + strconv.Itoa(i), Value: "v" + strconv.Itoa(i)})
	}
	r.Add(trustbot.Block{Kind: trustbot.Actions, Controls: append(ctl, sel)})

	ps := Render(r, Options{})
	if len(ps) < 2 {
		t.Fatalf("%d messages for a reply far above the limit", len(ps))
	}
	lines := 0
	for _, p := range ps {
		checkPayload(t, p)
		for _, e := range p.Card().Body {
			if len(e.Inlines) > 0 && strings.HasPrefix(e.Inlines[0].Text, "長い") {
				lines++
			}
			if e.Type == typeChoiceSet && len(e.Choices) > MaxChoices {
				t.Errorf("%d choices", len(e.Choices))
			}
			for _, a := range e.Actions {
				if utf8.RuneCountInString(a.Title) > MaxButtonTitle {
					t.Errorf("button title of %d characters", utf8.RuneCountInString(a.Title))
				}
			}
		}
		if utf8.RuneCountInString(p.Summary) > MaxSummary {
			t.Errorf("summary of %d characters", utf8.RuneCountInString(p.Summary))
		}
	}
	if lines != 1200 {
		t.Errorf("%d of 1200 lines sent", lines)
	}
	last := ps[len(ps)-1].Card().Body
	if last[len(last)-1].Type != typeActionSet {
		t.Error("the buttons are not at the end of the last message")
	}

	one := Replacement(r, Options{})
	checkPayload(t, one)
	sets := 0
	for _, e := range one.Card().Body {
		if e.Type == typeActionSet {
			sets++
		}
	}
	if sets != 4 { // 12 buttons in rows of 5, and the menu's own
		t.Errorf("an update in place kept %d rows of buttons, want 4", sets)
	}
}

// TestPayloadActivity: a payload marshals the same as the activity the
// connector sends.
func TestPayloadActivity(t *testing.T) {
	p := Render(trustbot.Reply{Text: "hi", Blocks: []trustbot.Block{{Kind: trustbot.Section, Text: "hi"}}}, Options{})[0]
	a, err := marshal(p.Activity())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := marshal(p)
	var av, bv any
	json.Unmarshal(a, &av)
	json.Unmarshal(b, &bv)
	if !reflect.DeepEqual(av, bv) {
		t.Errorf("activity %s\npayload %s", a, b)
	}
}

func TestReplaceTarget(t *testing.T) {
	posted := &trustbot.Posted{Channel: "a:dm", TS: "1:checkin"}
	for _, tc := range []struct {
		r     trustbot.Reply
		reply string
		want  Target
		ok    bool
	}{
		{trustbot.Reply{Update: posted, ReplaceOriginal: true}, "1:pressed", Target{"a:dm", "1:checkin"}, true},
		{trustbot.Reply{ReplaceOriginal: true}, "1:pressed", Target{"a:here", "1:pressed"}, true},
		{trustbot.Reply{ReplaceOriginal: true}, "", Target{}, false},
		{trustbot.Reply{}, "1:pressed", Target{}, false},
		{trustbot.Reply{Update: &trustbot.Posted{}}, "", Target{}, false},
	} {
		got, ok := ReplaceTarget(tc.r, "a:here", tc.reply)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%+v %q: %+v %v, want %+v %v", tc.r, tc.reply, got, ok, tc.want, tc.ok)
		}
	}
}

// TestTextOnlyReply: a reply with no blocks still says something.
func TestTextOnlyReply(t *testing.T) {
	c := Render(trustbot.Reply{Text: "Saved."}, Options{})[0].Card()
	if len(c.Body) != 1 || c.Body[0].Inlines[0].Text != "Saved." {
		t.Errorf("body %+v", c.Body)
	}
}

func TestUTF16Bytes(t *testing.T) {
	for _, s := range []string{"", "abc", "日本語", "😀x", "a\u00e9\u2060"} {
		if got, want := utf16Bytes([]byte(s)), 2*len(utf16.Encode([]rune(s))); got != want {
			t.Errorf("%q: %d bytes, want %d", s, got, want)
		}
	}
}

// TestLongLine: one line far longer than a message holds is split too.
func TestLongLine(t *testing.T) {
	line := strings.Repeat("あ", 30_000)
	ps := Render(trustbot.Reply{Text: "t", Blocks: []trustbot.Block{{Kind: trustbot.Section, Text: line}}}, Options{})
	if len(ps) < 3 {
		t.Fatalf("%d messages for 30,000 characters", len(ps))
	}
	var got strings.Builder
	for _, p := range ps {
		checkPayload(t, p)
		for _, e := range p.Card().Body {
			got.WriteString(e.Inlines[0].Text)
		}
	}
	if got.String() != line {
		t.Errorf("%d of %d characters shown", utf8.RuneCountInString(got.String()), 30_000)
	}
	if r := Replacement(trustbot.Reply{Text: "t", Blocks: []trustbot.Block{{Kind: trustbot.Section, Text: line}}}, Options{}); size(r) > MaxMessageBytes {
		t.Errorf("update in place of %d bytes", size(r))
	}
}
