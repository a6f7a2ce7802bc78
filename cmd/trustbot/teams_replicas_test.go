package main

import (
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/trustbot/trustbot/internal/fakebf"
	"github.com/trustbot/trustbot/internal/pgtest"
)

// replica starts another "trustbot serve" beside b, on b's database and
// Bot Framework, with ports of its own: a second replica behind the
// load balancer.
func (b *TeamsBot) replica(tb testing.TB) *TeamsBot {
	tb.Helper()
	r := &TeamsBot{BF: b.BF, Stderr: &syncBuffer{}, DB: b.DB, HTTP: freeAddr(tb), Public: freeAddr(tb), Env: maps.Clone(b.Env)}
	r.Env["TRUSTBOT_HTTP_ADDR"], r.Env["TRUSTBOT_PUBLIC_ADDR"] = r.HTTP, r.Public
	tb.Cleanup(func() { r.Stop(tb) })
	r.Start(tb)
	return r
}

const logRedelivered = "Teams activity handled already: acknowledged again"

// TestTeamsRedeliveryAnsweredOnce: the Bot Framework delivers a message
// again (as it does when a bot is slow to acknowledge it), once to the
// replica that had it and once to another behind the load balancer. The
// user gets one answer: the activity is recorded as handled in the
// database the replicas share. On SQLite, with one replica; on
// PostgreSQL, with two.
func TestTeamsRedeliveryAnsweredOnce(t *testing.T) {
	t.Parallel()
	t.Run("SQLite, one replica", func(t *testing.T) {
		t.Parallel()
		b := MustRunTeams(t, nil)
		redeliver(t, b, b)
	})
	t.Run("PostgreSQL, two replicas", func(t *testing.T) {
		t.Parallel()
		b := MustRunTeams(t, map[string]string{"TRUSTBOT_DB": pgtest.URL(t)})
		redeliver(t, b, b.replica(t))
	})
}

// redeliver sends a message to first, delivers it again to second and
// to first, then sends another to second: two answers in all.
func redeliver(t *testing.T, first, second *TeamsBot) {
	t.Helper()
	u := fakebf.NewUser("Ueda", "ja-JP", "Asia/Tokyo")
	conv := first.BF.PersonalConversationID(u.ID)
	a := first.BF.Personal(u, "help")
	first.send(t, a, conv, 1)
	for _, b := range []*TeamsBot{second, first} {
		if status, body := b.Post(t, a); status != http.StatusOK {
			t.Fatalf("the message delivered again: %d %s", status, body)
		}
	}
	// The redeliveries were acknowledged without being handled (each
	// says so before its answer): the next message's answer is the only
	// one to come.
	logged := strings.Count(first.Stderr.String(), logRedelivered)
	if second != first {
		logged += strings.Count(second.Stderr.String(), logRedelivered)
	}
	if logged != 2 {
		t.Fatalf("%d redeliveries acknowledged as handled already, want 2\n%s\n%s", logged, first.Stderr, second.Stderr)
	}
	next := second.send(t, first.BF.Personal(u, "tip"), conv, 1)
	if all := first.botMessages(conv); len(all) != 2 || all[1].ID != next[0].ID {
		t.Fatalf("%d answers to a message delivered three times and one more, want 2", len(all))
	}
}
