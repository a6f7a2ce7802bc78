package coach_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// BenchmarkTipCommand answers "/trust tip" from 50 users seen before, as
// in a burst: settings, profile and recent tips from memory, the record
// written later in a group.
func BenchmarkTipCommand(b *testing.B) {
	c := MustCoach(b, "ja-JP")
	ctx := context.Background()
	users := make([]trustbot.UserKey, 50)
	for i := range users {
		users[i] = trustbot.UserKey{Team: "T1", User: fmt.Sprintf("UBENCH%02d", i)}
		c.Handle(ctx, trustbot.Request{Kind: trustbot.Command, UserKey: users[i], Text: "tip"})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := c.Handle(ctx, trustbot.Request{Kind: trustbot.Command, UserKey: users[i%len(users)], Text: "tip"})
		if len(r.Blocks) == 0 {
			b.Fatal("no tip")
		}
		i++
	}
}
