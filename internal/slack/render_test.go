package slack

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/trustbot/trustbot/internal/trustbot"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/<test name>.golden.json.
func golden(t *testing.T, got any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(got); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	path := filepath.Join("testdata", strings.ReplaceAll(t.Name(), "/", "_")+".golden.json")
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("rendering differs from %s (go test -update after an intended change):\n%s", path, b)
	}
}

func TestRender(t *testing.T) {
	for name, r := range map[string]trustbot.Reply{
		"Tip": {Text: "fallback", Blocks: []trustbot.Block{
			{Kind: trustbot.Context, Text: "テーマ: 冷却期間"},
			{Kind: trustbot.Section, Title: "A & B <c>", Text: "Body with *markup* & <tags>\nsecond line"},
			{Kind: trustbot.Section, Title: "今日やってみるなら", Text: "いつもどおり挨拶する"},
			{Kind: trustbot.Actions, Controls: []trustbot.Control{
				{Kind: trustbot.Button, ID: "tip.another", Label: "別のヒント", Value: "cooling-period", Style: trustbot.Primary},
				{Kind: trustbot.Select, ID: "tip.topic", Label: "テーマを選ぶ", Initial: "b", Options: []trustbot.Option{{Label: "A", Value: "a"}, {Label: "B", Value: "b"}}},
			}},
		}},
		"Phrasings": {Text: "fallback", ReplaceOriginal: true, Blocks: []trustbot.Block{
			{Kind: trustbot.Header, Text: "Asking softly"},
			{Kind: trustbot.Quote, Title: "when unsure", Text: "If it's alright with you,\ncould we swap contacts?"},
			{Kind: trustbot.Divider},
			{Kind: trustbot.Actions, Controls: []trustbot.Control{
				{Kind: trustbot.Button, ID: "lang.set", Label: "日本語", Value: "ja"},
				{Kind: trustbot.Button, ID: "lang.set", Label: "English", Value: "en", Style: trustbot.Danger},
			}},
		}},
	} {
		t.Run(name, func(t *testing.T) {
			golden(t, webhookMessage(r))
		})
	}
}

func TestRenderLimits(t *testing.T) {
	long := strings.Repeat("長い文章です。\n", 1000) // 8,000 characters
	r := trustbot.Reply{Text: strings.Repeat("x", 10_000)}
	r.Add(trustbot.Block{Kind: trustbot.Header, Text: strings.Repeat("見出し", 100)})
	r.Add(trustbot.Block{Kind: trustbot.Section, Text: long})
	for range 60 {
		r.Add(trustbot.Block{Kind: trustbot.Context, Text: "small"})
	}
	var ctl []trustbot.Control
	for range 30 {
		ctl = append(ctl, trustbot.Control{Kind: trustbot.Button, ID: "tip.another", Label: strings.Repeat("ラベル", 40), Value: strings.Repeat("v", 3000)})
	}
	sel := trustbot.Control{Kind: trustbot.Select, ID: "tip.topic", Label: "pick"}
	for range 120 {
		sel.Options = append(sel.Options, trustbot.Option{Label: strings.Repeat("o", 100), Value: "v"})
	}
	r.Add(trustbot.Block{Kind: trustbot.Actions, Controls: append([]trustbot.Control{sel}, ctl...)})

	blocks := Render(r)
	if len(blocks) > MaxMessageBlocks {
		t.Fatalf("%d blocks, limit %d", len(blocks), MaxMessageBlocks)
	}
	if blocks[len(blocks)-2].BlockType() != slack.MBTAction {
		t.Errorf("the actions block was dropped when cutting to %d blocks", MaxMessageBlocks)
	}
	sections := 0
	for _, b := range blocks {
		checkBlock(t, b)
		if s, ok := b.(*slack.SectionBlock); ok && strings.HasPrefix(s.Text.Text, "長い") {
			sections++
		}
	}
	if sections < 3 {
		t.Errorf("8,000 characters made %d sections, want them split into at least 3", sections)
	}
	if n := utf8.RuneCountInString(fallback(r)); n > MaxFallbackText {
		t.Errorf("fallback text %d characters", n)
	}
}

// checkBlock fails the test for any Block Kit limit a block breaks.
func checkBlock(t *testing.T, b slack.Block) {
	t.Helper()
	count := utf8.RuneCountInString
	switch b := b.(type) {
	case *slack.HeaderBlock:
		if count(b.Text.Text) > MaxHeaderText {
			t.Errorf("header of %d characters", count(b.Text.Text))
		}
	case *slack.SectionBlock:
		if n := count(b.Text.Text); n > MaxSectionText || n == 0 {
			t.Errorf("section of %d characters", n)
		}
	case *slack.ContextBlock:
		for _, e := range b.ContextElements.Elements {
			if txt, ok := e.(*slack.TextBlockObject); ok && count(txt.Text) > MaxContextText {
				t.Errorf("context of %d characters", count(txt.Text))
			}
		}
	case *slack.ActionBlock:
		if len(b.Elements.ElementSet) > MaxActionElements {
			t.Errorf("%d elements in an actions block", len(b.Elements.ElementSet))
		}
		ids := map[string]bool{}
		for _, e := range b.Elements.ElementSet {
			switch e := e.(type) {
			case *slack.ButtonBlockElement:
				if count(e.Text.Text) > MaxButtonLabel || count(e.Value) > MaxButtonValue {
					t.Errorf("button label %d / value %d characters", count(e.Text.Text), count(e.Value))
				}
				if ids[e.ActionID] {
					t.Errorf("action_id %q twice in one block", e.ActionID)
				}
				ids[e.ActionID] = true
			case *slack.SelectBlockElement:
				if len(e.Options) > MaxSelectOptions {
					t.Errorf("%d options", len(e.Options))
				}
				for _, o := range e.Options {
					if count(o.Text.Text) > MaxOptionText || count(o.Value) > MaxOptionValue {
						t.Errorf("option text %d / value %d", count(o.Text.Text), count(o.Value))
					}
				}
				ids[e.ActionID] = true
			}
		}
	}
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want []string
	}{
		{"short", 10, []string{"short"}},
		{"aaaa\nbbbb\ncccc", 10, []string{"aaaa\nbbbb", "cccc"}},
		{"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"あいうえお", 2, []string{"あい", "うえ", "お"}},
	} {
		got := split(tc.in, tc.n)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("split(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
