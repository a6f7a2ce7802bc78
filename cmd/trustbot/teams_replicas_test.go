package main

import (
	"io"
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

// TestTeamsExportLinkOnAnyReplica: a user's export link, made by the
// replica their "export" reached, works once at whichever replica the
// download reaches: on PostgreSQL at the other replica, on SQLite after
// the one replica restarted. The files wait in the database.
func TestTeamsExportLinkOnAnyReplica(t *testing.T) {
	t.Parallel()
	t.Run("SQLite, after a restart", func(t *testing.T) {
		t.Parallel()
		b := MustRunTeams(t, nil)
		link := exportLink(t, b)
		b.Stop(t)
		b.Start(t)
		download(t, link, b, b)
	})
	t.Run("PostgreSQL, at the other replica", func(t *testing.T) {
		t.Parallel()
		b := MustRunTeams(t, map[string]string{"TRUSTBOT_DB": pgtest.URL(t)})
		other := b.replica(t)
		download(t, exportLink(t, b), other, b)
	})
}

// exportLink asks b for Alex's export and returns the link it sends.
func exportLink(t *testing.T, b *TeamsBot) string {
	t.Helper()
	m, _ := b.Say(t, alexEN, "export")
	return urlOf(t, m)
}

// download gets the file behind link at one replica's public address (as
// the balancer may send it there): Alex's data; then at again: gone.
func download(t *testing.T, link string, at, again *TeamsBot) {
	t.Helper()
	i := strings.Index(link, "/files/")
	if i < 0 {
		t.Fatalf("not a file link: %s", link)
	}
	get := func(b *TeamsBot) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + b.Public + link[i:])
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if status, body := get(at); status != http.StatusOK || !strings.Contains(body, `"user": "`+alexEN.ID+`"`) {
		t.Fatalf("the link at another replica: %d %s", status, body)
	}
	if status, _ := get(again); status != http.StatusGone {
		t.Fatalf("the link worked twice: %d", status)
	}
}
