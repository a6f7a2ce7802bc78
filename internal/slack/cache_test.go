package slack

import (
	"bytes"
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
	first, again := c.message(r), c.message(sharedTip())
	if first != again {
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
	if len(c.m) != 1 {
		t.Fatalf("%d entries, want 1", len(c.m))
	}
}

// TestMessageCacheTellsRepliesApart: a reply that differs in any rendered
// field gets its own encoding, and a reply not shared is never kept.
func TestMessageCacheTellsRepliesApart(t *testing.T) {
	c := newMessageCache()
	base := sharedTip()
	c.message(base)
	changes := map[string]func(r *trustbot.Reply){
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
	for name, change := range changes {
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
	before := len(c.m)
	c.message(private)
	if len(c.m) != before {
		t.Error("a reply not marked shared was kept")
	}
}

// TestMessageKeyCoversEveryField counts the fields of a reply's parts:
// one added must be considered in messageKey (and this count raised).
func TestMessageKeyCoversEveryField(t *testing.T) {
	for typ, want := range map[reflect.Type]int{
		reflect.TypeFor[trustbot.Reply]():   10,
		reflect.TypeFor[trustbot.Block]():   4,
		reflect.TypeFor[trustbot.Control](): 10,
		reflect.TypeFor[trustbot.Option]():  2,
	} {
		if got := typ.NumField(); got != want {
			t.Errorf("%s has %d fields, messageKey knows %d: add the new one to the key if webhookMessage reads it", typ, got, want)
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
		if len(c.m) > messageCacheSize {
			t.Fatalf("%d entries, over %d", len(c.m), messageCacheSize)
		}
	}
}
