package coach_test

import (
	"context"
	"reflect"
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
