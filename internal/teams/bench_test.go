package teams

import (
	"strings"
	"testing"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// BenchmarkRenderCoach renders every kind of reply of the real coach
// (English), as the golden files hold them: one op is all of them.
func BenchmarkRenderCoach(b *testing.B) {
	sc, _ := scenes(b, "en-US")
	var replies []trustbot.Reply
	for _, x := range sc {
		if x.reply.Modal == nil {
			replies = append(replies, x.reply)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range replies {
			Render(r, goldenOptions)
		}
	}
	b.ReportMetric(float64(len(replies)), "replies/op")
}

// BenchmarkRenderSplit renders a reply too long for one message: eight
// notes of 1,000 Japanese characters, as /trust history can show.
func BenchmarkRenderSplit(b *testing.B) {
	r := trustbot.Reply{Text: "history"}
	for range 8 {
		r.Add(trustbot.Block{Kind: trustbot.Section, Title: "11/27", Text: strings.Repeat("話しかけてくれて嬉しかった。", 1000/14)})
		r.Add(trustbot.Block{Kind: trustbot.Quote, Text: strings.Repeat("明日も挨拶する。\n", 60)})
	}
	b.ReportAllocs()
	for b.Loop() {
		Render(r, Options{})
	}
	b.ReportMetric(float64(len(Render(r, Options{}))), "messages/op")
}

// BenchmarkParsePress reads a menu choice back from a card.
func BenchmarkParsePress(b *testing.B) {
	v := []byte(`{"trustbot":{"a":"tip.topic","i":"menu0"},"menu0":"cooling-period"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePress(v); err != nil {
			b.Fatal(err)
		}
	}
}
