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

// TestKeptTipUnchangedByItsReader: a caller that changes the blocks of a
// tip's message (as the console does to their titles) changes nothing of
// the next one: two coaches drawing the same tips answer alike though one
// caller scribbles over every answer.
func TestKeptTipUnchangedByItsReader(t *testing.T) {
	a, b := MustCoach(t, "en-US"), MustCoach(t, "en-US")
	ctx := context.Background()
	for i := range 300 {
		req := trustbot.Request{Kind: trustbot.Command, UserKey: trustbot.UserKey{Team: "T1", User: fmt.Sprintf("U%02d", i%8)}, Text: "tip"}
		x, y := a.Handle(ctx, req), b.Handle(ctx, req)
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("request %d: a reply changed by an earlier reader:\n%+v\nwant\n%+v", i, x, y)
		}
		for j := range x.Blocks {
			x.Blocks[j].Title, x.Blocks[j].Text = "scribbled", "scribbled"
		}
	}
}
