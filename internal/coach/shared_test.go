package coach_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestSharedRepliesBelongToNobody: a reply marked Shared (which a platform
// may keep and serve again) is exactly the same for two users who make
// the same requests, in either language, and a tip is one. A reply with
// anything of the user's (their draft, their plan) is never marked.
func TestSharedRepliesBelongToNobody(t *testing.T) {
	for _, locale := range []string{"ja-JP", "en-US"} {
		t.Run(locale, func(t *testing.T) {
			a, b := MustCoach(t, locale), MustCoach(t, locale)
			alice := trustbot.UserKey{Team: "T1", User: "UALICE"}
			bob := trustbot.UserKey{Team: "T2", User: "UBOB"}
			// Their settings differ, so that a reply about them differs.
			a.Handle(context.Background(), trustbot.Request{Kind: trustbot.Command, UserKey: alice, Text: "checkin weekly mon 09:00"})
			b.Handle(context.Background(), trustbot.Request{Kind: trustbot.Command, UserKey: bob, Text: "checkin weekly tue 10:30"})
			topic := MustLibrary(t).Topics[0].ID
			requests := []trustbot.Request{
				{Kind: trustbot.Command, Text: "tip"},
				{Kind: trustbot.Command, Text: "tip " + topic},
				{Kind: trustbot.Action, ActionID: coach.ActTip, Value: topic},
				{Kind: trustbot.Action, ActionID: coach.ActTipTopic, Value: topic},
				{Kind: trustbot.Command, Text: "tip"},
				{Kind: trustbot.Command, Text: "help"},
				{Kind: trustbot.Command, Text: "status"},
				{Kind: trustbot.Command, Text: "checkin"},
				{Kind: trustbot.Command, Text: "check 明日までにLINE教えて"},
				{Kind: trustbot.Command, Text: "phrase"},
				{Kind: trustbot.Command, Text: "tip nothing-like-this"},
			}
			shared := 0
			for _, req := range requests {
				ra, rb := req, req
				ra.UserKey, rb.UserKey = alice, bob
				x := a.Handle(context.Background(), ra)
				y := b.Handle(context.Background(), rb)
				if x.Shared != y.Shared {
					t.Errorf("%q: shared for one user and not the other", req.Text+req.ActionID)
					continue
				}
				if !x.Shared {
					continue
				}
				shared++
				if !reflect.DeepEqual(x, y) {
					t.Errorf("%q: a shared reply differs between two users:\n%+v\n%+v", req.Text+req.ActionID, x, y)
				}
			}
			if shared < 4 {
				t.Errorf("%d shared replies, want the 4 tips at least", shared)
			}
			check := a.Handle(context.Background(), trustbot.Request{Kind: trustbot.Command, UserKey: alice, Text: "check 明日までにLINE教えて"})
			if check.Shared {
				t.Error("the answer to a draft check is marked shared")
			}
		})
	}
}

// TestTipRepliesKeptApart: a tip's message, kept once made, is served
// again only for the same language and the same way of asking: the same
// tip drawn in the other language, or without its topic named, gets its
// own.
func TestTipRepliesKeptApart(t *testing.T) {
	c := MustCoach(t, "ja-JP")
	lib := MustLibrary(t)
	ctx := context.Background()
	topic := lib.Topics[0].ID
	prefix := map[trustbot.Lang]string{}
	for _, l := range []trustbot.Lang{trustbot.Japanese, trustbot.English} {
		prefix[l], _, _ = strings.Cut(lib.T(l, "tip.topic_line", "topic", "\x00"), "\x00")
	}
	// Users 4 to 7 read English, odd users name the topic.
	for u := 4; u < 8; u++ {
		c.Handle(ctx, trustbot.Request{Kind: trustbot.Command, UserKey: trustbot.UserKey{Team: "T1", User: fmt.Sprintf("U%02d", u)}, Text: "lang en"})
	}
	for i := range 400 {
		u := i % 8
		lang, text, button := trustbot.Japanese, "tip", "button.another_tip"
		if u >= 4 {
			lang = trustbot.English
		}
		if u%2 == 1 {
			text, button = "tip "+topic, "button.another_tip_topic"
		}
		r := c.Handle(ctx, trustbot.Request{Kind: trustbot.Command, UserKey: trustbot.UserKey{Team: "T1", User: fmt.Sprintf("U%02d", u)}, Text: text})
		if len(r.Blocks) == 0 || !strings.HasPrefix(r.Blocks[0].Text, prefix[lang]) {
			t.Fatalf("request %d (%s, %q): topic line %q, want it in %s", i, lang, text, r.Blocks[0].Text, lang)
		}
		actions := r.Blocks[len(r.Blocks)-1]
		if actions.Kind != trustbot.Actions || actions.Controls[0].Label != lib.T(lang, button) {
			t.Fatalf("request %d (%s, %q): button %+v, want %q", i, lang, text, actions, lib.T(lang, button))
		}
	}
}

// TestKeptTipUnchangedByItsReader: a tip's message is kept, and its
// blocks go to every caller, shared (Reply.Shared): read, or added to
// with append, never written in place. Two coaches drawing the same tips
// answer alike though a caller of one adds a block to every answer; a
// caller that writes to a block in place (as the console once did to
// titles) is caught at the next answer of that tip, in any test binary.
func TestKeptTipUnchangedByItsReader(t *testing.T) {
	a, b := MustCoach(t, "en-US"), MustCoach(t, "en-US")
	ctx := context.Background()
	var last trustbot.Reply
	for i := range 300 {
		req := trustbot.Request{Kind: trustbot.Command, UserKey: trustbot.UserKey{Team: "T1", User: fmt.Sprintf("U%02d", i%8)}, Text: "tip"}
		x, y := a.Handle(ctx, req), b.Handle(ctx, req)
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("request %d: a reply changed by an earlier reader:\n%+v\nwant\n%+v", i, x, y)
		}
		x.Add(trustbot.Block{Kind: trustbot.Context, Text: "scribbled"})
		last = y
	}
	// Scribbled over in place, the kept tip gives its next caller away.
	last.Blocks[0].Text = "scribbled"
	defer func() {
		if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "wrote to a kept tip") {
			t.Fatalf("a kept tip written to in place was not caught (%v)", p)
		}
	}()
	for i := range 5000 {
		req := trustbot.Request{Kind: trustbot.Command, UserKey: trustbot.UserKey{Team: "T1", User: fmt.Sprintf("UNEXT%04d", i)}, Text: "tip"}
		b.Handle(ctx, req)
	}
}

// TestSharedTipReplyKeepsCallersApart: every caller of a tip gets the
// coach's kept blocks, shared; a block one caller adds must not reach
// another caller's reply, nor the kept one (it would, were the kept list
// not full to its capacity: two appends would write the same slot).
func TestSharedTipReplyKeepsCallersApart(t *testing.T) {
	c := MustCoach(t, "ja-JP")
	ctx := context.Background()
	seen := map[string]trustbot.Reply{}
	for i := range 5000 {
		k := trustbot.UserKey{Team: "T1", User: fmt.Sprintf("USHARE%04d", i)}
		b := c.Handle(ctx, trustbot.Request{Kind: trustbot.Command, UserKey: k, Text: "tip"})
		if !b.Shared {
			t.Fatalf("a tip's reply is not shared: %+v", b)
		}
		a, ok := seen[b.Text]
		if !ok {
			seen[b.Text] = b
			continue
		}
		n := len(a.Blocks)
		a.Add(trustbot.Block{Kind: trustbot.Context, Text: "a's"})
		b.Add(trustbot.Block{Kind: trustbot.Context, Text: "b's"})
		if got := a.Blocks[n].Text; got != "a's" {
			t.Fatalf("a block added to one caller's tip reads %q after another caller added one to theirs", got)
		}
		for j := range 5000 {
			k := trustbot.UserKey{Team: "T1", User: fmt.Sprintf("UAGAIN%04d", j)}
			again := c.Handle(ctx, trustbot.Request{Kind: trustbot.Command, UserKey: k, Text: "tip"})
			if again.Text == b.Text {
				if len(again.Blocks) != n {
					t.Fatalf("the kept tip has %d blocks after callers added to theirs, want %d", len(again.Blocks), n)
				}
				return
			}
		}
		t.Fatal("the tip did not come again")
	}
	t.Fatal("no tip came twice")
}

// TestTipMessagesKeepEveryTip: TipMessages makes every tip's message in
// both languages, for any topic and for its own, and keeps them: the
// tips users then ask for are those messages themselves, not made again.
func TestTipMessagesKeepEveryTip(t *testing.T) {
	ctx := context.Background()
	lib := MustLibrary(t)
	for _, p := range []struct {
		platform trustbot.Platform
		team     string
	}{{trustbot.Slack, "T1"}, {trustbot.Teams, trustbot.TeamsWorkspace("tenant-1")}} {
		for _, locale := range []string{"ja-JP", "en-US"} {
			c := MustCoach(t, locale)
			rs := c.TipMessages(ctx, p.platform)
			if want := 2 * len(lib.Tips()) * len(trustbot.Langs); len(rs) != want {
				t.Fatalf("%s: %d tip messages, want %d", p.platform, len(rs), want)
			}
			kept := map[*trustbot.Block]bool{}
			for _, r := range rs {
				if !r.Shared || len(r.Blocks) == 0 {
					t.Fatalf("%s: a tip message not shared, or empty: %+v", p.platform, r)
				}
				kept[&r.Blocks[0]] = true
			}
			if len(kept) != len(rs) {
				t.Fatalf("%s: %d distinct tip messages of %d", p.platform, len(kept), len(rs))
			}
			for i := range 200 {
				k := trustbot.UserKey{Team: p.team, User: fmt.Sprintf("UKEPT%03d", i)}
				r := c.Handle(ctx, trustbot.Request{Kind: trustbot.Command, UserKey: k, Text: "tip"})
				if len(r.Blocks) == 0 || !kept[&r.Blocks[0]] {
					t.Fatalf("%s, %s: a tip answered with a message made again, not the one kept at start: %q", p.platform, locale, r.Text)
				}
			}
		}
	}
}
