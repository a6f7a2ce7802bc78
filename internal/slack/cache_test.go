package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// sharedTip is a reply shaped like a tip: sections, a button and a menu.
func sharedTip() trustbot.Reply {
	r := trustbot.Reply{Text: "Say what you will do", Shared: true}
	r.Add(
		trustbot.Block{Kind: trustbot.Context, Text: "Topic: keeping promises"},
		trustbot.Block{Kind: trustbot.Section, Title: "Say what you will do", Text: "Then do it, and say so."},
		trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{
			{Kind: trustbot.Button, ID: "tip.another", Label: "Another", Value: "promises", Style: trustbot.Primary},
			{Kind: trustbot.Select, ID: "tip.topic", Label: "Choose a topic", Initial: "promises", Options: []trustbot.Option{
				{Label: "Keeping promises", Value: "promises"}, {Label: "After a no", Value: "declined"},
			}},
		}},
	)
	return r
}

// encodeCached is the JSON of r's message from c.
func encodeCached(t *testing.T, c *messageCache, r trustbot.Reply) []byte {
	t.Helper()
	b, err := json.Marshal(c.message(r))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMessageCacheServesTheSameMessage: a shared reply is encoded as it
// would be without the cache, and the second time from the cache.
func TestMessageCacheServesTheSameMessage(t *testing.T) {
	c := newMessageCache()
	r := sharedTip()
	want, err := encodeMessage(webhookMessage(r))
	if err != nil {
		t.Fatal(err)
	}
	if first := encodeCached(t, c, r); !bytes.Equal(first, want) {
		t.Fatalf("first encoding %s; want %s", first, want)
	}
	first, ok1 := c.message(r).(json.RawMessage)
	again, ok2 := c.message(sharedTip()).(json.RawMessage)
	if !ok1 || !ok2 || &first[0] != &again[0] {
		t.Fatal("the same shared reply was rendered again instead of served from the cache")
	}
	if got := encodeCached(t, c, sharedTip()); !bytes.Equal(got, want) {
		t.Fatalf("from the cache %s; want %s", got, want)
	}
	body, err := c.encode(sharedTip())
	if err != nil || !bytes.Equal(body, want) {
		t.Fatalf("response_url body %s, %v; want %s", body, err, want)
	}
	if again, _ := c.encode(sharedTip()); &again[0] != &body[0] {
		t.Fatal("the body of the same shared reply was encoded again")
	}
	if c.n != 1 {
		t.Fatalf("%d entries, want 1", c.n)
	}
}

// TestMessageCacheKeepsAhead: replies kept ahead (keep) are served as they
// were rendered then, never rendered again; a reply not shared is not
// kept; a bot stopping stops the keeping.
func TestMessageCacheKeepsAhead(t *testing.T) {
	c := newMessageCache()
	a, b := sharedTip(), sharedTip()
	b.Blocks[1].Text = "Then do it, and tell them."
	private := trustbot.Reply{Text: "Your check-ins: weekly"}
	stopped, stop := context.WithCancel(t.Context())
	stop()
	if n := c.keep(stopped, []trustbot.Reply{a, b}); n != 0 {
		t.Fatalf("%d renderings kept after the bot stopped, want 0", n)
	}
	if n := c.keep(t.Context(), []trustbot.Reply{a, b, private, a}); n != 2 {
		t.Fatalf("%d renderings kept, want 2", n)
	}
	for _, r := range []trustbot.Reply{a, b} {
		kept := c.shared(r).json
		want, err := encodeMessage(webhookMessage(r))
		if err != nil {
			t.Fatal(err)
		}
		got, ok := c.message(r).(json.RawMessage)
		if !ok || !bytes.Equal(got, want) || &got[0] != &kept[0] {
			t.Fatalf("a reply kept ahead was not served as kept: %s; want %s", got, want)
		}
	}
	if c.n != 2 {
		t.Fatalf("%d entries after serving what was kept, want 2", c.n)
	}
}

// TestMessageCacheTellsRepliesApart: a reply that differs in any rendered
// field gets its own encoding, and a reply not shared is never kept.
func TestMessageCacheTellsRepliesApart(t *testing.T) {
	c := newMessageCache()
	base := sharedTip()
	c.message(base)
	for name, change := range replyChanges() {
		r := sharedTip()
		change(&r)
		want, err := encodeMessage(webhookMessage(r))
		if err != nil {
			t.Fatal(err)
		}
		if got := encodeCached(t, c, r); !bytes.Equal(got, want) {
			t.Errorf("%s: got %s, want %s", name, got, want)
		}
		if got, err := c.encode(r); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: body %s, %v; want %s", name, got, err, want)
		}
	}
	private := sharedTip()
	private.Shared = false
	before := c.n
	c.message(private)
	if c.n != before {
		t.Error("a reply not marked shared was kept")
	}
}

// TestSameMessageTellsRepliesApart: replies that differ in any rendered
// field are not the same message, whatever their hashes (two replies may
// share one, and are then told apart only by sameMessage).
func TestSameMessageTellsRepliesApart(t *testing.T) {
	if !sameMessage(sharedTip(), sharedTip()) {
		t.Fatal("a reply is not the same message as its equal")
	}
	for name, change := range replyChanges() {
		r := sharedTip()
		change(&r)
		if sameMessage(sharedTip(), r) || sameMessage(r, sharedTip()) {
			t.Errorf("%s: the same message", name)
		}
	}
}

// TestKeptMessageIsACopy: a reply changed by its caller after it was
// kept does not change the kept entry, which must not then pass for the
// changed reply (were their hashes to collide).
func TestKeptMessageIsACopy(t *testing.T) {
	c := newMessageCache()
	r := sharedTip()
	c.message(r)
	r.Blocks[1].Text = "Changed"
	changed := sharedTip()
	changed.Blocks[1].Text = "Changed"
	c.m[c.messageHash(changed)] = c.m[c.messageHash(sharedTip())] // a collision
	want, err := encodeMessage(webhookMessage(changed))
	if err != nil {
		t.Fatal(err)
	}
	if got := encodeCached(t, c, changed); !bytes.Equal(got, want) {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// replyChanges changes one rendered field of sharedTip each.
func replyChanges() map[string]func(r *trustbot.Reply) {
	return map[string]func(r *trustbot.Reply){
		"text":             func(r *trustbot.Reply) { r.Text += "!" },
		"public":           func(r *trustbot.Reply) { r.Public = true },
		"replace original": func(r *trustbot.Reply) { r.ReplaceOriginal = true },
		"block kind":       func(r *trustbot.Reply) { r.Blocks[0].Kind = trustbot.Section },
		"block title":      func(r *trustbot.Reply) { r.Blocks[1].Title = "Other" },
		"block text":       func(r *trustbot.Reply) { r.Blocks[1].Text = "Other" },
		"button label":     func(r *trustbot.Reply) { r.Blocks[2].Controls[0].Label = "More" },
		"button value":     func(r *trustbot.Reply) { r.Blocks[2].Controls[0].Value = "declined" },
		"button style":     func(r *trustbot.Reply) { r.Blocks[2].Controls[0].Style = trustbot.Plain },
		"button URL":       func(r *trustbot.Reply) { r.Blocks[2].Controls[0].URL = "https://example.com/" },
		"menu initial":     func(r *trustbot.Reply) { r.Blocks[2].Controls[1].Initial = "declined" },
		"option label":     func(r *trustbot.Reply) { r.Blocks[2].Controls[1].Options[1].Label = "After no" },
		"menu searched":    func(r *trustbot.Reply) { r.Blocks[2].Controls[1].Suggest = !r.Blocks[2].Controls[1].Suggest },
		// Text moved from one field to the next must not read the same.
		"text across fields": func(r *trustbot.Reply) {
			r.Blocks[1].Title, r.Blocks[1].Text = "Say what you will doThen", " do it, and say so."
		},
	}
}

// TestSameMessageCoversEveryField counts the fields of a reply's parts:
// one added must be considered in sameMessage and copyMessage, and in
// trustbot.EqualBlocks and CloneBlocks for a block's parts (and this
// count raised).
func TestSameMessageCoversEveryField(t *testing.T) {
	for typ, want := range map[reflect.Type]int{
		reflect.TypeFor[trustbot.Reply]():   10,
		reflect.TypeFor[trustbot.Block]():   4,
		reflect.TypeFor[trustbot.Control](): 10,
		reflect.TypeFor[trustbot.Option]():  2,
	} {
		if got := typ.NumField(); got != want {
			t.Errorf("%s has %d fields, sameMessage knows %d: compare (and copy) the new one if webhookMessage reads it", typ, got, want)
		}
	}
}

// TestMessageCacheStaysBounded: past its size the cache starts again.
func TestMessageCacheStaysBounded(t *testing.T) {
	c := newMessageCache()
	for i := range messageCacheSize + 10 {
		r := sharedTip()
		r.Text = string(rune('a'+i%26)) + string(rune(0x3042+i))
		c.message(r)
		if c.n > messageCacheSize {
			t.Fatalf("%d entries, over %d", c.n, messageCacheSize)
		}
	}
}

// BenchmarkSharedMessage finds a kept tip, as each answer to "/trust
// tip" does (for its ack, or for its response_url body).
func BenchmarkSharedMessage(b *testing.B) {
	c := newMessageCache()
	c.message(sharedTip())
	r := sharedTip()
	b.ReportAllocs()
	for b.Loop() {
		c.message(r)
	}
}
